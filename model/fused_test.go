package model

import (
	"math"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// wantAll asks for every site and keeps nothing: it turns the fused paths of
// the forward pass off (the FFN's gate and up in one pool pass, attention
// split over heads), since those sites must be seen before activation.
type wantAll struct{ seen int }

func (h *wantAll) Want(Site, int) bool               { return true }
func (h *wantAll) Observe(Site, int, int, []float32) { h.seen++ }

// TestFusedPathsMatch checks that the fused forward pass gives the same
// logits, bit for bit, as the step-by-step one that hooks see, for a prompt
// batch and then single tokens, past one tile of cached positions, at every
// kernel level and thread count.
func TestFusedPathsMatch(t *testing.T) {
	defer cpu.SetThreads(cpu.SetThreads(2))
	for _, arch := range []string{"bitnet", "bitnet-b1.58", "llama"} {
		cfg := tinyConfig(arch)
		cfg.ContextLen = 256 // past attendTile positions
		m, err := Random(cfg, 7, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range cpu.Levels() {
			for _, th := range []int{1, 2, 3} {
				func() {
					defer cpu.SetLevel(l)()
					cpu.SetThreads(th)
					fused, plain := m.NewSession(256), m.NewSession(256)
					h := &wantAll{}
					plain.SetHook(h)
					long := make([]int32, 150)
					for i := range long {
						long[i] = int32(i*7) % 96
					}
					steps := [][]int32{{1, 5, 9, 2, 77, 3}, {4}, {90}, {0, 11}, {12}, long, {5}, {6}}
					for i, toks := range steps {
						a, err := fused.ForwardAll(toks)
						if err != nil {
							t.Fatal(err)
						}
						b, err := plain.ForwardAll(toks)
						if err != nil {
							t.Fatal(err)
						}
						for j := range a {
							for k := range a[j] {
								if math.Float32bits(a[j][k]) != math.Float32bits(b[j][k]) {
									t.Fatalf("%s %v threads %d step %d token %d: logit %d = %v fused, %v step by step",
										arch, l, th, i, j, k, a[j][k], b[j][k])
								}
							}
						}
					}
					if h.seen == 0 {
						t.Fatal("the hook saw nothing")
					}
				}()
			}
		}
	}
}
