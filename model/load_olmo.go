package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"

	"github.com/bitrepl/bitrepl/model/torchfile"
)

// olmoConfig is the config.json of OLMo's own code (allenai/OLMo hf_olmo,
// model_type olmo), as NousResearch/OLMo-Bitnet-1B ships it. Pointers are
// keys whose absence takes OLMo's ModelConfig default.
type olmoConfig struct {
	DModel              int      `json:"d_model"`
	NHeads              int      `json:"n_heads"`
	NKVHeads            *int     `json:"n_kv_heads"` // default n_heads
	NLayers             int      `json:"n_layers"`
	MLPRatio            *int     `json:"mlp_ratio"`       // default 4
	MLPHiddenSize       *int     `json:"mlp_hidden_size"` // default mlp_ratio * d_model
	VocabSize           int      `json:"vocab_size"`
	EmbeddingSize       *int     `json:"embedding_size"`      // default vocab_size (padded rows of wte)
	MaxSequenceLength   *int     `json:"max_sequence_length"` // default 1024
	RopeTheta           *float64 `json:"rope_theta"`          // default 10000
	Rope                bool     `json:"rope"`
	Alibi               bool     `json:"alibi"`
	ActivationType      *string  `json:"activation_type"` // default swiglu
	BlockType           *string  `json:"block_type"`      // default sequential
	LayerNormType       *string  `json:"layer_norm_type"` // default "default" (LayerNorm)
	LayerNormWithAffine *bool    `json:"layer_norm_with_affine"`
	LayerNormEps        *float64 `json:"layer_norm_eps"` // default 1e-5
	BiasForLayerNorm    *bool    `json:"bias_for_layer_norm"`
	IncludeBias         *bool    `json:"include_bias"` // default true
	AttentionLayerNorm  bool     `json:"attention_layer_norm"`
	ClipQKV             *float64 `json:"clip_qkv"`
	MultiQueryAttention *bool    `json:"multi_query_attention"`
	ScaleLogits         bool     `json:"scale_logits"`
	WeightTying         *bool    `json:"weight_tying"` // default true
}

// loadOLMo loads an OLMo-Bitnet checkpoint: pytorch_model.bin read by the
// restricted unpickler of package torchfile. Its BitLinear158 is a LLaMA
// BitLinear with a weightless RMSNorm before the activation quantization, so
// the model runs as arch llama with Config.BitLinearNorm and norm weights of
// 1; the fused att_proj (Q, K, V rows) and ff_proj (up rows, then gate rows:
// OLMo's SwiGLU is `x, gate = chunk(2); silu(gate) * x`) are ternarised
// whole, as OLMo's weight_quant does, then split.
func loadOLMo(dir string, raw []byte) (*Model, error) {
	var h olmoConfig
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, configErr("config.json: %v", err)
	}
	c, err := h.config()
	if err != nil {
		return nil, err
	}
	embRows := c.VocabSize
	if h.EmbeddingSize != nil {
		embRows = *h.EmbeddingSize
	}
	path := filepath.Join(dir, "pytorch_model.bin")
	ts, err := torchfile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	byName := map[string]torchfile.Tensor{}
	for _, t := range ts {
		byName[t.Name] = t
	}
	get := func(name string, shape ...int64) ([]float32, error) {
		t, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("%s: tensor %s is missing", path, name)
		}
		if len(t.Shape) != len(shape) {
			return nil, fmt.Errorf("%s: tensor %s has shape %v, want %v", path, name, t.Shape, shape)
		}
		for i := range shape {
			if t.Shape[i] != shape[i] {
				return nil, fmt.Errorf("%s: tensor %s has shape %v, want %v", path, name, t.Shape, shape)
			}
		}
		if t.DType != "F32" {
			return nil, fmt.Errorf("%s: tensor %s is %s; only float32 OLMo files are read", path, name, t.DType)
		}
		v := make([]float32, len(t.Data)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		return v, nil
	}
	d, kv, ffn := int64(c.Dim), int64(c.KVDim()), int64(c.FFNDim)
	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	norm := func(name string) ([]float32, error) {
		if !c.olmoAffine {
			return ones(c.Dim), nil
		}
		return get(name, d)
	}
	var p Params
	wte, err := get("model.transformer.wte.weight", int64(embRows), d)
	if err != nil {
		return nil, err
	}
	p.Embed = wte[:c.VocabSize*c.Dim] // the padded rows are never a token
	if !c.TiedEmbedding {
		out, err := get("model.transformer.ff_out.weight", int64(embRows), d)
		if err != nil {
			return nil, err
		}
		p.Output = out[:c.VocabSize*c.Dim]
	}
	if p.OutputNorm, err = norm("model.transformer.ln_f.weight"); err != nil {
		return nil, err
	}
	split := func(w []float32, rows ...int) []Ternary {
		codes := make([]int8, len(w))
		scale := Ternarize(codes, w)
		var out []Ternary
		for _, r := range rows {
			out = append(out, Ternary{Codes: codes[:r*c.Dim], Scale: scale})
			codes = codes[r*c.Dim:]
		}
		return out
	}
	for i := range c.Layers {
		b := fmt.Sprintf("model.transformer.blocks.%d.", i)
		var lp LayerParams
		if lp.AttnNorm, err = norm(b + "attn_norm.weight"); err != nil {
			return nil, err
		}
		if lp.FFNNorm, err = norm(b + "ff_norm.weight"); err != nil {
			return nil, err
		}
		att, err := get(b+"att_proj.weight", d+2*kv, d)
		if err != nil {
			return nil, err
		}
		qkv := split(att, c.Dim, c.KVDim(), c.KVDim())
		lp.Q, lp.K, lp.V = qkv[0], qkv[1], qkv[2]
		o, err := get(b+"attn_out.weight", d, d)
		if err != nil {
			return nil, err
		}
		lp.O = split(o, c.Dim)[0]
		ff, err := get(b+"ff_proj.weight", 2*ffn, d)
		if err != nil {
			return nil, err
		}
		upGate := split(ff, c.FFNDim, c.FFNDim)
		lp.Up, lp.Gate = upGate[0], upGate[1]
		down, err := get(b+"ff_out.weight", d, ffn)
		if err != nil {
			return nil, err
		}
		codes := make([]int8, len(down))
		lp.Down = Ternary{Codes: codes, Scale: Ternarize(codes, down)}
		for j := range lp.inNorm {
			lp.inNorm[j] = ones(c.Dim)
		}
		lp.inNorm[projDown] = ones(c.FFNDim)
		p.Layers = append(p.Layers, lp)
	}
	m, err := Build(c.Config, p, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	m.Source, m.Format = dir, "pytorch_model.bin (OLMo, latent)"
	m.scales = "latent weights, absmean ternarised at load (fused att_proj and ff_proj as one tensor each)"
	m.eos = stopTokens(nil, hfEOS(raw))
	return m, nil
}

type olmoResolved struct {
	Config
	olmoAffine bool
}

// config resolves an OLMo config, refusing by key and value what the
// engine does not compute.
func (h *olmoConfig) config() (olmoResolved, error) {
	str := func(p *string, def string) string {
		if p == nil {
			return def
		}
		return *p
	}
	refuse := func(key string, v any) (olmoResolved, error) {
		return olmoResolved{}, configErr("config.json: model_type olmo: %s %v is not supported", key, v)
	}
	switch {
	case !h.Rope:
		return refuse("rope", h.Rope)
	case h.Alibi:
		return refuse("alibi", h.Alibi)
	case str(h.ActivationType, "swiglu") != "swiglu":
		return refuse("activation_type", *h.ActivationType)
	case str(h.BlockType, "sequential") != "sequential":
		return refuse("block_type", *h.BlockType)
	case str(h.LayerNormType, "default") != "rms" && str(h.LayerNormType, "default") != "default":
		return refuse("layer_norm_type", fmt.Sprintf("%q (rms, default)", *h.LayerNormType))
	case str(h.LayerNormType, "default") == "default" && (h.LayerNormWithAffine == nil || *h.LayerNormWithAffine):
		return refuse("layer_norm_type default with layer_norm_with_affine", "true (a LayerNorm with weights and bias)")
	case h.IncludeBias == nil || *h.IncludeBias:
		return refuse("include_bias", "true (the default)")
	case h.BiasForLayerNorm != nil && *h.BiasForLayerNorm:
		return refuse("bias_for_layer_norm", true)
	case h.AttentionLayerNorm:
		return refuse("attention_layer_norm", true)
	case h.ClipQKV != nil:
		return refuse("clip_qkv", *h.ClipQKV)
	case h.MultiQueryAttention != nil && *h.MultiQueryAttention:
		return refuse("multi_query_attention", true)
	case h.ScaleLogits:
		return refuse("scale_logits", true)
	}
	if h.DModel <= 0 || h.NHeads <= 0 || h.NLayers <= 0 || h.VocabSize <= 0 || h.DModel%h.NHeads != 0 {
		return olmoResolved{}, configErr("config.json: model_type olmo: d_model %d, n_heads %d, n_layers %d, vocab_size %d", h.DModel, h.NHeads, h.NLayers, h.VocabSize)
	}
	c := Config{LayerNorm: str(h.LayerNormType, "default") == "default", Arch: "llama", VocabSize: h.VocabSize, Dim: h.DModel, Layers: h.NLayers, Heads: h.NHeads, KVHeads: h.NHeads,
		HeadDim: h.DModel / h.NHeads, ContextLen: 1024, RopeTheta: 10000, NormEps: 1e-5, Act: SiLU, TiedEmbedding: true,
		BitLinearNorm: true}
	if h.NKVHeads != nil {
		c.KVHeads = *h.NKVHeads
	}
	hidden := 4 * h.DModel
	if h.MLPRatio != nil {
		hidden = *h.MLPRatio * h.DModel
	}
	if h.MLPHiddenSize != nil {
		hidden = *h.MLPHiddenSize
	}
	c.FFNDim = hidden / 2 // SwiGLU halves ff_proj's output
	if h.MaxSequenceLength != nil {
		c.ContextLen = *h.MaxSequenceLength
	}
	if h.RopeTheta != nil {
		c.RopeTheta = *h.RopeTheta
	}
	if h.LayerNormEps != nil {
		if !(*h.LayerNormEps > 0 && *h.LayerNormEps < 1) {
			return refuse("layer_norm_eps", *h.LayerNormEps)
		}
		c.NormEps = float32(*h.LayerNormEps)
	}
	c.BitLinearNormEps = c.NormEps
	if h.WeightTying != nil {
		c.TiedEmbedding = *h.WeightTying
	}
	if h.EmbeddingSize != nil && *h.EmbeddingSize < h.VocabSize {
		return refuse("embedding_size", fmt.Sprintf("%d < vocab_size %d", *h.EmbeddingSize, h.VocabSize))
	}
	if c.KVHeads <= 0 || c.Heads%c.KVHeads != 0 || hidden%2 != 0 {
		return olmoResolved{}, configErr("config.json: model_type olmo: n_kv_heads %d, hidden %d", c.KVHeads, hidden)
	}
	return olmoResolved{Config: c, olmoAffine: h.LayerNormWithAffine == nil || *h.LayerNormWithAffine}, c.Validate()
}
