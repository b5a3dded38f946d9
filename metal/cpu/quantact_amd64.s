//go:build !noasm

#include "textflag.h"

DATA qaabs<>+0(SB)/4, $0x7fffffff
GLOBL qaabs<>(SB), RODATA|NOPTR, $4
DATA qamaxf<>+0(SB)/4, $0x7f7fffff
GLOBL qamaxf<>(SB), RODATA|NOPTR, $4
DATA qa127<>+0(SB)/4, $0x42fe0000
GLOBL qa127<>(SB), RODATA|NOPTR, $4
// VPERMD indexes putting the dwords of the packed bytes back in order.
DATA qaperm<>+0(SB)/8, $0x0000000400000000
DATA qaperm<>+8(SB)/8, $0x0000000500000001
DATA qaperm<>+16(SB)/8, $0x0000000600000002
DATA qaperm<>+24(SB)/8, $0x0000000700000003
GLOBL qaperm<>(SB), RODATA|NOPTR, $32

// func quantActAVX2(q []int8, d, d8 []float32, bs []int16, x []float32) bool
TEXT ·quantActAVX2(SB), NOSPLIT, $0-121
	MOVQ         q_base+0(FP), DI
	MOVQ         d_base+24(FP), R11
	MOVQ         d8_base+48(FP), R12
	MOVQ         bs_base+72(FP), R13
	MOVQ         x_base+96(FP), SI
	MOVQ         x_len+104(FP), CX
	SHRQ         $5, CX
	VBROADCASTSS qaabs<>(SB), Y15
	VBROADCASTSS qamaxf<>(SB), Y14
	VMOVSS       qa127<>(SB), X13
	VXORPS       X12, X12, X12
	VMOVDQU      qaperm<>(SB), Y11
	TESTQ        CX, CX
	JEQ          ok

blk:
	VMOVUPS   (SI), Y0
	VMOVUPS   32(SI), Y1
	VMOVUPS   64(SI), Y2
	VMOVUPS   96(SI), Y3
	VANDPS    Y15, Y0, Y4
	VANDPS    Y15, Y1, Y5
	VANDPS    Y15, Y2, Y6
	VANDPS    Y15, Y3, Y7
	// finite: every |x| <= MaxFloat32 (false for NaN)
	VCMPPS    $2, Y14, Y4, Y8
	VCMPPS    $2, Y14, Y5, Y9
	VANDPS    Y9, Y8, Y8
	VCMPPS    $2, Y14, Y6, Y9
	VANDPS    Y9, Y8, Y8
	VCMPPS    $2, Y14, Y7, Y9
	VANDPS    Y9, Y8, Y8
	VMOVMSKPS Y8, AX
	CMPL      AX, $0xff
	JNE       bad
	// amax
	VMAXPS       Y5, Y4, Y4
	VMAXPS       Y7, Y6, Y6
	VMAXPS       Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS       X5, X4, X4
	VPERMILPS    $0x4e, X4, X5
	VMAXPS       X5, X4, X4
	VPERMILPS    $0xb1, X4, X5
	VMAXPS       X5, X4, X4
	// d = amax/127, id = 127/amax (0 when amax == 0)
	VDIVSS       X13, X4, X9
	VDIVSS       X4, X13, X10
	VCMPSS       $4, X12, X4, X8
	VANDPS       X8, X10, X10
	VMOVSS       X9, (R11)
	VBROADCASTSS X9, Y9
	VMOVUPS      Y9, (R12)
	VBROADCASTSS X10, Y10
	// q = round(x*id)
	VMULPS       Y10, Y0, Y0
	VMULPS       Y10, Y1, Y1
	VMULPS       Y10, Y2, Y2
	VMULPS       Y10, Y3, Y3
	VCVTPS2DQ    Y0, Y0
	VCVTPS2DQ    Y1, Y1
	VCVTPS2DQ    Y2, Y2
	VCVTPS2DQ    Y3, Y3
	// bs: the sums of q[0:16] and q[16:32]
	VPADDD       Y1, Y0, Y4
	VPADDD       Y3, Y2, Y5
	VPHADDD      Y5, Y4, Y4
	VPHADDD      Y4, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD       X5, X4, X4
	VPACKSSDW    X4, X4, X4
	VMOVD        X4, (R13)
	// q to bytes, in order
	VPACKSSDW    Y1, Y0, Y0
	VPACKSSDW    Y3, Y2, Y2
	VPACKSSWB    Y2, Y0, Y0
	VPERMD       Y0, Y11, Y0
	VMOVDQU      Y0, (DI)
	ADDQ         $128, SI
	ADDQ         $32, DI
	ADDQ         $4, R11
	ADDQ         $32, R12
	ADDQ         $4, R13
	DECQ         CX
	JNE          blk

ok:
	MOVB $1, ret+120(FP)
	VZEROUPPER
	RET

bad:
	MOVB $0, ret+120(FP)
	VZEROUPPER
	RET
