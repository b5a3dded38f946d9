//go:build !noasm

#include "textflag.h"

// kernelSet.mm4 at the AVX512 level: Q8_0 and Q4_0 rows, two rows and four
// tokens at a time (see plainmm_amd64.go). Registers:
//	DI dst of the row pair, token 0; R8 rows left; SI row; R9 rb
//	AX, BX the two rows' block cursors; R12 q, DX d8, R11 corr cursors
//	R13 cols (a token's stride in q, d8 and corr), R14 3*cols, R10 pairs left
//	Z0-Z15 accumulators: row r, token t, pair parity k in Z(8r+2t+k)
//	Z16, Z17 the rows' unsigned weights of a pair of blocks, Z18, Z19 their
//	scales (d_w of block 2p in lanes 0-7, of 2p+1 in lanes 8-15)

DATA mmb80<>+0(SB)/4, $0x80808080
GLOBL mmb80<>(SB), RODATA|NOPTR, $4
DATA mmb0f<>+0(SB)/4, $0x0f0f0f0f
GLOBL mmb0f<>(SB), RODATA|NOPTR, $4

// VPERMW indexes: word 0 in words 0-7, the second block's d in words 8-15.
DATA mmidx8<>+0(SB)/8, $0
DATA mmidx8<>+8(SB)/8, $0
DATA mmidx8<>+16(SB)/8, $0x0011001100110011
DATA mmidx8<>+24(SB)/8, $0x0011001100110011
GLOBL mmidx8<>(SB), RODATA|NOPTR, $64
DATA mmidx4<>+0(SB)/8, $0
DATA mmidx4<>+8(SB)/8, $0
DATA mmidx4<>+16(SB)/8, $0x0009000900090009
DATA mmidx4<>+24(SB)/8, $0x0009000900090009
GLOBL mmidx4<>(SB), RODATA|NOPTR, $32

#define MM_PROLOGUE \
	MOVQ  dst_base+0(FP), DI; \
	MOVQ  rows+32(FP), R8; \
	MOVQ  w_base+40(FP), SI; \
	MOVQ  rb+64(FP), R9; \
	MOVQ  cols+144(FP), R13; \
	LEAQ  (R13)(R13*2), R14; \
	SHRQ  $1, R8; \
	TESTQ R8, R8; \
	JEQ   done

#define ZERO16 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15

#define MM_ROWS_START \
	ZERO16; \
	MOVQ SI, AX; \
	LEAQ (SI)(R9*1), BX; \
	MOVQ q_base+72(FP), R12; \
	MOVQ d8_base+96(FP), DX; \
	MOVQ corr_base+120(FP), R11; \
	MOVQ R13, R10; \
	SHRQ $6, R10

// The scales of the pair of blocks at O(R) into Z: VPERMW with the
// indexes in Z28 picks the two f16 d (words 0 and 17 of a Q8_0 pair, 0 and
// 9 of a Q4_0 pair, which Y28 reads: the pair ends at its 36th byte).
#define MMSCALES8(O, R, Z, Y) \
	VPERMW    O(R), Z28, Z; \
	VCVTPH2PS Y, Z

#define MMSCALES4(O, R, Z, Y) \
	VPERMW    O(R), Y28, Y; \
	VCVTPH2PS Y, Z

// Q8_0 pair at O(R): unsigned weights (w+128) into U, scales into S.
#define Q8W(O, R, U, YU, S, YS) \
	VMOVDQU64    O+2(R), YU; \
	VINSERTI64X4 $1, O+36(R), U, U; \
	VPXORD       Z26, U, U; \
	MMSCALES8(O, R, S, YS)

// Q4_0 pair at O(R): the nibbles (elements 0-15 low, 16-31 high) into U,
// scales into S.
#define Q4W(O, R, U, YU, XU, S, YS) \
	VMOVDQU64    O+2(R), XU; \
	VINSERTI32X4 $1, O+20(R), YU, YU; \
	VPSRLW       $4, YU, Y27; \
	VINSERTI64X4 $1, Y27, U, U; \
	VSHUFI64X2   $0xd8, U, U, U; \
	VPANDD       Z26, U, U; \
	MMSCALES4(O, R, S, YS)

// One token (corr at C, q at Q, d8 at D) for both rows of the pair:
// A0 += float32(lane sums of row 0) * d_w*d, A1 the same for row 1.
#define MMTOK(C, Q, D, A0, A1) \
	VMOVDQU64   C, Z20; \
	VMOVDQU64   C, Z22; \
	VMOVDQU64   Q, Z21; \
	VMOVUPS     D, Z23; \
	VPDPBUSD    Z21, Z16, Z20; \
	VPDPBUSD    Z21, Z17, Z22; \
	VCVTDQ2PS   Z20, Z20; \
	VCVTDQ2PS   Z22, Z22; \
	VMULPS      Z23, Z18, Z24; \
	VMULPS      Z23, Z19, Z25; \
	VFMADD231PS Z24, Z20, A0; \
	VFMADD231PS Z25, Z22, A1

// The four tokens of one pair into the accumulators of parity K (0, 1).
#define MMTOKS(K0, K1, K2, K3, K4, K5, K6, K7) \
	MMTOK((R11), (R12), (DX), K0, K4); \
	MMTOK((R11)(R13*1), (R12)(R13*1), (DX)(R13*1), K1, K5); \
	MMTOK((R11)(R13*2), (R12)(R13*2), (DX)(R13*2), K2, K6); \
	MMTOK((R11)(R14*1), (R12)(R14*1), (DX)(R14*1), K3, K7); \
	ADDQ $64, R11; \
	ADDQ $64, R12; \
	ADDQ $64, DX

// dst at DST = scale * the sum of accumulators A and B (zmm, ymm, xmm
// names), in rowsQ8_0AVX512's order.
#define MMSTORE(ZA, YA, XA, ZB, YB, XB, DST) \
	VADDPS        ZB, ZA, ZA; \
	VEXTRACTF64X4 $1, ZA, YB; \
	VADDPS        YB, YA, YA; \
	VEXTRACTF128  $1, YA, XB; \
	VADDPS        XB, XA, XA; \
	VPERMILPS     $0x4e, XA, XB; \
	VADDPS        XB, XA, XA; \
	VPERMILPS     $0xb1, XA, XB; \
	VADDPS        XB, XA, XA; \
	VMULSS        scale+152(FP), XA, XA; \
	VMOVSS        XA, DST

// The 8 outputs of a row pair; CX and R15 hold the token strides of dst.
#define MM_ROWS_END \
	MOVQ    ds+24(FP), CX; \
	SHLQ    $2, CX; \
	LEAQ    (CX)(CX*2), R15; \
	MMSTORE(Z0, Y0, X0, Z1, Y1, X1, (DI)); \
	MMSTORE(Z2, Y2, X2, Z3, Y3, X3, (DI)(CX*1)); \
	MMSTORE(Z4, Y4, X4, Z5, Y5, X5, (DI)(CX*2)); \
	MMSTORE(Z6, Y6, X6, Z7, Y7, X7, (DI)(R15*1)); \
	MMSTORE(Z8, Y8, X8, Z9, Y9, X9, 4(DI)); \
	MMSTORE(Z10, Y10, X10, Z11, Y11, X11, 4(DI)(CX*1)); \
	MMSTORE(Z12, Y12, X12, Z13, Y13, X13, 4(DI)(CX*2)); \
	MMSTORE(Z14, Y14, X14, Z15, Y15, X15, 4(DI)(R15*1)); \
	ADDQ    $8, DI; \
	LEAQ    (SI)(R9*2), SI

// func mmQ8_0AVX512(dst []float32, ds, rows int, w []byte, rb int, q []int8, d8 []float32, corr []int32, cols int, scale float32)
TEXT ·mmQ8_0AVX512(SB), NOSPLIT, $0-156
	MM_PROLOGUE
	VPBROADCASTD mmb80<>(SB), Z26
	VMOVDQU64    mmidx8<>(SB), Z28

q8rows:
	MM_ROWS_START

q8pair:
	Q8W(0, AX, Z16, Y16, Z18, Y18)
	Q8W(0, BX, Z17, Y17, Z19, Y19)
	MMTOKS(Z0, Z2, Z4, Z6, Z8, Z10, Z12, Z14)
	Q8W(68, AX, Z16, Y16, Z18, Y18)
	Q8W(68, BX, Z17, Y17, Z19, Y19)
	MMTOKS(Z1, Z3, Z5, Z7, Z9, Z11, Z13, Z15)
	ADDQ $136, AX
	ADDQ $136, BX
	SUBQ $2, R10
	JNE  q8pair
	MM_ROWS_END
	DECQ R8
	JNE  q8rows

done:
	VZEROUPPER
	RET

// func mmQ4_0AVX512(dst []float32, ds, rows int, w []byte, rb int, q []int8, d8 []float32, corr []int32, cols int, scale float32)
TEXT ·mmQ4_0AVX512(SB), NOSPLIT, $0-156
	MM_PROLOGUE
	VPBROADCASTD mmb0f<>(SB), Z26
	VMOVDQU64    mmidx4<>(SB), Y28

q4rows:
	MM_ROWS_START

q4pair:
	Q4W(0, AX, Z16, Y16, X16, Z18, Y18)
	Q4W(0, BX, Z17, Y17, X17, Z19, Y19)
	MMTOKS(Z0, Z2, Z4, Z6, Z8, Z10, Z12, Z14)
	Q4W(36, AX, Z16, Y16, X16, Z18, Y18)
	Q4W(36, BX, Z17, Y17, X17, Z19, Y19)
	MMTOKS(Z1, Z3, Z5, Z7, Z9, Z11, Z13, Z15)
	ADDQ $72, AX
	ADDQ $72, BX
	SUBQ $2, R10
	JNE  q4pair
	MM_ROWS_END
	DECQ R8
	JNE  q4rows

done:
	VZEROUPPER
	RET

// kernelSet.mm4 at the AVX2 level: one row and four tokens at a time, the
// order of rowsQ8_0AVX2 and rowsQ4_0AVX2 (a block's 8 int32 lane sums of
// |w| * (q signed by w), from VPMADDUBSW and VPMADDWD; accumulators by
// block parity). Registers as above but: AX the row's block cursor, Y0-Y7
// accumulators (token t, block parity k in Y(2t+k)), Y8 the block's
// signed weights, Y9 their absolute values, Y10 its scale d_w in 8 lanes,
// Y13 ones16, Y15 the nibble mask (Q4_0).

DATA mmones<>+0(SB)/8, $0x0001000100010001
DATA mmones<>+8(SB)/8, $0x0001000100010001
GLOBL mmones<>(SB), RODATA|NOPTR, $16
DATA mmnib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA mmnib<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL mmnib<>(SB), RODATA|NOPTR, $16

#define MM2_PROLOGUE \
	MOVQ  dst_base+0(FP), DI; \
	MOVQ  rows+32(FP), R8; \
	MOVQ  w_base+40(FP), SI; \
	MOVQ  rb+64(FP), R9; \
	MOVQ  cols+144(FP), R13; \
	LEAQ  (R13)(R13*2), R14; \
	TESTQ R8, R8; \
	JEQ   done; \
	VBROADCASTI128 mmones<>(SB), Y13

#define MM2_ROW_START \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
	MOVQ   SI, AX; \
	MOVQ   q_base+72(FP), R12; \
	MOVQ   d8_base+96(FP), DX; \
	MOVQ   R13, R10; \
	SHRQ   $5, R10

// The block's f16 d at O(AX) into the 8 lanes of Y10.
#define MM2SCALE(O) \
	VPBROADCASTW O(AX), X10; \
	VCVTPH2PS    X10, Y10

// One token (q at Q, d8 at D) into accumulator A.
#define MM2TOK(Q, D, A) \
	VMOVDQU     Q, Y11; \
	VPSIGNB     Y8, Y11, Y11; \
	VPMADDUBSW  Y11, Y9, Y12; \
	VPMADDWD    Y13, Y12, Y12; \
	VCVTDQ2PS   Y12, Y12; \
	VMULPS      D, Y10, Y14; \
	VFMADD231PS Y14, Y12, A

// The four tokens of one block into the accumulators A0-A3.
#define MM2TOKS(A0, A1, A2, A3) \
	VPABSB Y8, Y9; \
	MM2TOK((R12), (DX), A0); \
	MM2TOK((R12)(R13*1), (DX)(R13*1), A1); \
	MM2TOK((R12)(R13*2), (DX)(R13*2), A2); \
	MM2TOK((R12)(R14*1), (DX)(R14*1), A3); \
	ADDQ   $32, R12; \
	ADDQ   $32, DX

// dst at DST = scale * the sum of accumulators A and B, in
// rowsQ8_0AVX2's order.
#define MM2STORE(YA, XA, YB, XB, DST) \
	VADDPS       YB, YA, YA; \
	VEXTRACTF128 $1, YA, XB; \
	VADDPS       XB, XA, XA; \
	VPERMILPS    $0x4e, XA, XB; \
	VADDPS       XB, XA, XA; \
	VPERMILPS    $0xb1, XA, XB; \
	VADDPS       XB, XA, XA; \
	VMULSS       scale+152(FP), XA, XA; \
	VMOVSS       XA, DST

#define MM2_ROW_END \
	MOVQ ds+24(FP), CX; \
	SHLQ $2, CX; \
	LEAQ (CX)(CX*2), R15; \
	MM2STORE(Y0, X0, Y1, X1, (DI)); \
	MM2STORE(Y2, X2, Y3, X3, (DI)(CX*1)); \
	MM2STORE(Y4, X4, Y5, X5, (DI)(CX*2)); \
	MM2STORE(Y6, X6, Y7, X7, (DI)(R15*1)); \
	ADDQ $4, DI; \
	ADDQ R9, SI

// func mmQ8_0AVX2(dst []float32, ds, rows int, w []byte, rb int, q []int8, d8 []float32, corr []int32, cols int, scale float32)
TEXT ·mmQ8_0AVX2(SB), NOSPLIT, $0-156
	MM2_PROLOGUE

q8row:
	MM2_ROW_START

q8blk:
	VMOVDQU 2(AX), Y8
	MM2SCALE(0)
	MM2TOKS(Y0, Y2, Y4, Y6)
	VMOVDQU 36(AX), Y8
	MM2SCALE(34)
	MM2TOKS(Y1, Y3, Y5, Y7)
	ADDQ    $68, AX
	SUBQ    $2, R10
	JNE     q8blk
	MM2_ROW_END
	DECQ    R8
	JNE     q8row

done:
	VZEROUPPER
	RET

// Q4_0 block at O(AX): its weights (q - 8) into Y8.
#define MM2Q4(O) \
	VMOVDQU     O+2(AX), X8; \
	VPSRLW      $4, X8, X9; \
	VINSERTI128 $1, X9, Y8, Y8; \
	VPAND       Y15, Y8, Y8; \
	VPSUBB      eight8x2<>(SB), Y8, Y8

DATA eight8x2<>+0(SB)/8, $0x0808080808080808
DATA eight8x2<>+8(SB)/8, $0x0808080808080808
DATA eight8x2<>+16(SB)/8, $0x0808080808080808
DATA eight8x2<>+24(SB)/8, $0x0808080808080808
GLOBL eight8x2<>(SB), RODATA|NOPTR, $32

// func mmQ4_0AVX2(dst []float32, ds, rows int, w []byte, rb int, q []int8, d8 []float32, corr []int32, cols int, scale float32)
TEXT ·mmQ4_0AVX2(SB), NOSPLIT, $0-156
	MM2_PROLOGUE
	VBROADCASTI128 mmnib<>(SB), Y15

q4row:
	MM2_ROW_START

q4blk:
	MM2Q4(0)
	MM2SCALE(0)
	MM2TOKS(Y0, Y2, Y4, Y6)
	MM2Q4(18)
	MM2SCALE(18)
	MM2TOKS(Y1, Y3, Y5, Y7)
	ADDQ $36, AX
	SUBQ $2, R10
	JNE  q4blk
	MM2_ROW_END
	DECQ R8
	JNE  q4row

done:
	VZEROUPPER
	RET
