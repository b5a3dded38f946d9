package inspect

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/bitrepl/bitrepl/model"
)

// PatchOptions chooses what ActivationPatching patches.
type PatchOptions struct {
	Sites   []model.Site // nil: residual, attn_output, ffn_down
	Layers  []int        // nil: every layer
	PerHead bool         // patch attention sites (attn_q, attn_k, attn_v, attn_weights, attn_sub_norm) head by head
}

// PatchResult is how much of the clean run's logit difference each patch
// restores in the corrupted run: (patched - corrupt) / (clean - corrupt),
// 0 for no effect and 1 for all of it.
type PatchResult struct {
	Answer, Wrong  int32   // the logit difference is logit[Answer] - logit[Wrong] after the last token
	Clean, Corrupt float64 // the two runs' logit differences
	Positions      int
	Heads          int // heads per site when patched per head, else 1
	Rows           []PatchRow
}

// PatchRow is one site of one layer: Restored[pos*Heads+head].
type PatchRow struct {
	Site     model.Site
	Layer    int
	Heads    int // 1, or the site's heads
	Restored []float64
}

// At returns the share restored by patching site at layer, pos and head
// (head 0 when not per head), NaN when it was not patched.
func (r *PatchResult) At(site model.Site, layer, pos, head int) float64 {
	for _, row := range r.Rows {
		if row.Site == site && row.Layer == layer && head < row.Heads && pos < r.Positions {
			return row.Restored[pos*row.Heads+head]
		}
	}
	return math.NaN()
}

func (r *PatchResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "logit[%d] - logit[%d]: clean %.4f, corrupt %.4f; share restored by patching clean into corrupt:\n", r.Answer, r.Wrong, r.Clean, r.Corrupt)
	fmt.Fprintf(&b, "%-18s", "site")
	for p := range r.Positions {
		fmt.Fprintf(&b, " %7s", fmt.Sprintf("p%d", p))
	}
	b.WriteByte('\n')
	for _, row := range r.Rows {
		for h := range row.Heads {
			name := fmt.Sprintf("L%d %s", row.Layer, row.Site)
			if row.Layer < 0 {
				name = row.Site.String()
			}
			if row.Heads > 1 {
				name += fmt.Sprintf(" h%d", h)
			}
			fmt.Fprintf(&b, "%-18s", name)
			for p := range r.Positions {
				fmt.Fprintf(&b, " %+7.3f", row.Restored[p*row.Heads+h])
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// headsOf returns the number of heads of an attention site (0 for others).
func headsOf(c *model.Config, site model.Site) int {
	switch site {
	case model.SiteAttnQ, model.SiteAttnSubNorm, model.SiteAttnWeights:
		return c.Heads
	case model.SiteAttnK, model.SiteAttnV:
		return c.KVHeads
	}
	return 0
}

// ActivationPatching runs clean and corrupt (token sequences of equal
// length) on CPU sessions of m and then, for every chosen site, layer,
// position (and head), the corrupt run with that one value replaced by the
// clean run's, measuring logit[answer] - logit[wrong] after the last token.
// That is sites x layers x positions (x heads) forward passes.
func ActivationPatching(m *model.Model, clean, corrupt []int32, answer, wrong int32, opt PatchOptions) (*PatchResult, error) {
	c := &m.Config
	if len(clean) != len(corrupt) || len(clean) == 0 {
		return nil, fmt.Errorf("patching: the clean and corrupted prompts must have the same number of tokens (%d and %d)", len(clean), len(corrupt))
	}
	for _, t := range []int32{answer, wrong} {
		if t < 0 || int(t) >= c.VocabSize {
			return nil, fmt.Errorf("patching: token %d is outside the vocabulary (%d)", t, c.VocabSize)
		}
	}
	sites := opt.Sites
	if sites == nil {
		sites = []model.Site{model.SiteResidual, model.SiteAttnOut, model.SiteFFNDown}
	}
	layers := opt.Layers
	if layers == nil {
		for l := range c.Layers {
			layers = append(layers, l)
		}
	}
	for _, l := range layers {
		if l < 0 || l >= c.Layers {
			return nil, fmt.Errorf("patching: no layer %d (the model has %d)", l, c.Layers)
		}
	}
	n := len(clean)
	cache := &Cache{Sites: sites, Layers: layers}
	s := m.NewSession(n)
	cleanLogits, err := RunWithCache(s, clean, cache)
	if err != nil {
		return nil, err
	}
	diff := func(l []float32) float64 { return float64(l[answer]) - float64(l[wrong]) }
	res := &PatchResult{Answer: answer, Wrong: wrong, Clean: diff(cleanLogits[n-1]), Positions: n, Heads: 1}
	s.Reset()
	base, err := s.Forward(corrupt)
	if err != nil {
		return nil, err
	}
	res.Corrupt = diff(base)
	for _, site := range sites {
		ls := layers
		if site == model.SiteOutputNorm || site == model.SiteLogits {
			ls = []int{-1}
		}
		heads := 1
		if opt.PerHead && headsOf(c, site) > 0 {
			heads = headsOf(c, site)
			res.Heads = max(res.Heads, heads)
		}
		for _, l := range ls {
			row := PatchRow{Site: site, Layer: l, Heads: heads, Restored: make([]float64, n*heads)}
			for p := range n {
				for h := range heads {
					head := AllHeads
					if heads > 1 {
						head = h
					}
					logits, err := Patch(s, corrupt, cache, site, l, p, head)
					if err != nil {
						return nil, err
					}
					r := (diff(logits) - res.Corrupt) / (res.Clean - res.Corrupt)
					if r == 0 {
						r = 0 // not -0
					}
					row.Restored[p*heads+h] = r
				}
			}
			res.Rows = append(res.Rows, row)
		}
	}
	return res, nil
}

// Patch resets s, evaluates tokens with the value of site at layer, pos
// (and head, or AllHeads) replaced by the one in from, and returns the
// logits after the last token (owned by s).
func Patch(s *model.Session, tokens []int32, from *Cache, site model.Site, layer, pos, head int) ([]float32, error) {
	v, ok := from.Get(site, layer, pos)
	if !ok {
		return nil, fmt.Errorf("patching: %s at layer %d position %d is not in the cache", site, layer, pos)
	}
	c := &s.Model().Config
	if head != AllHeads {
		var err error
		if v, err = HeadSlice(c, site, pos, head, v); err != nil {
			return nil, err
		}
	}
	h := &Hooks{Config: c, Interventions: []Intervention{{Site: site, Layer: layer, Pos: pos, Head: head, Apply: Set(slices.Clone(v))}}}
	s.Reset()
	s.SetHook(h)
	defer s.SetHook(nil)
	logits, err := s.Forward(tokens)
	if err == nil {
		err = h.Err
	}
	return logits, err
}
