package inspect

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/bitrepl/bitrepl/model"
)

// HeadScore is how much one attention head behaves as a previous-token head
// (attends from each token to the one before) and as an induction head
// (attends from a repeated token to the token after its earlier
// occurrence), each the mean attention weight on that position.
type HeadScore struct {
	Layer, Head          int
	PrevToken, Induction float64
}

func (h HeadScore) String() string {
	return fmt.Sprintf("L%d.h%d  previous-token %.3f  induction %.3f", h.Layer, h.Head, h.PrevToken, h.Induction)
}

// RepeatedTokens returns prefix, then n random tokens drawn from [lo, hi)
// (seeded), then the same n tokens again: the sequence HeadScores reads.
func RepeatedTokens(prefix []int32, n int, lo, hi int32, seed uint64) []int32 {
	rng := rand.New(rand.NewPCG(seed, 0x1d0c))
	r := make([]int32, n)
	for i := range r {
		r[i] = lo + rng.Int32N(max(hi-lo, 1))
	}
	out := append(append([]int32(nil), prefix...), r...)
	return append(out, r...)
}

// HeadScores evaluates tokens = prefix + r + r (RepeatedTokens, with the
// length n of r) on a CPU session of m and scores every head: previous-token
// is the mean weight from position i to i-1 over every i >= 1; induction is
// the mean weight from each token of the second r to the token after its
// first occurrence (position i to i-n+1).
func HeadScores(m *model.Model, tokens []int32, n int) ([]HeadScore, error) {
	c := &m.Config
	p0 := len(tokens) - 2*n
	if n < 2 || p0 < 0 {
		return nil, fmt.Errorf("head scores: %d tokens cannot end with a repeated run of %d (n >= 2)", len(tokens), n)
	}
	r := &Recorder{Sites: []model.Site{}, Keep: []model.Site{model.SiteAttnWeights}}
	s := m.NewSession(len(tokens))
	s.SetHook(r)
	if _, err := s.Forward(tokens); err != nil {
		return nil, err
	}
	var out []HeadScore
	for l := range c.Layers {
		for h := range c.Heads {
			pos, rows, err := r.Attention(l, h)
			if err != nil {
				return nil, err
			}
			var prev, ind float64
			var nPrev, nInd int
			for k, p := range pos {
				if p >= 1 {
					prev += float64(rows[k][p-1])
					nPrev++
				}
				if p >= p0+n {
					ind += float64(rows[k][p-n+1])
					nInd++
				}
			}
			out = append(out, HeadScore{Layer: l, Head: h, PrevToken: prev / float64(max(nPrev, 1)), Induction: ind / float64(max(nInd, 1))})
		}
	}
	return out, nil
}

// HeadTable formats scores as a layers x heads table of one score.
func HeadTable(scores []HeadScore, induction bool) string {
	var b strings.Builder
	layer := -1
	for _, s := range scores {
		if s.Layer != layer {
			if layer >= 0 {
				b.WriteByte('\n')
			}
			layer = s.Layer
			fmt.Fprintf(&b, "L%-3d", layer)
		}
		v := s.PrevToken
		if induction {
			v = s.Induction
		}
		fmt.Fprintf(&b, " %.3f", v)
	}
	b.WriteByte('\n')
	return b.String()
}

// SteeringVector is the difference of the residual streams after layer at
// the last token of a and of b (each evaluated alone on a CPU session).
func SteeringVector(m *model.Model, a, b []int32, layer int) ([]float32, error) {
	if layer < 0 || layer >= m.Config.Layers {
		return nil, fmt.Errorf("steering: no layer %d (the model has %d)", layer, m.Config.Layers)
	}
	last := func(tokens []int32) ([]float32, error) {
		if len(tokens) == 0 {
			return nil, fmt.Errorf("steering: an empty prompt")
		}
		c := &Cache{Sites: []model.Site{model.SiteResidual}, Layers: []int{layer}}
		if _, err := RunWithCache(m.NewSession(len(tokens)), tokens, c); err != nil {
			return nil, err
		}
		v, _ := c.Get(model.SiteResidual, layer, len(tokens)-1)
		return v, nil
	}
	va, err := last(a)
	if err != nil {
		return nil, err
	}
	vb, err := last(b)
	if err != nil {
		return nil, err
	}
	for i := range va {
		va[i] -= vb[i]
	}
	return va, nil
}

// Steer returns the hook that adds strength * v to the residual stream
// after layer at every position: set it on a session (model.Session.SetHook)
// and generate.
func Steer(m *model.Model, layer int, v []float32, strength float32) (*Hooks, error) {
	if layer < 0 || layer >= m.Config.Layers || len(v) != m.Config.Dim {
		return nil, fmt.Errorf("steering: a vector of %d values at layer %d; the model has %d layers of width %d", len(v), layer, m.Config.Layers, m.Config.Dim)
	}
	return &Hooks{Config: &m.Config, Interventions: []Intervention{{
		Site: model.SiteResidual, Layer: layer, Pos: AllPositions, Head: AllHeads, Apply: AddScaled(v, strength),
	}}}, nil
}
