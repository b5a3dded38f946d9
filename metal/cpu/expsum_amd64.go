//go:build !noasm

package cpu

// Softmax's exp and sum at the AVX512 level (expsum_amd64.s), put in the
// table by float_amd64.go's init (after its AVX2 kernels, which it sets at
// both levels).

// expSubSumAVX512 is expSubSumAVX2 on zmm registers, bit for bit: each
// lane's operations and the float64 sums' adds and their order are the
// same (len(x) a multiple of 8).
//
//go:noescape
func expSubSumAVX512(x []float32, mx float32) float64

// expSumAVX512 is kernelSet.expSum, bit for bit expSumAVX2.
func expSumAVX512(x []float32, mx float32) float64 {
	n := len(x) &^ 7
	var sum float64
	if n > 0 {
		sum = expSubSumAVX512(x[:n], mx)
	}
	return sum + expSumGeneric(x[n:], mx)
}
