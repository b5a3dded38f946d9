package tokenizer

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// pattern finds the non-overlapping matches of a Split, Replace or added-token pattern, in order.
type pattern interface {
	find(s string, fn func(start, end int))
}

// literal is a pattern that matches a fixed string.
type literal string

func (l literal) find(s string, fn func(start, end int)) {
	if l == "" {
		return
	}
	off := 0
	for {
		i := strings.Index(s[off:], string(l))
		if i < 0 {
			return
		}
		fn(off+i, off+i+len(l))
		off += i + len(l)
	}
}

// The pre-tokenizer regexes of the models we run, matched by hand (Go's regexp has no lookahead, and these
// are on the hot path). Their semantics are those of Oniguruma (leftmost alternative first, backtracking).
const (
	// regexLLaMA3 is the LLaMA-3 (tiktoken cl100k-style) split regex.
	regexLLaMA3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// regexQwen2 is LLaMA-3's regex with single digits.
	regexQwen2 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// regexGPT2 is the GPT-2 split regex (HF ByteLevel with use_regex).
	regexGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

// knownRegexes maps regex spellings found in tokenizer.json files to the hand-written matchers.
var knownRegexes = map[string]pattern{
	regexLLaMA3: llama3Pattern{maxDigits: 3},
	`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`: llama3Pattern{maxDigits: 3},
	regexQwen2: llama3Pattern{maxDigits: 1},
	`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`: llama3Pattern{maxDigits: 1},
	regexGPT2: gpt2Pattern{},
}

// compilePattern returns the matcher of a regex: a hand-written one when the regex is known, else regexp2
// (a backtracking engine close to Oniguruma for the constructs tokenizer files use).
func compilePattern(re string) (pattern, error) {
	if p, ok := knownRegexes[re]; ok {
		return p, nil
	}
	r, err := regexp2.Compile(re, regexp2.Unicode)
	if err != nil {
		return nil, err
	}
	r.MatchTimeout = time.Second // a pathological regex in a file must not hang Encode
	return &regexPattern{re: r}, nil
}

type regexPattern struct{ re *regexp2.Regexp }

func (p *regexPattern) find(s string, fn func(start, end int)) {
	if s == "" {
		return
	}
	// regexp2 works on runes: keep the byte offset of each rune.
	rs := make([]rune, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	for i, r := range s {
		rs = append(rs, r)
		offs = append(offs, i)
	}
	offs = append(offs, len(s))
	m, err := p.re.FindRunesMatch(rs)
	for err == nil && m != nil {
		a := m.Index
		e := a + m.Length
		if e > a {
			fn(offs[a], offs[e])
		}
		m, err = p.re.FindNextMatch(m)
	}
}

// Bitsets of the Basic Multilingual Plane for \p{L} and \p{N} (Oniguruma's tables), binary search above it.
var lBits, nBits [0x10000 / 64]uint64

func init() {
	for _, x := range []struct {
		bits *[0x10000 / 64]uint64
		t    []uint32
	}{{&lBits, onigL[:]}, {&nBits, onigN[:]}} {
		for i := 0; i < len(x.t); i += 2 {
			for r := x.t[i]; r <= x.t[i+1] && r < 0x10000; r++ {
				x.bits[r>>6] |= 1 << (r & 63)
			}
		}
	}
}

func inRanges(t []uint32, r rune) bool {
	lo, hi := 0, len(t)/2
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case uint32(r) < t[2*m]:
			hi = m
		case uint32(r) > t[2*m+1]:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// isL is Oniguruma's \p{L}.
func isL(r rune) bool {
	if uint32(r) < 0x10000 {
		return lBits[r>>6]&(1<<(r&63)) != 0
	}
	return inRanges(onigL[:], r)
}

// isN is Oniguruma's \p{N}.
func isN(r rune) bool {
	if uint32(r) < 0x10000 {
		return nBits[r>>6]&(1<<(r&63)) != 0
	}
	return inRanges(onigN[:], r)
}

// isS is \s (White_Space, the same in Go's and Oniguruma's tables).
func isS(r rune) bool { return unicode.IsSpace(r) }

// llama3Pattern matches regexLLaMA3 (maxDigits 3) and regexQwen2 (maxDigits 1).
type llama3Pattern struct{ maxDigits int }

func (p llama3Pattern) find(s string, fn func(start, end int)) {
	for i := 0; i < len(s); {
		e := p.next(s, i)
		fn(i, e)
		i = e
	}
}

// contraction returns the length of 's 't 're 've 'm 'll 'd at s[i:] (s[i] == '\”), ASCII case folded when
// fold is set, or 0.
func contraction(s string, i int, fold bool) int {
	lower := func(c byte) byte {
		if fold && 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	if i+1 >= len(s) {
		return 0
	}
	if fold && strings.HasPrefix(s[i+1:], "ſ") { // Oniguruma folds U+017F LONG S to s
		return 3
	}
	switch lower(s[i+1]) {
	case 's', 't', 'm', 'd':
		return 2
	case 'r', 'v':
		if i+2 < len(s) && lower(s[i+2]) == 'e' {
			return 3
		}
	case 'l':
		if i+2 < len(s) && lower(s[i+2]) == 'l' {
			return 3
		}
	}
	return 0
}

// next returns the end of the match that starts at i (every position starts a match).
func (p llama3Pattern) next(s string, i int) int {
	c, n := utf8.DecodeRuneInString(s[i:])
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if c == '\'' {
		if k := contraction(s, i, true); k > 0 {
			return i + k
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if isL(c) {
		return letters(s, i+n)
	}
	if c != '\r' && c != '\n' && !isN(c) {
		if i+n < len(s) {
			if c2, _ := utf8.DecodeRuneInString(s[i+n:]); isL(c2) {
				return letters(s, i+n)
			}
		}
	}
	// \p{N}{1,3}
	if isN(c) {
		j := i + n
		for k := 1; k < p.maxDigits && j < len(s); k++ {
			c2, n2 := utf8.DecodeRuneInString(s[j:])
			if !isN(c2) {
				break
			}
			j += n2
		}
		return j
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	j := i
	if c == ' ' {
		j = i + 1
	}
	if j < len(s) {
		if c2, _ := utf8.DecodeRuneInString(s[j:]); !isS(c2) && !isL(c2) && !isN(c2) {
			j = punct(s, j)
			for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
				j++
			}
			return j
		}
	}
	// c is whitespace from here on.
	// \s*[\r\n]+
	end, lastNL := i, -1
	for end < len(s) {
		c2, n2 := utf8.DecodeRuneInString(s[end:])
		if !isS(c2) {
			break
		}
		if c2 == '\r' || c2 == '\n' {
			lastNL = end
		}
		end += n2
	}
	if lastNL >= 0 {
		return lastNL + 1
	}
	return spaces(s, i, end)
}

// spaces matches \s+(?!\S)|\s+ at i, given the end of the whitespace run that starts there.
func spaces(s string, i, end int) int {
	if end == len(s) {
		return end
	}
	// back off one character so that the run is not followed by a non-space
	_, n := utf8.DecodeLastRuneInString(s[:end])
	if end-n > i {
		return end - n
	}
	return end
}

func letters(s string, j int) int {
	for j < len(s) {
		c, n := utf8.DecodeRuneInString(s[j:])
		if !isL(c) {
			break
		}
		j += n
	}
	return j
}

// punct matches [^\s\p{L}\p{N}]+ at j.
func punct(s string, j int) int {
	for j < len(s) {
		c, n := utf8.DecodeRuneInString(s[j:])
		if isS(c) || isL(c) || isN(c) {
			break
		}
		j += n
	}
	return j
}

// gpt2Pattern matches regexGPT2.
type gpt2Pattern struct{}

func (gpt2Pattern) find(s string, fn func(start, end int)) {
	for i := 0; i < len(s); {
		e := gpt2Next(s, i)
		fn(i, e)
		i = e
	}
}

func gpt2Next(s string, i int) int {
	c, n := utf8.DecodeRuneInString(s[i:])
	if c == '\'' {
		if k := contraction(s, i, false); k > 0 {
			return i + k
		}
	}
	j := i
	if c == ' ' && i+1 < len(s) {
		j = i + 1
		c, n = utf8.DecodeRuneInString(s[j:])
	}
	switch {
	case isL(c):
		return letters(s, j+n)
	case isN(c):
		for j += n; j < len(s); {
			c2, n2 := utf8.DecodeRuneInString(s[j:])
			if !isN(c2) {
				break
			}
			j += n2
		}
		return j
	case !isS(c):
		return punct(s, j)
	}
	// whitespace run at i
	end := i
	for end < len(s) {
		c2, n2 := utf8.DecodeRuneInString(s[end:])
		if !isS(c2) {
			break
		}
		end += n2
	}
	return spaces(s, i, end)
}
