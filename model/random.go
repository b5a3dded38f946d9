package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bitrepl/bitrepl/metal"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Random builds a model of the given shape with random ternary weights
// (I2_S, a random per-tensor scale), a random F32 embedding and norm weights
// near 1. The same seed gives the same model. It is for tests and speed
// measurements: speed does not depend on the values. tok may be nil; the
// model then has no tokenizer. tokenizerJSON, when not nil, is written back
// by Save in the safetensors format.
func Random(cfg Config, seed uint64, tok *tokenizer.Tokenizer, tokenizerJSON []byte) (*Model, error) {
	if cfg.HeadDim == 0 && cfg.Heads > 0 {
		cfg.HeadDim = cfg.Dim / cfg.Heads
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tok != nil && tok.VocabSize() > cfg.VocabSize {
		return nil, fmt.Errorf("%w: tokenizer has %d tokens, config %d", ErrConfig, tok.VocabSize(), cfg.VocabSize)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	m := &Model{Config: cfg, Tokenizer: tok, tokenizerJSON: tokenizerJSON, Format: "random", Source: fmt.Sprintf("random(seed=%d)", seed)}
	dense := func(rows, cols int) (*metal.Matrix, error) {
		v := make([]float32, rows*cols)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		b, err := metal.Quantize(metal.F32, rows, cols, v)
		if err != nil {
			return nil, err
		}
		return metal.NewMatrix(metal.F32, rows, cols, b)
	}
	norm := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(1 + 0.1*rng.NormFloat64())
		}
		return v
	}
	var err error
	proj := func(rows, cols int) *metal.Matrix {
		if err != nil {
			return nil
		}
		codes := make([]int8, rows*cols)
		for i := range codes {
			codes[i] = int8(rng.IntN(3)) - 1
		}
		scale := float32((0.5 + rng.Float64()) / math.Sqrt(float64(cols)))
		var mat *metal.Matrix
		mat, err = packProjection(codes, rows, cols, scale)
		return mat
	}
	if m.embed, err = dense(cfg.VocabSize, cfg.Dim); err != nil {
		return nil, err
	}
	m.output = m.embed
	if !cfg.TiedEmbedding {
		if m.output, err = dense(cfg.VocabSize, cfg.Dim); err != nil {
			return nil, err
		}
	}
	m.outNorm = norm(cfg.Dim)
	q, kv := cfg.Heads*cfg.HeadDim, cfg.KVDim()
	m.layers = make([]Layer, cfg.Layers)
	for i := range m.layers {
		l := &m.layers[i]
		l.AttnNorm, l.FFNNorm = norm(cfg.Dim), norm(cfg.Dim)
		l.Q, l.K, l.V, l.O = proj(q, cfg.Dim), proj(kv, cfg.Dim), proj(kv, cfg.Dim), proj(cfg.Dim, q)
		l.Gate, l.Up, l.Down = proj(cfg.FFNDim, cfg.Dim), proj(cfg.FFNDim, cfg.Dim), proj(cfg.Dim, cfg.FFNDim)
		if cfg.SubNorms {
			l.AttnSubNorm, l.FFNSubNorm = norm(q), norm(cfg.FFNDim)
		}
	}
	if err != nil {
		return nil, err
	}
	if tok != nil {
		m.Chat = chatTemplateFor(cfg.Arch, "", tok)
	}
	m.eos = stopTokens(tok, nil)
	return m, m.check()
}
