package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/kvcache"
)

// attendRef is attendTokens one (token, head) at a time with the
// single-query kernels: the scores tile after tile, the softmax, the values
// tile after tile, the order every attention path of the engine keeps.
func attendRef(s *Session, n int) []float32 {
	c := &s.m.Config
	hd, qd, group := c.HeadDim, c.Heads*c.HeadDim, c.Heads/c.KVHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	out := make([]float32, n*qd)
	for t := range n {
		p := s.pos0 + t + 1
		for h := range c.Heads {
			w := make([]float32, p)
			for j0 := 0; j0 < p; j0 += attendTile {
				j1 := min(j0+attendTile, p)
				s.scores(w[j0:j1], s.q[t*qd+h*hd:][:hd], h/group, j0, j1, scale)
			}
			cpu.Softmax(w)
			for j0 := 0; j0 < p; j0 += attendTile {
				j1 := min(j0+attendTile, p)
				s.mixValues(out[t*qd+h*hd:][:hd], w[j0:j1], h/group, j0, j1)
			}
		}
	}
	return out
}

// TestAttendGroupsMatchSingle checks attendTokens, which runs the group
// kernels over the query heads of a KV group and the tokens of a block,
// against attendRef bit for bit: every cache type and level, 2B-4T's head
// geometry and a narrow one, depths within and past a tile, batches of one
// token, of part of a block, of whole blocks and more, on 1, 2 and 3
// threads; single tokens also deeper than attendSplitDepth (attendSplit,
// whose ranges then end inside groups, tiles and heads).
func TestAttendGroupsMatchSingle(t *testing.T) {
	defer cpu.SetThreads(cpu.SetThreads(2))
	r := rand.New(rand.NewPCG(5, 6))
	for _, geo := range [][3]int{{20, 5, 128}, {6, 2, 64}, {3, 3, 40}} {
		m := attendModel(t, geo[0], geo[1], geo[2])
		cfg := m.Config
		for _, kv := range []kvcache.Type{kvcache.F32, kvcache.F16, kvcache.Q8_0} {
			m.KVCache = kv
			s := m.NewSession(640)
			k, v := make([]float32, cfg.KVDim()), make([]float32, cfg.KVDim())
			for p := range 640 {
				for i := range k {
					k[i], v[i] = r.Float32()-0.5, r.Float32()-0.5
				}
				s.cache.Put(0, p, k, v)
			}
			for _, l := range cpu.Levels() {
				for _, c := range [][2]int{{0, 1}, {5, 1}, {64, 1}, {200, 1}, {0, 3}, {61, 8}, {70, 13}, {128, 17}, {54, 16}, {62, 9}, {300, 64}, {attendSplitDepth - 2, 1}, {attendSplitDepth - 1, 1}, {555, 1}, {639, 1}} {
					pos0, n := c[0], c[1]
					for _, th := range []int{1, 2, 3} {
						t.Run(fmt.Sprintf("%v/%v/%v/d%d/n%d/t%d", geo, kv, l, pos0, n, th), func(t *testing.T) {
							defer cpu.SetLevel(l)()
							cpu.SetThreads(th)
							for i := range s.q[:n*cfg.Heads*cfg.HeadDim] {
								s.q[i] = r.Float32() - 0.5
							}
							s.layer, s.pos0, s.batch = 0, pos0, n
							want := attendRef(s, n)
							s.attend()
							for i, w := range want {
								if math.Float32bits(s.mix[i]) != math.Float32bits(w) {
									t.Fatalf("mix[%d] (token %d) = %v, want %v", i, i/(cfg.Heads*cfg.HeadDim), s.mix[i], w)
								}
							}
						})
					}
				}
			}
		}
	}
}

// TestAttendSplitAllocates checks that attention allocates nothing: a deep
// decode step's (attendSplit) and a batch's, for every cache type.
func TestAttendSplitAllocates(t *testing.T) {
	defer cpu.SetThreads(cpu.SetThreads(2))
	m := attendModel(t, 20, 5, 128)
	for _, kv := range []kvcache.Type{kvcache.F32, kvcache.F16, kvcache.Q8_0} {
		m.KVCache = kv
		s := m.NewSession(640)
		for _, n := range []int{1, 16} {
			s.layer, s.pos0, s.batch = 0, 600, n
			if a := testing.AllocsPerRun(5, s.attend); a != 0 {
				t.Errorf("%v: attend of %d tokens at depth %d: %v allocations", kv, n, s.pos0, a)
			}
		}
	}
}

// attendModel is a one-layer random model with heads query heads and
// kvHeads KV heads of headDim, and a context of 640 positions.
func attendModel(t *testing.T, heads, kvHeads, headDim int) *Model {
	t.Helper()
	cfg := tinyConfig("bitnet-b1.58")
	cfg.Heads, cfg.KVHeads, cfg.HeadDim, cfg.Layers, cfg.ContextLen = heads, kvHeads, headDim, 1, 640
	cfg.Dim = heads * headDim
	m, err := Random(cfg, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
