package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Activation is the gate activation of the feed-forward block.
type Activation uint8

const (
	SiLU  Activation = iota + 1 // silu(gate) * up: 1bitLLM, LLaMA-shaped BitNets
	ReLU2                       // relu(gate)^2 * up: bitnet-b1.58-2B-4T
)

func (a Activation) String() string {
	switch a {
	case SiLU:
		return "silu"
	case ReLU2:
		return "relu2"
	}
	return fmt.Sprintf("Activation(%d)", a)
}

// Config is the blueprint of a model: every shape and constant the forward
// pass needs. It is filled from an HF config.json or from GGUF metadata and
// checked by Validate.
type Config struct {
	Arch          string     // GGUF architecture name: "bitnet", "bitnet-b1.58" or "llama"
	VocabSize     int        // rows of the embedding
	Dim           int        // hidden size
	FFNDim        int        // feed-forward inner size
	Layers        int        // decoder blocks
	Heads         int        // query heads
	KVHeads       int        // key/value heads (GQA when < Heads)
	HeadDim       int        // Dim / Heads
	ContextLen    int        // positions the model was trained for
	RopeTheta     float64    // RoPE base frequency
	NormEps       float32    // RMSNorm epsilon
	Act           Activation // FFN gate activation
	SubNorms      bool       // attn_sub_norm before o_proj and ffn_sub_norm before down_proj
	TiedEmbedding bool       // LM head is the token embedding
	// RopeInterleaved rotates pairs (2i, 2i+1) instead of (i, i+headDim/2):
	// llama.cpp's "NORM" RoPE for GGUF arch llama, whose converter permuted
	// the Q and K rows to match.
	RopeInterleaved bool
}

// ErrConfig is wrapped by every error about a model's configuration.
var ErrConfig = errors.New("model config")

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// Validate checks that the shapes agree with each other and are in range.
func (c *Config) Validate() error {
	const maxDim = 1 << 20
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab size", c.VocabSize}, {"hidden size", c.Dim}, {"feed-forward size", c.FFNDim},
		{"layer count", c.Layers}, {"head count", c.Heads}, {"kv head count", c.KVHeads},
		{"head dim", c.HeadDim}, {"context length", c.ContextLen}} {
		if f.v <= 0 || f.v > maxDim*16 {
			return configErr("%s %d out of range", f.name, f.v)
		}
	}
	if c.Layers > 1024 || c.Heads > 1024 {
		return configErr("%d layers, %d heads: too many", c.Layers, c.Heads)
	}
	if c.Heads%c.KVHeads != 0 {
		return configErr("%d heads is not a multiple of %d kv heads", c.Heads, c.KVHeads)
	}
	if c.HeadDim*c.Heads != c.Dim {
		return configErr("head dim %d x %d heads != hidden size %d", c.HeadDim, c.Heads, c.Dim)
	}
	if c.HeadDim%2 != 0 {
		return configErr("head dim %d is odd: rotate-half RoPE needs it even", c.HeadDim)
	}
	if !(c.RopeTheta > 1) || math.IsInf(c.RopeTheta, 0) {
		return configErr("rope theta %v out of range", c.RopeTheta)
	}
	if !(c.NormEps > 0 && c.NormEps < 1) {
		return configErr("rms norm eps %v out of range", c.NormEps)
	}
	if c.Act != SiLU && c.Act != ReLU2 {
		return configErr("unknown activation %v", c.Act)
	}
	return nil
}

// KVDim is the width of one position's keys (or values) over all KV heads.
func (c *Config) KVDim() int { return c.KVHeads * c.HeadDim }

// hfConfig is the subset of an HF config.json that BitNet checkpoints use.
type hfConfig struct {
	Architectures      []string        `json:"architectures"`
	ModelType          string          `json:"model_type"`
	HiddenAct          string          `json:"hidden_act"`
	HiddenSize         *int            `json:"hidden_size"`
	IntermediateSize   *int            `json:"intermediate_size"`
	NumHiddenLayers    *int            `json:"num_hidden_layers"`
	NumAttentionHeads  *int            `json:"num_attention_heads"`
	NumKeyValueHeads   *int            `json:"num_key_value_heads"`     // default num_attention_heads
	HeadDim            *int            `json:"head_dim"`                // default hidden_size / num_attention_heads
	MaxPositions       *int            `json:"max_position_embeddings"` // default 2048, as transformers
	RMSNormEps         *float64        `json:"rms_norm_eps"`            // default 1e-5
	RopeTheta          *float64        `json:"rope_theta"`              // default 10000
	RopeScaling        json.RawMessage `json:"rope_scaling"`
	VocabSize          *int            `json:"vocab_size"`
	TieWordEmbeddings  *bool           `json:"tie_word_embeddings"`
	AttentionBias      bool            `json:"attention_bias"`
	MLPBias            bool            `json:"mlp_bias"`
	QuantizationConfig *hfQuantConfig  `json:"quantization_config"`
}

// sizes fills c's shapes and constants from the config, naming the key and
// its value when one is missing or out of range.
func (h *hfConfig) sizes(c *Config) error {
	// The sizes must be given and positive; the optional keys, when given,
	// must be valid too (0 is not "use the default").
	for _, k := range []struct {
		key      string
		v        *int
		required bool
	}{
		{"vocab_size", h.VocabSize, true}, {"hidden_size", h.HiddenSize, true},
		{"intermediate_size", h.IntermediateSize, true}, {"num_hidden_layers", h.NumHiddenLayers, true},
		{"num_attention_heads", h.NumAttentionHeads, true}, {"num_key_value_heads", h.NumKeyValueHeads, false},
		{"head_dim", h.HeadDim, false}, {"max_position_embeddings", h.MaxPositions, false},
	} {
		switch {
		case k.v == nil && k.required:
			return configErr("config.json: %s is missing", k.key)
		case k.v != nil && *k.v <= 0:
			return configErr("config.json: %s = %d: must be at least 1", k.key, *k.v)
		}
	}
	c.VocabSize, c.Dim, c.FFNDim, c.Layers = *h.VocabSize, *h.HiddenSize, *h.IntermediateSize, *h.NumHiddenLayers
	c.Heads, c.KVHeads, c.ContextLen, c.RopeTheta, c.NormEps = *h.NumAttentionHeads, *h.NumAttentionHeads, 2048, 10000, 1e-5
	if h.NumKeyValueHeads != nil {
		c.KVHeads = *h.NumKeyValueHeads
	}
	if h.MaxPositions != nil {
		c.ContextLen = *h.MaxPositions
	}
	if c.Heads%c.KVHeads != 0 {
		return configErr("config.json: num_attention_heads %d is not a multiple of num_key_value_heads %d", c.Heads, c.KVHeads)
	}
	if c.Dim%c.Heads != 0 {
		return configErr("config.json: hidden_size %d is not a multiple of num_attention_heads %d", c.Dim, c.Heads)
	}
	c.HeadDim = c.Dim / c.Heads
	if h.HeadDim != nil && *h.HeadDim != c.HeadDim {
		return configErr("config.json: head_dim %d != hidden_size/num_attention_heads %d", *h.HeadDim, c.HeadDim)
	}
	if v := h.RopeTheta; v != nil {
		if !(*v > 1) || math.IsInf(*v, 0) {
			return configErr("config.json: rope_theta = %v: must be finite and greater than 1", *v)
		}
		c.RopeTheta = *v
	}
	if v := h.RMSNormEps; v != nil {
		if !(*v > 0 && *v < 1) {
			return configErr("config.json: rms_norm_eps = %v: must be between 0 and 1", *v)
		}
		c.NormEps = float32(*v)
	}
	return nil
}

// hfQuantConfig is transformers' BitNetQuantConfig.
type hfQuantConfig struct {
	QuantMethod      string `json:"quant_method"`
	LinearClass      string `json:"linear_class"`      // "bitlinear" (default) or "autobitlinear"
	QuantizationMode string `json:"quantization_mode"` // "offline" (default) or "online"
	UseRMSNorm       bool   `json:"use_rms_norm"`
}

// weightScaleMode says how a checkpoint's weight_scale tensor is applied.
type weightScaleMode uint8

const (
	scaleNone     weightScaleMode = iota // latent weights: absmean ternarisation at load
	scaleInverted                        // transformers "bitlinear": y = Wx / weight_scale
	scaleMultiply                        // transformers "autobitlinear" offline: y = Wx * weight_scale
)

// parseHFConfig turns a config.json into a Config and says how the
// checkpoint's BitLinear weights are stored.
func parseHFConfig(data []byte) (Config, weightScaleMode, error) {
	var h hfConfig
	if err := json.Unmarshal(data, &h); err != nil {
		return Config{}, 0, configErr("config.json: %v", err)
	}
	var c Config
	if len(h.RopeScaling) > 0 && string(h.RopeScaling) != "null" {
		return Config{}, 0, configErr("config.json: rope_scaling %s is not supported", h.RopeScaling)
	}
	if h.AttentionBias || h.MLPBias {
		return Config{}, 0, configErr("config.json: attention_bias/mlp_bias are not supported by BitNet checkpoints")
	}
	switch strings.ToLower(h.HiddenAct) {
	case "silu", "swish":
		c.Act = SiLU
	case "relu2":
		c.Act = ReLU2
	default:
		return Config{}, 0, configErr("config.json: hidden_act %q is not supported (silu, relu2)", h.HiddenAct)
	}
	mode := scaleNone
	arch := ""
	if len(h.Architectures) > 0 {
		arch = h.Architectures[0]
	}
	q := h.QuantizationConfig
	if q != nil && q.QuantMethod != "" && q.QuantMethod != "bitnet" {
		return Config{}, 0, configErr("config.json: quantization method %q is not BitNet", q.QuantMethod)
	}
	if q != nil && q.UseRMSNorm {
		return Config{}, 0, configErr("config.json: quantization_config.use_rms_norm is not supported")
	}
	switch {
	case h.ModelType == "bitnet" || arch == "BitNetForCausalLM":
		// microsoft/bitnet-b1.58-2B-4T: packed weights, sub-norms, tied embedding.
		c.Arch, c.SubNorms = "bitnet-b1.58", true
	case arch == "BitnetForCausalLM":
		// 1bitLLM/bitnet_b1_58-*: latent weights, sub-norms.
		c.Arch, c.SubNorms = "bitnet", true
	case h.ModelType == "llama" && q != nil:
		// LLaMA shape with BitLinear layers (Llama3-8B-1.58, Falcon3-*-1.58bit).
		c.Arch = "llama"
	default:
		return Config{}, 0, configErr("config.json: model_type %q / architecture %q is not a BitNet model", h.ModelType, arch)
	}
	if q != nil {
		online := q.QuantizationMode == "online"
		switch q.LinearClass {
		case "", "bitlinear":
			mode = scaleInverted
		case "autobitlinear":
			mode = scaleMultiply
			if online {
				mode = scaleNone
			}
		default:
			return Config{}, 0, configErr("config.json: linear_class %q is not supported", q.LinearClass)
		}
	}
	if err := h.sizes(&c); err != nil {
		return Config{}, 0, err
	}
	c.TiedEmbedding = c.Arch == "bitnet-b1.58"
	if h.TieWordEmbeddings != nil {
		c.TiedEmbedding = *h.TieWordEmbeddings
	}
	return c, mode, c.Validate()
}
