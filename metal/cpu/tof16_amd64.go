//go:build !noasm

package cpu

func init() {
	if hasF16C() {
		levelKernels[AVX2].toF16 = toF16AVX2
		levelKernels[AVX512].toF16 = toF16AVX2
	}
}

// toF16AVX2 is kernelSet.toF16 with F16C's VCVTPS2PH, 8 at a time.
func toF16AVX2(dst []uint16, src []float32) {
	n := len(src) &^ 7
	if n > 0 {
		toF16F16C(&dst[0], &src[0], n)
	}
	for i := n; i < len(src); i++ {
		dst[i] = F32ToF16(src[i])
	}
}

//go:noescape
func toF16F16C(dst *uint16, src *float32, n int)
