//go:build !noasm

#include "textflag.h"

// The Q8_0 row kernels of q8rows.go. dotRowsQ8_0AVX2 and dotRowsQ8_0VNNI
// (the same code with VPDPBUSD for VPMADDUBSW+VPMADDWD) take 8 rows at a
// time: per block, the 8 rows' integer dots with xq (|xq| times the rows'
// bytes signed by xq: no saturation, as |q| <= 127), reduced into one
// vector of 8 sums, then per lane acc += float(isum) * (d_k*d_x), the
// Generic loop's operations in its order; leftover rows one at a time with
// the same scalar operations. axpyRowsQ8_0AVX2 takes one block column of
// dst (32 floats in 4 registers) through every row: dst += a[j] *
// (float(q)*d) with one FMA per element.

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
	MOVWLZX      (AX), R13
	VMOVD        R13, X2
	VPINSRW      $1, (AX)(BX*1), X2, X2
	VPINSRW      $2, (AX)(BX*2), X2, X2
	VPINSRW      $3, (AX)(CX*1), X2, X2
	VPINSRW      $4, (DX), X2, X2
	VPINSRW      $5, (DX)(BX*1), X2, X2
	VPINSRW      $6, (DX)(BX*2), X2, X2
	VPINSRW      $7, (DX)(CX*1), X2, X2
	VCVTPH2PS    X2, Y2                  // the rows' d
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
	MOVWLZX      (AX), R13
	VMOVD        R13, X2
	VPINSRW      $1, (AX)(BX*1), X2, X2
	VPINSRW      $2, (AX)(BX*2), X2, X2
	VPINSRW      $3, (AX)(CX*1), X2, X2
	VPINSRW      $4, (DX), X2, X2
	VPINSRW      $5, (DX)(BX*1), X2, X2
	VPINSRW      $6, (DX)(BX*2), X2, X2
	VPINSRW      $7, (DX)(CX*1), X2, X2
	VCVTPH2PS    X2, Y2                  // the rows' d
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

column:
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
	JNZ          column
	VZEROUPPER
	RET
