//go:build !noasm

package cpu

// SiLUMul and ReLU2Mul at the NEON levels (gatedact_arm64.s), bit for bit
// the Go loops: the SiLU kernel computes math/exp_arm64.s's Exp lane by lane.

func init() {
	for _, l := range []Level{NEON, NEONDot} {
		levelKernels[l].siluMul = siluMulNEON
		levelKernels[l].relu2Mul = relu2MulNEON
	}
}

func siluMulNEON(gate, up []float32) {
	n := len(gate) &^ 3
	if n > 0 {
		siluMul4NEON(&gate[0], &up[0], n)
	}
	siluMulGeneric(gate[n:], up[n:len(gate)])
}

func relu2MulNEON(gate, up []float32) {
	n := len(gate) &^ 7
	if n > 0 {
		relu2Mul8NEON(&gate[0], &up[0], n)
	}
	relu2MulGeneric(gate[n:], up[n:len(gate)])
}

// relu2Mul8NEON is relu2MulGeneric on gate[:n] and up[:n], n a multiple
// of 8.
//
//go:noescape
func relu2Mul8NEON(gate, up *float32, n int)

// siluMul4NEON is siluMulGeneric on gate[:n] and up[:n], n a multiple of
// 4.
//
//go:noescape
func siluMul4NEON(gate, up *float32, n int)
