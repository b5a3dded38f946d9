package kvcache

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// The plan collapses each huge page from the first length at which half of
// its bytes are written, earliest first: checked against marking the bytes
// each length writes, for pages smaller than slabs, larger, and straddling.
func TestHugePlanOrder(t *testing.T) {
	for _, tc := range []struct{ layers, ctxLen, heads, rowBytes, huge int }{
		{3, 10, 2, 6, 64},
		{2, 7, 3, 4, 16},
		{4, 5, 1, 34, 256},
		{1, 64, 4, 2, 32},
	} {
		slab := tc.heads * tc.ctxLen * tc.rowBytes
		size := 2 * tc.layers * slab
		n := (size + tc.huge - 1) / tc.huge * tc.huge
		p := newHugePlan(make([]byte, n), tc.huge, size, slab, tc.ctxLen, tc.heads, tc.rowBytes)
		want := map[int]int{} // page offset -> length at which it is half filled
		written := make([]bool, size)
		for l := 1; l <= tc.ctxLen; l++ {
			for s := range 2 * tc.layers {
				for h := range tc.heads {
					at := s*slab + (h*tc.ctxLen+l-1)*tc.rowBytes
					for i := range tc.rowBytes {
						written[at+i] = true
					}
				}
			}
			for a := 0; a < size; a += tc.huge {
				real := min(tc.huge, size-a)
				if _, ok := want[a]; !ok && 2*count(written[a:a+real]) >= real {
					want[a] = l
				}
			}
		}
		if len(p.start) != len(want) {
			t.Fatalf("%+v: %d pages planned, want %d", tc, len(p.start), len(want))
		}
		for i, a := range p.start {
			if p.at[i] != want[a] {
				t.Errorf("%+v: page at %d collapsed from length %d, want %d", tc, a, p.at[i], want[a])
			}
		}
		if !slices.IsSorted(p.at) {
			t.Errorf("%+v: pages not in the order they fill: %v", tc, p.at)
		}
	}
}

func count(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

// Moving a long cache into huge pages (where the system has them) leaves
// what it holds as it was, for every type.
func TestCollapseKeepsContents(t *testing.T) {
	const layers, ctxLen, heads, hd, n = 4, 2048, 4, 128, 1100
	r := rand.New(rand.NewPCG(3, 4))
	for _, typ := range []Type{F16, F32, Q8_0} {
		c := New(layers, ctxLen, heads, hd, typ)
		w := c.Width()
		k, v := make([]float32, n*w), make([]float32, n*w)
		for i := range k {
			k[i], v[i] = r.Float32()-0.5, r.Float32()-0.5
		}
		before := make([][]float32, layers)
		for l := range layers {
			c.SetRows(l, 0, n, k, v)
			before[l] = make([]float32, 2*n*w)
			c.Rows(l, 0, n, before[l][:n*w], before[l][n*w:])
		}
		c.Commit(n)
		for i := 0; c.huge != nil && i < len(c.huge.at); i++ {
			c.Commit(n) // the pages a Commit left for the next
		}
		if cpu.HugePageSize() > 0 && c.huge.next == 0 {
			t.Errorf("%v: no page was collapsed", typ)
		}
		for l := range layers {
			after := make([]float32, 2*n*w)
			c.Rows(l, 0, n, after[:n*w], after[n*w:])
			if !slices.Equal(after, before[l]) {
				t.Errorf("%v: layer %d changed when its pages were collapsed", typ, l)
			}
		}
	}
}
