package cpu

import (
	"fmt"
	"math"
)

// The gated FFN activations: gate = act(gate) * up, in float32 (ReLU²
// overflows fp16). The SIMD levels compute the same bits as these loops
// (gatedact_amd64.s replicates math.Exp's FMA path lane by lane).

// SiLUMul does gate[i] = gate[i] / (1 + float32(math.Exp(float64(-gate[i])))) * up[i]
// (SiLU(gate) * up). It panics when the lengths differ.
func SiLUMul(gate, up []float32) {
	if len(gate) != len(up) {
		panic(fmt.Sprintf("metal: SiLUMul: len(gate) %d != len(up) %d", len(gate), len(up)))
	}
	kern.siluMul(gate, up)
}

// ReLU2Mul does g = max(gate[i], 0); gate[i] = g * g * up[i] (ReLU²(gate) *
// up). It panics when the lengths differ.
func ReLU2Mul(gate, up []float32) {
	if len(gate) != len(up) {
		panic(fmt.Sprintf("metal: ReLU2Mul: len(gate) %d != len(up) %d", len(gate), len(up)))
	}
	kern.relu2Mul(gate, up)
}

// siluMulGeneric is SiLUMul's reference loop (equal lengths).
func siluMulGeneric(gate, up []float32) {
	up = up[:len(gate)]
	for i, g := range gate {
		gate[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}

// relu2MulGeneric is ReLU2Mul's reference loop (equal lengths).
func relu2MulGeneric(gate, up []float32) {
	up = up[:len(gate)]
	for i, g := range gate {
		g = max(g, 0) // branch-free: a sign test mispredicts half the time (6x slower)
		gate[i] = g * g * up[i]
	}
}
