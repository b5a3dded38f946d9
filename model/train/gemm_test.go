package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestGemmMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][3]int{{4, 16, 1}, {7, 33, 5}, {64, 48, 300}, {13, 512, 17}, {128, 256, 600}, {3, 10, 4}} {
		m, n, k := sh[0], sh[1], sh[2]
		lda, ldb, ldc := k+3, n+5, n+7
		a, b := randSlice(r, m*lda), randSlice(r, k*ldb)
		for _, acc := range []bool{false, true} {
			// guard-padded output
			c := randSlice(r, m*ldc+64)
			want := append([]float32(nil), c...)
			gemmRef(m, n, k, a, lda, b, ldb, want, ldc, acc)
			restore := cpu.SetThreads(2)
			pgemm(m, n, k, a, lda, b, ldb, c, ldc, acc)
			cpu.SetThreads(restore)
			for i := range c {
				if d := math.Abs(float64(c[i] - want[i])); d > 1e-3*math.Sqrt(float64(k)) {
					t.Fatalf("shape %v acc %v: c[%d] = %g, want %g", sh, acc, i, c[i], want[i])
				}
			}
		}
	}
}
