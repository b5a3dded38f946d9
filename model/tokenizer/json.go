package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on what a tokenizer.json may hold.
const (
	maxVocab       = 1 << 21 // ids and token counts (the largest vocabularies have ~262k tokens)
	maxAddedTokens = 1 << 20
	maxDepth       = 16 // nesting of Sequence components
)

type jsonFile struct {
	AddedTokens   []jsonAddedToken `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
	Model         json.RawMessage  `json:"model"`
}

type jsonAddedToken struct {
	ID         int64  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

type jsonModel struct {
	Type                    string          `json:"type"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Dropout                 *float64        `json:"dropout"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// component is any normalizer, pre-tokenizer, post-processor or decoder object; fields are read per type.
type component struct {
	Type string `json:"type"`
	// Sequence
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	Decoders      []json.RawMessage `json:"decoders"`
	// Prepend, Replace, Strip (decoder), Split, Metaspace
	Prepend  string          `json:"prepend"`
	Pattern  json.RawMessage `json:"pattern"`
	Content  json.RawMessage `json:"content"`
	Start    int             `json:"start"`
	Stop     int             `json:"stop"`
	Behavior string          `json:"behavior"`
	Invert   bool            `json:"invert"`
	// Strip (normalizer)
	StripLeft  bool `json:"strip_left"`
	StripRight bool `json:"strip_right"`
	// ByteLevel
	AddPrefixSpace *bool `json:"add_prefix_space"`
	UseRegex       *bool `json:"use_regex"`
	// Metaspace
	Replacement   string `json:"replacement"`
	PrependScheme string `json:"prepend_scheme"`
	Split         *bool  `json:"split"`
	// Digits
	IndividualDigits bool `json:"individual_digits"`
	// CharDelimiterSplit
	Delimiter string `json:"delimiter"`
	// BPEDecoder
	Suffix *string `json:"suffix"`
	// TemplateProcessing
	Single        []json.RawMessage          `json:"single"`
	SpecialTokens map[string]jsonSpecialTmpl `json:"special_tokens"`
	// BertProcessing, RobertaProcessing
	Sep []json.RawMessage `json:"sep"`
	Cls []json.RawMessage `json:"cls"`
}

type jsonSpecialTmpl struct {
	ID  string  `json:"id"`
	IDs []int64 `json:"ids"`
}

type jsonPattern struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// FromJSON reads a Hugging Face tokenizer.json.
func FromJSON(data []byte) (*Tokenizer, error) {
	var f jsonFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, jsonError("", err)
	}
	if isNull(f.Model) {
		return nil, errorf("model", nil, "missing")
	}
	var jm jsonModel
	if err := json.Unmarshal(f.Model, &jm); err != nil {
		return nil, jsonError("model", err)
	}
	if jm.Type == "" && !isNull(jm.Merges) {
		jm.Type = "BPE"
	}
	if jm.Type != "BPE" {
		return nil, errorf("model.type", ErrUnsupported, "model %q", jm.Type)
	}
	m, tokens, err := buildBPE(&jm)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{model: m, bpe: m, bos: -1, eos: -1, eot: -1, pad: -1, unk: m.unk}
	if t.normalizer, err = parseNormalizer(f.Normalizer, "normalizer", 0); err != nil {
		return nil, err
	}
	if t.pre, err = parsePreTokenizer(f.PreTokenizer, "pre_tokenizer", 0); err != nil {
		return nil, err
	}
	if t.decoder, err = parseDecoder(f.Decoder, "decoder", 0); err != nil {
		return nil, err
	}
	if len(f.AddedTokens) > maxAddedTokens {
		return nil, errorf("added_tokens", nil, "%d tokens, more than the limit %d", len(f.AddedTokens), maxAddedTokens)
	}
	added := make([]*addedToken, 0, len(f.AddedTokens))
	seen := map[string]int{}
	for i, a := range f.AddedTokens {
		if a.Content == "" {
			continue
		}
		id := a.ID
		if mid, ok := m.vocab[a.Content]; ok {
			id = int64(mid) // HF keeps the model's id for a token already in the vocabulary
		}
		if id < 0 || id >= maxVocab {
			return nil, errorf(fmt.Sprintf("added_tokens[%d].id", i), nil, "id %d out of range", a.ID)
		}
		normalized := !a.Special
		if a.Normalized != nil {
			normalized = *a.Normalized
		}
		at := &addedToken{id: int32(id), content: a.Content, normalized: normalized, special: a.Special,
			lstrip: a.LStrip, rstrip: a.RStrip, singleWord: a.SingleWord}
		if j, ok := seen[a.Content]; ok {
			added[j] = at
			continue
		}
		seen[a.Content] = len(added)
		added = append(added, at)
	}
	t.added = newAddedVocab(added, t.normalizer)
	t.finish(tokens, m.vocab)
	if t.post, err = t.parsePost(f.PostProcessor, "post_processor", 0); err != nil {
		return nil, err
	}
	t.guessSpecialIDs()
	return t, nil
}

func isNull(r json.RawMessage) bool {
	r = bytes.TrimSpace(r)
	return len(r) == 0 || bytes.Equal(r, []byte("null"))
}

func jsonError(path string, err error) error {
	e := &Error{Path: path, Offset: -1, Msg: "bad JSON", Err: err}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		e.Offset = se.Offset
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		e.Offset = ue.Offset
		if ue.Field != "" {
			if path != "" {
				e.Path = path + "." + ue.Field
			} else {
				e.Path = ue.Field
			}
		}
	}
	return e
}

func buildBPE(jm *jsonModel) (*bpeModel, []string, error) {
	if jm.Dropout != nil && *jm.Dropout > 0 {
		return nil, nil, errorf("model.dropout", ErrUnsupported, "BPE dropout %g", *jm.Dropout)
	}
	m := &bpeModel{unk: -1, fuseUnk: jm.FuseUnk, byteFallback: jm.ByteFallback, ignoreMerges: jm.IgnoreMerges}
	vocab, ok := fastVocab(jm.Vocab)
	if !ok {
		var v64 map[string]int64
		if err := json.Unmarshal(jm.Vocab, &v64); err != nil {
			return nil, nil, jsonError("model.vocab", err)
		}
		vocab = make(map[string]int32, len(v64))
		for s, id := range v64 {
			if id < 0 || id >= maxVocab {
				return nil, nil, errorf("model.vocab", nil, "token %q has id %d, out of range", s, id)
			}
			vocab[s] = int32(id)
		}
	}
	if len(vocab) > maxVocab {
		return nil, nil, errorf("model.vocab", nil, "%d tokens, more than the limit %d", len(vocab), maxVocab)
	}
	m.vocab = vocab
	maxID := int32(-1)
	for _, id := range vocab {
		maxID = max(maxID, id)
	}
	tokens := make([]string, maxID+1)
	// HF's vocab_r keeps one token per id; when several share an id, take the smallest string for determinism.
	for s, id := range m.vocab {
		if tokens[id] == "" || s < tokens[id] {
			tokens[id] = s
		}
	}
	m.vocabR = tokens
	if jm.ContinuingSubwordPrefix != nil {
		m.prefix = *jm.ContinuingSubwordPrefix
	}
	if jm.EndOfWordSuffix != nil {
		m.suffix = *jm.EndOfWordSuffix
	}
	if jm.UnkToken != nil {
		m.unkToken = *jm.UnkToken
		id, ok := m.vocab[m.unkToken]
		if !ok {
			return nil, nil, errorf("model.unk_token", nil, "%q is not in the vocabulary", m.unkToken)
		}
		m.unk = id
	}
	pairs, err := parseMerges(jm.Merges)
	if err != nil {
		return nil, nil, err
	}
	m.mergeList = pairs
	m.merges = make(map[uint64]mergeVal, len(pairs))
	for i, p := range pairs {
		a, ok1 := m.vocab[p[0]]
		b, ok2 := m.vocab[p[1]]
		if !ok1 || !ok2 {
			return nil, nil, errorf(fmt.Sprintf("model.merges[%d]", i), nil, "token %q or %q is not in the vocabulary", p[0], p[1])
		}
		if len(m.prefix) > len(p[1]) {
			return nil, nil, errorf(fmt.Sprintf("model.merges[%d]", i), nil, "token %q is shorter than the subword prefix", p[1])
		}
		merged := p[0] + p[1][len(m.prefix):]
		id, ok := m.vocab[merged]
		if !ok {
			return nil, nil, errorf(fmt.Sprintf("model.merges[%d]", i), nil, "merged token %q is not in the vocabulary", merged)
		}
		m.merges[mergeKey(a, b)] = mergeVal{rank: int32(i), id: id}
	}
	m.init()
	return m, tokens, nil
}

// parseMerges reads merges as "a b" strings or ["a", "b"] pairs.
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	if strs, pairs, ok := fastMerges(raw); ok {
		if len(strs)+len(pairs) > maxVocab {
			return nil, errorf("model.merges", nil, "%d merges, more than the limit %d", len(strs)+len(pairs), maxVocab)
		}
		if pairs != nil {
			return pairs, nil
		}
		out := make([][2]string, 0, len(strs))
		for i, s := range strs {
			if i == 0 && strings.HasPrefix(s, "#version") {
				continue
			}
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, errorf(fmt.Sprintf("model.merges[%d]", i), nil, "merge %q is not two tokens separated by one space", s)
			}
			out = append(out, [2]string{a, b})
		}
		return out, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, jsonError("model.merges", err)
	}
	if len(items) > maxVocab {
		return nil, errorf("model.merges", nil, "%d merges, more than the limit %d", len(items), maxVocab)
	}
	out := make([][2]string, 0, len(items))
	for i, it := range items {
		path := fmt.Sprintf("model.merges[%d]", i)
		it = bytes.TrimSpace(it)
		if len(it) > 0 && it[0] == '"' {
			var s string
			if len(it) >= 2 && bytes.IndexByte(it[1:len(it)-1], '\\') < 0 && bytes.IndexByte(it[1:len(it)-1], '"') < 0 && utf8.Valid(it) {
				s = string(it[1 : len(it)-1])
			} else if err := json.Unmarshal(it, &s); err != nil {
				return nil, jsonError(path, err)
			}
			if strings.HasPrefix(s, "#version") && len(out) == 0 && i == 0 {
				continue
			}
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, errorf(path, nil, "merge %q is not two tokens separated by one space", s)
			}
			out = append(out, [2]string{a, b})
			continue
		}
		var pair []string
		if err := json.Unmarshal(it, &pair); err != nil {
			return nil, jsonError(path, err)
		}
		if len(pair) != 2 {
			return nil, errorf(path, nil, "merge has %d parts, want 2", len(pair))
		}
		out = append(out, [2]string{pair[0], pair[1]})
	}
	return out, nil
}

func parseComponent(raw json.RawMessage, path string, depth int) (*component, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > maxDepth {
		return nil, errorf(path, nil, "nested deeper than %d", maxDepth)
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, jsonError(path, err)
	}
	return &c, nil
}

func parsePattern(raw json.RawMessage, path string) (pattern, error) {
	var p jsonPattern
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, jsonError(path, err)
	}
	switch {
	case p.String != nil:
		return literal(*p.String), nil
	case p.Regex != nil:
		pat, err := compilePattern(*p.Regex)
		if err != nil {
			return nil, errorf(path, ErrUnsupported, "regex %q", *p.Regex)
		}
		return pat, nil
	}
	return nil, errorf(path, nil, "pattern is neither String nor Regex")
}

func contentString(raw json.RawMessage, path string) (string, error) {
	var s string
	if isNull(raw) {
		return "", nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", jsonError(path, err)
	}
	return s, nil
}

func parseNormalizer(raw json.RawMessage, path string, depth int) (normalizer, error) {
	c, err := parseComponent(raw, path, depth)
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var q normSequence
		for i, r := range c.Normalizers {
			n, err := parseNormalizer(r, fmt.Sprintf("%s.normalizers[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			if n != nil {
				q = append(q, n)
			}
		}
		return q, nil
	case "Prepend":
		return normPrepend{c.Prepend}, nil
	case "Replace":
		pat, err := parsePattern(c.Pattern, path+".pattern")
		if err != nil {
			return nil, err
		}
		content, err := contentString(c.Content, path+".content")
		if err != nil {
			return nil, err
		}
		return normReplace{pat, content}, nil
	case "NFC":
		return normForm{norm.NFC}, nil
	case "NFD":
		return normForm{norm.NFD}, nil
	case "NFKC":
		return normForm{norm.NFKC}, nil
	case "NFKD":
		return normForm{norm.NFKD}, nil
	case "Lowercase":
		return normLowercase{}, nil
	case "Strip":
		return normStrip{c.StripLeft, c.StripRight}, nil
	case "StripAccents":
		return normStripAccents{}, nil
	case "ByteLevel":
		return normByteLevel{}, nil
	}
	return nil, errorf(path+".type", ErrUnsupported, "normalizer %q", c.Type)
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func parsePreTokenizer(raw json.RawMessage, path string, depth int) (preTokenizer, error) {
	c, err := parseComponent(raw, path, depth)
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var q preSequence
		for i, r := range c.Pretokenizers {
			p, err := parsePreTokenizer(r, fmt.Sprintf("%s.pretokenizers[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			if p != nil {
				q = append(q, p)
			}
		}
		return q, nil
	case "Split":
		pat, err := parsePattern(c.Pattern, path+".pattern")
		if err != nil {
			return nil, err
		}
		b, ok := behaviors[c.Behavior]
		if !ok {
			return nil, errorf(path+".behavior", nil, "unknown behavior %q", c.Behavior)
		}
		return preSplit{pat: pat, behavior: b, invert: c.Invert}, nil
	case "ByteLevel":
		return preByteLevel{addPrefixSpace: boolOr(c.AddPrefixSpace, true), useRegex: boolOr(c.UseRegex, true)}, nil
	case "Metaspace":
		return parseMetaspace(c, path)
	case "Whitespace":
		return preWhitespace{}, nil
	case "WhitespaceSplit":
		return preCharSplit{pred: charPattern(isWhite), behavior: removed}, nil
	case "Digits":
		b := contiguous
		if c.IndividualDigits {
			b = isolated
		}
		return preCharSplit{pred: charPattern(isN), behavior: b}, nil
	case "Punctuation":
		b := isolated
		if c.Behavior != "" {
			var ok bool
			if b, ok = behaviors[c.Behavior]; !ok {
				return nil, errorf(path+".behavior", nil, "unknown behavior %q", c.Behavior)
			}
		}
		return preCharSplit{pred: charPattern(isPunct), behavior: b}, nil
	case "BertPreTokenizer":
		return preBert{}, nil
	case "CharDelimiterSplit":
		r, n := utf8.DecodeRuneInString(c.Delimiter)
		if n == 0 || n != len(c.Delimiter) {
			return nil, errorf(path+".delimiter", nil, "delimiter %q is not one character", c.Delimiter)
		}
		return preCharSplit{pred: charPattern(func(x rune) bool { return x == r }), behavior: removed}, nil
	}
	return nil, errorf(path+".type", ErrUnsupported, "pre-tokenizer %q", c.Type)
}

func isWhite(r rune) bool { return isS(r) }

func parseMetaspace(c *component, path string) (preMetaspace, error) {
	rep := c.Replacement
	if rep == "" {
		rep = "▁"
	}
	r, n := utf8.DecodeRuneInString(rep)
	if n != len(rep) {
		return preMetaspace{}, errorf(path+".replacement", nil, "replacement %q is not one character", rep)
	}
	scheme := c.PrependScheme
	if scheme == "" {
		scheme = "always"
		if c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
			scheme = "never"
		}
	}
	if scheme != "always" && scheme != "first" && scheme != "never" {
		return preMetaspace{}, errorf(path+".prepend_scheme", nil, "unknown prepend_scheme %q", scheme)
	}
	return preMetaspace{replacement: r, rep: rep, prepend: scheme, split: boolOr(c.Split, true)}, nil
}

func parseDecoder(raw json.RawMessage, path string, depth int) (decoder, error) {
	c, err := parseComponent(raw, path, depth)
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var q decSequence
		for i, r := range c.Decoders {
			d, err := parseDecoder(r, fmt.Sprintf("%s.decoders[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			if d != nil {
				q = append(q, d)
			}
		}
		return q, nil
	case "ByteLevel":
		return decByteLevel{}, nil
	case "Replace":
		pat, err := parsePattern(c.Pattern, path+".pattern")
		if err != nil {
			return nil, err
		}
		content, err := contentString(c.Content, path+".content")
		if err != nil {
			return nil, err
		}
		return decReplace{pat, content}, nil
	case "ByteFallback":
		return decByteFallback{}, nil
	case "Fuse":
		return decFuse{}, nil
	case "Strip":
		content, err := contentString(c.Content, path+".content")
		if err != nil {
			return nil, err
		}
		r, n := utf8.DecodeRuneInString(content)
		if n == 0 || n != len(content) {
			return nil, errorf(path+".content", nil, "content %q is not one character", content)
		}
		if c.Start < 0 || c.Stop < 0 {
			return nil, errorf(path, nil, "negative start or stop")
		}
		return decStrip{content: r, start: c.Start, stop: c.Stop}, nil
	case "Metaspace":
		m, err := parseMetaspace(c, path)
		if err != nil {
			return nil, err
		}
		return decMetaspace{replacement: m.replacement, prepend: m.prepend}, nil
	case "BPEDecoder":
		suffix := "</w>"
		if c.Suffix != nil {
			suffix = *c.Suffix
		}
		return decBPE{suffix}, nil
	}
	return nil, errorf(path+".type", ErrUnsupported, "decoder %q", c.Type)
}

func (t *Tokenizer) parsePost(raw json.RawMessage, path string, depth int) (postProcessor, error) {
	c, err := parseComponent(raw, path, depth)
	if c == nil || err != nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		var q postSequence
		for i, r := range c.Processors {
			p, err := t.parsePost(r, fmt.Sprintf("%s.processors[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			if p != nil {
				q = append(q, p)
			}
		}
		return q, nil
	case "ByteLevel":
		return postNone{}, nil
	case "TemplateProcessing":
		var p postTemplate
		seenSeq := false
		for i, r := range c.Single {
			var piece struct {
				SpecialToken *struct {
					ID string `json:"id"`
				}
				Sequence *struct {
					ID string `json:"id"`
				}
			}
			ipath := fmt.Sprintf("%s.single[%d]", path, i)
			if err := json.Unmarshal(r, &piece); err != nil {
				return nil, jsonError(ipath, err)
			}
			switch {
			case piece.Sequence != nil:
				if piece.Sequence.ID != "A" {
					return nil, errorf(ipath, nil, "sequence %q in a single template", piece.Sequence.ID)
				}
				seenSeq = true
			case piece.SpecialToken != nil:
				st, ok := c.SpecialTokens[piece.SpecialToken.ID]
				if !ok {
					return nil, errorf(ipath, nil, "special token %q is not in special_tokens", piece.SpecialToken.ID)
				}
				for _, id := range st.IDs {
					if id < 0 || id >= int64(len(t.tokens)) {
						return nil, errorf(ipath, nil, "special token id %d out of range", id)
					}
					if seenSeq {
						p.after = append(p.after, int32(id))
					} else {
						p.before = append(p.before, int32(id))
					}
				}
			default:
				return nil, errorf(ipath, nil, "template piece is neither SpecialToken nor Sequence")
			}
		}
		return p, nil
	case "BertProcessing", "RobertaProcessing":
		cls, err := tokenPair(c.Cls, path+".cls")
		if err != nil {
			return nil, err
		}
		sep, err := tokenPair(c.Sep, path+".sep")
		if err != nil {
			return nil, err
		}
		return postTemplate{before: []int32{cls}, after: []int32{sep}}, nil
	}
	return nil, errorf(path+".type", ErrUnsupported, "post-processor %q", c.Type)
}

func tokenPair(raw []json.RawMessage, path string) (int32, error) {
	if len(raw) != 2 {
		return 0, errorf(path, nil, "want [token, id]")
	}
	var id int64
	if err := json.Unmarshal(raw[1], &id); err != nil {
		return 0, jsonError(path, err)
	}
	if id < 0 || id >= maxVocab {
		return 0, errorf(path, nil, "id %d out of range", id)
	}
	return int32(id), nil
}

// guessSpecialIDs finds BOS, EOS, EOT and PAD among the added tokens and the post-processor.
func (t *Tokenizer) guessSpecialIDs() {
	find := func(names ...string) int32 {
		for _, n := range names {
			if id, ok := t.ID(n); ok {
				return id
			}
		}
		return -1
	}
	if p, ok := t.templateOf(); ok {
		if len(p.before) > 0 {
			t.bos, t.addBOS = p.before[0], true
		}
		if len(p.after) > 0 {
			t.eos, t.addEOS = p.after[len(p.after)-1], true
		}
	}
	if t.bos < 0 {
		t.bos = find("<|begin_of_text|>", "<s>", "<|startoftext|>", "<bos>", "[CLS]")
	}
	if t.eos < 0 {
		t.eos = find("<|end_of_text|>", "</s>", "<|endoftext|>", "<eos>", "[SEP]")
	}
	t.eot = find("<|eot_id|>", "<|im_end|>", "<end_of_turn>")
	t.pad = find("<pad>", "<|pad|>", "[PAD]", "<|finetune_right_pad_id|>")
}

// templateOf returns the template post-processor, if there is one.
func (t *Tokenizer) templateOf() (postTemplate, bool) {
	var walk func(p postProcessor) (postTemplate, bool)
	walk = func(p postProcessor) (postTemplate, bool) {
		switch x := p.(type) {
		case postTemplate:
			return x, true
		case postSequence:
			for _, q := range x {
				if r, ok := walk(q); ok {
					return r, true
				}
			}
		}
		return postTemplate{}, false
	}
	return walk(t.post)
}

// sortedAdded returns the added tokens ordered by id.
func (t *Tokenizer) sortedAdded() []*addedToken {
	out := append([]*addedToken(nil), t.added.tokens...)
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}
