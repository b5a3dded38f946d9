package model

import (
	"fmt"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/metal/gpu"
)

// blockTensor describes one tensor of a decoder block: its names in each
// file format, its shape from the config, whether it is a BitLinear weight,
// when it is present, and where it lives in a Layer. The loaders, check,
// Weights, Save, Build and the trainer all read blockTensors, so an
// architecture's tensor list is written once.
type blockTensor struct {
	GGUF string   // name after "blk.N.", without ".weight": "attn_q"
	HF   []string // names after "model.layers.N.", without ".weight"; the first is written, the others are read too
	Proj bool     // a BitLinear weight (ternary); else a norm weight vector
	// shape is rows x cols for a projection (out x in), (n, 0) for a vector.
	shape func(c *Config) (rows, cols int)
	// role is what the tensor is to the GPU graph (gpu.Load); noRole for
	// a tensor it has no kernel for.
	role gpu.Role
	// when says whether the tensor is present for c; nil means always.
	when func(c *Config) bool
	// Where the tensor lives in a Layer (mat for projections, vec for
	// vectors) and in LayerParams (tern, pvec).
	mat  func(l *Layer) **cpu.Matrix
	vec  func(l *Layer) *[]float32
	tern func(p *LayerParams) *Ternary
	pvec func(p *LayerParams) *[]float32
}

// Present reports whether the tensor is part of a block of c.
func (t *blockTensor) Present(c *Config) bool { return t.when == nil || t.when(c) }

// Shape is the tensor's rows and columns (columns 0 for a vector).
func (t *blockTensor) Shape(c *Config) (rows, cols int) { return t.shape(c) }

func subNorms(c *Config) bool { return c.SubNorms }

func dimVec(c *Config) (int, int)  { return c.Dim, 0 }
func qVec(c *Config) (int, int)    { return c.Heads * c.HeadDim, 0 }
func ffnVec(c *Config) (int, int)  { return c.FFNDim, 0 }
func qShape(c *Config) (int, int)  { return c.Heads * c.HeadDim, c.Dim }
func kvShape(c *Config) (int, int) { return c.KVDim(), c.Dim }
func oShape(c *Config) (int, int)  { return c.Dim, c.Heads * c.HeadDim }
func upShape(c *Config) (int, int) { return c.FFNDim, c.Dim }
func dnShape(c *Config) (int, int) { return c.Dim, c.FFNDim }

// bitnetBlock is the block of every architecture we run (llama.cpp's
// LLM_ARCH_BITNET / BITNET_B158 and LLaMA with BitLinear layers), in GGUF
// file order: RMSNorm, Q/K/V, the optional attention sub-norm, O, RMSNorm,
// gate/up, the optional FFN sub-norm, down. The architectures differ in the
// sub-norms (Config.SubNorms), their HF names (1bitLLM's inner_attn_ln and
// ffn_layernorm), the activation and the RoPE layout.
var bitnetBlock = []blockTensor{
	{GGUF: "attn_norm", role: gpu.AttnNorm, HF: []string{"input_layernorm"}, shape: dimVec, vec: func(l *Layer) *[]float32 { return &l.AttnNorm },
		pvec: func(p *LayerParams) *[]float32 { return &p.AttnNorm }},
	{GGUF: "attn_q", role: gpu.Q, HF: []string{"self_attn.q_proj"}, Proj: true, shape: qShape, mat: func(l *Layer) **cpu.Matrix { return &l.Q },
		tern: func(p *LayerParams) *Ternary { return &p.Q }},
	{GGUF: "attn_k", role: gpu.K, HF: []string{"self_attn.k_proj"}, Proj: true, shape: kvShape, mat: func(l *Layer) **cpu.Matrix { return &l.K },
		tern: func(p *LayerParams) *Ternary { return &p.K }},
	{GGUF: "attn_v", role: gpu.V, HF: []string{"self_attn.v_proj"}, Proj: true, shape: kvShape, mat: func(l *Layer) **cpu.Matrix { return &l.V },
		tern: func(p *LayerParams) *Ternary { return &p.V }},
	{GGUF: "attn_sub_norm", role: gpu.AttnSubNorm, HF: []string{"self_attn.attn_sub_norm", "self_attn.inner_attn_ln"}, shape: qVec, when: subNorms,
		vec:  func(l *Layer) *[]float32 { return &l.AttnSubNorm },
		pvec: func(p *LayerParams) *[]float32 { return &p.AttnSubNorm }},
	{GGUF: "attn_output", role: gpu.O, HF: []string{"self_attn.o_proj"}, Proj: true, shape: oShape, mat: func(l *Layer) **cpu.Matrix { return &l.O },
		tern: func(p *LayerParams) *Ternary { return &p.O }},
	{GGUF: "ffn_norm", role: gpu.FFNNorm, HF: []string{"post_attention_layernorm"}, shape: dimVec, vec: func(l *Layer) *[]float32 { return &l.FFNNorm },
		pvec: func(p *LayerParams) *[]float32 { return &p.FFNNorm }},
	{GGUF: "ffn_gate", role: gpu.Gate, HF: []string{"mlp.gate_proj"}, Proj: true, shape: upShape, mat: func(l *Layer) **cpu.Matrix { return &l.Gate },
		tern: func(p *LayerParams) *Ternary { return &p.Gate }},
	{GGUF: "ffn_up", role: gpu.Up, HF: []string{"mlp.up_proj"}, Proj: true, shape: upShape, mat: func(l *Layer) **cpu.Matrix { return &l.Up },
		tern: func(p *LayerParams) *Ternary { return &p.Up }},
	{GGUF: "ffn_sub_norm", role: gpu.FFNSubNorm, HF: []string{"mlp.ffn_sub_norm", "mlp.ffn_layernorm"}, shape: ffnVec, when: subNorms,
		vec:  func(l *Layer) *[]float32 { return &l.FFNSubNorm },
		pvec: func(p *LayerParams) *[]float32 { return &p.FFNSubNorm }},
	{GGUF: "ffn_down", role: gpu.Down, HF: []string{"mlp.down_proj"}, Proj: true, shape: dnShape, mat: func(l *Layer) **cpu.Matrix { return &l.Down },
		tern: func(p *LayerParams) *Ternary { return &p.Down }},
}

// noRole marks a block tensor the GPU graph has no kernel for (gpu.Load
// refuses it).
const noRole gpu.Role = 255

// bitLinearNorms are the RMSNorms inside each BitLinear of a use_rms_norm
// checkpoint (transformers' BitLinear and AutoBitLinear with
// quantization_config.use_rms_norm): "<proj>.rms_norm.weight", of the
// projection's input width. No llama.cpp architecture has them; the GGUF
// names are bitrepl's own.
var bitLinearNorms = func() []blockTensor {
	var out []blockTensor
	for i, t := range bitnetBlock {
		if !t.Proj {
			continue
		}
		p := len(out)
		shape := bitnetBlock[i].shape
		out = append(out, blockTensor{
			GGUF: t.GGUF + "_in_norm", HF: []string{t.HF[0] + ".rms_norm"}, role: noRole,
			shape: func(c *Config) (int, int) { _, in := shape(c); return in, 0 },
			when:  func(c *Config) bool { return c.BitLinearNorm },
			vec:   func(l *Layer) *[]float32 { return &l.inNorm[p] },
			pvec:  func(lp *LayerParams) *[]float32 { return &lp.inNorm[p] },
		})
	}
	return out
}()

// oneBitLLMBlock is bitnetBlock with 1bitLLM's sub-norm names first, as its
// modeling_bitnet.py writes them.
var oneBitLLMBlock = func() []blockTensor {
	b := append([]blockTensor(nil), bitnetBlock...)
	for i := range b {
		if h := b[i].HF; len(h) == 2 {
			b[i].HF = []string{h[1], h[0]}
		}
	}
	return b
}()

// blockOf returns the block description of c's architecture.
func blockOf(c *Config) []blockTensor {
	switch {
	case c.Arch == "bitnet":
		return oneBitLLMBlock
	case c.BitLinearNorm:
		return withBitLinearNorms
	}
	return bitnetBlock
}

var withBitLinearNorms = append(append([]blockTensor(nil), bitnetBlock...), bitLinearNorms...)

// blockTensorNamed returns the tensor of c's block whose GGUF name is name
// (e.g. "attn_output"), or nil.
func blockTensorNamed(c *Config, name string) *blockTensor {
	b := blockOf(c)
	for i := range b {
		if b[i].GGUF == name {
			return &b[i]
		}
	}
	return nil
}

// TensorInfo is one tensor of a model as its architecture describes it.
type TensorInfo struct {
	Name       string // GGUF name: "blk.0.attn_q.weight"
	Rows, Cols int    // a vector has Rows elements and Cols 0
	Ternary    bool   // a BitLinear weight
}

// BlockTensors lists the tensors of one decoder block of cfg's architecture
// (names after "blk.N."), in GGUF file order: what a trainer lays out.
func BlockTensors(cfg Config) []TensorInfo {
	var out []TensorInfo
	for _, t := range blockOf(&cfg) {
		if !t.Present(&cfg) {
			continue
		}
		r, c := t.shape(&cfg)
		out = append(out, TensorInfo{Name: t.GGUF + ".weight", Rows: r, Cols: c, Ternary: t.Proj})
	}
	return out
}

// checkBlock validates one layer's tensors against the config.
func checkBlock(c *Config, i int, l *Layer) error {
	for _, t := range blockOf(c) {
		name := fmt.Sprintf("blk.%d.%s.weight", i, t.GGUF)
		rows, cols := t.shape(c)
		if !t.Present(c) {
			continue
		}
		if t.Proj {
			mat := *t.mat(l)
			if mat == nil {
				return fmt.Errorf("%w: tensor %s is missing", ErrConfig, name)
			}
			if mat.Rows != rows || (mat.Cols != cols && mat.Cols != padCols(cols)) {
				return fmt.Errorf("%w: tensor %s is %dx%d, want %dx%d", ErrConfig, name, mat.Rows, mat.Cols, rows, cols)
			}
			continue
		}
		if v := *t.vec(l); len(v) != rows {
			return fmt.Errorf("%w: tensor %s has %d elements, want %d", ErrConfig, name, len(v), rows)
		}
	}
	return nil
}
