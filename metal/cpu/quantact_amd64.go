//go:build !noasm

package cpu

// kernelSet.quantAct at the AVX2 and AVX512 levels (assembly in
// quantact_amd64.s): quantActGeneric bit for bit, a block of 32 per step.
// MatMul quantizes every token of a batch with it, MatVec one.

func init() {
	if len(cpuLevels) > 1 { // AVX2 at least
		levelKernels[AVX2].quantAct = quantActAVX2
		levelKernels[AVX512].quantAct = quantActAVX2
	}
}

// quantActAVX2 is quantActGeneric: per block of 32, amax by VMAXPS, d and
// id by VDIVSS, q by VCVTPS2DQ (round half to even) of x*id, bs by integer
// adds; false when a |x| is not <= MaxFloat32 (NaN, ±Inf).
//
//go:noescape
func quantActAVX2(q []int8, d, d8 []float32, bs []int16, x []float32) bool
