package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkAttention times DotRows and AxpyRows as one query head of the
// 2B-4T shape uses them (head width 128, 5 KV heads: row stride 640 floats)
// over cached positions in cache (64) and beyond it (4096).
func BenchmarkAttention(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const w, stride = 128, 640
	for _, rows := range []int{64, 4096} {
		m := randActivations(r, rows*stride, 0)
		x := randActivations(r, w, 0)
		a := make([]float32, rows)
		out := make([]float32, w)
		b.Run(fmt.Sprintf("DotRows/%d", rows), func(b *testing.B) {
			for b.Loop() {
				DotRows(a, x, m, stride, 0.1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
		b.Run(fmt.Sprintf("AxpyRows/%d", rows), func(b *testing.B) {
			for b.Loop() {
				AxpyRows(out, a, m, stride)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

// BenchmarkAttentionF16 is BenchmarkAttention over an F16 cache.
func BenchmarkAttentionF16(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const w, stride = 128, 640
	for _, rows := range []int{64, 4096} {
		m := make([]uint16, rows*stride)
		ToF16(m, randActivations(r, rows*stride, 0))
		x := randActivations(r, w, 0)
		a := make([]float32, rows)
		out := make([]float32, w)
		b.Run(fmt.Sprintf("DotRowsF16/%d", rows), func(b *testing.B) {
			for b.Loop() {
				DotRowsF16(a, x, m, stride, 0.1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
		b.Run(fmt.Sprintf("AxpyRowsF16/%d", rows), func(b *testing.B) {
			for b.Loop() {
				AxpyRowsF16(out, a, m, stride)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

// BenchmarkAttentionF16Group is the attention of the 4 query heads of a
// 2B-4T KV group over one tile of 64 cached positions of an F16 cache: the
// group kernels against 4 calls of the single-query ones.
func BenchmarkAttentionF16Group(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const w, rows, n = 128, 64, 4
	m := make([]uint16, rows*w)
	ToF16(m, randActivations(r, rows*w, 0))
	x := randActivations(r, n*w, 0)
	a := randActivations(r, n*rows, 0)
	out := make([]float32, n*w)
	b.Run("DotRowsF16x4", func(b *testing.B) {
		for b.Loop() {
			for i := range n {
				DotRowsF16(a[i*rows:(i+1)*rows], x[i*w:(i+1)*w], m, w, 0.1)
			}
		}
	})
	b.Run("DotRowsF16Group", func(b *testing.B) {
		for b.Loop() {
			DotRowsF16Group(a, rows, rows, x, w, m, w, 0.1)
		}
	})
	b.Run("AxpyRowsF16x4", func(b *testing.B) {
		for b.Loop() {
			for i := range n {
				AxpyRowsF16(out[i*w:(i+1)*w], a[i*rows:(i+1)*rows], m, w)
			}
		}
	})
	b.Run("AxpyRowsF16Group", func(b *testing.B) {
		for b.Loop() {
			AxpyRowsF16Group(out, w, a, rows, rows, m, w)
		}
	})
}

// BenchmarkAttentionQ8Group is BenchmarkAttentionF16Group over a Q8_0 cache.
func BenchmarkAttentionQ8Group(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const w, rows, n = 128, 64, 4
	rb := Q8RowBytes(w)
	m := make([]byte, rows*rb)
	src := randActivations(r, rows*w, 0)
	for j := range rows {
		ToQ8_0(m[j*rb:(j+1)*rb], src[j*w:(j+1)*w])
	}
	x := randActivations(r, n*w, 0)
	a := randActivations(r, n*rows, 0)
	out := make([]float32, n*w)
	b.Run("DotRowsQ8_0Group", func(b *testing.B) {
		for b.Loop() {
			DotRowsQ8_0Group(a, rows, rows, x, w, m, rb, 0.1)
		}
	})
	b.Run("AxpyRowsQ8_0x4", func(b *testing.B) {
		for b.Loop() {
			for i := range n {
				AxpyRowsQ8_0(out[i*w:(i+1)*w], a[i*rows:(i+1)*rows], m, rb)
			}
		}
	})
	b.Run("AxpyRowsQ8_0Group", func(b *testing.B) {
		for b.Loop() {
			AxpyRowsQ8_0Group(out, w, a, rows, rows, m, rb)
		}
	})
}
