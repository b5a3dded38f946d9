package model

import (
	"fmt"

	"github.com/bitrepl/bitrepl/model/tokenizer"
	"sort"
	"strings"
)

// Shapes are the configurations of real BitNet b1.58 models, by name, for
// models with random weights (Random): speed does not depend on the values,
// so a benchmark on the right shape needs no download.
var Shapes = map[string]Config{
	// microsoft/bitnet-b1.58-2B-4T.
	"2b4t": {Arch: "bitnet-b1.58", VocabSize: 128256, Dim: 2560, FFNDim: 6912, Layers: 30, Heads: 20, KVHeads: 5,
		HeadDim: 128, ContextLen: 4096, RopeTheta: 500000, NormEps: 1e-5, Act: ReLU2, SubNorms: true, TiedEmbedding: true},
	// The same shape under llama.cpp's arch "bitnet" (SiLU), which llama.cpp
	// c392e50 runs; for side-by-side speed runs.
	"2b4t-bitnet": {Arch: "bitnet", VocabSize: 128256, Dim: 2560, FFNDim: 6912, Layers: 30, Heads: 20, KVHeads: 5,
		HeadDim: 128, ContextLen: 4096, RopeTheta: 500000, NormEps: 1e-5, Act: SiLU, SubNorms: true, TiedEmbedding: true},
	// 1bitLLM/bitnet_b1_58-large and -3B.
	"large": {Arch: "bitnet", VocabSize: 32002, Dim: 1536, FFNDim: 4096, Layers: 24, Heads: 16, KVHeads: 16,
		HeadDim: 96, ContextLen: 2048, RopeTheta: 10000, NormEps: 1e-5, Act: SiLU, SubNorms: true},
	"3b": {Arch: "bitnet", VocabSize: 32002, Dim: 3200, FFNDim: 8640, Layers: 26, Heads: 32, KVHeads: 32,
		HeadDim: 100, ContextLen: 2048, RopeTheta: 10000, NormEps: 1e-5, Act: SiLU, SubNorms: true},
	// A tiny model for tests.
	"tiny": {Arch: "bitnet-b1.58", VocabSize: 256, Dim: 256, FFNDim: 512, Layers: 2, Heads: 4, KVHeads: 2,
		HeadDim: 64, ContextLen: 256, RopeTheta: 10000, NormEps: 1e-5, Act: ReLU2, SubNorms: true, TiedEmbedding: true},
}

// RandomSpec is the prefix of the model names Load resolves to a random model:
// "random:SHAPE" or "random:SHAPE:SEED".
const RandomSpec = "random:"

// openRandom builds the random model a "random:SHAPE[:SEED]" name asks for,
// with tok (may be nil) as its tokenizer (see WithTokenizer). A tokenizer
// larger than the shape's vocabulary widens it, so that every token it
// writes has an embedding.
func openRandom(spec string, tok *tokenizer.Tokenizer, tokenizerJSON []byte) (*Model, error) {
	rest, ok := strings.CutPrefix(spec, RandomSpec)
	if !ok {
		return nil, fmt.Errorf("%q is not a random:SHAPE model name", spec)
	}
	name, seedText, _ := strings.Cut(rest, ":")
	cfg, ok := Shapes[name]
	if !ok {
		names := make([]string, 0, len(Shapes))
		for n := range Shapes {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown shape %q (%s)", name, strings.Join(names, ", "))
	}
	var seed uint64 = 1
	if seedText != "" {
		if _, err := fmt.Sscan(seedText, &seed); err != nil {
			return nil, fmt.Errorf("random model seed %q: %v", seedText, err)
		}
	}
	if tok != nil {
		cfg.VocabSize = max(cfg.VocabSize, tok.VocabSize())
	}
	return Random(cfg, seed, tok, tokenizerJSON)
}
