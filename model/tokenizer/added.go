package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// addedToken is a token matched in the text before the model runs (HF AddedToken).
type addedToken struct {
	id         int32
	content    string
	normalized bool // matched against the normalized text (then its pattern is the normalized content)
	special    bool
	lstrip     bool
	rstrip     bool
	singleWord bool
	pattern    string // the normalized content when normalized, else content
}

// addedVocab finds added tokens in text: first the non-normalized ones in the raw text, then the normalized
// ones in the normalized pieces, like HF's AddedVocabulary.extract_and_normalize.
type addedVocab struct {
	tokens []*addedToken
	raw    *trie // non-normalized tokens
	norm   *trie // normalized tokens
}

// segment is a piece of the input: either text (id < 0) or an added token.
type segment struct {
	s     string
	id    int32
	first bool // the piece starts at offset 0 of the input (Metaspace prepend_scheme "first")
}

// decodeContent is the string Decode uses for an added token (HF uses the normalized content).
func (v *addedVocab) decodeContent(a *addedToken) string {
	if a.normalized {
		return a.pattern
	}
	return a.content
}

func newAddedVocab(tokens []*addedToken, n normalizer) *addedVocab {
	v := &addedVocab{tokens: tokens}
	var raw, norm []*addedToken
	for _, a := range tokens {
		a.pattern = a.content
		if a.normalized {
			if n != nil {
				a.pattern = n.normalize(a.content)
			}
			norm = append(norm, a)
		} else {
			raw = append(raw, a)
		}
	}
	v.raw = newTrie(raw)
	v.norm = newTrie(norm)
	return v
}

// extractAndNormalize splits text on added tokens and normalizes the text between them.
func (v *addedVocab) extractAndNormalize(text string, n normalizer) []segment {
	var first []segment
	if v == nil {
		first = []segment{{s: text, id: -1, first: true}}
	} else {
		first = v.raw.split(nil, text, true)
	}
	if n == nil && (v == nil || v.norm == nil) {
		return first
	}
	out := make([]segment, 0, len(first))
	for _, seg := range first {
		if seg.id >= 0 {
			out = append(out, seg)
			continue
		}
		s := seg.s
		if n != nil {
			s = n.normalize(s)
		}
		if v == nil {
			if s != "" {
				out = append(out, segment{s: s, id: -1, first: seg.first})
			}
			continue
		}
		out = v.norm.split(out, s, seg.first)
	}
	return out
}

// trie matches a set of added tokens, leftmost-longest like daachorse/aho-corasick's LeftmostLongest.
type trie struct {
	nodes  []trieNode
	starts [256]bool
}

type trieNode struct {
	next  map[byte]int32
	token *addedToken
}

func newTrie(tokens []*addedToken) *trie {
	if len(tokens) == 0 {
		return nil
	}
	t := &trie{nodes: []trieNode{{}}}
	for _, a := range tokens {
		p := a.pattern
		if p == "" {
			continue
		}
		t.starts[p[0]] = true
		n := int32(0)
		for i := 0; i < len(p); i++ {
			nx, ok := t.nodes[n].next[p[i]]
			if !ok {
				if t.nodes[n].next == nil {
					t.nodes[n].next = map[byte]int32{}
				}
				nx = int32(len(t.nodes))
				t.nodes[n].next[p[i]] = nx
				t.nodes = append(t.nodes, trieNode{})
			}
			n = nx
		}
		if t.nodes[n].token == nil {
			t.nodes[n].token = a
		}
	}
	return t
}

// longest returns the longest token matching at s[i:], and its end.
func (t *trie) longest(s string, i int) (*addedToken, int) {
	var best *addedToken
	end := 0
	n := int32(0)
	for j := i; j < len(s); j++ {
		nx, ok := t.nodes[n].next[s[j]]
		if !ok {
			break
		}
		n = nx
		if tok := t.nodes[n].token; tok != nil {
			best, end = tok, j+1
		}
	}
	return best, end
}

// split appends the segments of s (tokens and the non-empty text between them) to dst, following HF's
// AddedVocabulary::find_matches (single_word, lstrip and rstrip included). first tells whether s starts the
// input.
func (t *trie) split(dst []segment, s string, first bool) []segment {
	if s == "" {
		return dst
	}
	if t == nil {
		return append(dst, segment{s: s, id: -1, first: first})
	}
	startOffset := 0
	emit := func(a, b int) {
		if a < b {
			dst = append(dst, segment{s: s[a:b], id: -1, first: first && a == 0})
		}
	}
	for i := 0; i < len(s); {
		if !t.starts[s[i]] {
			i++
			continue
		}
		tok, stop := t.longest(s, i)
		if tok == nil {
			i++
			continue
		}
		start := i
		i = stop // matches do not overlap
		if tok.singleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if tok.lstrip {
			ns := leftmostSpaceAtEnd(s[:start])
			start = max(ns, startOffset)
		}
		if tok.rstrip {
			stop += rightmostSpaceAtStart(s[stop:])
		}
		emit(startOffset, start)
		dst = append(dst, segment{s: s[start:stop], id: tok.id})
		startOffset = stop
	}
	emit(startOffset, len(s))
	return dst
}

// isWordChar is Rust regex's Unicode \w: Alphabetic, marks, decimal numbers, connector punctuation, joiners.
func isWordChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) ||
		unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) || r == 0x200c || r == 0x200d
}

func endsWithWord(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isWordChar(r)
}

func startsWithWord(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isWordChar(r)
}

// leftmostSpaceAtEnd returns where the run of whitespace that ends s starts.
func leftmostSpaceAtEnd(s string) int {
	i := len(s)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if !unicode.IsSpace(r) {
			break
		}
		i -= n
	}
	return i
}

// rightmostSpaceAtStart returns the length of the run of whitespace that starts s.
func rightmostSpaceAtStart(s string) int {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
}
