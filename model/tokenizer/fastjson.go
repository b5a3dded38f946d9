package tokenizer

import (
	"encoding/json"
	"unicode/utf8"
)

// A small scanner for the two large parts of tokenizer.json (model.vocab and model.merges), several times
// faster than encoding/json's reflection. Anything unusual makes it give up, and the caller then decodes with
// encoding/json, which also reports the errors.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) byte(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// str reads a JSON string.
func (s *scanner) str() (string, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	esc := false
	j := start
	for ; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			break
		}
		if c == '\\' {
			esc = true
			j++
			continue
		}
		if c < 0x20 {
			return "", false
		}
	}
	if j >= len(s.b) {
		return "", false
	}
	raw := s.b[start:j]
	s.i = j + 1
	if !esc {
		if !utf8.Valid(raw) {
			return "", false
		}
		return string(raw), true
	}
	var out string
	if err := json.Unmarshal(s.b[start-1:j+1], &out); err != nil {
		return "", false
	}
	return out, true
}

// int reads a non-negative JSON integer.
func (s *scanner) int() (int64, bool) {
	s.ws()
	n, digits := int64(0), 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		n = n*10 + int64(s.b[s.i]-'0')
		if n > 1<<40 {
			return 0, false
		}
		s.i++
		digits++
	}
	if digits == 0 || (s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E')) {
		return 0, false
	}
	return n, true
}

func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// fastVocab reads {"token": id, ...} with ids below maxVocab.
func fastVocab(b []byte) (map[string]int32, bool) {
	s := &scanner{b: b}
	if !s.byte('{') {
		return nil, false
	}
	m := make(map[string]int32, len(b)/16)
	if s.byte('}') {
		return m, s.end()
	}
	for {
		k, ok := s.str()
		if !ok || !s.byte(':') {
			return nil, false
		}
		v, ok := s.int()
		if !ok || v >= maxVocab {
			return nil, false
		}
		m[k] = int32(v)
		if s.byte(',') {
			continue
		}
		if s.byte('}') {
			return m, s.end()
		}
		return nil, false
	}
}

// fastMerges reads ["a b", ...] or [["a", "b"], ...]; strings are returned unsplit (pairs joined) in strs, or
// as pairs.
func fastMerges(b []byte) (strs []string, pairs [][2]string, ok bool) {
	s := &scanner{b: b}
	if !s.byte('[') {
		return nil, nil, false
	}
	if s.byte(']') {
		return nil, nil, s.end()
	}
	for {
		switch s.peek() {
		case '"':
			v, ok := s.str()
			if !ok || pairs != nil {
				return nil, nil, false
			}
			strs = append(strs, v)
		case '[':
			s.i++
			a, ok1 := s.str()
			if !ok1 || !s.byte(',') {
				return nil, nil, false
			}
			c, ok2 := s.str()
			if !ok2 || !s.byte(']') || strs != nil {
				return nil, nil, false
			}
			pairs = append(pairs, [2]string{a, c})
		default:
			return nil, nil, false
		}
		if s.byte(',') {
			continue
		}
		if s.byte(']') {
			return strs, pairs, s.end()
		}
		return nil, nil, false
	}
}
