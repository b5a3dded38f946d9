//go:build noasm || !amd64

package cpu

// Without the amd64 assembly, ToQ8_0 and DotRowsQ8_0 run the Generic loops.

func quantQ8Native(dst []byte, x []float32) bool { return false }

func dotRowsQ8Native(dst []float32, xq, m []byte, stride int, scale float32) bool { return false }

// dotRowsQ8GroupNative does no query: dotRowsQ8Group loops over the
// single-query kernels.
func dotRowsQ8GroupNative(dst []float32, rows, dstStride int, xq []byte, w int, m []byte, stride int, scale float32) int {
	return 0
}
