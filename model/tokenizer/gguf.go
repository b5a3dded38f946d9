package tokenizer

import (
	"fmt"
	"math"
	"strings"
)

// GGUF token types (tokenizer.ggml.token_type).
const (
	TokenNormal      int32 = 1
	TokenUnknown     int32 = 2
	TokenControl     int32 = 3
	TokenUserDefined int32 = 4
	TokenUnused      int32 = 5
	TokenByte        int32 = 6
)

// GGUFVocab is a tokenizer as GGUF files store it (the tokenizer.ggml.* keys).
type GGUFVocab struct {
	Model string // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece-style)
	Pre   string // tokenizer.ggml.pre: the pre-tokenizer of a gpt2 model ("llama-bpe", "gpt-2", "default", "qwen2")

	Tokens []string  // tokenizer.ggml.tokens (id = index)
	Types  []int32   // tokenizer.ggml.token_type (Token* constants); nil: all normal
	Scores []float32 // tokenizer.ggml.scores (llama models merge by them); nil: all 0
	Merges []string  // tokenizer.ggml.merges, "a b" in priority order (gpt2 models)

	BOS, EOS, EOT, PAD, UNK int32 // tokenizer.ggml.*_token_id, -1 when none
	AddBOS, AddEOS          bool  // tokenizer.ggml.add_bos_token, add_eos_token
	ChatTemplate            string
}

// preRegexes maps tokenizer.ggml.pre names to split regexes (and whether merges are ignored for words in the
// vocabulary, as llama.cpp does for LLaMA-3).
var preRegexes = map[string]struct {
	regex        string
	ignoreMerges bool
}{
	"llama-bpe": {regexLLaMA3, true},
	"llama3":    {regexLLaMA3, true},
	"llama-v3":  {regexLLaMA3, true},
	"smaug-bpe": {regexLLaMA3, false},
	"dbrx":      {regexLLaMA3, false},
	"qwen2":     {regexQwen2, false},
	"default":   {regexGPT2, false},
	"gpt2":      {regexGPT2, false},
	"gpt-2":     {regexGPT2, false},
	"":          {regexGPT2, false},
}

// FromGGUFVocab builds a tokenizer from the tokenizer keys of a GGUF file.
func FromGGUFVocab(v GGUFVocab) (*Tokenizer, error) {
	n := len(v.Tokens)
	if n == 0 {
		return nil, errorf("tokenizer.ggml.tokens", nil, "no tokens")
	}
	if n > maxVocab {
		return nil, errorf("tokenizer.ggml.tokens", nil, "%d tokens, more than the limit %d", n, maxVocab)
	}
	if v.Types != nil && len(v.Types) != n {
		return nil, errorf("tokenizer.ggml.token_type", nil, "%d types for %d tokens", len(v.Types), n)
	}
	if v.Scores != nil && len(v.Scores) != n {
		return nil, errorf("tokenizer.ggml.scores", nil, "%d scores for %d tokens", len(v.Scores), n)
	}
	for _, s := range []struct {
		name string
		id   int32
	}{{"bos", v.BOS}, {"eos", v.EOS}, {"eot", v.EOT}, {"padding", v.PAD}, {"unknown", v.UNK}} {
		if s.id < -1 || int(s.id) >= n {
			return nil, errorf("tokenizer.ggml."+s.name+"_token_id", nil, "id %d out of range [0, %d)", s.id, n)
		}
	}
	typ := func(i int) int32 {
		if v.Types == nil {
			return TokenNormal
		}
		return v.Types[i]
	}
	vocab := make(map[string]int32, n)
	for i, s := range v.Tokens {
		vocab[s] = int32(i) // llama.cpp: the last of duplicates wins
	}
	var added []*addedToken
	for i, s := range v.Tokens {
		if s == "" {
			continue
		}
		switch typ(i) {
		case TokenControl, TokenUnknown:
			added = append(added, &addedToken{id: int32(i), content: s, special: true})
		case TokenUserDefined:
			added = append(added, &addedToken{id: int32(i), content: s})
		}
	}
	t := &Tokenizer{bos: v.BOS, eos: v.EOS, eot: v.EOT, pad: v.PAD, unk: v.UNK, addBOS: v.AddBOS, addEOS: v.AddEOS,
		chatTemplate: v.ChatTemplate}
	switch v.Model {
	case "gpt2":
		pre, ok := preRegexes[v.Pre]
		if !ok {
			return nil, errorf("tokenizer.ggml.pre", ErrUnsupported, "pre-tokenizer %q", v.Pre)
		}
		m := &bpeModel{vocab: vocab, vocabR: v.Tokens, unk: -1, ignoreMerges: pre.ignoreMerges}
		if len(v.Merges) > maxVocab {
			return nil, errorf("tokenizer.ggml.merges", nil, "%d merges, more than the limit %d", len(v.Merges), maxVocab)
		}
		m.merges = make(map[uint64]mergeVal, len(v.Merges))
		for i, s := range v.Merges {
			path := fmt.Sprintf("tokenizer.ggml.merges[%d]", i)
			k := -1
			if len(s) > 1 {
				k = strings.IndexByte(s[1:], ' ') // like llama.cpp: the first space after the first byte
			}
			if k < 0 {
				return nil, errorf(path, nil, "merge %q has no space", s)
			}
			a, b := s[:k+1], s[k+2:]
			m.mergeList = append(m.mergeList, [2]string{a, b})
			ia, ok1 := vocab[a]
			ib, ok2 := vocab[b]
			id, ok3 := vocab[a+b]
			if !ok1 || !ok2 || !ok3 {
				return nil, errorf(path, nil, "merge %q: a token is not in the vocabulary", s)
			}
			if _, dup := m.merges[mergeKey(ia, ib)]; !dup { // llama.cpp keeps the first rank
				m.merges[mergeKey(ia, ib)] = mergeVal{rank: int32(i), id: id}
			}
		}
		m.init()
		pat, _ := compilePattern(pre.regex)
		t.model, t.bpe = m, m
		t.pre = preSequence{preSplit{pat: pat, behavior: isolated}, preByteLevel{}}
		t.decoder = decByteLevel{}
		if (v.Pre == "default" || v.Pre == "gpt2" || v.Pre == "gpt-2" || v.Pre == "") && hasToken(vocab, "<|begin_of_text|>") {
			t.warnings = append(t.warnings, fmt.Sprintf("tokenizer.ggml.pre is %q but the vocabulary is LLaMA-3's "+
				"(it has <|begin_of_text|>): text is split with the GPT-2 regex and tokenizes differently from the "+
				"model's training; the file was probably converted with the wrong pre-tokenizer (want \"llama-bpe\")", v.Pre))
		}
	case "llama":
		m := &spmModel{vocab: vocab, scores: v.Scores, unk: v.UNK}
		if m.scores == nil {
			m.scores = make([]float32, n)
		}
		for b := range m.byteIDs {
			m.byteIDs[b] = -1
			if id, ok := vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
				m.byteIDs[b] = id
			}
		}
		t.model, t.spm = m, m
		t.normalizer = normSequence{normPrepend{"▁"}, normReplace{literal(" "), "▁"}}
		t.decoder = decSequence{decReplace{literal("▁"), " "}, decByteFallback{}, decFuse{}, decStrip{content: ' ', start: 1}}
	default:
		return nil, errorf("tokenizer.ggml.model", ErrUnsupported, "tokenizer model %q", v.Model)
	}
	t.added = newAddedVocab(added, t.normalizer)
	t.finish(v.Tokens, vocab)
	var tpl postTemplate
	if v.AddBOS && v.BOS >= 0 {
		tpl.before = []int32{v.BOS}
	}
	if v.AddEOS && v.EOS >= 0 {
		tpl.after = []int32{v.EOS}
	}
	t.post = tpl
	cp := v
	cp.Tokens = append([]string(nil), v.Tokens...)
	cp.Types = append([]int32(nil), v.Types...)
	cp.Scores = append([]float32(nil), v.Scores...)
	cp.Merges = append([]string(nil), v.Merges...)
	t.gguf = &cp
	return t, nil
}

func hasToken(vocab map[string]int32, s string) bool {
	_, ok := vocab[s]
	return ok
}

// GGUFVocab returns the tokenizer in the form GGUF files store it, for writing a GGUF file. Tokenizers read
// from tokenizer.json export as "gpt2" (byte-level BPE; Pre from the split regex) or "llama" (BPE with byte
// fallback; scores rank the merges so that llama.cpp's score-driven merging follows the BPE merge order).
func (t *Tokenizer) GGUFVocab() (GGUFVocab, error) {
	if t.gguf != nil {
		v := *t.gguf
		v.Tokens = append([]string(nil), v.Tokens...)
		v.Types = append([]int32(nil), v.Types...)
		v.Scores = append([]float32(nil), v.Scores...)
		v.Merges = append([]string(nil), v.Merges...)
		return v, nil
	}
	if t.bpe == nil {
		return GGUFVocab{}, errorf("model", ErrUnsupported, "no BPE model")
	}
	v := GGUFVocab{BOS: t.bos, EOS: t.eos, EOT: t.eot, PAD: t.pad, UNK: t.unk, AddBOS: t.addBOS, AddEOS: t.addEOS,
		ChatTemplate: t.chatTemplate}
	n := len(t.tokens)
	v.Tokens = make([]string, n)
	v.Types = make([]int32, n)
	addedByID := map[int32]*addedToken{}
	for _, a := range t.added.tokens {
		addedByID[a.id] = a
	}
	for i := range n {
		id := int32(i)
		v.Tokens[i] = t.tokens[i]
		v.Types[i] = TokenNormal
		if a, ok := addedByID[id]; ok {
			v.Types[i] = TokenUserDefined
			if a.special {
				v.Types[i] = TokenControl
			}
			v.Tokens[i] = a.content
		} else if t.tokens[i] == "" && !t.known(id) {
			v.Tokens[i] = fmt.Sprintf("[PAD%d]", i)
			v.Types[i] = TokenUnused
		}
	}
	m := t.bpe
	switch {
	case t.hasByteLevel():
		v.Model = "gpt2"
		pre, err := t.preName()
		if err != nil {
			return GGUFVocab{}, err
		}
		v.Pre = pre
		v.Merges = make([]string, len(m.mergeList))
		for i, p := range m.mergeList {
			if strings.Contains(p[0], " ") || strings.Contains(p[1], " ") {
				return GGUFVocab{}, errorf(fmt.Sprintf("model.merges[%d]", i), ErrUnsupported, "a token of merge %q contains a space", p)
			}
			v.Merges[i] = p[0] + " " + p[1]
		}
	case m.byteFallback:
		v.Model = "llama"
		v.Scores = make([]float32, n)
		rank := make(map[int32]int32, len(m.merges))
		for _, mv := range m.merges {
			if r, ok := rank[mv.id]; !ok || mv.rank < r {
				rank[mv.id] = mv.rank
			}
		}
		for i := range n {
			id := int32(i)
			if v.Types[i] != TokenNormal {
				continue
			}
			if id == m.unk {
				v.Types[i] = TokenUnknown
				continue
			}
			if _, ok := byteToken(t.tokens[i]); ok {
				v.Types[i] = TokenByte
				continue
			}
			if r, ok := rank[id]; ok {
				v.Scores[i] = -float32(r)
			} else if len([]rune(t.tokens[i])) > 1 {
				v.Scores[i] = -math.MaxFloat32 / 2 // not reachable by a merge: merge last
			}
		}
	default:
		return GGUFVocab{}, errorf("model", ErrUnsupported, "BPE model is neither byte-level nor byte-fallback")
	}
	return v, nil
}

// hasByteLevel reports whether the pre-tokenizer maps bytes to byte-level characters.
func (t *Tokenizer) hasByteLevel() bool {
	var walk func(p preTokenizer) bool
	walk = func(p preTokenizer) bool {
		switch x := p.(type) {
		case preByteLevel:
			return true
		case preSequence:
			for _, q := range x {
				if walk(q) {
					return true
				}
			}
		}
		return false
	}
	return walk(t.pre)
}

// preName names the pre-tokenizer the way tokenizer.ggml.pre does.
func (t *Tokenizer) preName() (string, error) {
	var splits []preSplit
	var bl []preByteLevel
	var walk func(p preTokenizer)
	walk = func(p preTokenizer) {
		switch x := p.(type) {
		case preSplit:
			splits = append(splits, x)
		case preByteLevel:
			bl = append(bl, x)
		case preSequence:
			for _, q := range x {
				walk(q)
			}
		}
	}
	walk(t.pre)
	if len(splits) == 1 && splits[0].behavior == isolated && !splits[0].invert && len(bl) == 1 && !bl[0].useRegex && !bl[0].addPrefixSpace {
		switch p := splits[0].pat.(type) {
		case llama3Pattern:
			if p.maxDigits == 3 {
				return "llama-bpe", nil
			}
			return "qwen2", nil
		case gpt2Pattern:
			return "gpt-2", nil
		}
	}
	if len(splits) == 0 && len(bl) == 1 && bl[0].useRegex && !bl[0].addPrefixSpace {
		return "gpt-2", nil
	}
	return "", errorf("pre_tokenizer", ErrUnsupported, "no tokenizer.ggml.pre name for this pre-tokenizer")
}
