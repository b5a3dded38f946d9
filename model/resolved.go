package model

import "fmt"

// Resolved is the configuration a model runs with, as a user checks it:
// every value the loader decided, including those taken from defaults
// (rope theta, tying, activation) and how the file's weight scales were read.
type Resolved struct {
	Arch        string  `json:"arch"`
	HeadDim     int     `json:"head_dim"`
	KVHeads     int     `json:"kv_heads"`
	RopeTheta   float64 `json:"rope_theta"`
	RopeScaling string  `json:"rope_scaling"` // "none", "llama3 (factor 8, ...)" or "per-pair factors (rope_freqs.weight)"
	RopeLayout  string  `json:"rope_layout"`  // "rotate-half" or "interleaved"
	Tied        bool    `json:"tied_embedding"`
	Activation  string  `json:"activation"`
	Norms       string  `json:"norms"`
	NormEps     float32 `json:"norm_eps"`
	Scales      string  `json:"weight_scales"`
}

// Resolved describes the configuration m runs with.
func (m *Model) Resolved() Resolved {
	c := &m.Config
	r := Resolved{Arch: c.Arch, HeadDim: c.HeadDim, KVHeads: c.KVHeads, RopeTheta: c.RopeTheta,
		RopeScaling: c.RopeScaling.String(), RopeLayout: "rotate-half", Tied: c.TiedEmbedding,
		Activation: c.Act.String() + " (gated)", NormEps: c.NormEps, Scales: m.scales}
	if c.RopeScaling.Type == "" && c.RopeFreqFactors != nil {
		r.RopeScaling = "per-pair factors (rope_freqs.weight)"
	}
	if c.RopeInterleaved {
		r.RopeLayout = "interleaved"
	}
	r.Norms = "RMSNorm before attention and FFN"
	if c.LayerNorm {
		r.Norms = "LayerNorm without weights before attention, FFN and the head"
	}
	if c.SubNorms {
		r.Norms += "; sub-norms before attn_output and ffn_down"
	}
	if c.BitLinearNorm {
		r.Norms += fmt.Sprintf("; an RMSNorm inside every BitLinear (eps %g)", c.BitLinearNormEps)
	}
	if r.Scales == "" {
		r.Scales = "per tensor, multiplied (as stored)"
	}
	return r
}

// scaleConvention names how a checkpoint's weight scales were read.
func (m weightScaleMode) String() string {
	switch m {
	case scaleInverted:
		return "weight_scale divides (transformers bitlinear)"
	case scaleMultiply:
		return "weight_scale multiplies (transformers autobitlinear, offline)"
	}
	return "latent weights, absmean ternarised at load"
}
