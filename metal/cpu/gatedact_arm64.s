//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// func relu2Mul8NEON(gate, up *float32, n int)
//
// Go compiles max(g, 0) to FMAXS, and g*g*up to two FMULS (g*g first):
// FMAX and FMUL on 4 lanes give the same bits, NaNs included.
TEXT ·relu2Mul8NEON(SB), NOSPLIT, $0-24
	MOVD gate+0(FP), R0
	MOVD up+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $3, R2, R2
	CBZ  R2, rdone
	VEOR V7.B16, V7.B16, V7.B16

rloop:
	VLD1   (R0), [V0.S4, V1.S4]
	VLD1.P 32(R1), [V2.S4, V3.S4]
	FMAX4S(0, 0, 7)
	FMAX4S(1, 1, 7)
	FMUL4S(0, 0, 0)
	FMUL4S(1, 1, 1)
	FMUL4S(0, 0, 2)
	FMUL4S(1, 1, 3)
	VST1.P [V0.S4, V1.S4], 32(R0)
	SUBS   $1, R2, R2
	BNE    rloop

rdone:
	RET
