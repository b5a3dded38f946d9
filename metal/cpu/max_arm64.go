//go:build !noasm

package cpu

// Softmax's maximum on arm64 (max_arm64.s).

func init() {
	for _, l := range []Level{NEON, NEONDot} {
		levelKernels[l].max = maxNEONVector
	}
}

// maxNEON returns the largest element of x, a NaN if x holds one (len(x) a
// multiple of 16).
//
//go:noescape
func maxNEON(x []float32) float32

func maxNEONVector(x []float32) float32 {
	return maxVector(x, 16, func(x []float32) (float32, bool) {
		mx := maxNEON(x)
		return mx, mx != mx
	})
}
