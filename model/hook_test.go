package model

import (
	"math"
	"slices"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// editAll is an Editor that asks for every site and calls fn on the values.
type editAll struct {
	fn   func(site Site, layer, pos int, data []float32)
	seen map[Site][]float32 // the values Observe saw last, per site
}

func (e *editAll) Want(Site, int) bool { return true }
func (e *editAll) Edit(site Site, layer, pos int, data []float32) {
	if e.fn != nil {
		e.fn(site, layer, pos, data)
	}
}
func (e *editAll) Observe(site Site, layer, pos int, data []float32) {
	if e.seen == nil {
		e.seen = map[Site][]float32{}
	}
	e.seen[site] = slices.Clone(data)
}

func forwardWith(t *testing.T, m *Model, h Hook, tokens []int32) [][]float32 {
	t.Helper()
	s := m.NewSession(0)
	s.SetHook(h)
	out, err := s.ForwardAll(tokens)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An Editor that changes nothing leaves every logit bit for bit as it was,
// the attention recomputed from unedited weights included.
func TestEditorThatChangesNothing(t *testing.T) {
	for _, arch := range []string{"bitnet-b1.58", "llama"} {
		m, err := Random(tinyConfig(arch), 5, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		tokens := []int32{1, 7, 3, 9, 2, 88, 5, 5, 1, 0, 70, 12}
		want := forwardWith(t, m, nil, tokens)
		got := forwardWith(t, m, &editAll{}, tokens)
		for i := range want {
			for j := range want[i] {
				if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
					t.Fatalf("%s: position %d logit %d: %v with an idle editor, %v without", arch, i, j, got[i][j], want[i][j])
				}
			}
		}
	}
}

// What Edit leaves in data is what the pass continues with: checked at the
// logits (added to), the last residual (zeroed: every logit is then 0) and
// the attention weights (all on the current position: the mix is then that
// position's values).
func TestEditorChangesTheForwardPass(t *testing.T) {
	if !hooksCompiled {
		t.Skip("built with -tags nohooks")
	}
	m, err := Random(tinyConfig("llama"), 5, nil, nil) // no sub-norm: attn_sub_norm is the mix itself
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	tokens := []int32{4, 8, 15, 16}
	clean := forwardWith(t, m, nil, tokens)

	got := forwardWith(t, m, &editAll{fn: func(site Site, _, _ int, d []float32) {
		if site == SiteLogits {
			d[5] += 1
		}
	}}, tokens)
	if got[3][5] != clean[3][5]+1 || got[3][6] != clean[3][6] {
		t.Fatalf("logit 5: %v, want %v+1", got[3][5], clean[3][5])
	}

	got = forwardWith(t, m, &editAll{fn: func(site Site, layer, _ int, d []float32) {
		if site == SiteResidual && layer == c.Layers-1 {
			clear(d)
		}
	}}, tokens)
	for _, l := range got[2] {
		if l != 0 {
			t.Fatalf("a zeroed last residual gave logit %v", l)
		}
	}

	var v []float32
	e := &editAll{fn: func(site Site, layer, pos int, d []float32) {
		if layer != 1 || pos != 3 {
			return
		}
		switch site {
		case SiteAttnV:
			v = slices.Clone(d)
		case SiteAttnWeights: // heads x 4: all weight on position 3
			for h := range c.Heads {
				clear(d[h*4 : h*4+4])
				d[h*4+3] = 1
			}
		}
	}}
	forwardWith(t, m, e, tokens)
	mix := e.seen[SiteAttnSubNorm] // the last seen: layer 1, position 3
	hd, group := c.HeadDim, c.Heads/c.KVHeads
	vh := make([]uint16, len(v)) // the values as the F16 cache holds them
	cpu.ToF16(vh, v)
	cpu.FromF16(v, vh)
	for h := range c.Heads {
		for i := range hd {
			if mix[h*hd+i] != v[(h/group)*hd+i] {
				t.Fatalf("head %d: mix[%d] = %v, want value %v", h, i, mix[h*hd+i], v[(h/group)*hd+i])
			}
		}
	}
}
