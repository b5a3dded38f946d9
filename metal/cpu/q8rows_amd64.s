//go:build !noasm

#include "textflag.h"

// The Q8_0 row kernels of q8rows.go. dotRowsQ8_0AVX2 and dotRowsQ8_0VNNI
// (the same code with VPDPBUSD for VPMADDUBSW+VPMADDWD) take 8 rows at a
// time: per block, the 8 rows' integer dots with xq (|xq| times the rows'
// bytes signed by xq: no saturation, as |q| <= 127), reduced into one
// vector of 8 sums, then per lane acc += float(isum) * (d_k*d_x), the
// Generic loop's operations in its order; leftover rows one at a time with
// the same scalar operations. axpyRowsQ8_0AVX2 takes two block columns of
// dst (64 floats in 8 registers; then one) through every row, AVX512's four
// (128 floats in 8 zmm registers): dst += a[j] * (float(q)*d) with one FMA
// per element, independent FMA chains enough to hide their latency.

// ROWAVX2 and ROWVNNI leave in r the 8 int32 partial sums of the bytes at
// addr signed by Y15 times Y14 (|xq|); ROWVNNI clobbers Y12.
#define ROWAVX2(addr, r) \
	VMOVDQU    addr, r; \
	VPSIGNB    Y15, r, r; \
	VPMADDUBSW r, Y14, r; \
	VPMADDWD   Y13, r, r

#define ROWVNNI(addr, r) \
	VMOVDQU  addr, Y12; \
	VPSIGNB  Y15, Y12, Y12; \
	VPXOR    r, r, r; \
	VPDPBUSD Y12, Y14, r

// func dotRowsQ8_0AVX2(dst []float32, xq, m []byte, stride int, scale float32)
TEXT ·dotRowsQ8_0AVX2(SB), NOSPLIT, $0-84
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), R8
	MOVQ         xq_base+24(FP), R9
	MOVQ         xq_len+32(FP), AX
	XORQ         DX, DX
	MOVQ         $34, CX
	DIVQ         CX
	MOVQ         AX, R10                 // blocks per row
	MOVQ         m_base+48(FP), R11
	MOVQ         stride+72(FP), BX
	LEAQ         (BX)(BX*2), CX          // 3*stride
	VBROADCASTSS scale+80(FP), Y9
	MOVL         $0x00010001, R13
	VMOVD        R13, X13
	VPBROADCASTD X13, Y13                // int16 ones (VPMADDWD)

group:
	CMPQ         R8, $8
	JB           single
	MOVQ         R11, AX                 // rows 0-3 at (AX)(stride*i)
	LEAQ         (R11)(BX*4), DX         // rows 4-7 at (DX)(stride*i)
	MOVQ         R9, SI
	MOVQ         R10, R12
	VXORPS       Y8, Y8, Y8

gblock:
	VMOVDQU      2(SI), Y15
	VPSIGNB      Y15, Y15, Y14           // |xq|; each row gets sign(xq)
	ROWAVX2(2(AX), Y0)
	ROWAVX2(2(AX)(BX*1), Y1)
	ROWAVX2(2(AX)(BX*2), Y2)
	ROWAVX2(2(AX)(CX*1), Y3)
	ROWAVX2(2(DX), Y4)
	ROWAVX2(2(DX)(BX*1), Y5)
	ROWAVX2(2(DX)(BX*2), Y6)
	ROWAVX2(2(DX)(CX*1), Y7)
	VPHADDD      Y1, Y0, Y0
	VPHADDD      Y3, Y2, Y2
	VPHADDD      Y5, Y4, Y4
	VPHADDD      Y7, Y6, Y6
	VPHADDD      Y2, Y0, Y0
	VPHADDD      Y6, Y4, Y4
	VPERM2I128   $0x20, Y4, Y0, Y1
	VPERM2I128   $0x31, Y4, Y0, Y2
	VPADDD       Y2, Y1, Y1              // the 8 rows' integer sums
	VCVTDQ2PS    Y1, Y1
	MOVWQZX      (AX)(CX*1), R13         // the rows' d, gathered in R13 and R15
	MOVWQZX      (DX)(CX*1), R15
	SHLQ         $16, R13
	SHLQ         $16, R15
	MOVW         (AX)(BX*2), R13
	MOVW         (DX)(BX*2), R15
	SHLQ         $16, R13
	SHLQ         $16, R15
	MOVW         (AX)(BX*1), R13
	MOVW         (DX)(BX*1), R15
	SHLQ         $16, R13
	SHLQ         $16, R15
	MOVW         (AX), R13
	MOVW         (DX), R15
	VMOVQ        R13, X2
	VPINSRQ      $1, R15, X2, X2
	VCVTPH2PS    X2, Y2
	MOVWLZX      (SI), R13
	VMOVD        R13, X3
	VCVTPH2PS    X3, X3
	VBROADCASTSS X3, Y3                  // xq's d
	VMULPS       Y3, Y2, Y2              // d_k*d_x (exact)
	VMULPS       Y2, Y1, Y1
	VADDPS       Y1, Y8, Y8
	ADDQ         $34, AX
	ADDQ         $34, DX
	ADDQ         $34, SI
	DECQ         R12
	JNZ          gblock
	VMULPS       Y9, Y8, Y8
	VMOVUPS      Y8, (DI)
	ADDQ         $32, DI
	LEAQ         (R11)(BX*8), R11
	SUBQ         $8, R8
	JMP          group

single:
	TESTQ        R8, R8
	JEQ          done
	MOVQ         R11, AX
	MOVQ         R9, SI
	MOVQ         R10, R12
	VXORPS       X8, X8, X8

sblock:
	VMOVDQU      2(SI), Y15
	VPSIGNB      Y15, Y15, Y14
	ROWAVX2(2(AX), Y0)
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VCVTDQ2PS    X0, X0
	MOVWLZX      (AX), R13
	VMOVD        R13, X2
	VCVTPH2PS    X2, X2
	MOVWLZX      (SI), R13
	VMOVD        R13, X3
	VCVTPH2PS    X3, X3
	VMULSS       X3, X2, X2
	VMULSS       X2, X0, X0
	VADDSS       X0, X8, X8
	ADDQ         $34, AX
	ADDQ         $34, SI
	DECQ         R12
	JNZ          sblock
	VMULSS       X9, X8, X8
	VMOVSS       X8, (DI)
	ADDQ         $4, DI
	ADDQ         BX, R11
	DECQ         R8
	JMP          single

done:
	VZEROUPPER
	RET

// func dotRowsQ8_0VNNI(dst []float32, xq, m []byte, stride int, scale float32)
TEXT ·dotRowsQ8_0VNNI(SB), NOSPLIT, $0-84
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), R8
	MOVQ         xq_base+24(FP), R9
	MOVQ         xq_len+32(FP), AX
	XORQ         DX, DX
	MOVQ         $34, CX
	DIVQ         CX
	MOVQ         AX, R10                 // blocks per row
	MOVQ         m_base+48(FP), R11
	MOVQ         stride+72(FP), BX
	LEAQ         (BX)(BX*2), CX          // 3*stride
	VBROADCASTSS scale+80(FP), Y9
	MOVL         $0x00010001, R13
	VMOVD        R13, X13
	VPBROADCASTD X13, Y13                // int16 ones (VPMADDWD)

group:
	CMPQ         R8, $8
	JB           single
	MOVQ         R11, AX                 // rows 0-3 at (AX)(stride*i)
	LEAQ         (R11)(BX*4), DX         // rows 4-7 at (DX)(stride*i)
	MOVQ         R9, SI
	MOVQ         R10, R12
	VXORPS       Y8, Y8, Y8

gblock:
	VMOVDQU      2(SI), Y15
	VPSIGNB      Y15, Y15, Y14           // |xq|; each row gets sign(xq)
	ROWVNNI(2(AX), Y0)
	ROWVNNI(2(AX)(BX*1), Y1)
	ROWVNNI(2(AX)(BX*2), Y2)
	ROWVNNI(2(AX)(CX*1), Y3)
	ROWVNNI(2(DX), Y4)
	ROWVNNI(2(DX)(BX*1), Y5)
	ROWVNNI(2(DX)(BX*2), Y6)
	ROWVNNI(2(DX)(CX*1), Y7)
	VPHADDD      Y1, Y0, Y0
	VPHADDD      Y3, Y2, Y2
	VPHADDD      Y5, Y4, Y4
	VPHADDD      Y7, Y6, Y6
	VPHADDD      Y2, Y0, Y0
	VPHADDD      Y6, Y4, Y4
	VPERM2I128   $0x20, Y4, Y0, Y1
	VPERM2I128   $0x31, Y4, Y0, Y2
	VPADDD       Y2, Y1, Y1              // the 8 rows' integer sums
	VCVTDQ2PS    Y1, Y1
	MOVWQZX      (AX)(CX*1), R13         // the rows' d, gathered in R13 and R15
	MOVWQZX      (DX)(CX*1), R15
	SHLQ         $16, R13
	SHLQ         $16, R15
	MOVW         (AX)(BX*2), R13
	MOVW         (DX)(BX*2), R15
	SHLQ         $16, R13
	SHLQ         $16, R15
	MOVW         (AX)(BX*1), R13
	MOVW         (DX)(BX*1), R15
	SHLQ         $16, R13
	SHLQ         $16, R15
	MOVW         (AX), R13
	MOVW         (DX), R15
	VMOVQ        R13, X2
	VPINSRQ      $1, R15, X2, X2
	VCVTPH2PS    X2, Y2
	MOVWLZX      (SI), R13
	VMOVD        R13, X3
	VCVTPH2PS    X3, X3
	VBROADCASTSS X3, Y3                  // xq's d
	VMULPS       Y3, Y2, Y2              // d_k*d_x (exact)
	VMULPS       Y2, Y1, Y1
	VADDPS       Y1, Y8, Y8
	ADDQ         $34, AX
	ADDQ         $34, DX
	ADDQ         $34, SI
	DECQ         R12
	JNZ          gblock
	VMULPS       Y9, Y8, Y8
	VMOVUPS      Y8, (DI)
	ADDQ         $32, DI
	LEAQ         (R11)(BX*8), R11
	SUBQ         $8, R8
	JMP          group

single:
	TESTQ        R8, R8
	JEQ          done
	MOVQ         R11, AX
	MOVQ         R9, SI
	MOVQ         R10, R12
	VXORPS       X8, X8, X8

sblock:
	VMOVDQU      2(SI), Y15
	VPSIGNB      Y15, Y15, Y14
	ROWVNNI(2(AX), Y0)
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VCVTDQ2PS    X0, X0
	MOVWLZX      (AX), R13
	VMOVD        R13, X2
	VCVTPH2PS    X2, X2
	MOVWLZX      (SI), R13
	VMOVD        R13, X3
	VCVTPH2PS    X3, X3
	VMULSS       X3, X2, X2
	VMULSS       X2, X0, X0
	VADDSS       X0, X8, X8
	ADDQ         $34, AX
	ADDQ         $34, SI
	DECQ         R12
	JNZ          sblock
	VMULSS       X9, X8, X8
	VMOVSS       X8, (DI)
	ADDQ         $4, DI
	ADDQ         BX, R11
	DECQ         R8
	JMP          single

done:
	VZEROUPPER
	RET

// func axpyRowsQ8_0AVX2(dst, a []float32, m []byte, stride int)
TEXT ·axpyRowsQ8_0AVX2(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), R10
	SHRQ $5, R10                         // blocks per row
	MOVQ a_base+24(FP), R9
	MOVQ a_len+32(FP), R8
	MOVQ m_base+48(FP), R11
	MOVQ stride+72(FP), BX

group2:
	CMPQ    R10, $2
	JB      column
	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS 128(DI), Y4
	VMOVUPS 160(DI), Y5
	VMOVUPS 192(DI), Y6
	VMOVUPS 224(DI), Y7
	MOVQ    R11, AX
	MOVQ    R9, SI
	MOVQ    R8, CX

g2row:
	VBROADCASTSS (SI), Y8
	VPBROADCASTW 0(AX), X9
	VCVTPH2PS    X9, Y9
	VPMOVSXBD    2(AX), Y10
	VPMOVSXBD    10(AX), Y11
	VPMOVSXBD    18(AX), Y12
	VPMOVSXBD    26(AX), Y13
	VCVTDQ2PS    Y10, Y10
	VCVTDQ2PS    Y11, Y11
	VCVTDQ2PS    Y12, Y12
	VCVTDQ2PS    Y13, Y13
	VMULPS       Y9, Y10, Y10
	VMULPS       Y9, Y11, Y11
	VMULPS       Y9, Y12, Y12
	VMULPS       Y9, Y13, Y13
	VFMADD231PS  Y10, Y8, Y0
	VFMADD231PS  Y11, Y8, Y1
	VFMADD231PS  Y12, Y8, Y2
	VFMADD231PS  Y13, Y8, Y3
	VPBROADCASTW 34(AX), X9
	VCVTPH2PS    X9, Y9
	VPMOVSXBD    36(AX), Y10
	VPMOVSXBD    44(AX), Y11
	VPMOVSXBD    52(AX), Y12
	VPMOVSXBD    60(AX), Y13
	VCVTDQ2PS    Y10, Y10
	VCVTDQ2PS    Y11, Y11
	VCVTDQ2PS    Y12, Y12
	VCVTDQ2PS    Y13, Y13
	VMULPS       Y9, Y10, Y10
	VMULPS       Y9, Y11, Y11
	VMULPS       Y9, Y12, Y12
	VMULPS       Y9, Y13, Y13
	VFMADD231PS  Y10, Y8, Y4
	VFMADD231PS  Y11, Y8, Y5
	VFMADD231PS  Y12, Y8, Y6
	VFMADD231PS  Y13, Y8, Y7
	ADDQ         $4, SI
	ADDQ         BX, AX
	DECQ         CX
	JNZ          g2row
	VMOVUPS      Y0, 0(DI)
	VMOVUPS      Y1, 32(DI)
	VMOVUPS      Y2, 64(DI)
	VMOVUPS      Y3, 96(DI)
	VMOVUPS      Y4, 128(DI)
	VMOVUPS      Y5, 160(DI)
	VMOVUPS      Y6, 192(DI)
	VMOVUPS      Y7, 224(DI)
	ADDQ         $256, DI
	ADDQ         $68, R11
	SUBQ         $2, R10
	JMP          group2

column:
	TESTQ   R10, R10
	JEQ     adone
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	MOVQ    R11, AX
	MOVQ    R9, SI
	MOVQ    R8, CX

row:
	VBROADCASTSS (SI), Y4                // a[j]
	MOVWLZX      (AX), R13
	VMOVD        R13, X5
	VCVTPH2PS    X5, X5
	VBROADCASTSS X5, Y5                  // d
	VPMOVSXBD    2(AX), Y6
	VPMOVSXBD    10(AX), Y7
	VPMOVSXBD    18(AX), Y10
	VPMOVSXBD    26(AX), Y11
	VCVTDQ2PS    Y6, Y6
	VCVTDQ2PS    Y7, Y7
	VCVTDQ2PS    Y10, Y10
	VCVTDQ2PS    Y11, Y11
	VMULPS       Y5, Y6, Y6              // q*d (exact)
	VMULPS       Y5, Y7, Y7
	VMULPS       Y5, Y10, Y10
	VMULPS       Y5, Y11, Y11
	VFMADD231PS  Y6, Y4, Y0
	VFMADD231PS  Y7, Y4, Y1
	VFMADD231PS  Y10, Y4, Y2
	VFMADD231PS  Y11, Y4, Y3
	ADDQ         $4, SI
	ADDQ         BX, AX
	DECQ         CX
	JNZ          row
	VMOVUPS      Y0, (DI)
	VMOVUPS      Y1, 32(DI)
	VMOVUPS      Y2, 64(DI)
	VMOVUPS      Y3, 96(DI)
	ADDQ         $128, DI
	ADDQ         $34, R11
	DECQ         R10
	JMP          column

adone:
	VZEROUPPER
	RET

DATA q8c<>+0(SB)/4, $0x7fffffff  // |x| mask
DATA q8c<>+4(SB)/4, $0x7f7fffff  // MaxFloat32
DATA q8c<>+8(SB)/4, $0x3f000000  // 0.5
DATA q8c<>+12(SB)/4, $0x3f800000 // 1
DATA q8c<>+16(SB)/4, $0x42fe0000 // 127
DATA q8c<>+32(SB)/4, $0
DATA q8c<>+36(SB)/4, $4
DATA q8c<>+40(SB)/4, $1
DATA q8c<>+44(SB)/4, $5
DATA q8c<>+48(SB)/4, $2
DATA q8c<>+52(SB)/4, $6
DATA q8c<>+56(SB)/4, $3
DATA q8c<>+60(SB)/4, $7
GLOBL q8c<>(SB), RODATA|NOPTR, $64

// ROUNDAWAY rounds the floats of r to integers, halves away from zero
// (trunc, plus copysign(1) where |r - trunc| >= 0.5), then to int32.
#define ROUNDAWAY(r) \
	VROUNDPS   $3, r, Y4; \
	VSUBPS     Y4, r, Y5; \
	VANDPS     Y15, Y5, Y5; \
	VCMPPS     $0x1d, Y12, Y5, Y5; \
	VANDNPS    r, Y15, Y6; \
	VORPS      Y11, Y6, Y6; \
	VANDPS     Y5, Y6, Y6; \
	VADDPS     Y6, Y4, r; \
	VCVTTPS2DQ r, r

// NONFINITE ors into Y13 a mask of the elements of r that are NaN or ±Inf.
#define NONFINITE(r) \
	VANDPS  Y15, r, Y4; \
	VCMPPS  $6, Y14, Y4, Y5; \
	VORPS   Y5, Y13, Y13

// func quantQ8_0AVX2(dst []byte, x []float32) bool
// (false for a NaN or an infinity in x, or a block so tiny that 1/d is +Inf:
// the caller then runs quantize_row_q8_0_ref's Go loop)
TEXT ·quantQ8_0AVX2(SB), NOSPLIT, $0-49
	MOVQ         dst_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	SHRQ         $5, CX
	VBROADCASTSS q8c<>+0(SB), Y15
	VBROADCASTSS q8c<>+4(SB), Y14
	VBROADCASTSS q8c<>+8(SB), Y12
	VBROADCASTSS q8c<>+12(SB), Y11
	VXORPS       Y13, Y13, Y13
	VXORPS       X10, X10, X10

qblock:
	VMOVUPS      (SI), Y0
	VMOVUPS      32(SI), Y1
	VMOVUPS      64(SI), Y2
	VMOVUPS      96(SI), Y3
	NONFINITE(Y0)
	NONFINITE(Y1)
	NONFINITE(Y2)
	NONFINITE(Y3)
	VANDPS       Y15, Y0, Y4
	VANDPS       Y15, Y1, Y5
	VANDPS       Y15, Y2, Y6
	VANDPS       Y15, Y3, Y7
	VMAXPS       Y5, Y4, Y4
	VMAXPS       Y7, Y6, Y6
	VMAXPS       Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS       X5, X4, X4
	VPERMILPS    $0x4e, X4, X5
	VMAXPS       X5, X4, X4
	VPERMILPS    $0xb1, X4, X5
	VMAXPS       X5, X4, X4              // amax
	VDIVSS       q8c<>+16(SB), X4, X8    // d = amax/127
	VMOVSS       q8c<>+12(SB), X9
	VDIVSS       X8, X9, X9              // 1/d
	VCMPSS       $4, X10, X8, X7         // d != 0
	VANDPS       X7, X9, X9              // id
	VBROADCASTSS X9, Y9
	VCMPPS       $6, Y14, Y9, Y6         // 1/d overflowed: the Go loop's bits
	VORPS        Y6, Y13, Y13
	VCVTPS2PH    $0, X8, X8
	VMOVD        X8, AX
	MOVW         AX, (DI)
	VMULPS       Y9, Y0, Y0
	VMULPS       Y9, Y1, Y1
	VMULPS       Y9, Y2, Y2
	VMULPS       Y9, Y3, Y3
	ROUNDAWAY(Y0)
	ROUNDAWAY(Y1)
	ROUNDAWAY(Y2)
	ROUNDAWAY(Y3)
	VPACKSSDW    Y1, Y0, Y0
	VPACKSSDW    Y3, Y2, Y2
	VPACKSSWB    Y2, Y0, Y0
	VMOVDQU      q8c<>+32(SB), Y1
	VPERMD       Y0, Y1, Y0
	VMOVDQU      Y0, 2(DI)
	ADDQ         $128, SI
	ADDQ         $34, DI
	DECQ         CX
	JNZ          qblock
	VPTEST       Y13, Y13
	SETEQ        ret+48(FP)
	VZEROUPPER
	RET

// func axpyRowsQ8_0AVX512(dst, a []float32, m []byte, stride int)
// (axpyRowsQ8_0AVX2 with a block column in two zmm registers)
TEXT ·axpyRowsQ8_0AVX512(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), R10
	SHRQ $5, R10
	MOVQ a_base+24(FP), R9
	MOVQ a_len+32(FP), R8
	MOVQ m_base+48(FP), R11
	MOVQ stride+72(FP), BX

zgroup:
	CMPQ    R10, $4
	JB      zcolumn
	VMOVUPS 0(DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VMOVUPS 256(DI), Z4
	VMOVUPS 320(DI), Z5
	VMOVUPS 384(DI), Z6
	VMOVUPS 448(DI), Z7
	MOVQ    R11, AX
	MOVQ    R9, SI
	MOVQ    R8, CX

zgrow:
	VBROADCASTSS (SI), Z8
	VPBROADCASTW 0(AX), X9
	VCVTPH2PS    X9, X9
	VBROADCASTSS X9, Z9
	VPMOVSXBD    2(AX), Z10
	VPMOVSXBD    18(AX), Z11
	VCVTDQ2PS    Z10, Z10
	VCVTDQ2PS    Z11, Z11
	VMULPS       Z9, Z10, Z10
	VMULPS       Z9, Z11, Z11
	VFMADD231PS  Z10, Z8, Z0
	VFMADD231PS  Z11, Z8, Z1
	VPBROADCASTW 34(AX), X9
	VCVTPH2PS    X9, X9
	VBROADCASTSS X9, Z9
	VPMOVSXBD    36(AX), Z10
	VPMOVSXBD    52(AX), Z11
	VCVTDQ2PS    Z10, Z10
	VCVTDQ2PS    Z11, Z11
	VMULPS       Z9, Z10, Z10
	VMULPS       Z9, Z11, Z11
	VFMADD231PS  Z10, Z8, Z2
	VFMADD231PS  Z11, Z8, Z3
	VPBROADCASTW 68(AX), X9
	VCVTPH2PS    X9, X9
	VBROADCASTSS X9, Z9
	VPMOVSXBD    70(AX), Z10
	VPMOVSXBD    86(AX), Z11
	VCVTDQ2PS    Z10, Z10
	VCVTDQ2PS    Z11, Z11
	VMULPS       Z9, Z10, Z10
	VMULPS       Z9, Z11, Z11
	VFMADD231PS  Z10, Z8, Z4
	VFMADD231PS  Z11, Z8, Z5
	VPBROADCASTW 102(AX), X9
	VCVTPH2PS    X9, X9
	VBROADCASTSS X9, Z9
	VPMOVSXBD    104(AX), Z10
	VPMOVSXBD    120(AX), Z11
	VCVTDQ2PS    Z10, Z10
	VCVTDQ2PS    Z11, Z11
	VMULPS       Z9, Z10, Z10
	VMULPS       Z9, Z11, Z11
	VFMADD231PS  Z10, Z8, Z6
	VFMADD231PS  Z11, Z8, Z7
	ADDQ         $4, SI
	ADDQ         BX, AX
	DECQ         CX
	JNZ          zgrow
	VMOVUPS      Z0, 0(DI)
	VMOVUPS      Z1, 64(DI)
	VMOVUPS      Z2, 128(DI)
	VMOVUPS      Z3, 192(DI)
	VMOVUPS      Z4, 256(DI)
	VMOVUPS      Z5, 320(DI)
	VMOVUPS      Z6, 384(DI)
	VMOVUPS      Z7, 448(DI)
	ADDQ         $512, DI
	ADDQ         $136, R11
	SUBQ         $4, R10
	JMP          zgroup

zcolumn:
	TESTQ   R10, R10
	JEQ     zdone
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	MOVQ    R11, AX
	MOVQ    R9, SI
	MOVQ    R8, CX

zrow:
	VBROADCASTSS (SI), Z4
	VPBROADCASTW (AX), X5
	VCVTPH2PS    X5, X5
	VBROADCASTSS X5, Z5
	VPMOVSXBD    2(AX), Z6
	VPMOVSXBD    18(AX), Z7
	VCVTDQ2PS    Z6, Z6
	VCVTDQ2PS    Z7, Z7
	VMULPS       Z5, Z6, Z6
	VMULPS       Z5, Z7, Z7
	VFMADD231PS  Z6, Z4, Z0
	VFMADD231PS  Z7, Z4, Z1
	ADDQ         $4, SI
	ADDQ         BX, AX
	DECQ         CX
	JNZ          zrow
	VMOVUPS      Z0, (DI)
	VMOVUPS      Z1, 64(DI)
	ADDQ         $128, DI
	ADDQ         $34, R11
	DECQ         R10
	JMP          zcolumn

zdone:
	VZEROUPPER
	RET
