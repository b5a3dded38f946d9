package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// decoder is one step of HF's decode chain: it rewrites the list of token strings.
type decoder interface {
	decodeChain(tokens []string) []string
}

type decSequence []decoder

func (q decSequence) decodeChain(tokens []string) []string {
	for _, d := range q {
		tokens = d.decodeChain(tokens)
	}
	return tokens
}

// decByteLevel maps byte-level characters back to bytes (tokens with other characters are kept as they are)
// and decodes the result as UTF-8, lossily like Rust's String::from_utf8_lossy.
type decByteLevel struct{}

func (decByteLevel) decodeChain(tokens []string) []string {
	var buf []byte
	for _, t := range tokens {
		n := len(buf)
		ok := true
		for _, r := range t {
			b, found := charByte[r]
			if !found {
				ok = false
				break
			}
			buf = append(buf, b)
		}
		if !ok {
			buf = append(buf[:n], t...)
		}
	}
	return []string{lossyUTF8(buf)}
}

// lossyUTF8 is Rust's String::from_utf8_lossy: each maximal ill-formed subsequence becomes one U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	out.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			out.WriteByte(c)
			i++
			continue
		}
		if r, n := utf8.DecodeRune(b[i:]); r != utf8.RuneError || n == 3 {
			out.Write(b[i : i+n])
			i += n
			continue
		}
		// Invalid: skip the longest prefix of a valid sequence (the "maximal subpart"), at least one byte.
		i += maximalSubpart(b[i:])
		out.WriteString("\uFFFD")
	}
	return out.String()
}

// maximalSubpart returns the length of the longest prefix of b that starts a well-formed UTF-8 sequence but is
// not one (at least 1), as in the Unicode standard's "U+FFFD substitution of maximal subparts".
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		x := b[n]
		if k == 0 {
			if x < lo || x > hi {
				break
			}
		} else if x < 0x80 || x > 0xBF {
			break
		}
		n++
	}
	return n
}

// decReplace replaces a pattern in every token.
type decReplace struct {
	pat     pattern
	content string
}

func (d decReplace) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = replaceAll(d.pat, t, d.content)
	}
	return out
}

// decByteFallback turns runs of <0xXX> tokens back into text (U+FFFD per byte when the run is not UTF-8).
type decByteFallback struct{}

func byteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	hex := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	if t[3] == '+' { // Rust's from_str_radix accepts a sign
		lo, ok := hex(t[4])
		return lo, ok
	}
	hi, ok1 := hex(t[3])
	lo, ok2 := hex(t[4])
	return hi<<4 | lo, ok1 && ok2
}

func (decByteFallback) decodeChain(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if b, ok := byteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// decFuse joins all tokens into one.
type decFuse struct{}

func (decFuse) decodeChain(tokens []string) []string { return []string{strings.Join(tokens, "")} }

// decStrip removes up to start leading and stop trailing copies of content from every token.
type decStrip struct {
	content     rune
	start, stop int
}

func (d decStrip) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		rs := []rune(t)
		startCut := 0
		for j := 0; j < d.start && j < len(rs); j++ {
			if rs[j] != d.content {
				break
			}
			startCut = j + 1
		}
		stopCut := len(rs)
		for j := 0; j < d.stop && j < len(rs); j++ {
			k := len(rs) - j - 1
			if rs[k] != d.content {
				break
			}
			stopCut = k
		}
		if stopCut < startCut {
			stopCut = startCut
		}
		out[i] = string(rs[startCut:stopCut])
	}
	return out
}

// decMetaspace turns the replacement character back into spaces (dropped at the start of the first token
// unless prepend_scheme is "never").
type decMetaspace struct {
	replacement rune
	prepend     string
}

func (d decMetaspace) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		var b strings.Builder
		for _, r := range t {
			if r == d.replacement {
				if i == 0 && d.prepend != "never" {
					continue
				}
				b.WriteByte(' ')
			} else {
				b.WriteRune(r)
			}
		}
		out[i] = b.String()
	}
	return out
}

// decBPE is HF's BPEDecoder: the end-of-word suffix becomes a space (except at the end).
type decBPE struct{ suffix string }

func (d decBPE) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		rep := " "
		if i == len(tokens)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(t, d.suffix, rep)
	}
	return out
}
