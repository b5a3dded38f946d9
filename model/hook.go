package model

import "fmt"

// Site names a place in the forward pass where a Hook can observe values.
// The names follow llama.cpp's GGUF tensor names.
type Site uint8

const (
	SiteAttnNorm    Site = iota + 1 // attn_norm output: the input of Q, K and V (dim)
	SiteAttnQ                       // attn_q output before RoPE (heads*headDim)
	SiteAttnK                       // attn_k output before RoPE (kvHeads*headDim)
	SiteAttnV                       // attn_v output (kvHeads*headDim)
	SiteAttnWeights                 // softmax attention weights: heads x (pos+1), head-major
	SiteAttnSubNorm                 // input of attn_output: attention mix after the sub-norm if any (heads*headDim)
	SiteAttnOut                     // attn_output result, added to the residual (dim)
	SiteFFNNorm                     // ffn_norm output: the input of gate and up (dim)
	SiteFFNGate                     // ffn_gate output (ffn)
	SiteFFNUp                       // ffn_up output (ffn)
	SiteFFNSubNorm                  // input of ffn_down: act(gate)*up after the sub-norm if any (ffn)
	SiteFFNDown                     // ffn_down result, added to the residual (dim)
	SiteResidual                    // residual stream after the block (dim)
	SiteOutputNorm                  // final norm output, the LM head's input (dim); layer -1
	SiteLogits                      // logits (vocab); layer -1
	numSites
)

var siteNames = [...]string{
	SiteAttnNorm: "attn_norm", SiteAttnQ: "attn_q", SiteAttnK: "attn_k", SiteAttnV: "attn_v",
	SiteAttnWeights: "attn_weights", SiteAttnSubNorm: "attn_sub_norm", SiteAttnOut: "attn_output",
	SiteFFNNorm: "ffn_norm", SiteFFNGate: "ffn_gate", SiteFFNUp: "ffn_up", SiteFFNSubNorm: "ffn_sub_norm",
	SiteFFNDown: "ffn_down", SiteResidual: "residual", SiteOutputNorm: "output_norm", SiteLogits: "logits",
}

func (s Site) String() string {
	if s > 0 && s < numSites {
		return siteNames[s]
	}
	return fmt.Sprintf("Site(%d)", s)
}

// Sites lists every site in forward order.
func Sites() []Site {
	out := make([]Site, 0, numSites-1)
	for s := Site(1); s < numSites; s++ {
		out = append(out, s)
	}
	return out
}

// ParseSite finds a site by its name.
func ParseSite(name string) (Site, bool) {
	for s := Site(1); s < numSites; s++ {
		if siteNames[s] == name {
			return s, true
		}
	}
	return 0, false
}

// BitLinearInput reports whether the values at s are quantized to int8 as the
// input of a BitLinear projection (where quantization error is measured).
func (s Site) BitLinearInput() bool {
	return s == SiteAttnNorm || s == SiteAttnSubNorm || s == SiteFFNNorm || s == SiteFFNSubNorm
}

// A Hook observes values inside the forward pass, like ggml's eval callback:
// the session first asks Want (once per site, layer and batch), then calls
// Observe once per token with the values of that token. data is only valid
// during the call; copy what you keep. layer is -1 for sites outside the
// decoder blocks. A session without a hook pays one branch per site.
type Hook interface {
	Want(site Site, layer int) bool
	Observe(site Site, layer, pos int, data []float32)
}

// An Editor is a Hook that may also change the values it asks for: the
// session calls Edit with the same arguments just before Observe, and what
// Edit leaves in data is what the forward pass continues with (zero or mean
// ablation, clamping, adding a vector, replacing from a cache). Attention
// sites are head-major (heads*headDim; attn_weights heads x (pos+1)), so
// an edit can touch one head at one position. An edit of attn_weights is
// applied by recomputing that token's attention output from the edited
// weights. The session checks for Editor once, in SetHook; a session whose
// hook is not an Editor pays nothing for it. Forward passes with a hook run
// on the CPU (see NewSessionGPU), so edits apply on every device.
type Editor interface {
	Hook
	Edit(site Site, layer, pos int, data []float32)
}
