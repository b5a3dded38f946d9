package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Random builds a model of the given shape with random ternary weights (a
// random per-tensor scale), a random F32 embedding and norm weights near 1.
// The same seed gives the same model. It is for tests and speed
// measurements: speed does not depend on the values. tok may be nil.
func Random(cfg Config, seed uint64, tok *tokenizer.Tokenizer, tokenizerJSON []byte) (*Model, error) {
	if cfg.HeadDim == 0 && cfg.Heads > 0 {
		cfg.HeadDim = cfg.Dim / cfg.Heads
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	normal := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	norm := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(1 + 0.1*rng.NormFloat64())
		}
		return v
	}
	ternary := func(rows, cols int) Ternary {
		codes := make([]int8, rows*cols)
		for i := range codes {
			codes[i] = int8(rng.IntN(3)) - 1
		}
		return Ternary{Codes: codes, Scale: float32((0.5 + rng.Float64()) / math.Sqrt(float64(cols)))}
	}
	p := Params{Embed: normal(cfg.VocabSize * cfg.Dim)}
	if !cfg.TiedEmbedding {
		p.Output = normal(cfg.VocabSize * cfg.Dim)
	}
	p.OutputNorm = norm(cfg.Dim)
	q, kv := cfg.Heads*cfg.HeadDim, cfg.KVDim()
	for range cfg.Layers {
		l := LayerParams{AttnNorm: norm(cfg.Dim), FFNNorm: norm(cfg.Dim)}
		l.Q, l.K, l.V, l.O = ternary(q, cfg.Dim), ternary(kv, cfg.Dim), ternary(kv, cfg.Dim), ternary(cfg.Dim, q)
		l.Gate, l.Up, l.Down = ternary(cfg.FFNDim, cfg.Dim), ternary(cfg.FFNDim, cfg.Dim), ternary(cfg.Dim, cfg.FFNDim)
		if cfg.SubNorms {
			l.AttnSubNorm, l.FFNSubNorm = norm(q), norm(cfg.FFNDim)
		}
		p.Layers = append(p.Layers, l)
	}
	m, err := Build(cfg, p, tok, tokenizerJSON)
	if err != nil {
		return nil, err
	}
	m.Format, m.Source = "random", fmt.Sprintf("random(seed=%d)", seed)
	return m, nil
}
