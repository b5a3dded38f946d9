//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// func maxNEON(x []float32) float32
//
// len(x) a multiple of 16. FMAX returns a NaN when either input is one, so
// a NaN anywhere makes the result a NaN.
TEXT ·maxNEON(SB), NOSPLIT, $0-28
	MOVD  x_base+0(FP), R0
	MOVD  x_len+8(FP), R1
	LSR   $4, R1, R1
	MOVW  $0xff800000, R2 // -Inf
	VDUP  R2, V0.S4
	VMOV  V0.B16, V1.B16
	VMOV  V0.B16, V2.B16
	VMOV  V0.B16, V3.B16
	CBZ   R1, mnreduce

mnloop:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	FMAX4S(0, 0, 4)
	FMAX4S(1, 1, 5)
	FMAX4S(2, 2, 6)
	FMAX4S(3, 3, 7)
	SUBS   $1, R1, R1
	BNE    mnloop

mnreduce:
	FMAX4S(0, 0, 1)
	FMAX4S(2, 2, 3)
	FMAX4S(0, 0, 2)
	FMAXV4S(0, 0)
	FMOVS F0, ret+24(FP)
	RET
