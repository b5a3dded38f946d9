package tokenizer

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// HFJSON writes a GGUF vocabulary as a Hugging Face tokenizer.json that
// FromJSON (and Hugging Face's tokenizers) read back to a tokenizer that
// encodes and decodes as FromGGUFVocab(v) does. A "gpt2" vocabulary is laid
// out as transformers writes LLaMA-3's: byte-level BPE with the split regex
// of v.Pre. A "llama" (SentencePiece) one as it
// writes LLaMA-2's: BPE with byte fallback on "▁"-joined text, the merges
// made from the scores as transformers' SentencePieceExtractor does (every
// split of a token into two tokens, ranked by the token's score; like
// transformers, it assumes every character of a token is a token, as
// SentencePiece makes them). Control
// and user-defined tokens become added tokens; a TemplateProcessing
// post-processor adds BOS (and EOS) when the GGUF file asks for it.
func HFJSON(v GGUFVocab) ([]byte, error) {
	if _, err := FromGGUFVocab(v); err != nil { // the same checks as loading it
		return nil, err
	}
	typ := func(i int) int32 {
		if v.Types == nil {
			return TokenNormal
		}
		return v.Types[i]
	}
	// Written by hand, not from structs: the vocab object keeps id order, as
	// Hugging Face writes it (encoding/json sorts a map's keys).
	var b bytes.Buffer
	str := func(s string) {
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(s) // cannot fail for a string
		b.Truncate(b.Len() - 1)
	}
	var merges [][2]string
	var normalizer, preTokenizer, decoder, model string
	switch v.Model {
	case "gpt2":
		pre := preRegexes[v.Pre]
		merges = gpt2Merges(v.Merges)
		normalizer = "null"
		var p bytes.Buffer
		enc := json.NewEncoder(&p)
		enc.SetEscapeHTML(false)
		enc.Encode(pre.regex)
		preTokenizer = `{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": ` + strings.TrimSpace(p.String()) +
			`}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}`
		decoder = `{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}`
		model = fmt.Sprintf(`"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null, `+
			`"end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": %v,`, pre.ignoreMerges)
	case "llama":
		merges = spmMerges(v, typ)
		normalizer = `{"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, ` +
			`{"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}`
		preTokenizer = "null"
		decoder = `{"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, ` +
			`{"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}`
		unk := "null"
		if v.UNK >= 0 {
			b, _ := json.Marshal(v.Tokens[v.UNK])
			unk = string(b)
		}
		// fuse_unk is false: llama.cpp gives one unknown token per byte.
		model = `"type": "BPE", "dropout": null, "unk_token": ` + unk + `, "continuing_subword_prefix": null, ` +
			`"end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": true, "ignore_merges": false,`
	default:
		return nil, errorf("tokenizer.ggml.model", ErrUnsupported, "tokenizer model %q", v.Model)
	}
	b.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	first := true
	for i, s := range v.Tokens {
		t := typ(i)
		if s == "" || (t != TokenControl && t != TokenUnknown && t != TokenUserDefined) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "\n    {\"id\": %d, \"content\": ", i)
		str(s)
		fmt.Fprintf(&b, ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": %v}", t != TokenUserDefined)
	}
	b.WriteString("\n  ],\n  \"normalizer\": " + normalizer + ",\n  \"pre_tokenizer\": " + preTokenizer + ",\n  \"post_processor\": ")
	writePost(&b, v, str)
	b.WriteString(",\n  \"decoder\": " + decoder + ",\n  \"model\": {" + model + "\n    \"vocab\": {")
	last := make(map[string]int, len(v.Tokens)) // llama.cpp: the last of duplicates wins
	for i, s := range v.Tokens {
		last[s] = i
	}
	first = true
	for i, s := range v.Tokens {
		if last[s] != i {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString("\n      ")
		str(s)
		fmt.Fprintf(&b, ": %d", i)
	}
	b.WriteString("\n    },\n    \"merges\": [")
	// "a b" strings, which every version of tokenizers reads, unless a
	// token holds a space: then [a, b] pairs (tokenizers 0.20 and later).
	pairs := slices.ContainsFunc(merges, func(m [2]string) bool {
		return strings.Contains(m[0], " ") || strings.Contains(m[1], " ")
	})
	for i, m := range merges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n      ")
		if !pairs {
			str(m[0] + " " + m[1])
			continue
		}
		b.WriteByte('[')
		str(m[0])
		b.WriteString(", ")
		str(m[1])
		b.WriteByte(']')
	}
	b.WriteString("\n    ]\n  }\n}\n")
	return b.Bytes(), nil
}

// gpt2Merges splits GGUF's "a b" merges as FromGGUFVocab does. A repeated
// merge keeps its first rank in llama.cpp and its last in Hugging Face's:
// only the first is kept.
func gpt2Merges(list []string) [][2]string {
	seen := make(map[string]bool, len(list))
	var out [][2]string
	for _, m := range list {
		if seen[m] {
			continue
		}
		seen[m] = true
		k := strings.IndexByte(m[1:], ' ') + 1
		out = append(out, [2]string{m[:k], m[k+1:]})
	}
	return out
}

// spmMerges makes BPE merges from a SentencePiece vocabulary: every split of
// a token into two tokens, ranked by the score of the token (highest first,
// as llama.cpp merges), then by the ids of the two halves. Control and byte
// tokens are not merged into.
func spmMerges(v GGUFVocab, typ func(int) int32) [][2]string {
	ids := make(map[string]int, len(v.Tokens))
	for i, s := range v.Tokens {
		ids[s] = i
	}
	type merge struct {
		l, r   string
		score  float32
		li, ri int
	}
	var ms []merge
	for i, s := range v.Tokens {
		if t := typ(i); t == TokenControl || t == TokenByte || t == TokenUnknown || ids[s] != i {
			continue
		}
		var score float32
		if v.Scores != nil {
			score = v.Scores[i]
		}
		for k := range s {
			if k == 0 {
				continue
			}
			li, ok1 := ids[s[:k]]
			ri, ok2 := ids[s[k:]]
			if ok1 && ok2 {
				ms = append(ms, merge{s[:k], s[k:], score, li, ri})
			}
		}
	}
	slices.SortStableFunc(ms, func(a, b merge) int {
		switch {
		case a.score != b.score:
			return cmp.Compare(b.score, a.score)
		case a.li != b.li:
			return cmp.Compare(a.li, b.li)
		}
		return cmp.Compare(a.ri, b.ri)
	})
	out := make([][2]string, len(ms))
	for i, m := range ms {
		out[i] = [2]string{m.l, m.r}
	}
	return out
}

// writePost writes the post-processor: the special tokens added around a
// sequence, or only ByteLevel's offset trimming when there are none.
func writePost(b *bytes.Buffer, v GGUFVocab, str func(string)) {
	var before, after []int32
	if v.AddBOS && v.BOS >= 0 {
		before = append(before, v.BOS)
	}
	if v.AddEOS && v.EOS >= 0 {
		after = append(after, v.EOS)
	}
	special := map[int32]bool{}
	for _, id := range append(append([]int32(nil), before...), after...) {
		special[id] = true
	}
	if len(before)+len(after) == 0 {
		b.WriteString(`{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}`)
		return
	}
	piece := func(id int32, typeID int) {
		b.WriteString(`{"SpecialToken": {"id": `)
		str(v.Tokens[id])
		fmt.Fprintf(b, `, "type_id": %d}}, `, typeID)
	}
	seq := func(name string, typeID int) {
		for _, id := range before {
			piece(id, typeID)
		}
		fmt.Fprintf(b, `{"Sequence": {"id": %q, "type_id": %d}}`, name, typeID)
		for _, id := range after {
			b.WriteString(", ")
			piece(id, typeID)
			b.Truncate(b.Len() - 2)
		}
	}
	b.WriteString(`{"type": "TemplateProcessing", "single": [`)
	seq("A", 0)
	b.WriteString(`], "pair": [`)
	seq("A", 0)
	b.WriteString(", ")
	seq("B", 1)
	b.WriteString(`], "special_tokens": {`)
	firstTok := true
	for _, id := range append(append([]int32(nil), before...), after...) {
		if !special[id] {
			continue
		}
		special[id] = false
		if !firstTok {
			b.WriteString(", ")
		}
		firstTok = false
		str(v.Tokens[id])
		b.WriteString(`: {"id": `)
		str(v.Tokens[id])
		fmt.Fprintf(b, `, "ids": [%d], "tokens": [`, id)
		str(v.Tokens[id])
		b.WriteString("]}")
	}
	b.WriteString("}}")
}
