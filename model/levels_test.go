package model

import (
	"math"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// TestLevelsSameLogits: a whole forward pass (prompt batch, then single
// tokens) gives the same logits, bit for bit, at the Generic level (what a
// build with -tags noasm or a GOARCH without assembly runs) and at the amd64
// assembly levels.
func TestLevelsSameLogits(t *testing.T) {
	for _, arch := range []string{"bitnet", "bitnet-b1.58", "llama"} {
		m, err := Random(tinyConfig(arch), 9, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		run := func(l cpu.Level) [][]float32 {
			defer cpu.SetLevel(l)()
			s := m.NewSession(128)
			var out [][]float32
			for _, toks := range [][]int32{{1, 5, 9, 2, 77, 3, 40, 41, 8}, {4}, {90}, {0, 11}} {
				a, err := s.ForwardAll(toks)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, a...)
			}
			return out
		}
		want := run(cpu.Generic)
		for _, l := range cpu.Levels()[1:] {
			if l != cpu.AVX2 && l != cpu.AVX512 {
				continue // the NEON levels sum in their own order
			}
			got := run(l)
			for i := range want {
				for k := range want[i] {
					if math.Float32bits(got[i][k]) != math.Float32bits(want[i][k]) {
						t.Fatalf("%s %v token %d: logit %d = %v, Generic %v", arch, l, i, k, got[i][k], want[i][k])
					}
				}
			}
		}
	}
}
