//go:build !noasm

#include "textflag.h"

// func toF16F16C(dst *uint16, src *float32, n int)
//
// dst[i] = F32ToF16(src[i]) for i < n, n a multiple of 8: VCVTPS2PH with
// imm8 0 rounds to nearest even, whatever MXCSR says, and keeps a NaN's
// sign and top payload bits, quiet (what F32ToF16 does).
TEXT ·toF16F16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done

loop:
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       loop

done:
	VZEROUPPER
	RET
