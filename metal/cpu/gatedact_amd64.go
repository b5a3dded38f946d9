//go:build !noasm

package cpu

// SiLUMul and ReLU2Mul at the AVX2 and AVX512 levels (gatedact_amd64.s).
// The SiLU kernels compute math.Exp's amd64 FMA path (the one Go's math
// takes on every CPU with AVX2 and FMA, which both levels need) lane by lane
// in float64, so every level gives the Generic loop's bits.

func init() {
	levelKernels[AVX2].siluMul = siluMulAVX2
	levelKernels[AVX2].relu2Mul = relu2MulAVX2
	levelKernels[AVX512].siluMul = siluMulAVX512
	levelKernels[AVX512].relu2Mul = relu2MulAVX512
}

func siluMulAVX2(gate, up []float32) {
	n := len(gate) &^ 7
	if n > 0 {
		siluMul8AVX2(&gate[0], &up[0], n)
	}
	siluMulGeneric(gate[n:], up[n:len(gate)])
}

func relu2MulAVX2(gate, up []float32) {
	n := len(gate) &^ 7
	if n > 0 {
		relu2Mul8AVX2(&gate[0], &up[0], n)
	}
	relu2MulGeneric(gate[n:], up[n:len(gate)])
}

func siluMulAVX512(gate, up []float32) {
	if len(gate) > 0 {
		siluMulZ(&gate[0], &up[0], len(gate))
	}
}

func relu2MulAVX512(gate, up []float32) {
	if len(gate) > 0 {
		relu2MulZ(&gate[0], &up[0], len(gate))
	}
}

// siluMul8AVX2 and relu2Mul8AVX2 are siluMulGeneric and relu2MulGeneric
// on gate[:n] and up[:n], n a multiple of 8; siluMulZ and relu2MulZ are
// the same for any n >= 1 (masked tail), with AVX-512.
//
//go:noescape
func siluMul8AVX2(gate, up *float32, n int)

//go:noescape
func relu2Mul8AVX2(gate, up *float32, n int)

//go:noescape
func siluMulZ(gate, up *float32, n int)

//go:noescape
func relu2MulZ(gate, up *float32, n int)
