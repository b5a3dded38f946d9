// Package model runs BitNet b1.58 language models: it loads their real files
// (HF safetensors, GGUF), holds their weights, and computes logits.
//
// State is split by lifetime, as in llama2.c: Config is the blueprint, Model
// holds the read-only weights (views into memory-mapped files), and Session
// holds one sequence's KV cache and scratch buffers. Forward allocates nothing.
//
// It owns the engine: the architecture description, loading, Session (one
// sequence), batched steps, generation, chat templates and saving. It imports
// the kernels (metal/cpu, and metal/gpu for --device metal) and its own
// subpackages, which import neither model nor each other's consumers:
// model/gguf, model/safetensors and model/torchfile (file formats),
// model/tokenizer, model/sample, model/kvcache, model/regfile and
// model/atomicfile (safe reads and writes), model/embedded (the built-in
// model). model/train, the trainer, imports model, not the other way.
//
// A prompt, from bitrepl to the kernels: repl (or inspect, or a notebook)
// tokenizes it and calls Session.Forward (or Generate, which calls it).
// Forward (session.go) cuts the tokens into batches of up to 64 and runs each
// on the session's backend: the CPU (cpuBackend, backend_cpu.go), or Metal
// (gpuState, device.go) for a session made by NewSessionGPU while no hook is
// set. Both run the same decoder block, written once in backend.go as a few
// operations per layer (normQuant, qkv, attend, gateUp, addProject, then
// output). The CPU backend runs each at once on package metal/cpu's kernels
// and reports to the hook; the Metal backend records each through
// metal/gpu's Runner into a command buffer, run once per batch. Step
// (batch.go) runs the same block for one token of each of several
// sessions. The tensors of a block are described once, in arch.go.
package model

import (
	"fmt"
	"io"
	"sync"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/kvcache"
	"github.com/bitrepl/bitrepl/model/safetensors"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Model is a loaded model: configuration, weights and tokenizer.
type Model struct {
	Config    Config
	Tokenizer *tokenizer.Tokenizer // nil when the file carries none
	Source    string               // path it was loaded from
	Format    string               // "gguf", "safetensors (latent)", "safetensors (packed)"
	Chat      ChatTemplate         // how conversations are laid out in tokens

	// KVCache is the KV cache type of the CPU sessions made from now on:
	// F16 (the zero value, as llama.cpp's default) halves the cache and
	// the bytes attention reads per token; F32 keeps keys and values
	// exact. GPU sessions keep an F32 cache (see NewSessionGPU).
	KVCache kvcache.Type

	embed   *cpu.Matrix // (vocab, dim): token_embd
	output  *cpu.Matrix // (vocab, dim): LM head; == embed when tied
	outNorm []float32   // (dim)
	layers  []Layer
	latent  map[string]safetensors.Tensor // latent weights by GGUF name, when the file has them
	closers []io.Closer                   // mmapped files
	memory  string                        // how a GGUF file's bytes are held (Memory)
	move    weightMove                    // moving a GGUF file into huge pages (memory.go)
	eos     []int32                       // tokens that end a generation
	scales  string                        // how the file's weight scales were read (Resolved)
	gpus    *gpuUploads                   // the weights on GPU devices (device.go); nil before the first
	gpuMu   sync.Mutex                    // guards gpus

	tokenizerJSON []byte // tokenizer.json as loaded, so Save can write it back
}

// Layer is one decoder block. Projections are rows x cols = out x in.
type Layer struct {
	AttnNorm    []float32   // (dim)
	Q           *cpu.Matrix // (heads*headDim, dim)
	K           *cpu.Matrix // (kvHeads*headDim, dim)
	V           *cpu.Matrix // (kvHeads*headDim, dim)
	AttnSubNorm []float32   // (dim), nil without sub-norms
	O           *cpu.Matrix // (dim, heads*headDim)
	FFNNorm     []float32   // (dim)
	Gate        *cpu.Matrix // (ffn, dim)
	Up          *cpu.Matrix // (ffn, dim)
	FFNSubNorm  []float32   // (ffn), nil without sub-norms
	Down        *cpu.Matrix // (dim, ffn)
	// inNorm holds the RMSNorm weight inside each BitLinear, applied to its
	// input before the activation quantization (transformers'
	// quantization_config.use_rms_norm), by projection (projQ..projDown);
	// nil without.
	inNorm [numProj][]float32
}

// The projections of a block, indexing Layer.inNorm.
const (
	projQ = iota
	projK
	projV
	projO
	projGate
	projUp
	projDown
	numProj
)

// Weight is one weight matrix with its GGUF name, for inspection.
type Weight struct {
	Name   string // GGUF name, e.g. "blk.0.attn_q.weight"
	Matrix *cpu.Matrix
	latent *safetensors.Tensor
}

// HasLatent reports whether the file held latent (pre-ternarisation) weights
// for this tensor.
func (w Weight) HasLatent() bool { return w.latent != nil }

// Latent decodes the latent weights (rows*cols floats, row-major), when the
// file had them.
func (w Weight) Latent() ([]float32, error) {
	if w.latent == nil {
		return nil, fmt.Errorf("%s: the file holds no latent weights", w.Name)
	}
	return w.latent.Float32s()
}

// Layers returns the decoder blocks (read-only).
func (m *Model) Layers() []Layer { return m.layers }

// Embedding is the token embedding matrix (vocab x dim).
func (m *Model) Embedding() *cpu.Matrix { return m.embed }

// Output is the LM head (vocab x dim); the embedding when tied.
func (m *Model) Output() *cpu.Matrix { return m.output }

// OutputNorm is the weight of the final RMSNorm.
func (m *Model) OutputNorm() []float32 { return m.outNorm }

// Weights lists every weight matrix by its GGUF name, in file order.
func (m *Model) Weights() []Weight {
	var ws []Weight
	add := func(name string, mat *cpu.Matrix) {
		w := Weight{Name: name, Matrix: mat}
		if t, ok := m.latent[name]; ok {
			w.latent = &t
		}
		ws = append(ws, w)
	}
	add("token_embd.weight", m.embed)
	for i := range m.layers {
		for _, t := range blockOf(&m.Config) {
			if t.Proj && t.Present(&m.Config) {
				add(fmt.Sprintf("blk.%d.%s.weight", i, t.GGUF), *t.mat(&m.layers[i]))
			}
		}
	}
	if m.output != m.embed {
		add("output.weight", m.output)
	}
	return ws
}

// EOS returns the tokens that end a generation (end of text, end of turn).
func (m *Model) EOS() []int32 { return m.eos }

// IsEOS reports whether id ends a generation.
func (m *Model) IsEOS(id int32) bool {
	for _, e := range m.eos {
		if e == id {
			return true
		}
	}
	return false
}

// Close releases the memory-mapped files and the weights uploaded to GPU
// devices. The model and its sessions must not be used after.
func (m *Model) Close() error {
	first := m.gpus.close()
	for _, c := range m.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	m.closers = nil
	return first
}

// colPad is the block BitLinear inputs are padded to when the model's width
// is not a multiple of it (1bitLLM 3B's 8640, xl's 5460): the packed layouts
// need whole 128-element blocks, so such matrices get zero columns at the
// end, and the session feeds them zero activations.
const colPad = 128

func padCols(n int) int { return (n + colPad - 1) / colPad * colPad }

// checkVocab refuses a tokenizer with more tokens than the embedding has
// rows: its last ids would fail only when first met.
func checkVocab(tok *tokenizer.Tokenizer, c *Config) error {
	if tok != nil && tok.VocabSize() > c.VocabSize {
		return fmt.Errorf("%w: the tokenizer has %d tokens, more than the %d rows of the embedding (token_embd.weight)", ErrConfig, tok.VocabSize(), c.VocabSize)
	}
	return nil
}

// check validates every weight's shape against the config, and that every
// weight is finite, so Forward can trust them. Its pass over the block
// scales also finds the TQ1_0 and TQ2_0 weights whose blocks share one scale, which
// the kernels then sum per row (cpu.Matrix.UseUniformScale).
func (m *Model) check() error {
	c := &m.Config
	want := func(name string, mat *cpu.Matrix, rows, cols int) error {
		if mat == nil {
			return fmt.Errorf("%w: tensor %s is missing", ErrConfig, name)
		}
		if mat.Rows != rows || (mat.Cols != cols && mat.Cols != padCols(cols)) {
			return fmt.Errorf("%w: tensor %s is %dx%d, want %dx%d", ErrConfig, name, mat.Rows, mat.Cols, rows, cols)
		}
		return nil
	}
	vec := func(name string, v []float32, n int) error {
		if len(v) != n {
			return fmt.Errorf("%w: tensor %s has %d elements, want %d", ErrConfig, name, len(v), n)
		}
		return nil
	}
	if err := want("token_embd.weight", m.embed, c.VocabSize, c.Dim); err != nil {
		return err
	}
	if err := want("output.weight", m.output, c.VocabSize, c.Dim); err != nil {
		return err
	}
	if err := vec("output_norm.weight", m.outNorm, c.Dim); err != nil {
		return err
	}
	if len(m.layers) != c.Layers {
		return fmt.Errorf("%w: %d layers loaded, config says %d", ErrConfig, len(m.layers), c.Layers)
	}
	for i := range m.layers {
		if err := checkBlock(c, i, &m.layers[i]); err != nil {
			return err
		}
	}
	return m.checkFinite()
}
