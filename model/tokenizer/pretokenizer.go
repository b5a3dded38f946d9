package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// piece is a part of the text on its way to the model.
type piece struct {
	s     string
	first bool // starts at offset 0 of the input
}

// preTokenizer cuts a piece into pre-tokens (HF pre-tokenizers, without offsets). It appends the non-empty
// results to dst.
type preTokenizer interface {
	preTokenize(dst []piece, p piece) []piece
}

type preSequence []preTokenizer

func (q preSequence) preTokenize(dst []piece, p piece) []piece {
	cur := []piece{p}
	var next []piece
	for _, pt := range q {
		next = next[:0]
		for _, c := range cur {
			next = pt.preTokenize(next, c)
		}
		cur, next = next, cur
	}
	return append(dst, cur...)
}

// behavior is HF's SplitDelimiterBehavior.
type behavior uint8

const (
	removed behavior = iota
	isolated
	mergedWithPrevious
	mergedWithNext
	contiguous
)

var behaviors = map[string]behavior{
	"Removed": removed, "Isolated": isolated, "MergedWithPrevious": mergedWithPrevious,
	"MergedWithNext": mergedWithNext, "Contiguous": contiguous,
}

type span struct {
	a, b int
	m    bool // a match (before a behavior is applied), or to be removed (after)
}

// spans lists the matches of p in s and the text between them (HF Pattern::find_matches).
func spans(p pattern, s string, invert bool) []span {
	var out []span
	prev := 0
	p.find(s, func(a, e int) {
		if prev != a {
			out = append(out, span{prev, a, invert})
		}
		out = append(out, span{a, e, !invert})
		prev = e
	})
	if prev != len(s) {
		out = append(out, span{prev, len(s), invert})
	}
	return out
}

// splitPiece splits p on the matches of pat with behavior b (HF NormalizedString::split).
func splitPiece(dst []piece, p piece, pat pattern, invert bool, b behavior) []piece {
	if p.s == "" {
		return dst
	}
	sp := spans(pat, p.s, invert)
	var res []span
	switch b {
	case isolated:
		res = sp
		for i := range res {
			res[i].m = false
		}
	case removed:
		res = sp
	case contiguous:
		prevMatch := false
		for _, x := range sp {
			if x.m == prevMatch && len(res) > 0 {
				res[len(res)-1].b = x.b
			} else {
				res = append(res, span{x.a, x.b, false})
			}
			prevMatch = x.m
		}
	case mergedWithPrevious:
		prevMatch := false
		for _, x := range sp {
			if x.m && !prevMatch && len(res) > 0 {
				res[len(res)-1].b = x.b
			} else {
				res = append(res, span{x.a, x.b, false})
			}
			prevMatch = x.m
		}
	case mergedWithNext:
		prevMatch := false
		for i := len(sp) - 1; i >= 0; i-- {
			x := sp[i]
			if x.m && !prevMatch && len(res) > 0 {
				res[len(res)-1].a = x.a
			} else {
				res = append(res, span{x.a, x.b, false})
			}
			prevMatch = x.m
		}
		for i, j := 0, len(res)-1; i < j; i, j = i+1, j-1 {
			res[i], res[j] = res[j], res[i]
		}
	}
	for _, x := range res {
		if !x.m && x.b > x.a {
			dst = append(dst, piece{s: p.s[x.a:x.b], first: p.first && x.a == 0})
		}
	}
	return dst
}

// preSplit is HF's Split pre-tokenizer.
type preSplit struct {
	pat      pattern
	behavior behavior
	invert   bool
}

func (q preSplit) preTokenize(dst []piece, p piece) []piece {
	return splitPiece(dst, p, q.pat, q.invert, q.behavior)
}

// charPattern matches every character for which pred is true, one at a time.
type charPattern func(rune) bool

func (f charPattern) find(s string, fn func(start, end int)) {
	for i, r := range s {
		if f(r) {
			fn(i, i+utf8.RuneLen(r))
		}
	}
}

// preByteLevel is HF's ByteLevel pre-tokenizer: optional prefix space, optional GPT-2 regex split, then every
// byte mapped to its printable character.
type preByteLevel struct {
	addPrefixSpace bool
	useRegex       bool
}

func (q preByteLevel) preTokenize(dst []piece, p piece) []piece {
	if q.addPrefixSpace && !strings.HasPrefix(p.s, " ") {
		p.s = " " + p.s
	}
	n := len(dst)
	if q.useRegex {
		dst = splitPiece(dst, p, gpt2Pattern{}, false, isolated)
	} else if p.s != "" {
		dst = append(dst, p)
	}
	for i := n; i < len(dst); i++ {
		dst[i].s = byteLevelEncode(dst[i].s)
	}
	return dst
}

// preMetaspace is HF's Metaspace pre-tokenizer.
type preMetaspace struct {
	replacement rune
	rep         string
	prepend     string // "always", "first" or "never"
	split       bool
}

func (q preMetaspace) preTokenize(dst []piece, p piece) []piece {
	s := strings.ReplaceAll(p.s, " ", q.rep)
	switch q.prepend {
	case "always":
		if !strings.HasPrefix(s, q.rep) {
			s = q.rep + s
		}
	case "first":
		if !strings.HasPrefix(s, q.rep) && p.first {
			s = q.rep + s
		}
	}
	p.s = s
	if !q.split {
		if s != "" {
			dst = append(dst, p)
		}
		return dst
	}
	return splitPiece(dst, p, literal(q.rep), false, mergedWithNext)
}

// preWhitespace is HF's Whitespace pre-tokenizer: runs of \w, or of [^\w\s].
type preWhitespace struct{}

func (preWhitespace) preTokenize(dst []piece, p piece) []piece {
	s := p.s
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) && !isWordChar(r) {
			i += n
			continue
		}
		word := isWordChar(r)
		j := i + n
		for j < len(s) {
			r2, n2 := utf8.DecodeRuneInString(s[j:])
			if isWordChar(r2) != word || (!word && unicode.IsSpace(r2)) {
				break
			}
			j += n2
		}
		dst = append(dst, piece{s: s[i:j], first: p.first && i == 0})
		i = j
	}
	return dst
}

// preCharSplit splits on characters matching pred, with a behavior (WhitespaceSplit, Digits, Punctuation,
// CharDelimiterSplit).
type preCharSplit struct {
	pred     charPattern
	behavior behavior
}

func (q preCharSplit) preTokenize(dst []piece, p piece) []piece {
	return splitPiece(dst, p, q.pred, false, q.behavior)
}

func isPunct(r rune) bool {
	return (r < 0x80 && unicode.IsPunct(r)) || (r < 0x80 && strings.ContainsRune("$+<=>^`|~", r)) || unicode.IsPunct(r)
}

// preBert is HF's BertPreTokenizer: split on whitespace (removed) and punctuation (isolated).
type preBert struct{}

func (preBert) preTokenize(dst []piece, p piece) []piece {
	var tmp []piece
	tmp = splitPiece(tmp, p, charPattern(unicode.IsSpace), false, removed)
	for _, t := range tmp {
		dst = splitPiece(dst, t, charPattern(isPunct), false, isolated)
	}
	return dst
}
