//go:build !noasm

#include "textflag.h"

// func maxNaNAVX2(x []float32) (mx float32, nan bool)
//
// len(x) a multiple of 8. Four streams of 8 lanes: each lane keeps
// VMAXPS(x, acc) = x > acc ? x : acc (a NaN x leaves acc), and a sticky
// unordered compare (its all-ones result is itself a NaN) records NaNs.
TEXT ·maxNaNAVX2(SB), NOSPLIT, $0-29
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	MOVL         $0xff800000, AX // -Inf
	MOVL         AX, X0
	VBROADCASTSS X0, Y0
	VMOVAPS      Y0, Y1
	VMOVAPS      Y0, Y2
	VMOVAPS      Y0, Y3
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	VXORPS       Y10, Y10, Y10
	VXORPS       Y11, Y11, Y11

mxloop32:
	CMPQ    CX, $32
	JB      mxloop8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VMAXPS  Y0, Y4, Y0
	VMAXPS  Y1, Y5, Y1
	VMAXPS  Y2, Y6, Y2
	VMAXPS  Y3, Y7, Y3
	VCMPPS  $3, Y4, Y8, Y8
	VCMPPS  $3, Y5, Y9, Y9
	VCMPPS  $3, Y6, Y10, Y10
	VCMPPS  $3, Y7, Y11, Y11
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     mxloop32

mxloop8:
	CMPQ    CX, $8
	JB      mxreduce
	VMOVUPS (SI), Y4
	VMAXPS  Y0, Y4, Y0
	VCMPPS  $3, Y4, Y8, Y8
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     mxloop8

mxreduce:
	// No lane holds a NaN: the order of the maxima does not matter.
	VMAXPS       Y1, Y0, Y0
	VMAXPS       Y3, Y2, Y2
	VMAXPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VMOVSS       X0, mx+24(FP)
	VORPS        Y9, Y8, Y8
	VORPS        Y11, Y10, Y10
	VORPS        Y10, Y8, Y8
	VPTEST       Y8, Y8
	SETNE        nan+28(FP)
	VZEROUPPER
	RET

// func maxNaNAVX512(x []float32) (mx float32, nan bool)
//
// maxNaNAVX2 on 16 lanes (len(x) a multiple of 16): the unordered compares
// of two vectors at a time go to K1, collected in K2.
TEXT ·maxNaNAVX512(SB), NOSPLIT, $0-29
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	MOVL         $0xff800000, AX // -Inf
	MOVL         AX, X0
	VBROADCASTSS X0, Z0
	VMOVAPS      Z0, Z1
	VMOVAPS      Z0, Z2
	VMOVAPS      Z0, Z3
	KXORW        K2, K2, K2

mzloop64:
	CMPQ    CX, $64
	JB      mzloop16
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VMOVUPS 128(SI), Z6
	VMOVUPS 192(SI), Z7
	VMAXPS  Z0, Z4, Z0
	VMAXPS  Z1, Z5, Z1
	VMAXPS  Z2, Z6, Z2
	VMAXPS  Z3, Z7, Z3
	VCMPPS  $3, Z4, Z5, K1
	KORW    K1, K2, K2
	VCMPPS  $3, Z6, Z7, K1
	KORW    K1, K2, K2
	ADDQ    $256, SI
	SUBQ    $64, CX
	JMP     mzloop64

mzloop16:
	CMPQ    CX, $16
	JB      mzreduce
	VMOVUPS (SI), Z4
	VMAXPS  Z0, Z4, Z0
	VCMPPS  $3, Z4, Z4, K1
	KORW    K1, K2, K2
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     mzloop16

mzreduce:
	VMAXPS         Z1, Z0, Z0
	VMAXPS         Z3, Z2, Z2
	VMAXPS         Z2, Z0, Z0
	VEXTRACTF32X8  $1, Z0, Y1
	VMAXPS         Y1, Y0, Y0
	VEXTRACTF128   $1, Y0, X1
	VMAXPS         X1, X0, X0
	VPERMILPS      $0x4e, X0, X1
	VMAXPS         X1, X0, X0
	VPERMILPS      $0xb1, X0, X1
	VMAXPS         X1, X0, X0
	VMOVSS         X0, mx+24(FP)
	KORTESTW       K2, K2
	SETNE          nan+28(FP)
	VZEROUPPER
	RET
