package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/bitrepl/bitrepl/metal/cpu"
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
	// RopeScaling rescales the RoPE frequencies (Llama-3's long-context
	// scheme); the zero value leaves them as they are.
	RopeScaling RopeScaling
	// RopeFreqFactors divide the RoPE frequencies pair by pair: llama.cpp's
	// rope_freqs.weight, which its converter writes for llama3 scaling.
	// Nil means none.
	RopeFreqFactors []float32
	// BitLinearNorm: every BitLinear applies its own RMSNorm (with weight,
	// epsilon BitLinearNormEps) to its input before quantizing it
	// (quantization_config.use_rms_norm).
	BitLinearNorm    bool
	BitLinearNormEps float32
	// LayerNorm makes the block and final norms LayerNorms (the mean
	// subtracted before the RMS scaling), as OLMo's layer_norm_type default;
	// their weights are then 1.
	LayerNorm bool
}

// normRow is the model's block norm of one row: RMSNorm, or LayerNorm
// (centred, then RMSNorm) when c.LayerNorm. dst may be x.
func (c *Config) normRow(dst, x, weight []float32) {
	if c.LayerNorm {
		var sum float32
		for _, v := range x {
			sum += v
		}
		mean := sum / float32(len(x))
		for i, v := range x {
			dst[i] = v - mean
		}
		x = dst
	}
	cpu.RMSNorm(dst, x, weight, c.NormEps)
}

// RopeScaling is transformers' rope_scaling of type "llama3"
// (_compute_llama3_parameters): frequencies whose wavelength exceeds
// OriginalContext/LowFreqFactor are divided by Factor, those under
// OriginalContext/HighFreqFactor are kept, and those between are blended.
type RopeScaling struct {
	Type            string // "" (none) or "llama3"
	Factor          float64
	LowFreqFactor   float64
	HighFreqFactor  float64
	OriginalContext int // original_max_position_embeddings
}

// String describes the scaling as a config would: "none" or
// "llama3 (factor 8, low 1, high 4, original context 8192)".
func (r RopeScaling) String() string {
	if r.Type == "" {
		return "none"
	}
	return fmt.Sprintf("%s (factor %g, low %g, high %g, original context %d)", r.Type, r.Factor, r.LowFreqFactor, r.HighFreqFactor, r.OriginalContext)
}

// ropeFreqs returns the rotation frequency of each of the headDim/2 pairs:
// theta^(-2i/headDim), rescaled as c.RopeScaling and c.RopeFreqFactors
// say. Computed in float64.
func (c *Config) ropeFreqs() []float64 {
	half := c.HeadDim / 2
	freqs := make([]float64, half)
	r := c.RopeScaling
	for i := range freqs {
		f := math.Pow(c.RopeTheta, -float64(2*i)/float64(c.HeadDim))
		if r.Type == "llama3" {
			old := float64(r.OriginalContext)
			wavelen := 2 * math.Pi / f
			switch {
			case wavelen < old/r.HighFreqFactor:
			case wavelen > old/r.LowFreqFactor:
				f /= r.Factor
			default:
				smooth := (old/wavelen - r.LowFreqFactor) / (r.HighFreqFactor - r.LowFreqFactor)
				f = (1-smooth)*f/r.Factor + smooth*f
			}
		}
		if i < len(c.RopeFreqFactors) {
			f /= float64(c.RopeFreqFactors[i])
		}
		freqs[i] = f
	}
	return freqs
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
// A key that is absent takes the default of its model_type's config class
// in transformers (hfDefaults), never the engine's own.
type hfConfig struct {
	Architectures      []string        `json:"architectures"`
	ModelType          string          `json:"model_type"`
	HiddenAct          *string         `json:"hidden_act"`
	HiddenSize         *int            `json:"hidden_size"`
	IntermediateSize   *int            `json:"intermediate_size"`
	NumHiddenLayers    *int            `json:"num_hidden_layers"`
	NumAttentionHeads  *int            `json:"num_attention_heads"`
	NumKeyValueHeads   *int            `json:"num_key_value_heads"`
	HeadDim            *int            `json:"head_dim"` // default hidden_size / num_attention_heads
	MaxPositions       *int            `json:"max_position_embeddings"`
	RMSNormEps         *float64        `json:"rms_norm_eps"`
	RopeTheta          *float64        `json:"rope_theta"`
	RopeScaling        json.RawMessage `json:"rope_scaling"`    // transformers v4
	RopeParameters     json.RawMessage `json:"rope_parameters"` // transformers v5: rope_type, rope_theta and the scaling keys
	VocabSize          *int            `json:"vocab_size"`
	TieWordEmbeddings  *bool           `json:"tie_word_embeddings"`
	AttentionBias      bool            `json:"attention_bias"`
	MLPBias            bool            `json:"mlp_bias"`
	QuantizationConfig *hfQuantConfig  `json:"quantization_config"`
}

// hfDefaults are the defaults of a config class for the keys whose absence
// changes the math.
type hfDefaults struct {
	class     string // the transformers config class, for messages
	act       string
	eps       float64
	theta     float64
	kvHeads   int // 0: num_attention_heads
	positions int
	tied      bool
}

var (
	// transformers' BitNetConfig (models/bitnet/configuration_bitnet.py).
	bitnetDefaults = hfDefaults{class: "BitNetConfig", act: "relu2", eps: 1e-5, theta: 500000, kvHeads: 5, positions: 2048}
	// transformers' LlamaConfig, which 1bitLLM's BitnetConfig copies.
	llamaDefaults = hfDefaults{class: "LlamaConfig", act: "silu", eps: 1e-6, theta: 10000, positions: 2048}
)

// sizes fills c's shapes and constants from the config and the class
// defaults d, naming the key and its value when one is missing or out of
// range.
func (h *hfConfig) sizes(c *Config, d hfDefaults) error {
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
	c.Heads, c.KVHeads, c.ContextLen = *h.NumAttentionHeads, *h.NumAttentionHeads, d.positions
	c.RopeTheta, c.NormEps = d.theta, float32(d.eps)
	if d.kvHeads > 0 {
		c.KVHeads = d.kvHeads
	}
	if h.NumKeyValueHeads != nil {
		c.KVHeads = *h.NumKeyValueHeads
	}
	if h.MaxPositions != nil {
		c.ContextLen = *h.MaxPositions
	}
	if c.Heads%c.KVHeads != 0 {
		what := "num_key_value_heads"
		if h.NumKeyValueHeads == nil {
			what = fmt.Sprintf("num_key_value_heads (absent: %s's default)", d.class)
		}
		return configErr("config.json: num_attention_heads %d is not a multiple of %s %d", c.Heads, what, c.KVHeads)
	}
	if h.HeadDim != nil {
		// transformers honours head_dim even when it is not hidden/heads.
		c.HeadDim = *h.HeadDim
	} else {
		if c.Dim%c.Heads != 0 {
			return configErr("config.json: hidden_size %d is not a multiple of num_attention_heads %d", c.Dim, c.Heads)
		}
		c.HeadDim = c.Dim / c.Heads
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
	return h.rope(c)
}

// hfRope is transformers' rope_scaling (v4) or rope_parameters (v5).
type hfRope struct {
	RopeType       string   `json:"rope_type"`
	Type           string   `json:"type"` // the legacy spelling of rope_type
	RopeTheta      *float64 `json:"rope_theta"`
	Factor         float64  `json:"factor"`
	LowFreqFactor  float64  `json:"low_freq_factor"`
	HighFreqFactor float64  `json:"high_freq_factor"`
	OriginalMax    int      `json:"original_max_position_embeddings"`
}

// rope reads the RoPE settings: v5's rope_parameters win over v4's
// rope_theta and rope_scaling. Types other than default and llama3 are
// refused by name.
func (h *hfConfig) rope(c *Config) error {
	key, raw := "rope_scaling", h.RopeScaling
	if len(h.RopeParameters) > 0 && string(h.RopeParameters) != "null" {
		key, raw = "rope_parameters", h.RopeParameters
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var r hfRope
	if err := json.Unmarshal(raw, &r); err != nil {
		return configErr("config.json: %s: %v", key, err)
	}
	if r.RopeTheta != nil {
		if !(*r.RopeTheta > 1) || math.IsInf(*r.RopeTheta, 0) {
			return configErr("config.json: %s.rope_theta = %v: must be finite and greater than 1", key, *r.RopeTheta)
		}
		c.RopeTheta = *r.RopeTheta
	}
	typ := r.RopeType
	if typ == "" {
		typ = r.Type
	}
	switch typ {
	case "", "default":
		return nil
	case "llama3":
		s := RopeScaling{Type: "llama3", Factor: r.Factor, LowFreqFactor: r.LowFreqFactor,
			HighFreqFactor: r.HighFreqFactor, OriginalContext: r.OriginalMax}
		if !(s.Factor >= 1) || !(s.LowFreqFactor > 0) || !(s.HighFreqFactor > s.LowFreqFactor) || s.OriginalContext <= 0 ||
			math.IsInf(s.Factor, 0) || math.IsInf(s.HighFreqFactor, 0) {
			return configErr("config.json: %s %s: llama3 needs factor >= 1, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings", key, raw)
		}
		c.RopeScaling = s
		return nil
	}
	return configErr("config.json: %s rope_type %q is not supported (default, llama3)", key, typ)
}

// hfQuantConfig is transformers' BitNetQuantConfig.
type hfQuantConfig struct {
	QuantMethod         string   `json:"quant_method"`
	LinearClass         string   `json:"linear_class"`      // "bitlinear" (default) or "autobitlinear"
	QuantizationMode    string   `json:"quantization_mode"` // "offline" (default) or "online"
	UseRMSNorm          bool     `json:"use_rms_norm"`
	RMSNormEps          *float64 `json:"rms_norm_eps"` // of the use_rms_norm norms; default 1e-6
	ModulesToNotConvert []string `json:"modules_to_not_convert"`
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
	if h.AttentionBias || h.MLPBias {
		return Config{}, 0, configErr("config.json: attention_bias/mlp_bias are not supported by BitNet checkpoints")
	}
	mode := scaleNone
	arch := ""
	if len(h.Architectures) > 0 {
		arch = h.Architectures[0]
	}
	q := h.QuantizationConfig
	if q != nil && q.QuantMethod != "" && q.QuantMethod != "bitnet" {
		return Config{}, 0, configErr("config.json: quantization_config.quant_method %q is not BitNet", q.QuantMethod)
	}
	if q != nil && q.UseRMSNorm {
		c.BitLinearNorm, c.BitLinearNormEps = true, 1e-6 // BitNetQuantConfig's default
		if v := q.RMSNormEps; v != nil {
			if !(*v > 0 && *v < 1) {
				return Config{}, 0, configErr("config.json: quantization_config.rms_norm_eps = %v: must be between 0 and 1", *v)
			}
			c.BitLinearNormEps = float32(*v)
		}
	}
	if q != nil {
		for _, name := range q.ModulesToNotConvert {
			if name != "lm_head" {
				return Config{}, 0, configErr("config.json: quantization_config.modules_to_not_convert %q: only lm_head can stay unquantized", name)
			}
		}
	}
	var d hfDefaults
	switch {
	case h.ModelType == "bitnet" || arch == "BitNetForCausalLM":
		// microsoft/bitnet-b1.58-2B-4T: packed weights, sub-norms.
		c.Arch, c.SubNorms, d = "bitnet-b1.58", true, bitnetDefaults
	case arch == "BitnetForCausalLM":
		// 1bitLLM/bitnet_b1_58-*: latent weights, sub-norms; the repo's
		// BitnetConfig is LlamaConfig's copy.
		c.Arch, c.SubNorms, d = "bitnet", true, llamaDefaults
	case h.ModelType == "llama" && q != nil:
		// LLaMA shape with BitLinear layers (Llama3-8B-1.58, Falcon3-*-1.58bit).
		c.Arch, d = "llama", llamaDefaults
	case h.ModelType == "llama":
		return Config{}, 0, configErr("config.json: model_type \"llama\" with no quantization_config (quant_method bitnet) is a float Llama, not a BitNet model (Falcon-E's bfloat16 and prequantized revisions are; use its main revision)")
	case h.ModelType == "olmo":
		return Config{}, 0, configErr("config.json: model_type \"olmo\" has OLMo's own keys (d_model, n_heads): it is read by loadOLMo, not as a transformers config")
	default:
		return Config{}, 0, configErr("config.json: model_type %q / architecture %q is not a BitNet model", h.ModelType, arch)
	}
	act := d.act
	if h.HiddenAct != nil {
		act = *h.HiddenAct
	}
	switch strings.ToLower(act) {
	case "silu", "swish":
		c.Act = SiLU
	case "relu2":
		c.Act = ReLU2
	default:
		return Config{}, 0, configErr("config.json: hidden_act %q is not supported (silu, relu2)", act)
	}
	if q != nil {
		online := false
		switch q.QuantizationMode {
		case "", "offline":
		case "online":
			online = true
		default:
			return Config{}, 0, configErr("config.json: quantization_config.quantization_mode %q is not supported (offline, online)", q.QuantizationMode)
		}
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
	if err := h.sizes(&c, d); err != nil {
		return Config{}, 0, err
	}
	c.TiedEmbedding = d.tied
	if h.TieWordEmbeddings != nil {
		c.TiedEmbedding = *h.TieWordEmbeddings
	}
	return c, mode, c.Validate()
}
