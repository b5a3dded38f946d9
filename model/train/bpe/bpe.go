// Package bpe trains a byte-level BPE tokenizer (the kind LLaMA-3 and GPT-2 use) and writes it as a Hugging Face
// tokenizer.json: the LLaMA-3 pre-tokenizer regex (Split, Isolated) followed by ByteLevel, a ByteLevel decoder, a
// TemplateProcessing post-processor that adds <|begin_of_text|>, and special tokens at the end of the vocabulary.
//
// Token ids 0-255 are the 256 single bytes (in byte order, spelled with GPT-2's bytes-to-unicode table), then one id
// per merge in the order learned, then the special tokens.
//
// It imports model/atomicfile only.
package bpe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"unicode"
	"unicode/utf8"

	"github.com/bitrepl/bitrepl/model/atomicfile"
)

// Pattern is the LLaMA-3 pre-tokenizer regex; Split implements it by hand (Go's regexp has no lookahead).
const Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// Special tokens appended after the merges, in this order.
const (
	BeginOfText = "<|begin_of_text|>"
	EndOfText   = "<|end_of_text|>"
	EOT         = "<|eot_id|>"
)

// DefaultSpecials are the special tokens Train appends when none are given.
var DefaultSpecials = []string{BeginOfText, EndOfText, EOT, "<|start_header_id|>", "<|end_header_id|>"}

// Model is a trained byte-level BPE.
type Model struct {
	Vocab    []string   // byte-level spelling of every token, by id (specials verbatim)
	Merges   [][2]int32 // Merges[i] makes token 256+i from its two parts
	Specials []string   // Vocab[len(Vocab)-len(Specials):]

	ranks map[uint64]int32 // pair -> merged id
	index map[string]int32 // byte-level spelling -> id (not the specials)
	cache map[string][]int32
}

var byteChars [256]rune // GPT-2 bytes_to_unicode

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff) {
			byteChars[b] = rune(b)
		} else {
			byteChars[b] = rune(256 + n)
			n++
		}
	}
}

// ByteLevel spells bytes with GPT-2's bytes-to-unicode table.
func ByteLevel(b []byte) string {
	var s []rune
	for _, c := range b {
		s = append(s, byteChars[c])
	}
	return string(s)
}

func isNL(r rune) bool { return r == '\r' || r == '\n' }

// Split cuts text into pre-tokens exactly as the regex Pattern does (leftmost alternative first). The pieces
// concatenate to text.
func Split(text string) []string {
	var out []string
	// Decode by hand rather than []rune(text): an invalid byte becomes
	// U+FFFD (3 bytes) in a rune slice but is 1 byte of text.
	var r []rune
	var size []int
	for k := 0; k < len(text); {
		c, sz := utf8.DecodeRuneInString(text[k:])
		r, size = append(r, c), append(size, sz)
		k += sz
	}
	n := len(r)
	off := 0 // byte offset of r[i]
	for i := 0; i < n; {
		j := match(r, i)
		l := 0
		for _, sz := range size[i:j] {
			l += sz
		}
		out = append(out, text[off:off+l])
		off += l
		i = j
	}
	return out
}

// match returns the end of the pre-token starting at r[i].
func match(r []rune, i int) int {
	n := len(r)
	isL, isN, isS := unicode.IsLetter, unicode.IsNumber, unicode.IsSpace
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r[i] == '\'' && i+1 < n {
		c := unicode.ToLower(r[i+1])
		if c == 's' || c == 't' || c == 'm' || c == 'd' {
			return i + 2
		}
		if i+2 < n {
			d := unicode.ToLower(r[i+2])
			if (c == 'r' && d == 'e') || (c == 'v' && d == 'e') || (c == 'l' && d == 'l') {
				return i + 3
			}
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	j := i
	if !isNL(r[j]) && !isL(r[j]) && !isN(r[j]) {
		j++
	}
	if j < n && isL(r[j]) {
		for j < n && isL(r[j]) {
			j++
		}
		return j
	}
	// \p{N}{1,3}
	if isN(r[i]) {
		j = i + 1
		for j < n && j < i+3 && isN(r[j]) {
			j++
		}
		return j
	}
	// ?[^\s\p{L}\p{N}]+[\r\n]*
	j = i
	if r[j] == ' ' {
		j++
	}
	other := func(c rune) bool { return !isS(c) && !isL(c) && !isN(c) }
	if j < n && other(r[j]) {
		for j < n && other(r[j]) {
			j++
		}
		for j < n && isNL(r[j]) {
			j++
		}
		return j
	}
	if !isS(r[i]) {
		return i + 1 // unreachable: every rune is a letter, a number, a space or other
	}
	e := i
	for e < n && isS(r[e]) {
		e++
	}
	// \s*[\r\n]+
	for k := e - 1; k >= i; k-- {
		if isNL(r[k]) {
			return k + 1
		}
	}
	// \s+(?!\S)
	if e == n {
		return e
	}
	if e-1 > i {
		return e - 1
	}
	// \s+
	return e
}

// WordCounts counts the pre-tokens of a text into counts.
func WordCounts(counts map[string]int, text string) {
	for _, w := range Split(text) {
		counts[w]++
	}
}

func key(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// Train learns merges from pre-token counts until the vocabulary (256 bytes + merges + specials) has vocabSize
// entries, or no pair occurs twice. Ties are broken by the smaller pair of ids, so the result is deterministic.
func Train(counts map[string]int, vocabSize int, specials []string) (*Model, error) {
	if specials == nil {
		specials = DefaultSpecials
	}
	nMerges := vocabSize - 256 - len(specials)
	if nMerges < 0 {
		return nil, fmt.Errorf("bpe: vocab size %d too small for 256 bytes and %d specials", vocabSize, len(specials))
	}
	type word struct {
		syms  []int32
		count int
		seen  int
	}
	// Deterministic word order: sort the keys.
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	words := make([]word, len(keys))
	pairs := map[uint64]int{}
	where := map[uint64][]int32{}
	for wi, w := range keys {
		s := make([]int32, len(w))
		for i := 0; i < len(w); i++ {
			s[i] = int32(w[i])
		}
		words[wi] = word{syms: s, count: counts[w], seen: -1}
		for i := 0; i+1 < len(s); i++ {
			k := key(s[i], s[i+1])
			pairs[k] += counts[w]
			where[k] = append(where[k], int32(wi))
		}
	}
	m := &Model{}
	for b := 0; b < 256; b++ {
		m.Vocab = append(m.Vocab, string(byteChars[b]))
	}
	for it := 0; it < nMerges; it++ {
		var best uint64
		bestN := 0
		for k, c := range pairs {
			if c > bestN || (c == bestN && k < best) {
				best, bestN = k, c
			}
		}
		if bestN < 2 {
			break
		}
		a, b := int32(best>>32), int32(uint32(best))
		id := int32(len(m.Vocab))
		m.Vocab = append(m.Vocab, m.Vocab[a]+m.Vocab[b])
		m.Merges = append(m.Merges, [2]int32{a, b})
		for _, wi := range where[best] {
			w := &words[wi]
			if w.seen == it {
				continue
			}
			w.seen = it
			s := w.syms
			has := false
			for i := 0; i+1 < len(s); i++ {
				if s[i] == a && s[i+1] == b {
					has = true
					break
				}
			}
			if !has {
				continue
			}
			for i := 0; i+1 < len(s); i++ {
				k := key(s[i], s[i+1])
				if pairs[k] -= w.count; pairs[k] <= 0 {
					delete(pairs, k)
				}
			}
			out := s[:0]
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == a && s[i+1] == b {
					out = append(out, id)
					i++
				} else {
					out = append(out, s[i])
				}
			}
			w.syms = out
			for i := 0; i+1 < len(out); i++ {
				k := key(out[i], out[i+1])
				pairs[k] += w.count
				if out[i] == id || out[i+1] == id {
					where[k] = append(where[k], wi)
				}
			}
		}
		delete(where, best)
		delete(pairs, best)
	}
	m.Vocab = append(m.Vocab, specials...)
	m.Specials = append([]string(nil), specials...)
	m.init()
	return m, nil
}

func (m *Model) init() {
	m.ranks = make(map[uint64]int32, len(m.Merges))
	for i, p := range m.Merges {
		m.ranks[key(p[0], p[1])] = int32(256 + i)
	}
	m.index = make(map[string]int32, len(m.Vocab))
	for i, v := range m.Vocab[:len(m.Vocab)-len(m.Specials)] {
		m.index[v] = int32(i)
	}
	m.cache = map[string][]int32{}
}

// ID returns the id of a token spelled as in Vocab (special tokens verbatim).
func (m *Model) ID(tok string) (int32, bool) {
	if id, ok := m.index[tok]; ok {
		return id, true
	}
	for i := len(m.Vocab) - 1; i >= len(m.Vocab)-len(m.Specials); i-- {
		if m.Vocab[i] == tok {
			return int32(i), true
		}
	}
	return -1, false
}

// Encode tokenizes text without special tokens (special-token text is encoded as ordinary bytes). A pre-token that
// is itself in the vocabulary becomes that token (ignore_merges, as LLaMA-3 and llama.cpp's llama-bpe do; for a
// vocabulary learned by Train this usually gives the ids the merges give; a test checks it on the sample). Not
// safe for concurrent use (it caches words).
func (m *Model) Encode(text string) []int32 {
	var out []int32
	for _, w := range Split(text) {
		out = append(out, m.word(w)...)
	}
	return out
}

func (m *Model) word(w string) []int32 {
	if ids, ok := m.cache[w]; ok {
		return ids
	}
	if id, ok := m.index[ByteLevel([]byte(w))]; ok {
		s := []int32{id}
		m.cache[w] = s
		return s
	}
	s := make([]int32, len(w))
	for i := 0; i < len(w); i++ {
		s[i] = int32(w[i])
	}
	for len(s) > 1 {
		best, bi := int32(-1), -1
		for i := 0; i+1 < len(s); i++ {
			if r, ok := m.ranks[key(s[i], s[i+1])]; ok && (best < 0 || r < best) {
				best, bi = r, i
			}
		}
		if bi < 0 {
			break
		}
		a, b := s[bi], s[bi+1]
		out := s[:0]
		for i := 0; i < len(s); i++ {
			if i+1 < len(s) && s[i] == a && s[i+1] == b {
				out = append(out, best)
				i++
			} else {
				out = append(out, s[i])
			}
		}
		s = out
	}
	if len(m.cache) < 1<<20 {
		m.cache[w] = s
	}
	return s
}

// Decode turns ids back into text; special tokens are written verbatim.
func (m *Model) Decode(ids []int32) string {
	var b bytes.Buffer
	nSpec := len(m.Vocab) - len(m.Specials)
	for _, id := range ids {
		if id < 0 || int(id) >= len(m.Vocab) {
			continue
		}
		if int(id) >= nSpec {
			b.WriteString(m.Vocab[id])
			continue
		}
		m.bytes(&b, id)
	}
	return b.String()
}

func (m *Model) bytes(b *bytes.Buffer, id int32) {
	if id < 256 {
		b.WriteByte(byte(id))
		return
	}
	p := m.Merges[id-256]
	m.bytes(b, p[0])
	m.bytes(b, p[1])
}

type jsonAdded struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// JSON returns the tokenizer in Hugging Face's tokenizer.json format.
func (m *Model) JSON() ([]byte, error) {
	nSpec := len(m.Vocab) - len(m.Specials)
	var added []jsonAdded
	for i, s := range m.Specials {
		added = append(added, jsonAdded{ID: nSpec + i, Content: s, Special: true})
	}
	bos := -1
	for i, s := range m.Specials {
		if s == BeginOfText {
			bos = nSpec + i
		}
	}
	var b bytes.Buffer
	enc := func(v any) {
		d, _ := json.Marshal(v)
		b.Write(d)
	}
	// Written by hand, not from structs: vocab is a JSON object in id order (as Hugging Face writes it), which
	// encoding/json's maps would sort by key; the result is checked by decoding it below.
	b.WriteString(`{"version":"1.0","truncation":null,"padding":null,"added_tokens":`)
	enc(added)
	b.WriteString(`,"normalizer":null,"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":`)
	enc(Pattern)
	b.WriteString(`},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}`)
	b.WriteString(`,"post_processor":{"type":"Sequence","processors":[{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true}`)
	if bos >= 0 {
		b.WriteString(`,{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<|begin_of_text|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"pair":[{"SpecialToken":{"id":"<|begin_of_text|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"<|begin_of_text|>","type_id":1}},{"Sequence":{"id":"B","type_id":1}}],"special_tokens":{"<|begin_of_text|>":{"id":"<|begin_of_text|>","ids":[`)
		enc(bos)
		b.WriteString(`],"tokens":["<|begin_of_text|>"]}}}`)
	}
	b.WriteString(`]},"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}`)
	b.WriteString(`,"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":true,"vocab":{`)
	for i := 0; i < nSpec; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		enc(m.Vocab[i])
		fmt.Fprintf(&b, ":%d", i)
	}
	b.WriteString(`},"merges":[`)
	for i, p := range m.Merges {
		if i > 0 {
			b.WriteByte(',')
		}
		enc(m.Vocab[p[0]] + " " + m.Vocab[p[1]])
	}
	b.WriteString("]}}\n")
	var check any
	if err := json.Unmarshal(b.Bytes(), &check); err != nil {
		return nil, fmt.Errorf("bpe: generated invalid JSON: %w", err)
	}
	return b.Bytes(), nil
}

// WriteFile writes the tokenizer.json.
func (m *Model) WriteFile(path string) error {
	data, err := m.JSON()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data)
}

// ReadFile loads a tokenizer.json written by WriteFile (vocabulary in id order, merges "a b", special tokens as
// added_tokens after the merges).
func ReadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return FromJSON(data)
}

// FromJSON parses a tokenizer.json written by JSON.
func FromJSON(data []byte) (*Model, error) {
	var f struct {
		Added []jsonAdded `json:"added_tokens"`
		Model struct {
			Vocab  map[string]int `json:"vocab"`
			Merges []string       `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("bpe: %w", err)
	}
	n := len(f.Model.Vocab)
	if n < 256 || n != 256+len(f.Model.Merges) || n > 1<<20 {
		return nil, fmt.Errorf("bpe: vocab of %d tokens and %d merges is not a byte-level BPE written by this package", n, len(f.Model.Merges))
	}
	m := &Model{Vocab: make([]string, n)}
	for s, id := range f.Model.Vocab {
		if id < 0 || id >= n || m.Vocab[id] != "" {
			return nil, fmt.Errorf("bpe: bad vocab id %d for %q", id, s)
		}
		m.Vocab[id] = s
	}
	for i, ms := range f.Model.Merges {
		var a, b string
		for k := 0; k < len(ms); k++ {
			if ms[k] == ' ' {
				a, b = ms[:k], ms[k+1:]
				break
			}
		}
		ia, oka := f.Model.Vocab[a]
		ib, okb := f.Model.Vocab[b]
		if !oka || !okb || m.Vocab[256+i] != a+b {
			return nil, fmt.Errorf("bpe: merge %d %q does not make token %d", i, ms, 256+i)
		}
		m.Merges = append(m.Merges, [2]int32{int32(ia), int32(ib)})
	}
	for i, a := range f.Added {
		if a.ID != n+i {
			return nil, errors.New("bpe: added tokens must follow the merges in order")
		}
		m.Vocab = append(m.Vocab, a.Content)
		m.Specials = append(m.Specials, a.Content)
	}
	m.init()
	return m, nil
}
