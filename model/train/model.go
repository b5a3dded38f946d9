package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bitrepl/bitrepl/model"
)

// ModelConfig is the blueprint of a BitNet b1.58 model of the 2B-4T family: RMSNorm, GQA attention with rotate-half
// RoPE and a sub-norm before the output projection, a ReLU² gated FFN with a sub-norm before the down projection,
// and the LM head tied to the token embedding.
type ModelConfig struct {
	Vocab     int     `json:"vocab"`
	Dim       int     `json:"dim"`
	Layers    int     `json:"layers"`
	Heads     int     `json:"heads"`
	KVHeads   int     `json:"kv_heads"`
	FFN       int     `json:"ffn"`
	Context   int     `json:"context"`
	RopeTheta float32 `json:"rope_theta"`
	NormEps   float32 `json:"norm_eps"`
}

// HeadDim is Dim / Heads.
func (c ModelConfig) HeadDim() int { return c.Dim / c.Heads }

// Validate checks the shape constraints of the trainer.
func (c ModelConfig) Validate() error {
	switch {
	case c.Vocab < 2 || c.Dim < 1 || c.Layers < 1 || c.Heads < 1 || c.KVHeads < 1 || c.FFN < 1 || c.Context < 2:
		return fmt.Errorf("train: bad model config %+v", c)
	case c.Vocab > 1<<20 || c.Dim > 1<<14 || c.FFN > 1<<16 || c.Layers > 256 || c.Context > 1<<16:
		return fmt.Errorf("train: model config %+v beyond the trainer's limits", c)
	case c.Dim%c.Heads != 0 || c.Heads%c.KVHeads != 0 || c.HeadDim()%2 != 0:
		return fmt.Errorf("train: dim %d, heads %d, kv heads %d do not divide (head dim must be even)", c.Dim, c.Heads, c.KVHeads)
	case c.NormEps <= 0 || c.RopeTheta <= 0:
		return fmt.Errorf("train: norm eps and rope theta must be positive")
	}
	return nil
}

// Params returns the number of parameters.
func (c ModelConfig) Params() int {
	kvd := c.KVHeads * c.HeadDim()
	per := 2*c.Dim + c.Dim*c.Dim*2 + 2*kvd*c.Dim + c.Dim + 3*c.FFN*c.Dim + c.FFN
	return c.Vocab*c.Dim + c.Dim + c.Layers*per
}

// tensor is one named parameter tensor: rows x cols (a norm weight is 1 x n), stored at data[off:off+rows*cols].
type tensor struct {
	Name       string // GGUF name, e.g. "blk.0.attn_q.weight"
	Rows, Cols int
	Off        int
	Linear     bool // a BitLinear weight: ternary forward, weight decay
}

// layerW holds views of one block's tensors (weights, gradients or quantized weights alike).
type layerW struct {
	attnNorm, wq, wk, wv, attnSubNorm, wo, ffnNorm, wg, wu, ffnSubNorm, wd []float32
}

// weights is a set of views into one flat slice laid out by layout().
type weights struct {
	embd, outNorm []float32 // V x D, D
	layers        []layerW
}

// layout returns the tensors of a model in storage order: the engine's own
// description of a bitnet-b1.58 block (model.BlockTensors), so the trainer
// and the engine lay out the same tensors.
func layout(c ModelConfig) []tensor {
	var ts []tensor
	off := 0
	add := func(name string, rows, cols int, lin bool) {
		ts = append(ts, tensor{Name: name, Rows: rows, Cols: cols, Off: off, Linear: lin})
		off += rows * cols
	}
	add("token_embd.weight", c.Vocab, c.Dim, false)
	block := model.BlockTensors(c.engineConfig())
	for l := 0; l < c.Layers; l++ {
		for _, t := range block {
			rows, cols := t.Rows, t.Cols
			if cols == 0 { // a vector is stored as one row
				rows, cols = 1, t.Rows
			}
			add(fmt.Sprintf("blk.%d.%s", l, t.Name), rows, cols, t.Ternary)
		}
	}
	add("output_norm.weight", 1, c.Dim, false)
	return ts
}

// view binds the tensors of layout(c) to data, by name.
func view(c ModelConfig, data []float32) weights {
	byName := map[string][]float32{}
	for _, t := range layout(c) {
		byName[t.Name] = data[t.Off : t.Off+t.Rows*t.Cols : t.Off+t.Rows*t.Cols]
	}
	w := weights{embd: byName["token_embd.weight"], outNorm: byName["output_norm.weight"]}
	for l := 0; l < c.Layers; l++ {
		get := func(s string) []float32 { return byName[fmt.Sprintf("blk.%d.%s.weight", l, s)] }
		w.layers = append(w.layers, layerW{
			attnNorm: get("attn_norm"), wq: get("attn_q"), wk: get("attn_k"), wv: get("attn_v"),
			attnSubNorm: get("attn_sub_norm"), wo: get("attn_output"), ffnNorm: get("ffn_norm"),
			wg: get("ffn_gate"), wu: get("ffn_up"), ffnSubNorm: get("ffn_sub_norm"), wd: get("ffn_down"),
		})
	}
	return w
}

// engineConfig is the trainer's model as the engine configures it.
func (c ModelConfig) engineConfig() model.Config {
	return model.Config{Arch: Arch, VocabSize: c.Vocab, Dim: c.Dim, FFNDim: c.FFN, Layers: c.Layers, Heads: c.Heads,
		KVHeads: c.KVHeads, HeadDim: c.HeadDim(), ContextLen: c.Context, RopeTheta: float64(c.RopeTheta),
		NormEps: c.NormEps, Act: model.ReLU2, SubNorms: true, TiedEmbedding: true}
}

// initParams fills data with the initial weights: N(0, 0.02) for the embedding and the linear weights (output and
// down projections scaled by 1/sqrt(2·layers)), 1 for norm weights.
func initParams(c ModelConfig, data []float32, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	for _, t := range layout(c) {
		s := data[t.Off : t.Off+t.Rows*t.Cols]
		if t.Rows == 1 {
			for i := range s {
				s[i] = 1
			}
			continue
		}
		std := 0.02
		if len(t.Name) > 10 && (hasSuffix(t.Name, "attn_output.weight") || hasSuffix(t.Name, "ffn_down.weight")) {
			std /= math.Sqrt(2 * float64(c.Layers))
		}
		for i := range s {
			s[i] = float32(r.NormFloat64() * std)
		}
	}
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// quantWeight writes the effective absmean-ternary weight of w into dst and returns the per-tensor scale
// (mean |w|, at least 1e-5): dst = scale * clamp(roundHalfEven(w / scale), -1, 1).
func quantWeight(dst, w []float32) float32 {
	var sum float64
	for _, v := range w {
		sum += math.Abs(float64(v))
	}
	scale := float32(max(sum/float64(len(w)), 1e-5))
	inv := 1 / scale
	for i, v := range w {
		dst[i] = float32(ternary(v*inv)) * scale
	}
	return scale
}

// ternary is clamp(roundHalfEven(x), -1, 1).
func ternary(x float32) int8 {
	q := math.RoundToEven(float64(x))
	if q > 1 {
		return 1
	}
	if q < -1 {
		return -1
	}
	return int8(q)
}

// quantAct writes the effective per-token int8 quantization of x into dst, exactly as at inference:
// s = 127/max(max|x|, 1e-5); dst = clamp(roundHalfEven(x*s), -128, 127) / s.
func quantAct(dst, x []float32) {
	var amax float32
	for _, v := range x {
		if v < 0 {
			v = -v
		}
		amax = max(amax, v)
	}
	s := 127 / max(amax, 1e-5)
	inv := 1 / s
	for i, v := range x {
		q := math.RoundToEven(float64(v * s))
		q = min(max(q, -128), 127)
		dst[i] = float32(q) * inv
	}
}

// DefaultModel is the shape of bitrepl's shipped model: every BitLinear input dimension (256, 768) is a multiple of
// 256, so the weights fit TQ2_0 and I2_S blocks.
func DefaultModel() ModelConfig {
	return ModelConfig{Vocab: 4096, Dim: 256, Layers: 6, Heads: 4, KVHeads: 2, FFN: 768, Context: 256, RopeTheta: 10000, NormEps: 1e-5}
}
