//go:build !noasm

package cpu

// ReLU2Mul at the NEON levels (gatedact_arm64.s). SiLUMul keeps the Go
// loop on arm64: a NEON twin would have to replicate math/exp_arm64.s.

func init() {
	for _, l := range []Level{NEON, NEONDot} {
		levelKernels[l].relu2Mul = relu2MulNEON
	}
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
