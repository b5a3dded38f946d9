//go:build !noasm

#include "textflag.h"

// dotRowsQ8_0GroupVNNI: the scores of four quantized queries over 8 Q8_0
// rows at a time, one block column at a time, with no horizontal sums.
//
// dotRowsQ8_0VNNI signs each row's bytes by the query (VPSIGNB), VPDPBUSDs
// them into 8 lanes per row and reduces each row's lanes with VPHADDD
// (several uops, one per 2 cycles on Zen 4). Here the 8 rows of
// a block are transposed once for the four queries: register j holds the
// j-th 4 bytes of rows 0-7, made unsigned (k+128, XOR 0x80). Each query
// then takes 8 VPDPBUSD with its j-th 4 bytes broadcast, and lane r holds
// row r's sum:
//
//	Σ (k+128)*q = Σ k*q + 128*Σ q
//
// so the lanes start from -128*Σq (per query and block, computed once per
// call with the query's f16 d as a float). The integer sums are exact, the
// same as dotRowsQ8_0VNNI's, and each block's float operations are its
// (acc += float(isum) * (d_k*d_x), then acc*scale): the same bits.
// dotRowsQ8_0Group16VNNI is the same on zmm registers, 16 rows at a time
// (as fast in the L1 cache on Zen 4, which splits zmm operations in two;
// faster from memory, with twice the rows' loads in flight).
//
// Registers in the block loop: Y8-Y15 the transposed rows, Y25 0x80 bytes,
// Y26 the rows' d_k, Y27-Y30 the four queries' accumulators; SI, R9, R10,
// R13 the four queries' blocks, R12 their sums and scales (8 words per
// block: 4 int32 -128*Σq, then 4 float32 d_x).

// TSCRATCH points r at the 64-byte aligned scratch in the frame of
// dotRowsQ8_0GroupT16VNNI.
#define TSCRATCH(r) \
	LEAQ 63(SP), r; \
	ANDQ $-64, r

// QSUM stores at n(R12) -128 times the sum of the 32 int8 at qs and at
// n+16(R12) the f16 at qd as a float. Y31 must be zero; clobbers Y16, Y17
// and R14.
#define QSUM(qs, qd, n) \
	VPXORD        qs, Y25, Y16; \
	VPSADBW       Y31, Y16, Y16; \
	VEXTRACTI32X4 $1, Y16, X17; \
	VPADDQ        X17, X16, X16; \
	VPSHUFD       $0x4e, X16, X17; \
	VPADDQ        X17, X16, X16; \
	VMOVD         X16, R14; \
	NEGL          R14; \
	ADDL          $4096, R14; \
	SHLL          $7, R14; \
	MOVL          R14, n(R12); \
	MOVWLZX       qd, R14; \
	VMOVD         R14, X16; \
	VCVTPH2PS     X16, X16; \
	VMOVSS        X16, n+16(R12)

// QDOT4 adds to Y27-Y30 the block of 8 rows for the four query blocks at
// SI, R9, R10 and R13 (their int8 at 2(q)), whose -128*Σq and d_x are at
// (R12) and 16(R12): two independent chains per query, interleaved.
// Clobbers Y16-Y24, Y31.
#define QDOT4 \
	VPBROADCASTD  0(R12), Y16; \
	VPBROADCASTD  4(R12), Y17; \
	VPBROADCASTD  8(R12), Y18; \
	VPBROADCASTD  12(R12), Y19; \
	VPXORD        Y20, Y20, Y20; \
	VPXORD        Y21, Y21, Y21; \
	VPXORD        Y22, Y22, Y22; \
	VPXORD        Y23, Y23, Y23; \
	QWORD(2, 6, Y8, Y9) \
	QWORD(10, 14, Y10, Y11) \
	QWORD(18, 22, Y12, Y13) \
	QWORD(26, 30, Y14, Y15) \
	VBROADCASTSS  16(R12), Y24; \
	VBROADCASTSS  20(R12), Y31; \
	QFLOAT(Y16, Y20, Y24, Y27) \
	QFLOAT(Y17, Y21, Y31, Y28) \
	VBROADCASTSS  24(R12), Y24; \
	VBROADCASTSS  28(R12), Y31; \
	QFLOAT(Y18, Y22, Y24, Y29) \
	QFLOAT(Y19, Y23, Y31, Y30)

// QWORD is two words of QDOT4: word a of rows wa, word b of rows wb.
#define QWORD(a, b, wa, wb) \
	VPDPBUSD.BCST a(SI), wa, Y16; \
	VPDPBUSD.BCST a(R9), wa, Y17; \
	VPDPBUSD.BCST a(R10), wa, Y18; \
	VPDPBUSD.BCST a(R13), wa, Y19; \
	VPDPBUSD.BCST b(SI), wb, Y20; \
	VPDPBUSD.BCST b(R9), wb, Y21; \
	VPDPBUSD.BCST b(R10), wb, Y22; \
	VPDPBUSD.BCST b(R13), wb, Y23;

// QFLOAT is one query's float operations of QDOT4: acc += float(x+y) *
// (d_k*d).
#define QFLOAT(x, y, d, acc) \
	VPADDD        y, x, x; \
	VCVTDQ2PS     x, x; \
	VMULPS        d, Y26, d; \
	VMULPS        d, x, x; \
	VADDPS        x, acc, acc;

// TRANSPOSE4 turns a, b, c, d (4 int32 per 128-bit lane each: rows 0-3 of
// 4 words | rows 4-7) into w0-w3 (word j of rows 0-3 | rows 4-7).
// Clobbers Y16-Y19.
#define TRANSPOSE4(a, b, c, d, w0, w1, w2, w3) \
	VPUNPCKLDQ  b, a, Y16; \
	VPUNPCKHDQ  b, a, Y17; \
	VPUNPCKLDQ  d, c, Y18; \
	VPUNPCKHDQ  d, c, Y19; \
	VPUNPCKLQDQ Y18, Y16, w0; \
	VPUNPCKHQDQ Y18, Y16, w1; \
	VPUNPCKLQDQ Y19, Y17, w2; \
	VPUNPCKHQDQ Y19, Y17, w3

// func dotRowsQ8_0GroupVNNI(dst *float32, dstStride int, xq *byte, rows, blocks int, m *byte, stride int, scale float32, sums *int32)
//
// dotRowsQ8_0VNNI's groups of 8 rows (q8rows_amd64.s) for four quantized
// queries of blocks blocks each, back to back at xq (rows a positive
// multiple of 8), bit for bit; sums is scratch for 8*blocks words. Query
// q's row r goes to dst[q*dstStride+r].
TEXT ·dotRowsQ8_0GroupVNNI(SB), NOSPLIT, $0-72
	MOVQ         dst+0(FP), DI
	MOVQ         rows+24(FP), R8
	MOVQ         m+40(FP), R11
	MOVQ         stride+48(FP), BX
	LEAQ         (BX)(BX*2), CX           // 3*stride
	MOVL         $0x80808080, R14
	VPBROADCASTD R14, Y25
	VPXORD       Y31, Y31, Y31

	// The queries' sums and scales, block by block.
	MOVQ    xq+16(FP), SI
	MOVQ    blocks+32(FP), R15
	IMUL3Q  $34, R15, R9                  // a query's bytes
	LEAQ    (SI)(R9*2), R10
	LEAQ    (R10)(R9*1), R13
	ADDQ    SI, R9
	MOVQ    sums+64(FP), R12

qsums:
	QSUM(2(SI), (SI), 0)
	QSUM(2(R9), (R9), 4)
	QSUM(2(R10), (R10), 8)
	QSUM(2(R13), (R13), 12)
	ADDQ $34, SI
	ADDQ $34, R9
	ADDQ $34, R10
	ADDQ $34, R13
	ADDQ $32, R12
	DECQ R15
	JNZ  qsums

ggroup:
	MOVQ   R11, AX                        // rows 0-3 at (AX)(stride*i)
	LEAQ   (R11)(BX*4), DX                // rows 4-7 at (DX)(stride*i)
	MOVQ   xq+16(FP), SI
	MOVQ   blocks+32(FP), R15
	IMUL3Q $34, R15, R9
	LEAQ   (SI)(R9*2), R10
	LEAQ   (R10)(R9*1), R13
	ADDQ   SI, R9
	MOVQ   sums+64(FP), R12
	VPXORD Y27, Y27, Y27
	VPXORD Y28, Y28, Y28
	VPXORD Y29, Y29, Y29
	VPXORD Y30, Y30, Y30

gblock:
	MOVWQZX   (AX)(CX*1), R14             // the rows' d
	SHLQ      $16, R14
	MOVW      (AX)(BX*2), R14
	SHLQ      $16, R14
	MOVW      (AX)(BX*1), R14
	SHLQ      $16, R14
	MOVW      (AX), R14
	VMOVQ     R14, X26
	MOVWQZX   (DX)(CX*1), R14
	SHLQ      $16, R14
	MOVW      (DX)(BX*2), R14
	SHLQ      $16, R14
	MOVW      (DX)(BX*1), R14
	SHLQ      $16, R14
	MOVW      (DX), R14
	VPINSRQ   $1, R14, X26, X26
	VCVTPH2PS X26, Y26

	VMOVDQU     2(AX), X0                 // words 0-3: rows 0|4, 1|5, 2|6, 3|7
	VINSERTI128 $1, 2(DX), Y0, Y0
	VMOVDQU     2(AX)(BX*1), X1
	VINSERTI128 $1, 2(DX)(BX*1), Y1, Y1
	VMOVDQU     2(AX)(BX*2), X2
	VINSERTI128 $1, 2(DX)(BX*2), Y2, Y2
	VMOVDQU     2(AX)(CX*1), X3
	VINSERTI128 $1, 2(DX)(CX*1), Y3, Y3
	VMOVDQU     18(AX), X4                // words 4-7
	VINSERTI128 $1, 18(DX), Y4, Y4
	VMOVDQU     18(AX)(BX*1), X5
	VINSERTI128 $1, 18(DX)(BX*1), Y5, Y5
	VMOVDQU     18(AX)(BX*2), X6
	VINSERTI128 $1, 18(DX)(BX*2), Y6, Y6
	VMOVDQU     18(AX)(CX*1), X7
	VINSERTI128 $1, 18(DX)(CX*1), Y7, Y7
	VPXORD      Y25, Y0, Y0               // k+128
	VPXORD      Y25, Y1, Y1
	VPXORD      Y25, Y2, Y2
	VPXORD      Y25, Y3, Y3
	VPXORD      Y25, Y4, Y4
	VPXORD      Y25, Y5, Y5
	VPXORD      Y25, Y6, Y6
	VPXORD      Y25, Y7, Y7
	TRANSPOSE4(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11)
	TRANSPOSE4(Y4, Y5, Y6, Y7, Y12, Y13, Y14, Y15)

	QDOT4
	ADDQ $34, AX
	ADDQ $34, DX
	ADDQ $34, SI
	ADDQ $34, R9
	ADDQ $34, R10
	ADDQ $34, R13
	ADDQ $32, R12
	DECQ R15
	JNZ  gblock

	MOVQ         dstStride+8(FP), R15
	SHLQ         $2, R15
	LEAQ         (R15)(R15*2), R14
	VBROADCASTSS scale+56(FP), Y16
	VMULPS       Y16, Y27, Y27
	VMULPS       Y16, Y28, Y28
	VMULPS       Y16, Y29, Y29
	VMULPS       Y16, Y30, Y30
	VMOVUPS      Y27, (DI)
	VMOVUPS      Y28, (DI)(R15*1)
	VMOVUPS      Y29, (DI)(R15*2)
	VMOVUPS      Y30, (DI)(R14*1)
	ADDQ         $32, DI
	LEAQ         (R11)(BX*8), R11
	SUBQ         $8, R8
	JNZ          ggroup

	VZEROUPPER
	RET

// QDOT4Z is QDOT4 on 16 rows: Z8-Z15 the transposed rows, Z26 the rows'
// d_k, Z27-Z30 the accumulators; the queries at 2(SI), 2(SI)(R9*1),
// 2(R10), 2(R10)(R9*1). Clobbers Z16-Z24, Z31.
#define QDOT4Z \
	VPBROADCASTD  0(R12), Z16; \
	VPBROADCASTD  4(R12), Z17; \
	VPBROADCASTD  8(R12), Z18; \
	VPBROADCASTD  12(R12), Z19; \
	VPXORD        Z20, Z20, Z20; \
	VPXORD        Z21, Z21, Z21; \
	VPXORD        Z22, Z22, Z22; \
	VPXORD        Z23, Z23, Z23; \
	QWORDZ(2, 6, Z8, Z9) \
	QWORDZ(10, 14, Z10, Z11) \
	QWORDZ(18, 22, Z12, Z13) \
	QWORDZ(26, 30, Z14, Z15) \
	VBROADCASTSS  16(R12), Z24; \
	VBROADCASTSS  20(R12), Z31; \
	QFLOATZ(Z16, Z20, Z24, Z27) \
	QFLOATZ(Z17, Z21, Z31, Z28) \
	VBROADCASTSS  24(R12), Z24; \
	VBROADCASTSS  28(R12), Z31; \
	QFLOATZ(Z18, Z22, Z24, Z29) \
	QFLOATZ(Z19, Z23, Z31, Z30)

#define QWORDZ(a, b, wa, wb) \
	VPDPBUSD.BCST a(SI), wa, Z16; \
	VPDPBUSD.BCST a(SI)(R9*1), wa, Z17; \
	VPDPBUSD.BCST a(R10), wa, Z18; \
	VPDPBUSD.BCST a(R10)(R9*1), wa, Z19; \
	VPDPBUSD.BCST b(SI), wb, Z20; \
	VPDPBUSD.BCST b(SI)(R9*1), wb, Z21; \
	VPDPBUSD.BCST b(R10), wb, Z22; \
	VPDPBUSD.BCST b(R10)(R9*1), wb, Z23;

#define QFLOATZ(x, y, d, acc) \
	VPADDD        y, x, x; \
	VCVTDQ2PS     x, x; \
	VMULPS        d, Z26, d; \
	VMULPS        d, x, x; \
	VADDPS        x, acc, acc;

// TRANSPOSE4Z is TRANSPOSE4 on the four 128-bit lanes of zmm registers.
// Clobbers Z16-Z19.
#define TRANSPOSE4Z(a, b, c, d, w0, w1, w2, w3) \
	VPUNPCKLDQ  b, a, Z16; \
	VPUNPCKHDQ  b, a, Z17; \
	VPUNPCKLDQ  d, c, Z18; \
	VPUNPCKHDQ  d, c, Z19; \
	VPUNPCKLQDQ Z18, Z16, w0; \
	VPUNPCKHQDQ Z18, Z16, w1; \
	VPUNPCKLQDQ Z19, Z17, w2; \
	VPUNPCKHQDQ Z19, Z17, w3

// GATHER4 puts in r the f16 d of the 4 rows at base, base+stride, ...
#define GATHER4(base, r) \
	MOVWQZX (base)(CX*1), r; \
	SHLQ    $16, r; \
	MOVW    (base)(BX*2), r; \
	SHLQ    $16, r; \
	MOVW    (base)(BX*1), r; \
	SHLQ    $16, r; \
	MOVW    (base), r

// func dotRowsQ8_0Group16VNNI(dst *float32, dstStride int, xq *byte, rows, blocks int, m *byte, stride int, scale float32, sums *int32)
//
// dotRowsQ8_0GroupVNNI on zmm registers, 16 rows at a time (rows a positive
// multiple of 16), bit for bit. Each block of the 16 rows prefetches 16*34
// bytes 8 KiB ahead: of rows back to back (a KV cache head's keys), the
// groups about 4 ahead. Out of the caches, a decode step's attention waits
// on memory less: 1.19x as fast over 30 layers at depth 4064.
TEXT ·dotRowsQ8_0Group16VNNI(SB), NOSPLIT, $0-72
	MOVQ         dst+0(FP), DI
	MOVQ         rows+24(FP), R8
	MOVQ         m+40(FP), R11
	MOVQ         stride+48(FP), BX
	LEAQ         (BX)(BX*2), CX           // 3*stride
	MOVL         $0x80808080, R14
	VPBROADCASTD R14, Z25
	VPXORD       Y31, Y31, Y31

	MOVQ    xq+16(FP), SI
	MOVQ    blocks+32(FP), R15
	IMUL3Q  $34, R15, R9                  // a query's bytes
	LEAQ    (SI)(R9*2), R10
	LEAQ    (R10)(R9*1), R13
	ADDQ    SI, R9
	MOVQ    sums+64(FP), R12

zsums:
	QSUM(2(SI), (SI), 0)
	QSUM(2(R9), (R9), 4)
	QSUM(2(R10), (R10), 8)
	QSUM(2(R13), (R13), 12)
	ADDQ $34, SI
	ADDQ $34, R9
	ADDQ $34, R10
	ADDQ $34, R13
	ADDQ $32, R12
	DECQ R15
	JNZ  zsums

zgroup:
	MOVQ   R11, AX                        // rows 0-3 at (AX)(stride*i)
	LEAQ   (R11)(BX*4), DX                // rows 4-7 at (DX)(stride*i)
	MOVQ   xq+16(FP), SI
	MOVQ   blocks+32(FP), R15
	IMUL3Q $34, R15, R9                   // queries at SI, SI+R9, R10, R10+R9
	LEAQ   (SI)(R9*2), R10
	MOVQ   sums+64(FP), R12
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30

zblock:
	GATHER4(AX, R14)
	VMOVQ       R14, X26
	GATHER4(DX, R14)
	VPINSRQ     $1, R14, X26, X26
	VMOVDQU     2(AX), X0                 // words 0-3: rows 0|4|8|12, 1|5|9|13, ...
	VINSERTI32X4 $1, 2(DX), Z0, Z0
	VMOVDQU     2(AX)(BX*1), X1
	VINSERTI32X4 $1, 2(DX)(BX*1), Z1, Z1
	VMOVDQU     2(AX)(BX*2), X2
	VINSERTI32X4 $1, 2(DX)(BX*2), Z2, Z2
	VMOVDQU     2(AX)(CX*1), X3
	VINSERTI32X4 $1, 2(DX)(CX*1), Z3, Z3
	VMOVDQU     18(AX), X4                // words 4-7
	VINSERTI32X4 $1, 18(DX), Z4, Z4
	VMOVDQU     18(AX)(BX*1), X5
	VINSERTI32X4 $1, 18(DX)(BX*1), Z5, Z5
	VMOVDQU     18(AX)(BX*2), X6
	VINSERTI32X4 $1, 18(DX)(BX*2), Z6, Z6
	VMOVDQU     18(AX)(CX*1), X7
	VINSERTI32X4 $1, 18(DX)(CX*1), Z7, Z7
	LEAQ        (AX)(BX*8), R13           // rows 8-11
	GATHER4(R13, R14)
	VMOVQ       R14, X24
	VINSERTI32X4 $2, 2(R13), Z0, Z0
	VINSERTI32X4 $2, 2(R13)(BX*1), Z1, Z1
	VINSERTI32X4 $2, 2(R13)(BX*2), Z2, Z2
	VINSERTI32X4 $2, 2(R13)(CX*1), Z3, Z3
	VINSERTI32X4 $2, 18(R13), Z4, Z4
	VINSERTI32X4 $2, 18(R13)(BX*1), Z5, Z5
	VINSERTI32X4 $2, 18(R13)(BX*2), Z6, Z6
	VINSERTI32X4 $2, 18(R13)(CX*1), Z7, Z7
	LEAQ        (DX)(BX*8), R13           // rows 12-15
	GATHER4(R13, R14)
	VPINSRQ     $1, R14, X24, X24
	VINSERTI32X4 $3, 2(R13), Z0, Z0
	VINSERTI32X4 $3, 2(R13)(BX*1), Z1, Z1
	VINSERTI32X4 $3, 2(R13)(BX*2), Z2, Z2
	VINSERTI32X4 $3, 2(R13)(CX*1), Z3, Z3
	VINSERTI32X4 $3, 18(R13), Z4, Z4
	VINSERTI32X4 $3, 18(R13)(BX*1), Z5, Z5
	VINSERTI32X4 $3, 18(R13)(BX*2), Z6, Z6
	VINSERTI32X4 $3, 18(R13)(CX*1), Z7, Z7
	VINSERTI32X4 $1, X24, Y26, Y26
	VCVTPH2PS   Y26, Z26
	VPXORD      Z25, Z0, Z0               // k+128
	VPXORD      Z25, Z1, Z1
	VPXORD      Z25, Z2, Z2
	VPXORD      Z25, Z3, Z3
	VPXORD      Z25, Z4, Z4
	VPXORD      Z25, Z5, Z5
	VPXORD      Z25, Z6, Z6
	VPXORD      Z25, Z7, Z7
	TRANSPOSE4Z(Z0, Z1, Z2, Z3, Z8, Z9, Z10, Z11)
	TRANSPOSE4Z(Z4, Z5, Z6, Z7, Z12, Z13, Z14, Z15)

	MOVQ       AX, R13                    // prefetch 8 KiB on: R11+16*(AX-R11)
	SUBQ       R11, R13
	SHLQ       $4, R13
	ADDQ       R11, R13
	PREFETCHT0 8192(R13)
	PREFETCHT0 8256(R13)
	PREFETCHT0 8320(R13)
	PREFETCHT0 8384(R13)
	PREFETCHT0 8448(R13)
	PREFETCHT0 8512(R13)
	PREFETCHT0 8576(R13)
	PREFETCHT0 8640(R13)
	PREFETCHT0 8704(R13)
	QDOT4Z
	ADDQ $34, AX
	ADDQ $34, DX
	ADDQ $34, SI
	ADDQ $34, R10
	ADDQ $32, R12
	DECQ R15
	JNZ  zblock

	MOVQ         dstStride+8(FP), R15
	SHLQ         $2, R15
	LEAQ         (R15)(R15*2), R14
	VBROADCASTSS scale+56(FP), Z16
	VMULPS       Z16, Z27, Z27
	VMULPS       Z16, Z28, Z28
	VMULPS       Z16, Z29, Z29
	VMULPS       Z16, Z30, Z30
	VMOVUPS      Z27, (DI)
	VMOVUPS      Z28, (DI)(R15*1)
	VMOVUPS      Z29, (DI)(R15*2)
	VMOVUPS      Z30, (DI)(R14*1)
	ADDQ         $64, DI
	LEAQ         (R11)(BX*8), R11         // 16 rows on
	LEAQ         (R11)(BX*8), R11
	SUBQ         $16, R8
	JNZ          zgroup

	VZEROUPPER
	RET

// QDOT4B is QDOT4Z with each query's d_x broadcast by the multiply that
// takes it (the same operations).
#define QDOT4B \
	VPBROADCASTD  0(R12), Z16; \
	VPBROADCASTD  4(R12), Z17; \
	VPBROADCASTD  8(R12), Z18; \
	VPBROADCASTD  12(R12), Z19; \
	VPXORD        Z20, Z20, Z20; \
	VPXORD        Z21, Z21, Z21; \
	VPXORD        Z22, Z22, Z22; \
	VPXORD        Z23, Z23, Z23; \
	QWORDZ(2, 6, Z8, Z9) \
	QWORDZ(10, 14, Z10, Z11) \
	QWORDZ(18, 22, Z12, Z13) \
	QWORDZ(26, 30, Z14, Z15) \
	QFLOATB(Z16, Z20, 16, Z24, Z27) \
	QFLOATB(Z17, Z21, 20, Z31, Z28) \
	QFLOATB(Z18, Z22, 24, Z24, Z29) \
	QFLOATB(Z19, Z23, 28, Z31, Z30)

#define QFLOATB(x, y, n, d, acc) \
	VPADDD        y, x, x; \
	VCVTDQ2PS     x, x; \
	VMULPS.BCST   n(R12), Z26, d; \
	VMULPS        d, x, x; \
	VADDPS        x, acc, acc;

// func dotRowsQ8_0GroupT16VNNI(dst *float32, dstStride int, xq *byte, quads, rows, blocks int, m *byte, stride int, scale float32)
//
// dotRowsQ8_0Group16VNNI for quads groups of four queries (back to back at
// xq, quad q's outputs at dst[4*q*dstStride:]) over the same rows, bit for
// bit: each block of 16 rows is transposed once into tr (576 bytes per
// block: Z8-Z15, then the rows' d_k as floats) and then read by every quad
// (a batch's 32 queries per KV group transposed each block 8 times
// before). tr (blocks <= 8) and sums (8*blocks words per quad, quads <= 8)
// are in the frame, 64-byte aligned: Go would clear scratch arrays it
// passed.
TEXT ·dotRowsQ8_0GroupT16VNNI(SB), 0, $6720-68
	MOVQ         dst+0(FP), DI
	MOVQ         rows+32(FP), R8
	MOVQ         m+48(FP), R11
	MOVQ         stride+56(FP), BX
	LEAQ         (BX)(BX*2), CX           // 3*stride
	MOVL         $0x80808080, R14
	VPBROADCASTD R14, Z25
	VPXORD       Y31, Y31, Y31

	// Every quad's sums and scales, quad after quad, block by block.
	MOVQ    xq+16(FP), SI
	MOVQ    blocks+40(FP), R15
	IMUL3Q  $34, R15, R9                  // a query's bytes
	TSCRATCH(R12)
	ADDQ    $4608, R12                    // sums, after tr
	MOVQ    quads+24(FP), AX

tsquad:
	LEAQ (SI)(R9*2), R10
	LEAQ (R10)(R9*1), R13
	ADDQ SI, R9
	MOVQ blocks+40(FP), R15

tsums:
	QSUM(2(SI), (SI), 0)
	QSUM(2(R9), (R9), 4)
	QSUM(2(R10), (R10), 8)
	QSUM(2(R13), (R13), 12)
	ADDQ $34, SI
	ADDQ $34, R9
	ADDQ $34, R10
	ADDQ $34, R13
	ADDQ $32, R12
	DECQ R15
	JNZ  tsums
	MOVQ R13, R9                          // a query's bytes again
	SUBQ R10, R9
	MOVQ R13, SI                          // the next quad's first query
	DECQ AX
	JNZ  tsquad

tgroup:
	// Transpose the 16 rows' blocks into tr.
	MOVQ R11, AX                          // rows 0-3 at (AX)(stride*i)
	LEAQ (R11)(BX*4), DX                  // rows 4-7 at (DX)(stride*i)
	TSCRATCH(SI)
	MOVQ blocks+40(FP), R15

ttrans:
	GATHER4(AX, R14)
	VMOVQ        R14, X26
	GATHER4(DX, R14)
	VPINSRQ      $1, R14, X26, X26
	VMOVDQU      2(AX), X0
	VINSERTI32X4 $1, 2(DX), Z0, Z0
	VMOVDQU      2(AX)(BX*1), X1
	VINSERTI32X4 $1, 2(DX)(BX*1), Z1, Z1
	VMOVDQU      2(AX)(BX*2), X2
	VINSERTI32X4 $1, 2(DX)(BX*2), Z2, Z2
	VMOVDQU      2(AX)(CX*1), X3
	VINSERTI32X4 $1, 2(DX)(CX*1), Z3, Z3
	VMOVDQU      18(AX), X4
	VINSERTI32X4 $1, 18(DX), Z4, Z4
	VMOVDQU      18(AX)(BX*1), X5
	VINSERTI32X4 $1, 18(DX)(BX*1), Z5, Z5
	VMOVDQU      18(AX)(BX*2), X6
	VINSERTI32X4 $1, 18(DX)(BX*2), Z6, Z6
	VMOVDQU      18(AX)(CX*1), X7
	VINSERTI32X4 $1, 18(DX)(CX*1), Z7, Z7
	LEAQ         (AX)(BX*8), R13          // rows 8-11
	GATHER4(R13, R14)
	VMOVQ        R14, X24
	VINSERTI32X4 $2, 2(R13), Z0, Z0
	VINSERTI32X4 $2, 2(R13)(BX*1), Z1, Z1
	VINSERTI32X4 $2, 2(R13)(BX*2), Z2, Z2
	VINSERTI32X4 $2, 2(R13)(CX*1), Z3, Z3
	VINSERTI32X4 $2, 18(R13), Z4, Z4
	VINSERTI32X4 $2, 18(R13)(BX*1), Z5, Z5
	VINSERTI32X4 $2, 18(R13)(BX*2), Z6, Z6
	VINSERTI32X4 $2, 18(R13)(CX*1), Z7, Z7
	LEAQ         (DX)(BX*8), R13          // rows 12-15
	GATHER4(R13, R14)
	VPINSRQ      $1, R14, X24, X24
	VINSERTI32X4 $3, 2(R13), Z0, Z0
	VINSERTI32X4 $3, 2(R13)(BX*1), Z1, Z1
	VINSERTI32X4 $3, 2(R13)(BX*2), Z2, Z2
	VINSERTI32X4 $3, 2(R13)(CX*1), Z3, Z3
	VINSERTI32X4 $3, 18(R13), Z4, Z4
	VINSERTI32X4 $3, 18(R13)(BX*1), Z5, Z5
	VINSERTI32X4 $3, 18(R13)(BX*2), Z6, Z6
	VINSERTI32X4 $3, 18(R13)(CX*1), Z7, Z7
	VINSERTI32X4 $1, X24, Y26, Y26
	VCVTPH2PS    Y26, Z26
	VPXORD       Z25, Z0, Z0              // k+128
	VPXORD       Z25, Z1, Z1
	VPXORD       Z25, Z2, Z2
	VPXORD       Z25, Z3, Z3
	VPXORD       Z25, Z4, Z4
	VPXORD       Z25, Z5, Z5
	VPXORD       Z25, Z6, Z6
	VPXORD       Z25, Z7, Z7
	TRANSPOSE4Z(Z0, Z1, Z2, Z3, Z8, Z9, Z10, Z11)
	TRANSPOSE4Z(Z4, Z5, Z6, Z7, Z12, Z13, Z14, Z15)
	VMOVUPS      Z8, (SI)
	VMOVUPS      Z9, 64(SI)
	VMOVUPS      Z10, 128(SI)
	VMOVUPS      Z11, 192(SI)
	VMOVUPS      Z12, 256(SI)
	VMOVUPS      Z13, 320(SI)
	VMOVUPS      Z14, 384(SI)
	VMOVUPS      Z15, 448(SI)
	VMOVUPS      Z26, 512(SI)

	MOVQ       AX, R13                    // prefetch 8 KiB on: R11+16*(AX-R11)
	SUBQ       R11, R13
	SHLQ       $4, R13
	ADDQ       R11, R13
	PREFETCHT0 8192(R13)
	PREFETCHT0 8256(R13)
	PREFETCHT0 8320(R13)
	PREFETCHT0 8384(R13)
	PREFETCHT0 8448(R13)
	PREFETCHT0 8512(R13)
	PREFETCHT0 8576(R13)
	PREFETCHT0 8640(R13)
	PREFETCHT0 8704(R13)
	ADDQ       $34, AX
	ADDQ       $34, DX
	ADDQ       $576, SI
	DECQ       R15
	JNZ        ttrans

	// Each quad over the transposed blocks: AX counts the quads, DX is
	// the quad's first output, R12 its sums.
	MOVQ quads+24(FP), AX
	MOVQ DI, DX
	MOVQ xq+16(FP), SI
	TSCRATCH(R12)
	ADDQ $4608, R12

tquad:
	MOVQ   blocks+40(FP), R15
	IMUL3Q $34, R15, R9                   // queries at SI, SI+R9, R10, R10+R9
	LEAQ   (SI)(R9*2), R10
	TSCRATCH(R13)
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30

tblock:
	VMOVUPS (R13), Z8
	VMOVUPS 64(R13), Z9
	VMOVUPS 128(R13), Z10
	VMOVUPS 192(R13), Z11
	VMOVUPS 256(R13), Z12
	VMOVUPS 320(R13), Z13
	VMOVUPS 384(R13), Z14
	VMOVUPS 448(R13), Z15
	VMOVUPS 512(R13), Z26
	QDOT4B
	ADDQ $34, SI
	ADDQ $34, R10
	ADDQ $32, R12
	ADDQ $576, R13
	DECQ R15
	JNZ  tblock

	MOVQ         dstStride+8(FP), R15
	SHLQ         $2, R15
	LEAQ         (R15)(R15*2), R14
	VBROADCASTSS scale+64(FP), Z16
	VMULPS       Z16, Z27, Z27
	VMULPS       Z16, Z28, Z28
	VMULPS       Z16, Z29, Z29
	VMULPS       Z16, Z30, Z30
	VMOVUPS      Z27, (DX)
	VMOVUPS      Z28, (DX)(R15*1)
	VMOVUPS      Z29, (DX)(R15*2)
	VMOVUPS      Z30, (DX)(R14*1)
	LEAQ         (DX)(R15*4), DX          // the next quad's outputs
	LEAQ         (R10)(R9*1), SI          // and queries (R10 is at the fourth's)
	DECQ         AX
	JNZ          tquad

	ADDQ $64, DI
	LEAQ (R11)(BX*8), R11                 // 16 rows on
	LEAQ (R11)(BX*8), R11
	SUBQ $16, R8
	JNZ  tgroup

	VZEROUPPER
	RET
