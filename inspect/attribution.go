package inspect

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

// Part is one component's direct contribution to a logit.
type Part struct {
	Kind  string // "embed", "attn" or "ffn"
	Layer int    // -1 for the embedding
	Head  int    // the head of an "attn" part; -1 otherwise
	Value float64
}

// Name is "embed", "L3.attn.h2" or "L3.ffn".
func (p Part) Name() string {
	switch p.Kind {
	case "embed":
		return "embed"
	case "attn":
		return fmt.Sprintf("L%d.attn.h%d", p.Layer, p.Head)
	}
	return fmt.Sprintf("L%d.%s", p.Layer, p.Kind)
}

// Attribution splits the logit of Token at position Pos into the direct
// contributions of the parts that add into the residual stream.
type Attribution struct {
	Pos   int
	Token int32
	Text  string  // the token's text, when a namer was given
	Logit float64 // the model's logit
	Scale float64 // the final norm's 1/rms(x) at Pos, frozen
	Parts []Part  // embed, then per layer each head's attention and the FFN
}

// Sum adds the parts: the logit, up to rounding.
func (a *Attribution) Sum() float64 {
	var s float64
	for _, p := range a.Parts {
		s += p.Value
	}
	return s
}

// Layer returns the attention (all heads) and FFN contributions of layer.
func (a *Attribution) Layer(l int) (attn, ffn float64) {
	for _, p := range a.Parts {
		if p.Layer == l {
			if p.Kind == "attn" {
				attn += p.Value
			} else {
				ffn += p.Value
			}
		}
	}
	return attn, ffn
}

// Top returns the k parts of largest magnitude, largest first.
func (a *Attribution) Top(k int) []Part {
	ps := append([]Part(nil), a.Parts...)
	sort.SliceStable(ps, func(i, j int) bool { return math.Abs(ps[i].Value) > math.Abs(ps[j].Value) })
	return ps[:min(k, len(ps))]
}

func (a *Attribution) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "logit of %d %q at position %d: %.4f (parts sum to %.4f; final norm scale %.4g frozen)\n", a.Token, a.Text, a.Pos, a.Logit, a.Sum(), a.Scale)
	layers := -1
	for _, p := range a.Parts {
		layers = max(layers, p.Layer)
	}
	for _, p := range a.Parts {
		if p.Kind == "embed" {
			fmt.Fprintf(&b, "  %-6s %+9.4f\n", "embed", p.Value)
		}
	}
	for l := 0; l <= layers; l++ {
		attn, ffn := a.Layer(l)
		fmt.Fprintf(&b, "  L%-4d attn %+9.4f  ffn %+9.4f  heads", l, attn, ffn)
		for _, p := range a.Parts {
			if p.Layer == l && p.Kind == "attn" {
				fmt.Fprintf(&b, " %+.3f", p.Value)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// DirectLogitAttribution evaluates tokens on a fresh CPU session of m and
// splits the logit of token at position pos (the prediction made after
// tokens[pos]) into the embedding, each layer's attention per head and each
// FFN, through the residual stream: logit = u · (embed + Σ attn + Σ ffn)
// with u = W_U[token] ⊙ g * s, where g is the final norm's weight and s its
// 1/rms at pos, frozen as TransformerLens does.
//
// BitLinear quantizes attn_output's whole input to int8 with one absmax
// scale per token, so a head's part is defined with that token's scale
// kept and the ternary matrix restricted to the head's columns: Σ over the
// head's columns of W[r, j] * xq[j] * inv. The heads' parts add up to the
// layer's attention output exactly, up to float rounding.
func DirectLogitAttribution(m *model.Model, tokens []int32, pos int, token int32, namer func(int32) string) (*Attribution, error) {
	c := &m.Config
	if pos < 0 || pos >= len(tokens) {
		return nil, fmt.Errorf("attribution: position %d is outside the %d tokens", pos, len(tokens))
	}
	if token < 0 || int(token) >= c.VocabSize {
		return nil, fmt.Errorf("attribution: token %d is outside the vocabulary (%d)", token, c.VocabSize)
	}
	cache := &Cache{Sites: []model.Site{model.SiteAttnSubNorm, model.SiteFFNDown, model.SiteResidual}}
	s := m.NewSession(len(tokens))
	logits, err := RunWithCache(s, tokens[:pos+1], cache)
	if err != nil {
		return nil, err
	}
	a := &Attribution{Pos: pos, Token: token, Logit: float64(logits[pos][token])}
	if namer != nil {
		a.Text = namer(token)
	}
	final, ok := cache.Get(model.SiteResidual, c.Layers-1, pos)
	if !ok {
		return nil, fmt.Errorf("attribution: the last residual was not recorded")
	}
	// s as cpu.RMSNorm computes it.
	var ss float64
	for _, x := range final {
		ss += float64(x) * float64(x)
	}
	mean := float32(ss / float64(len(final)))
	a.Scale = float64(1 / float32(math.Sqrt(float64(mean+c.NormEps))))
	u := make([]float32, c.Dim)
	m.Output().Row(u, int(token))
	norm := m.OutputNorm()
	u64 := make([]float64, c.Dim)
	for i := range u {
		u64[i] = float64(u[i]) * float64(norm[i]) * a.Scale
	}
	dot := func(x []float32) float64 {
		var s float64
		for i, v := range x {
			s += u64[i] * float64(v)
		}
		return s
	}
	e := make([]float32, c.Dim)
	m.Embedding().Row(e, int(tokens[pos]))
	a.Parts = append(a.Parts, Part{Kind: "embed", Layer: -1, Head: -1, Value: dot(e)})
	hd := c.HeadDim
	for l := range c.Layers {
		o := m.Layers()[l].O
		in, _ := cache.Get(model.SiteAttnSubNorm, l, pos)
		heads, err := headParts(o, in, u64, c.Heads, hd)
		if err != nil {
			return nil, fmt.Errorf("attribution: layer %d: %w", l, err)
		}
		for h, v := range heads {
			a.Parts = append(a.Parts, Part{Kind: "attn", Layer: l, Head: h, Value: v})
		}
		down, _ := cache.Get(model.SiteFFNDown, l, pos)
		a.Parts = append(a.Parts, Part{Kind: "ffn", Layer: l, Head: -1, Value: dot(down)})
	}
	return a, nil
}

// headParts returns u · (head h's share of o · x) for every head: x is
// quantized as the session does, and each head's share uses its columns
// of o with the token's scale.
func headParts(o *cpu.Matrix, x []float32, u []float64, heads, hd int) ([]float64, error) {
	if len(x) != heads*hd || o.Cols < len(x) || o.Rows != len(u) {
		return nil, fmt.Errorf("attn_output is %d x %d, its input %d values, want %d heads x %d", o.Rows, o.Cols, len(x), heads, hd)
	}
	xq := make([]int8, len(x))
	inv := cpu.QuantizeInt8(xq, x)
	row := make([]float32, o.Cols)
	acc := make([]float64, heads)
	for r := range o.Rows {
		o.Row(row, r)
		for h := range heads {
			var s float64
			for j := h * hd; j < (h+1)*hd; j++ {
				s += float64(row[j]) * float64(xq[j])
			}
			acc[h] += u[r] * s
		}
	}
	for h := range acc {
		acc[h] *= float64(inv)
	}
	return acc, nil
}
