// Package testmodel writes a tiny random BitNet model with a byte-level BPE
// tokenizer, for the tests of bitrepl. Its tokenizer has no end-of-text token,
// so generations run until max_tokens (the tests interrupt them).
package testmodel

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Merges of the tokenizer beyond the 256 byte tokens.
var merges = [][2]string{{"h", "e"}, {"l", "l"}, {"Ġ", "t"}, {"Ġt", "he"}}

// byteChars is GPT-2's bytes_to_unicode: a printable rune for every byte.
func byteChars() []rune {
	out := make([]rune, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF {
			out[b] = rune(b)
		} else {
			out[b] = rune(256 + n)
			n++
		}
	}
	return out
}

// TokenizerJSON is a Hugging Face tokenizer.json: byte-level BPE with 256
// byte tokens and the merges above (ids 256...).
func TokenizerJSON() []byte {
	vocab := map[string]int{}
	for b, r := range byteChars() {
		vocab[string(r)] = b
	}
	var ms []string
	for i, m := range merges {
		vocab[m[0]+m[1]] = 256 + i
		ms = append(ms, m[0]+" "+m[1])
	}
	// Maps, not structs: this is fixture data, and vocab is a JSON object with one key per token anyway.
	bl := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
	doc := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": []any{},
		"normalizer": nil, "pre_tokenizer": bl, "post_processor": nil, "decoder": bl,
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "vocab": vocab, "merges": ms},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // static data
	}
	return b
}

// Config is the shape of the test model: small, but slow enough (a few ms a
// token with the reference kernels) that a test can interrupt a generation.
func Config() model.Config {
	return model.Config{Arch: "bitnet-b1.58", VocabSize: 256 + len(merges), Dim: 256, FFNDim: 512, Layers: 4, Heads: 4, KVHeads: 2,
		HeadDim: 64, ContextLen: 8192, RopeTheta: 10000, NormEps: 1e-5, Act: model.ReLU2, SubNorms: true, TiedEmbedding: true}
}

// New builds the random test model in memory.
func New(seed uint64) (*model.Model, error) {
	js := TokenizerJSON()
	tok, err := tokenizer.FromJSON(js)
	if err != nil {
		return nil, fmt.Errorf("testmodel tokenizer: %w", err)
	}
	return model.Random(Config(), seed, tok, js)
}

// Write saves the test model as dir/tiny.gguf (I2_S weights) and returns its path.
func Write(dir string, seed uint64) (string, error) {
	m, err := New(seed)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "tiny.gguf")
	if err := m.Save(p, model.SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F32}); err != nil {
		return "", err
	}
	return p, nil
}
