//go:build !noasm

#include "textflag.h"

// The Q8_0 group axpy kernels: axpyRowsQ8_0AVX512 (q8rows_amd64.s) for
// four or eight queries at a time over the same rows. Each block of a row
// is dequantized once for all of them, each lane as the single-query
// kernel does it (v = float(q)*d, exact in float32), and added to each
// query with its FMA, rows in order: the same bits.
//
// Each row-block prefetches the cache line QVAHEAD bytes past it: a call
// walks its rows one block column at a time, so its columns' prefetches
// spread over the lines of the rows that far ahead (in a decode step, the
// next tile's). Out of the cache, a decode step's attention over 30 layers
// at depth 4064 was 1.04-1.17x as fast with them (in-process A/B).

#define QVAHEAD 8192

// QVDEQ dequantizes the block at SI into Z16 (lanes 0-15) and Z17 (16-31),
// Z18 its scale, as axpyRowsQ8_0AVX512 does.
#define QVDEQ \
	VPBROADCASTW (SI), X18; \
	VCVTPH2PS    X18, X18; \
	VBROADCASTSS X18, Z18; \
	VPMOVSXBD    2(SI), Z16; \
	VPMOVSXBD    18(SI), Z17; \
	VCVTDQ2PS    Z16, Z16; \
	VCVTDQ2PS    Z17, Z17; \
	VMULPS       Z18, Z16, Z16; \
	VMULPS       Z18, Z17, Z17

// QVQUERY points dreg at query BX's dst row and areg at its weights, BX
// first clamped to the last query CX (a pass past n repeats the last one).
#define QVQUERY(dreg, areg) \
	CMPQ    BX, CX; \
	CMOVQGT CX, BX; \
	MOVQ    BX, dreg; \
	IMULQ   w+16(FP), dreg; \
	SHLQ    $2, dreg; \
	ADDQ    dst+0(FP), dreg; \
	MOVQ    BX, areg; \
	IMULQ   aStride+32(FP), areg; \
	SHLQ    $2, areg; \
	ADDQ    a+24(FP), areg

// QV4ROW adds the block at SI, row BX, to the four queries' accumulators
// Z0-Z7, their weights at R9-R12.
#define QV4ROW \
	QVDEQ; \
	VBROADCASTSS (R9)(BX*4), Z19; \
	VBROADCASTSS (R10)(BX*4), Z20; \
	VBROADCASTSS (R11)(BX*4), Z21; \
	VBROADCASTSS (R12)(BX*4), Z22; \
	VFMADD231PS  Z16, Z19, Z0; \
	VFMADD231PS  Z17, Z19, Z1; \
	VFMADD231PS  Z16, Z20, Z2; \
	VFMADD231PS  Z17, Z20, Z3; \
	VFMADD231PS  Z16, Z21, Z4; \
	VFMADD231PS  Z17, Z21, Z5; \
	VFMADD231PS  Z16, Z22, Z6; \
	VFMADD231PS  Z17, Z22, Z7; \
	ADDQ         stride+56(FP), SI; \
	INCQ         BX

// func axpyRowsQ8_0QuadAVX512(dst *float32, n, w int, a *float32, aStride int, m *byte, rows, stride int)
//
// Four queries at a time; a last group of fewer than four repeats its last
// query (the copies compute the same values into the same place).
TEXT ·axpyRowsQ8_0QuadAVX512(SB), NOSPLIT, $0-64
	XORQ AX, AX

qvquad:
	CMPQ AX, n+8(FP)
	JAE  qvdone

	// Query AX+k (the last one past n) has dst DI, R13, R14, R15 and
	// weights R9, R10, R11, R12.
	MOVQ n+8(FP), CX
	DECQ CX
	MOVQ AX, BX
	QVQUERY(DI, R9)
	INCQ BX
	QVQUERY(R13, R10)
	INCQ BX
	QVQUERY(R14, R11)
	INCQ BX
	QVQUERY(R15, R12)

	MOVQ m+40(FP), DX
	MOVQ w+16(FP), R8
	SHRQ $5, R8
	MOVQ rows+48(FP), CX

qvcolumn:
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS (R13), Z2
	VMOVUPS 64(R13), Z3
	VMOVUPS (R14), Z4
	VMOVUPS 64(R14), Z5
	VMOVUPS (R15), Z6
	VMOVUPS 64(R15), Z7
	MOVQ    DX, SI
	XORQ    BX, BX

qvrow:
	PREFETCHT0 QVAHEAD(SI)
	QV4ROW
	CMPQ BX, CX
	JB   qvrow

	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, (R13)
	VMOVUPS Z3, 64(R13)
	VMOVUPS Z4, (R14)
	VMOVUPS Z5, 64(R14)
	VMOVUPS Z6, (R15)
	VMOVUPS Z7, 64(R15)
	ADDQ    $128, DI
	ADDQ    $128, R13
	ADDQ    $128, R14
	ADDQ    $128, R15
	ADDQ    $34, DX
	DECQ    R8
	JNZ     qvcolumn

	ADDQ $4, AX
	JMP  qvquad

qvdone:
	VZEROUPPER
	RET

// QV8ROW adds the block at SI to the eight queries' accumulators Z0-Z15,
// their weights at R9, R9+R10, R9+2*R10, R9+R11 and the same from R12
// (R10 the weights' stride in bytes, R11 = 3*R10).
#define QV8ROW \
	QVDEQ; \
	VBROADCASTSS (R9), Z19; \
	VBROADCASTSS (R9)(R10*1), Z20; \
	VBROADCASTSS (R9)(R10*2), Z21; \
	VBROADCASTSS (R9)(R11*1), Z22; \
	VBROADCASTSS (R12), Z23; \
	VBROADCASTSS (R12)(R10*1), Z24; \
	VBROADCASTSS (R12)(R10*2), Z25; \
	VBROADCASTSS (R12)(R11*1), Z26; \
	VFMADD231PS  Z16, Z19, Z0; \
	VFMADD231PS  Z17, Z19, Z1; \
	VFMADD231PS  Z16, Z20, Z2; \
	VFMADD231PS  Z17, Z20, Z3; \
	VFMADD231PS  Z16, Z21, Z4; \
	VFMADD231PS  Z17, Z21, Z5; \
	VFMADD231PS  Z16, Z22, Z6; \
	VFMADD231PS  Z17, Z22, Z7; \
	VFMADD231PS  Z16, Z23, Z8; \
	VFMADD231PS  Z17, Z23, Z9; \
	VFMADD231PS  Z16, Z24, Z10; \
	VFMADD231PS  Z17, Z24, Z11; \
	VFMADD231PS  Z16, Z25, Z12; \
	VFMADD231PS  Z17, Z25, Z13; \
	VFMADD231PS  Z16, Z26, Z14; \
	VFMADD231PS  Z17, Z26, Z15; \
	ADDQ         $4, R9; \
	ADDQ         $4, R12; \
	ADDQ         BX, SI

// QV8LOAD loads (or, as QV8STORE, stores) the eight queries' 32 lanes at
// DI, DI+R13, DI+2*R13, DI+R14 and the same from R15 (R13 the queries'
// stride in bytes, R14 = 3*R13).
#define QV8LOAD \
	VMOVUPS (DI), Z0; \
	VMOVUPS 64(DI), Z1; \
	VMOVUPS (DI)(R13*1), Z2; \
	VMOVUPS 64(DI)(R13*1), Z3; \
	VMOVUPS (DI)(R13*2), Z4; \
	VMOVUPS 64(DI)(R13*2), Z5; \
	VMOVUPS (DI)(R14*1), Z6; \
	VMOVUPS 64(DI)(R14*1), Z7; \
	VMOVUPS (R15), Z8; \
	VMOVUPS 64(R15), Z9; \
	VMOVUPS (R15)(R13*1), Z10; \
	VMOVUPS 64(R15)(R13*1), Z11; \
	VMOVUPS (R15)(R13*2), Z12; \
	VMOVUPS 64(R15)(R13*2), Z13; \
	VMOVUPS (R15)(R14*1), Z14; \
	VMOVUPS 64(R15)(R14*1), Z15

#define QV8STORE \
	VMOVUPS Z0, (DI); \
	VMOVUPS Z1, 64(DI); \
	VMOVUPS Z2, (DI)(R13*1); \
	VMOVUPS Z3, 64(DI)(R13*1); \
	VMOVUPS Z4, (DI)(R13*2); \
	VMOVUPS Z5, 64(DI)(R13*2); \
	VMOVUPS Z6, (DI)(R14*1); \
	VMOVUPS Z7, 64(DI)(R14*1); \
	VMOVUPS Z8, (R15); \
	VMOVUPS Z9, 64(R15); \
	VMOVUPS Z10, (R15)(R13*1); \
	VMOVUPS Z11, 64(R15)(R13*1); \
	VMOVUPS Z12, (R15)(R13*2); \
	VMOVUPS Z13, 64(R15)(R13*2); \
	VMOVUPS Z14, (R15)(R14*1); \
	VMOVUPS Z15, 64(R15)(R14*1)

// func axpyRowsQ8_0OctAVX512(dst *float32, w int, a *float32, aStride int, m *byte, rows, stride int)
//
// Exactly eight queries, dst w floats and a aStride floats apart.
TEXT ·axpyRowsQ8_0OctAVX512(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         w+8(FP), R13
	SHLQ         $2, R13
	LEAQ         (R13)(R13*2), R14
	LEAQ         (DI)(R13*4), R15
	MOVQ         aStride+24(FP), R10
	SHLQ         $2, R10
	LEAQ         (R10)(R10*2), R11
	MOVQ         m+32(FP), DX
	MOVQ         stride+48(FP), BX
	MOVQ         w+8(FP), R8
	SHRQ         $5, R8

qvocolumn:
	QV8LOAD
	MOVQ DX, SI
	MOVQ a+16(FP), R9
	LEAQ (R9)(R10*4), R12
	MOVQ rows+40(FP), CX

qvorow:
	PREFETCHT0 QVAHEAD(SI)
	QV8ROW
	DECQ CX
	JNZ  qvorow
	QV8STORE
	ADDQ $128, DI
	ADDQ $128, R15
	ADDQ $34, DX
	DECQ R8
	JNZ  qvocolumn

	VZEROUPPER
	RET

// QDV points r at the half of axpyRowsQ8_0DeqAVX512's v for the column
// whose first lane is at byte lane (bit 7: the column's parity). lane and
// r may be the same register.
#define QDV(r, lane) \
	MOVQ lane, r; \
	ANDQ $128, r; \
	SHLQ $6, r; \
	ADDQ SP, r; \
	ADDQ $63, r; \
	ANDQ $-64, r

// QD8ROW adds the dequantized row at SI to the eight queries'
// accumulators Z0-Z15, their weights at R9, R9+R10, R9+2*R10, R9+R11 and
// the same from R12, as QV8ROW does, each weight broadcast by its FMAs
// (no broadcast instructions: 1.02-1.03x as fast on a 64-row tile).
#define QD8ROW \
	VMOVUPS          (SI), Z16; \
	VMOVUPS          64(SI), Z17; \
	VFMADD231PS.BCST (R9), Z16, Z0; \
	VFMADD231PS.BCST (R9), Z17, Z1; \
	VFMADD231PS.BCST (R9)(R10*1), Z16, Z2; \
	VFMADD231PS.BCST (R9)(R10*1), Z17, Z3; \
	VFMADD231PS.BCST (R9)(R10*2), Z16, Z4; \
	VFMADD231PS.BCST (R9)(R10*2), Z17, Z5; \
	VFMADD231PS.BCST (R9)(R11*1), Z16, Z6; \
	VFMADD231PS.BCST (R9)(R11*1), Z17, Z7; \
	VFMADD231PS.BCST (R12), Z16, Z8; \
	VFMADD231PS.BCST (R12), Z17, Z9; \
	VFMADD231PS.BCST (R12)(R10*1), Z16, Z10; \
	VFMADD231PS.BCST (R12)(R10*1), Z17, Z11; \
	VFMADD231PS.BCST (R12)(R10*2), Z16, Z12; \
	VFMADD231PS.BCST (R12)(R10*2), Z17, Z13; \
	VFMADD231PS.BCST (R12)(R11*1), Z16, Z14; \
	VFMADD231PS.BCST (R12)(R11*1), Z17, Z15; \
	ADDQ             $4, R9; \
	ADDQ             $4, R12; \
	ADDQ             $128, SI

// func axpyRowsQ8_0DeqAVX512(dst *float32, octs, w int, a *float32, aStride int, m *byte, rows, stride int)
//
// axpyRowsQ8_0OctAVX512 for octs groups of eight queries (back to back at
// dst, their weights aStride floats apart from a) over the same rows, bit
// for bit: each block column of the rows is dequantized once into v (32
// floats per row) and then read by every group of eight, which leaves the
// FMA units little but the FMAs (a batch's 32 queries per KV group
// dequantized each block 4 times before). The first group of a column
// dequantizes the next column into the other half of v as it goes, so that
// this work overlaps the FMAs. v is in the frame, 64-byte aligned (rows <=
// 64, 8 KiB per column): Go would clear a scratch array it passed.
TEXT ·axpyRowsQ8_0DeqAVX512(SB), 0, $16448-64
	MOVQ w+16(FP), R13
	SHLQ $2, R13                          // the queries' stride in bytes
	LEAQ (R13)(R13*2), R14
	MOVQ aStride+32(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R11
	MOVQ m+40(FP), DX
	MOVQ w+16(FP), R8
	SHRQ $5, R8
	XORQ AX, AX                           // the column's first lane, in bytes

	// Dequantize column 0 into the first half of v.
	MOVQ stride+56(FP), BX
	MOVQ DX, SI
	QDV(DI, AX)
	MOVQ rows+48(FP), CX

qddeq:
	PREFETCHT0 QVAHEAD(SI)
	QVDEQ
	VMOVUPS    Z16, (DI)
	VMOVUPS    Z17, 64(DI)
	ADDQ       BX, SI
	ADDQ       $128, DI
	DECQ       CX
	JNZ        qddeq

qdcolumn:
	// Every group of eight over the column: CX counts the groups, BX the
	// rows, R9 and R12 point at the group's weights, SI at the rows.
	MOVQ dst+0(FP), DI
	ADDQ AX, DI
	MOVQ a+24(FP), R9
	MOVQ octs+8(FP), CX

qdoct:
	LEAQ (DI)(R13*4), R15
	LEAQ (R9)(R10*4), R12
	QV8LOAD
	QDV(SI, AX)
	MOVQ rows+48(FP), BX
	CMPQ CX, octs+8(FP)
	JNE  qdrow
	CMPQ R8, $1
	JEQ  qdrow

	// The first group also dequantizes the next column (R14) into the
	// other half of v (R13).
	LEAQ 128(AX), R13
	QDV(R13, R13)
	LEAQ 34(DX), R14

qdrownext:
	PREFETCHT0   QVAHEAD(R14)
	VPBROADCASTW (R14), X29
	VCVTPH2PS    X29, X29
	VBROADCASTSS X29, Z29
	VPMOVSXBD    2(R14), Z27
	VPMOVSXBD    18(R14), Z28
	VCVTDQ2PS    Z27, Z27
	VCVTDQ2PS    Z28, Z28
	VMULPS       Z29, Z27, Z27
	VMULPS       Z29, Z28, Z28
	VMOVUPS      Z27, (R13)
	VMOVUPS      Z28, 64(R13)
	ADDQ         $128, R13
	ADDQ         stride+56(FP), R14
	QD8ROW
	DECQ         BX
	JNZ          qdrownext
	MOVQ         w+16(FP), R13
	SHLQ         $2, R13
	LEAQ         (R13)(R13*2), R14
	JMP          qdstore

qdrow:
	QD8ROW
	DECQ BX
	JNZ  qdrow

qdstore:
	QV8STORE
	// The next group: dst 8 queries on, weights 8 rows of a on (R9 has
	// moved rows floats along its first row).
	LEAQ (DI)(R13*8), DI
	MOVQ rows+48(FP), SI
	SHLQ $2, SI
	SUBQ SI, R9
	LEAQ (R9)(R10*8), R9
	DECQ CX
	JNZ  qdoct

	ADDQ $128, AX
	ADDQ $34, DX
	DECQ R8
	JNZ  qdcolumn

	VZEROUPPER
	RET
