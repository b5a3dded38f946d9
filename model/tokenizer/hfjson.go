package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// HFJSON writes a GGUF vocabulary as a Hugging Face tokenizer.json, laid out
// as transformers writes LLaMA-3's: byte-level BPE with the split regex of
// v.Pre, the merges as pairs, the control and user-defined tokens as added
// tokens, and a TemplateProcessing post-processor that adds BOS (and EOS)
// when the GGUF file asks for it. FromJSON reads it back to a tokenizer that
// encodes and decodes as FromGGUFVocab(v) does. Only "gpt2" vocabularies are
// written; SentencePiece ("llama") ones are ErrUnsupported.
func HFJSON(v GGUFVocab) ([]byte, error) {
	if _, err := FromGGUFVocab(v); err != nil { // the same checks as loading it
		return nil, err
	}
	if v.Model != "gpt2" {
		return nil, errorf("tokenizer.ggml.model", ErrUnsupported, "writing a %q (SentencePiece) vocabulary as tokenizer.json", v.Model)
	}
	pre := preRegexes[v.Pre]
	typ := func(i int) int32 {
		if v.Types == nil {
			return TokenNormal
		}
		return v.Types[i]
	}
	var b bytes.Buffer
	str := func(s string) {
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(s) // cannot fail for a string
		b.Truncate(b.Len() - 1)
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
	b.WriteString("\n  ],\n  \"normalizer\": null,\n")
	b.WriteString("  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": ")
	str(pre.regex)
	b.WriteString("}, \"behavior\": \"Isolated\", \"invert\": false}, " +
		"{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}]},\n")
	b.WriteString("  \"post_processor\": ")
	writePost(&b, v, str)
	b.WriteString(",\n  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n")
	fmt.Fprintf(&b, "  \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, "+
		"\"end_of_word_suffix\": null, \"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": %v,\n", pre.ignoreMerges)
	b.WriteString("    \"vocab\": {")
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
	// A repeated merge keeps its first rank in llama.cpp and its last in
	// Hugging Face's: write only the first.
	seen := make(map[string]bool, len(v.Merges))
	first = true
	for _, m := range v.Merges {
		if seen[m] {
			continue
		}
		seen[m] = true
		if !first {
			b.WriteByte(',')
		}
		first = false
		k := strings.IndexByte(m[1:], ' ') + 1 // as FromGGUFVocab splits it
		b.WriteString("\n      [")
		str(m[:k])
		b.WriteString(", ")
		str(m[k+1:])
		b.WriteByte(']')
	}
	b.WriteString("\n    ]\n  }\n}\n")
	return b.Bytes(), nil
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
