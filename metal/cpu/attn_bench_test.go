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
