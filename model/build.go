package model

import (
	"fmt"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Ternary is a BitLinear weight in plain form: codes in {-1, 0, +1}, row-major
// (out x in), whose effective weights are Codes * Scale.
type Ternary struct {
	Codes []int8
	Scale float32
}

// LayerParams are one decoder block's weights in plain form.
type LayerParams struct {
	AttnNorm, FFNNorm       []float32 // (dim)
	AttnSubNorm, FFNSubNorm []float32 // (heads*headDim), (ffn); nil without sub-norms
	Q, K, V, O              Ternary
	Gate, Up, Down          Ternary
	inNorm                  [numProj][]float32 // see Layer.inNorm
}

// Params are a model's weights in plain form: what training produces, and
// what Build turns into a runnable Model (which Save can then write in any
// format).
type Params struct {
	Embed      []float32 // (vocab, dim)
	Output     []float32 // (vocab, dim); nil when the LM head is the embedding
	OutputNorm []float32 // (dim)
	Layers     []LayerParams
}

// Build makes a model from plain weights. The embedding (and LM head) are
// kept as F32; BitLinear weights are packed into the compute layout. tok may
// be nil; tokenizerJSON, when given, is written back by Save to safetensors.
func Build(cfg Config, p Params, tok *tokenizer.Tokenizer, tokenizerJSON []byte) (*Model, error) {
	if cfg.HeadDim == 0 && cfg.Heads > 0 {
		cfg.HeadDim = cfg.Dim / cfg.Heads
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkVocab(tok, &cfg); err != nil {
		return nil, err
	}
	if len(p.Layers) != cfg.Layers {
		return nil, fmt.Errorf("%w: %d layers of weights, config says %d", ErrConfig, len(p.Layers), cfg.Layers)
	}
	m := &Model{Config: cfg, Tokenizer: tok, tokenizerJSON: tokenizerJSON, Format: "memory", Source: "memory"}
	var err error
	dense := func(name string, v []float32) *cpu.Matrix {
		if err != nil {
			return nil
		}
		if len(v) != cfg.VocabSize*cfg.Dim {
			err = fmt.Errorf("%w: %s has %d values, want %dx%d", ErrConfig, name, len(v), cfg.VocabSize, cfg.Dim)
			return nil
		}
		var b []byte
		if b, err = cpu.Quantize(cpu.F32, cfg.VocabSize, cfg.Dim, v); err != nil {
			return nil
		}
		var mat *cpu.Matrix
		mat, err = cpu.NewMatrix(cpu.F32, cfg.VocabSize, cfg.Dim, b)
		return mat
	}
	proj := func(name string, t Ternary, rows, cols int) *cpu.Matrix {
		if err != nil {
			return nil
		}
		if len(t.Codes) != rows*cols {
			err = fmt.Errorf("%w: %s has %d codes, want %dx%d", ErrConfig, name, len(t.Codes), rows, cols)
			return nil
		}
		var mat *cpu.Matrix
		if mat, err = packProjection(t.Codes, rows, cols, t.Scale); err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
		return mat
	}
	m.embed = dense("token_embd.weight", p.Embed)
	m.output = m.embed
	if p.Output != nil {
		m.output = dense("output.weight", p.Output)
		m.Config.TiedEmbedding = false
	} else {
		m.Config.TiedEmbedding = true
	}
	m.outNorm = p.OutputNorm
	m.layers = make([]Layer, cfg.Layers)
	for i := range p.Layers {
		for _, t := range blockOf(&cfg) {
			if !t.Present(&cfg) {
				continue
			}
			if t.Proj {
				rows, cols := t.shape(&cfg)
				*t.mat(&m.layers[i]) = proj(fmt.Sprintf("blk.%d.%s.weight", i, t.GGUF), *t.tern(&p.Layers[i]), rows, cols)
			} else {
				*t.vec(&m.layers[i]) = *t.pvec(&p.Layers[i])
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if tok != nil {
		m.Chat = chatTemplateFor(cfg.Arch, tok.ChatTemplate(), tok)
	}
	m.eos = stopTokens(tok, nil)
	return m, m.check()
}
