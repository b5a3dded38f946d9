//go:build !noasm

#include "textflag.h"

// expSubSumAVX2's constants (float_amd64.s's expc, which is not visible
// here).
DATA expc512<>+0(SB)/4, $1.44269504088896341
DATA expc512<>+4(SB)/4, $0.693359375
DATA expc512<>+8(SB)/4, $-2.12194440e-4
DATA expc512<>+12(SB)/4, $1.9875691500e-4
DATA expc512<>+16(SB)/4, $1.3981999507e-3
DATA expc512<>+20(SB)/4, $8.3334519073e-3
DATA expc512<>+24(SB)/4, $4.1665795894e-2
DATA expc512<>+28(SB)/4, $1.6666665459e-1
DATA expc512<>+32(SB)/4, $5.0000001201e-1
DATA expc512<>+36(SB)/4, $1.0
DATA expc512<>+40(SB)/4, $-87.33654475
DATA expc512<>+44(SB)/4, $127
GLOBL expc512<>(SB), RODATA|NOPTR, $48

// func expSubSumAVX512(x []float32, mx float32) float64
//
// expSubSumAVX2 on 16 lanes (len(x) a multiple of 8): each lane's
// operations are the same, and the float64 sums are the same adds in the
// same order (Z7's 8 lanes are expSubSumAVX2's Y7 and Y8: each 8 elements
// are added to them in turn).
TEXT ·expSubSumAVX512(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS mx+24(FP), Z15
	VBROADCASTSS expc512<>+0(SB), Z14
	VBROADCASTSS expc512<>+4(SB), Z13
	VBROADCASTSS expc512<>+8(SB), Z12
	VBROADCASTSS expc512<>+40(SB), Z11
	VPBROADCASTD expc512<>+44(SB), Z10
	VBROADCASTSS expc512<>+36(SB), Z9
	VBROADCASTSS expc512<>+12(SB), Z16
	VBROADCASTSS expc512<>+16(SB), Z17
	VBROADCASTSS expc512<>+20(SB), Z18
	VBROADCASTSS expc512<>+24(SB), Z19
	VBROADCASTSS expc512<>+28(SB), Z20
	VBROADCASTSS expc512<>+32(SB), Z21
	VXORPD       Z7, Z7, Z7

#define EXP16 \
	VSUBPS       Z15, Z0, Z0; \
	VCMPPS       $1, Z11, Z0, K1; \
	VMAXPS       Z11, Z0, Z0; \
	VMULPS       Z14, Z0, Z1; \
	VCVTPS2DQ    Z1, Z1; \
	VCVTDQ2PS    Z1, Z2; \
	VFNMADD231PS Z13, Z2, Z0; \
	VFNMADD231PS Z12, Z2, Z0; \
	VMOVAPS      Z16, Z3; \
	VFMADD213PS  Z17, Z0, Z3; \
	VFMADD213PS  Z18, Z0, Z3; \
	VFMADD213PS  Z19, Z0, Z3; \
	VFMADD213PS  Z20, Z0, Z3; \
	VFMADD213PS  Z21, Z0, Z3; \
	VMULPS       Z0, Z0, Z4; \
	VFMADD213PS  Z0, Z4, Z3; \
	VADDPS       Z9, Z3, Z3; \
	VPADDD       Z10, Z1, Z1; \
	VPSLLD       $23, Z1, Z1; \
	VMULPS       Z1, Z3, Z3; \
	VXORPS       Z3, Z3, K1, Z3

ex16:
	CMPQ          CX, $16
	JB            ex8
	VMOVUPS       (SI), Z0
	EXP16
	VMOVUPS       Z3, (SI)
	VCVTPS2PD     Y3, Z4
	VADDPD        Z4, Z7, Z7
	VEXTRACTF32X8 $1, Z3, Y5
	VCVTPS2PD     Y5, Z5
	VADDPD        Z5, Z7, Z7
	ADDQ          $64, SI
	SUBQ          $16, CX
	JMP           ex16

ex8:
	TESTQ     CX, CX
	JEQ       exsum
	VMOVUPS   (SI), Y0
	EXP16
	VMOVUPS   Y3, (SI)
	VCVTPS2PD Y3, Z4
	VADDPD    Z4, Z7, Z7

exsum:
	VEXTRACTF64X4 $1, Z7, Y8
	VADDPD        Y8, Y7, Y7
	VEXTRACTF128  $1, Y7, X1
	VADDPD        X1, X7, X7
	VPERMILPD     $1, X7, X1
	VADDSD        X1, X7, X7
	VMOVSD        X7, ret+32(FP)
	VZEROUPPER
	RET
