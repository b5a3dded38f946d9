package train

import (
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// BenchmarkTrainStep measures forward+backward of one micro-batch (4 x 256 tokens) of the shipped model shape,
// ternary, and reports training tokens per second.
func BenchmarkTrainStep(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			c := DefaultModel()
			np := c.Params()
			params, grads := make([]float32, np), make([]float32, np)
			initParams(c, params, 1)
			defer cpu.SetThreads(cpu.SetThreads(workers))
			n := newNet(c, true, 4, c.Context, params, grads)
			for i := range n.tokens {
				n.tokens[i] = int32(i * 7 % c.Vocab)
				n.target[i] = int32(i * 13 % c.Vocab)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n.prepare()
				n.forward(1 / float32(n.N))
				n.backward()
			}
			b.ReportMetric(float64(b.N*n.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkGemm measures the blocked AVX2 matrix product at the shape of the FFN projections of a micro-batch.
func BenchmarkGemm(b *testing.B) {
	m, n, k := 1024, 768, 256
	x, y, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range x {
		x[i] = float32(i%7) * 0.1
	}
	for i := range y {
		y[i] = float32(i%5) * 0.1
	}
	defer cpu.SetThreads(cpu.SetThreads(1))
	for i := 0; i < b.N; i++ {
		pgemm(m, n, k, x, k, y, n, c, n, false)
	}
	b.ReportMetric(float64(b.N)*2*float64(m*n*k)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
