//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// func axpyRowsF16NEON(dst, a []float32, m []uint16, stride int)
// axpyNEON of each row of half floats, widened by FCVTL: the same products
// and adds in the same order.
TEXT ·axpyRowsF16NEON(SB), NOSPLIT, $0-80
	MOVD dst_base+0(FP), R4
	MOVD dst_len+8(FP), R5
	MOVD a_base+24(FP), R6
	MOVD a_len+32(FP), R7
	MOVD m_base+48(FP), R8
	MOVD stride+72(FP), R9
	LSL  $1, R9, R9

hrow:
	CBZ     R7, hdone
	FMOVS.P 4(R6), F31
	VDUP    V31.S[0], V30.S4
	MOVD    R4, R0
	MOVD    R8, R1
	MOVD    R5, R2

h16:
	CMP    $16, R2
	BLT    h4
	VLD1.P 32(R1), [V20.H8, V21.H8]
	FCVTL(0, 20)
	FCVTL2(1, 20)
	FCVTL(2, 21)
	FCVTL2(3, 21)
	VLD1   (R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	FMUL4S(0, 0, 30)
	FMUL4S(1, 1, 30)
	FMUL4S(2, 2, 30)
	FMUL4S(3, 3, 30)
	FADD4S(4, 4, 0)
	FADD4S(5, 5, 1)
	FADD4S(6, 6, 2)
	FADD4S(7, 7, 3)
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUB    $16, R2, R2
	B      h16

h4:
	CMP    $4, R2
	BLT    h1
	VLD1.P 8(R1), [V20.H4]
	FCVTL(0, 20)
	VLD1   (R0), [V4.S4]
	FMUL4S(0, 0, 30)
	FADD4S(4, 4, 0)
	VST1.P [V4.S4], 16(R0)
	SUB    $4, R2, R2
	B      h4

h1:
	CBZ     R2, hnext
	MOVHU.P 2(R1), R11
	FMOVS   R11, F1
	FCVTHS  F1, F1
	FMOVS   (R0), F2
	FMULS   F31, F1, F1
	FADDS   F2, F1, F1
	FMOVS.P F1, 4(R0)
	SUB     $1, R2, R2
	B       h1

hnext:
	ADD R9, R8, R8
	SUB $1, R7, R7
	B   hrow

hdone:
	RET
