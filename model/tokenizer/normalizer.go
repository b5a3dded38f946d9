package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a piece of text before pre-tokenization (HF normalizers, without offset tracking).
type normalizer interface {
	normalize(s string) string
}

type normSequence []normalizer

func (q normSequence) normalize(s string) string {
	for _, n := range q {
		s = n.normalize(s)
	}
	return s
}

// normPrepend prepends a string to non-empty text.
type normPrepend struct{ prefix string }

func (p normPrepend) normalize(s string) string {
	if s == "" {
		return s
	}
	return p.prefix + s
}

// normReplace replaces every match of a pattern.
type normReplace struct {
	pat     pattern
	content string
}

func (r normReplace) normalize(s string) string { return replaceAll(r.pat, s, r.content) }

func replaceAll(p pattern, s, content string) string {
	if lit, ok := p.(literal); ok {
		if lit == "" {
			return s
		}
		return strings.ReplaceAll(s, string(lit), content)
	}
	var b strings.Builder
	prev := 0
	p.find(s, func(a, e int) {
		b.WriteString(s[prev:a])
		b.WriteString(content)
		prev = e
	})
	if prev == 0 && b.Len() == 0 {
		return s
	}
	b.WriteString(s[prev:])
	return b.String()
}

type normForm struct{ f norm.Form }

func (n normForm) normalize(s string) string {
	switch n.f {
	case norm.NFC:
		return compose(norm.NFD.String(s))
	case norm.NFKC:
		return compose(norm.NFKD.String(s))
	}
	return n.f.String(s)
}

// compose is NFC's composition of decomposed text. golang.org/x/text (v0.31) looks composition pairs up with
// the first rune truncated to 16 bits, so a supplementary-plane rune followed by a mark can compose into a
// wrong character (U+10075 U+0302 gives û). Supplementary runes are composed on their own: this loses only the
// few real compositions of supplementary scripts (Kaithi, Chakma, Grantha, ...).
func compose(d string) string {
	if strings.IndexFunc(d, func(r rune) bool { return r >= 0x10000 }) < 0 {
		return norm.NFC.String(d)
	}
	start := 0
	var b strings.Builder
	for i, r := range d {
		if r >= 0x10000 {
			b.WriteString(norm.NFC.String(d[start:i]))
			b.WriteRune(r)
			start = i + utf8.RuneLen(r)
		}
	}
	b.WriteString(norm.NFC.String(d[start:]))
	return b.String()
}

// normLowercase is Rust's str::to_lowercase (full mappings: İ becomes i̇; final sigma is handled).
type normLowercase struct{}

func (normLowercase) normalize(s string) string {
	if !strings.ContainsRune(s, 'İ') && !strings.ContainsRune(s, 'Σ') {
		return strings.ToLower(s)
	}
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			// Final_Sigma: preceded by a cased letter and not followed by one (case-ignorable ones skipped).
			if finalSigma(rs, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) || unicode.Is(unicode.Other_Lowercase, r) ||
		unicode.Is(unicode.Other_Uppercase, r)
}

func isCaseIgnorable(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) ||
		r == '\'' || r == '.' || r == ':' || r == '^' || r == '`' || r == 0xb7 || r == 0x2019 || r == 0x2018 || r == 0x2024 || r == 0x2027
}

func finalSigma(rs []rune, i int) bool {
	before := false
	for j := i - 1; j >= 0; j-- {
		if isCaseIgnorable(rs[j]) {
			continue
		}
		before = isCased(rs[j])
		break
	}
	if !before {
		return false
	}
	for j := i + 1; j < len(rs); j++ {
		if isCaseIgnorable(rs[j]) {
			continue
		}
		return !isCased(rs[j])
	}
	return true
}

// normStrip removes leading and/or trailing whitespace.
type normStrip struct{ left, right bool }

func (n normStrip) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if n.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s
}

// normStripAccents removes combining marks (Mn).
type normStripAccents struct{}

func (normStripAccents) normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, s)
}

// normByteLevel maps every byte to its byte-level character (HF normalizers.ByteLevel).
type normByteLevel struct{}

func (normByteLevel) normalize(s string) string { return byteLevelEncode(s) }
