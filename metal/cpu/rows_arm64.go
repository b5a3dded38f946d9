//go:build !noasm

package cpu

import "unsafe"

// The attention row kernels at the NEON levels. DotRows and DotRowsF16 are
// the F32 and F16 weight-row kernels (rowsF32NEON, rowsF16NEON) with the
// cache as the rows: each row's sum is dotNEON's, the same FMAs in the same
// lanes (a product's operands swapped changes no bit), then times scale.
// AxpyRowsF16 widens each row with FCVTL and adds it as axpyNEON does.

func init() {
	for _, l := range []Level{NEON, NEONDot} {
		k := &levelKernels[l]
		k.dotRows = dotRowsNEON
		k.dotRowsF16 = dotRowsF16NEON
		k.axpyRowsF16 = axpyRowsF16NEON
	}
}

func dotRowsNEON(dst, x, m []float32, stride int, scale float32) {
	if len(dst) == 0 {
		return
	}
	rowsF32NEON(dst, unsafe.Slice((*byte)(unsafe.Pointer(&m[0])), 4*len(m)), 4*stride, x, scale)
}

func dotRowsF16NEON(dst, x []float32, m []uint16, stride int, scale float32) {
	if len(dst) == 0 {
		return
	}
	rowsF16NEON(dst, unsafe.Slice((*byte)(unsafe.Pointer(&m[0])), 2*len(m)), 2*stride, x, scale)
}

// axpyRowsF16NEON is kernelSet.axpyRowsF16: for each row j in order,
// axpyNEON(dst, a[j], widen(row j)).
//
//go:noescape
func axpyRowsF16NEON(dst, a []float32, m []uint16, stride int)
