//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// Ternary row kernels (see tern_arm64.h), at two levels.

// tq1pow<> multiplies lane 4n+j of the replicated TQ1_0 qh word by 3^n.
DATA tq1pow<>+0(SB)/8, $0x0303030301010101
DATA tq1pow<>+8(SB)/8, $0x1b1b1b1b09090909
GLOBL tq1pow<>(SB), RODATA|NOPTR, $16

// TQ2_0 / I2_S: decode the 32 bytes in V16, V17 into 8 code vectors
// V0..V7 (code - 1), V0/V1 matching x[0:32], V2/V3 x[32:64] and so on.
// V28 = 3s, V29 = 1s.
#define TQ2_DECODE \
	VAND  V28.B16, V16.B16, V0.B16; \
	VSUB  V29.B16, V0.B16, V0.B16; \
	VAND  V28.B16, V17.B16, V1.B16; \
	VSUB  V29.B16, V1.B16, V1.B16; \
	VUSHR $2, V16.B16, V2.B16; \
	VAND  V28.B16, V2.B16, V2.B16; \
	VSUB  V29.B16, V2.B16, V2.B16; \
	VUSHR $2, V17.B16, V3.B16; \
	VAND  V28.B16, V3.B16, V3.B16; \
	VSUB  V29.B16, V3.B16, V3.B16; \
	VUSHR $4, V16.B16, V4.B16; \
	VAND  V28.B16, V4.B16, V4.B16; \
	VSUB  V29.B16, V4.B16, V4.B16; \
	VUSHR $4, V17.B16, V5.B16; \
	VAND  V28.B16, V5.B16, V5.B16; \
	VSUB  V29.B16, V5.B16, V5.B16; \
	VUSHR $6, V16.B16, V6.B16; \
	VSUB  V29.B16, V6.B16, V6.B16; \
	VUSHR $6, V17.B16, V7.B16; \
	VSUB  V29.B16, V7.B16, V7.B16

// I2_S: the same with the bit order reversed (x[j] in bits 7-6).
#define I2S_DECODE \
	VUSHR $6, V16.B16, V0.B16; \
	VSUB  V29.B16, V0.B16, V0.B16; \
	VUSHR $6, V17.B16, V1.B16; \
	VSUB  V29.B16, V1.B16, V1.B16; \
	VUSHR $4, V16.B16, V2.B16; \
	VAND  V28.B16, V2.B16, V2.B16; \
	VSUB  V29.B16, V2.B16, V2.B16; \
	VUSHR $4, V17.B16, V3.B16; \
	VAND  V28.B16, V3.B16, V3.B16; \
	VSUB  V29.B16, V3.B16, V3.B16; \
	VUSHR $2, V16.B16, V4.B16; \
	VAND  V28.B16, V4.B16, V4.B16; \
	VSUB  V29.B16, V4.B16, V4.B16; \
	VUSHR $2, V17.B16, V5.B16; \
	VAND  V28.B16, V5.B16, V5.B16; \
	VSUB  V29.B16, V5.B16, V5.B16; \
	VAND  V28.B16, V16.B16, V6.B16; \
	VSUB  V29.B16, V6.B16, V6.B16; \
	VAND  V28.B16, V17.B16, V7.B16; \
	VSUB  V29.B16, V7.B16, V7.B16

// 128 activations at XR (advanced by 128) against codes V0..V7, into Va.
#define DOT128(XR, A) \
	VLD1.P 64(XR), [V8.B16, V9.B16, V10.B16, V11.B16]; \
	DOT16(A, 0, 8); \
	DOT16(A, 1, 9); \
	DOT16(A, 2, 10); \
	DOT16(A, 3, 11); \
	VLD1.P 64(XR), [V8.B16, V9.B16, V10.B16, V11.B16]; \
	DOT16(A, 4, 8); \
	DOT16(A, 5, 9); \
	DOT16(A, 6, 10); \
	DOT16(A, 7, 11)

// TQ1_0: codes of the unsigned bytes in Vy: trit = ((y*3) >> 8) is
// [y > 85] + [y > 170]; with the compare masks m1, m2 (0 or -1) the code
// trit - 1 is ^(m1 + m2). V24 = 85s, V25 = 170s, V26 = 0xFFs, V18 scratch.
#define TRIT(d, y) \
	CMHI(d, y, 24); \
	CMHI(18, y, 25); \
	ADDB(d, d, 18); \
	EORB(d, d, 26)

// TQ1_0 part A: qs[0:32] in V16, V17; trit n (y = q*3^n) of byte m is
// x[m + 32n]. Codes V0..V9 (V2n, V2n+1 match x[32n:32n+32]). V28 = 3s.
#define TQ1_DECODE_A \
	TRIT(0, 16); \
	TRIT(1, 17); \
	MULB(16, 16, 28); \
	MULB(17, 17, 28); \
	TRIT(2, 16); \
	TRIT(3, 17); \
	MULB(16, 16, 28); \
	MULB(17, 17, 28); \
	TRIT(4, 16); \
	TRIT(5, 17); \
	MULB(16, 16, 28); \
	MULB(17, 17, 28); \
	TRIT(6, 16); \
	TRIT(7, 17); \
	MULB(16, 16, 28); \
	MULB(17, 17, 28); \
	TRIT(8, 16); \
	TRIT(9, 17)

// TQ1_0 part B: qs[32:48] in V16 (trit n of byte m is x[160 + m + 16n]),
// qh[0:4] in every 32-bit lane of V17 (trit n of byte j is x[240 + j + 4n],
// lane 4n+j multiplied by 3^n from V27). Codes V0..V5 match x[160:256].
#define TQ1_DECODE_B \
	MULB(17, 17, 27); \
	TRIT(5, 17); \
	TRIT(0, 16); \
	MULB(16, 16, 28); \
	TRIT(1, 16); \
	MULB(16, 16, 28); \
	TRIT(2, 16); \
	MULB(16, 16, 28); \
	TRIT(3, 16); \
	MULB(16, 16, 28); \
	TRIT(4, 16)

// 32 activations at XR (advanced) against codes Vc, Vc+1, into Va.
#define DOT32(XR, A, C) \
	VLD1.P 32(XR), [V10.B16, V11.B16]; \
	DOT16(A, C, 10); \
	DOT16(A, C+1, 11)

#define TQ1_DOT_A(XR, A) \
	DOT32(XR, A, 0); \
	DOT32(XR, A, 2); \
	DOT32(XR, A, 4); \
	DOT32(XR, A, 6); \
	DOT32(XR, A, 8)

#define TQ1_DOT_B(XR, A) \
	DOT32(XR, A, 0); \
	DOT32(XR, A, 2); \
	DOT32(XR, A, 4)

// End of a TQ block for one token: FA += float32(d * float32(Σ lanes of AV)),
// d in F16.
#define TQ_BLOCK_END(AV, FA) \
	VADDV   AV.S4, AV; \
	VMOV    AV.S[0], R16; \
	SCVTFWS R16, F17; \
	FMULS   F16, F17, F17; \
	FADDS   F17, FA, FA

// End of an I2_S row for one token: FA = float32(Σ lanes of AV).
#define I2S_ROW_END(AV, FA) \
	VADDV   AV.S4, AV; \
	VMOV    AV.S[0], R16; \
	SCVTFWS R16, FA

#define TERN_PROLOGUE \
	MOVD  w_base+0(FP), R0; \
	MOVD  rows+24(FP), R1; \
	MOVD  rb+32(FP), R2; \
	MOVD  x_base+40(FP), R3; \
	MOVD  cols+64(FP), R4; \
	MOVD  n+72(FP), R5; \
	MOVD  dst_base+80(FP), R6; \
	MOVD  dstStride+104(FP), R7; \
	LSL   $2, R7, R7; \
	VMOVI $3, V28.B16; \
	VMOVI $1, V29.B16; \
	VMOVI $85, V24.B16; \
	VMOVI $170, V25.B16; \
	VMOVI $255, V26.B16; \
	MOVD  $tq1pow<>(SB), R16; \
	VLD1  (R16), [V27.B16]

// Group of 4 tokens: set R19-R22, zero the float accumulators.
#define GROUP4_START \
	MOVD R9, R19; \
	ADD  R4, R19, R20; \
	ADD  R4, R20, R21; \
	ADD  R4, R21, R22; \
	MOVD R0, R12; \
	VEOR V20.B16, V20.B16, V20.B16; \
	VEOR V21.B16, V21.B16, V21.B16; \
	VEOR V22.B16, V22.B16, V22.B16; \
	VEOR V23.B16, V23.B16, V23.B16

#define ZERO_ACC4 \
	VEOR V12.B16, V12.B16, V12.B16; \
	VEOR V13.B16, V13.B16, V13.B16; \
	VEOR V14.B16, V14.B16, V14.B16; \
	VEOR V15.B16, V15.B16, V15.B16

// Store F20-F23 to dst of tokens 0-3 of the group, move to the next group.
#define GROUP4_END \
	FMOVS F20, (R10); \
	ADD   R7, R10, R16; \
	FMOVS F21, (R16); \
	ADD   R7, R16, R16; \
	FMOVS F22, (R16); \
	ADD   R7, R16, R16; \
	FMOVS F23, (R16); \
	ADD   R4<<2, R9, R9; \
	ADD   R7<<2, R10, R10; \
	SUB   $4, R11, R11

// NEONDot: SDOT.
#define DOT16(a, w, x) SDOT(a, w, x)
#define TQ2_NAME ·tq2RowsNEONDot
#define TQ2W_NAME ·tq2wRowsNEONDot
#define I2S_NAME ·i2sRowsNEONDot
#define TQ1_NAME ·tq1RowsNEONDot
#define TQ1W_NAME ·tq1wRowsNEONDot
#include "tern_arm64.h"
#undef DOT16
#undef TQ2_NAME
#undef TQ2W_NAME
#undef I2S_NAME
#undef TQ1_NAME
#undef TQ1W_NAME

// NEON: widening multiplies, products of 2 bytes summed in int16 (|w| <= 2,
// so |sum| <= 512), then pairwise into the int32 lanes.
#define DOT16(a, w, x) SMULL(30, w, x); SMLAL2(30, w, x); SADALP(a, 30)
#define TQ2_NAME ·tq2RowsNEON
#define TQ2W_NAME ·tq2wRowsNEON
#define I2S_NAME ·i2sRowsNEON
#define TQ1_NAME ·tq1RowsNEON
#define TQ1W_NAME ·tq1wRowsNEON
#include "tern_arm64.h"
