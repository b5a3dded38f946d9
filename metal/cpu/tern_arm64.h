// Ternary row kernels for arm64 (the macros are in tern_arm64.s), included
// twice by tern_arm64.s: once with
// DOT16 = SDOT (level NEONDot), once with DOT16 = SMULL/SMLAL2/SADALP
// (level NEON). DOT16(a, w, x) adds the 16 products of the signed bytes of
// Vw and Vx into the 4 int32 lanes of Va.
//
// Each kernel has the Go signature
//
//	func(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)
//
// and computes, for rows r < rows (w[r*rb:]) and tokens t < n
// (x[t*cols:]), the unscaled output dst[t*dstStride+r]: float32 of the
// integer dot for I2_S; Σ_blocks float32(d_b * float32(s_b)) added in block
// order for TQ2_0/TQ1_0 (exactly as the Generic kernels). Tokens go four at
// a time (each block's codes decoded once for the four), then one at a
// time.
//
// Registers: R0 row weights, R1 rows left, R2 rb, R3 x, R4 cols, R5 n,
// R6 dst of this row (token 0), R7 dstStride in bytes, R9 x of the token
// group, R10 its dst, R11 tokens left, R12 block pointer, R13 blocks left,
// R16 scratch, R19-R22 x of tokens 0-3 of the group. V0-V9 codes (-1..2),
// V10/V11 (V8-V11 for I2_S/TQ2_0) activations, V12-V15 int32 accumulators,
// V16/V17 raw weight bytes, F16/F17 scalars, F20-F23 float accumulators,
// V24-V29 constants, V30 DOT16 scratch.

// func TQ2_NAME(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)
TEXT TQ2_NAME(SB), NOSPLIT, $0-112
	TERN_PROLOGUE
	CBZ R1, tq2done

tq2row:
	MOVD R3, R9
	MOVD R6, R10
	MOVD R5, R11

tq2g4:
	CMP $4, R11
	BLT tq2g1
	GROUP4_START
	LSR $8, R4, R13

tq2b4:
	ZERO_ACC4
	VLD1.P 32(R12), [V16.B16, V17.B16]
	TQ2_DECODE
	DOT128(R19, 12)
	DOT128(R20, 13)
	DOT128(R21, 14)
	DOT128(R22, 15)
	VLD1.P 32(R12), [V16.B16, V17.B16]
	TQ2_DECODE
	DOT128(R19, 12)
	DOT128(R20, 13)
	DOT128(R21, 14)
	DOT128(R22, 15)
	MOVHU.P 2(R12), R16
	FMOVS   R16, F16
	FCVTHS  F16, F16
	TQ_BLOCK_END(V12, F20)
	TQ_BLOCK_END(V13, F21)
	TQ_BLOCK_END(V14, F22)
	TQ_BLOCK_END(V15, F23)
	SUBS    $1, R13, R13
	BNE     tq2b4
	GROUP4_END
	B       tq2g4

tq2g1:
	CBZ  R11, tq2next
	MOVD R9, R19
	MOVD R0, R12
	VEOR V20.B16, V20.B16, V20.B16
	LSR  $8, R4, R13

tq2b1:
	VEOR    V12.B16, V12.B16, V12.B16
	VLD1.P  32(R12), [V16.B16, V17.B16]
	TQ2_DECODE
	DOT128(R19, 12)
	VLD1.P  32(R12), [V16.B16, V17.B16]
	TQ2_DECODE
	DOT128(R19, 12)
	MOVHU.P 2(R12), R16
	FMOVS   R16, F16
	FCVTHS  F16, F16
	TQ_BLOCK_END(V12, F20)
	SUBS    $1, R13, R13
	BNE     tq2b1
	FMOVS   F20, (R10)
	ADD     R4, R9, R9
	ADD     R7, R10, R10
	SUB     $1, R11, R11
	B       tq2g1

tq2next:
	ADD  R2, R0, R0
	ADD  $4, R6, R6
	SUBS $1, R1, R1
	BNE  tq2row

tq2done:
	RET

// func TQ2W_NAME(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)
// TQ2_0 with one d in every block (Matrix.UseUniformScale): TQ2_NAME's
// integer sums over the whole row, its blocks' d stepped over, converted
// once as I2_S's: dst = float32(dotTQ2WholeGeneric).
TEXT TQ2W_NAME(SB), NOSPLIT, $0-112
	TERN_PROLOGUE
	CBZ R1, tq2wdone

tq2wrow:
	MOVD R3, R9
	MOVD R6, R10
	MOVD R5, R11

tq2wg4:
	CMP $4, R11
	BLT tq2wg1
	GROUP4_START
	ZERO_ACC4
	LSR $8, R4, R13

tq2wb4:
	VLD1.P 32(R12), [V16.B16, V17.B16]
	TQ2_DECODE
	DOT128(R19, 12)
	DOT128(R20, 13)
	DOT128(R21, 14)
	DOT128(R22, 15)
	VLD1.P 32(R12), [V16.B16, V17.B16]
	TQ2_DECODE
	DOT128(R19, 12)
	DOT128(R20, 13)
	DOT128(R21, 14)
	DOT128(R22, 15)
	ADD    $2, R12, R12
	SUBS   $1, R13, R13
	BNE    tq2wb4
	I2S_ROW_END(V12, F20)
	I2S_ROW_END(V13, F21)
	I2S_ROW_END(V14, F22)
	I2S_ROW_END(V15, F23)
	GROUP4_END
	B      tq2wg4

tq2wg1:
	CBZ  R11, tq2wnext
	MOVD R9, R19
	MOVD R0, R12
	VEOR V12.B16, V12.B16, V12.B16
	LSR  $8, R4, R13

tq2wb1:
	VLD1.P 32(R12), [V16.B16, V17.B16]
	TQ2_DECODE
	DOT128(R19, 12)
	VLD1.P 32(R12), [V16.B16, V17.B16]
	TQ2_DECODE
	DOT128(R19, 12)
	ADD    $2, R12, R12
	SUBS   $1, R13, R13
	BNE    tq2wb1
	I2S_ROW_END(V12, F20)
	FMOVS  F20, (R10)
	ADD    R4, R9, R9
	ADD    R7, R10, R10
	SUB    $1, R11, R11
	B      tq2wg1

tq2wnext:
	ADD  R2, R0, R0
	ADD  $4, R6, R6
	SUBS $1, R1, R1
	BNE  tq2wrow

tq2wdone:
	RET

// func I2S_NAME(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)
TEXT I2S_NAME(SB), NOSPLIT, $0-112
	TERN_PROLOGUE
	CBZ R1, i2sdone

i2srow:
	MOVD R3, R9
	MOVD R6, R10
	MOVD R5, R11

i2sg4:
	CMP $4, R11
	BLT i2sg1
	GROUP4_START
	ZERO_ACC4
	LSR $7, R4, R13

i2sb4:
	VLD1.P 32(R12), [V16.B16, V17.B16]
	I2S_DECODE
	DOT128(R19, 12)
	DOT128(R20, 13)
	DOT128(R21, 14)
	DOT128(R22, 15)
	SUBS   $1, R13, R13
	BNE    i2sb4
	I2S_ROW_END(V12, F20)
	I2S_ROW_END(V13, F21)
	I2S_ROW_END(V14, F22)
	I2S_ROW_END(V15, F23)
	GROUP4_END
	B      i2sg4

i2sg1:
	CBZ  R11, i2snext
	MOVD R9, R19
	MOVD R0, R12
	VEOR V12.B16, V12.B16, V12.B16
	LSR  $7, R4, R13

i2sb1:
	VLD1.P 32(R12), [V16.B16, V17.B16]
	I2S_DECODE
	DOT128(R19, 12)
	SUBS   $1, R13, R13
	BNE    i2sb1
	I2S_ROW_END(V12, F20)
	FMOVS  F20, (R10)
	ADD    R4, R9, R9
	ADD    R7, R10, R10
	SUB    $1, R11, R11
	B      i2sg1

i2snext:
	ADD  R2, R0, R0
	ADD  $4, R6, R6
	SUBS $1, R1, R1
	BNE  i2srow

i2sdone:
	RET

// func TQ1_NAME(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)
TEXT TQ1_NAME(SB), NOSPLIT, $0-112
	TERN_PROLOGUE
	CBZ R1, tq1done

tq1row:
	MOVD R3, R9
	MOVD R6, R10
	MOVD R5, R11

tq1g4:
	CMP $4, R11
	BLT tq1g1
	GROUP4_START
	LSR $8, R4, R13

tq1b4:
	ZERO_ACC4
	VLD1.P  32(R12), [V16.B16, V17.B16]
	TQ1_DECODE_A
	TQ1_DOT_A(R19, 12)
	TQ1_DOT_A(R20, 13)
	TQ1_DOT_A(R21, 14)
	TQ1_DOT_A(R22, 15)
	VLD1.P  16(R12), [V16.B16]
	MOVWU.P 4(R12), R16
	VDUP    R16, V17.S4
	TQ1_DECODE_B
	TQ1_DOT_B(R19, 12)
	TQ1_DOT_B(R20, 13)
	TQ1_DOT_B(R21, 14)
	TQ1_DOT_B(R22, 15)
	MOVHU.P 2(R12), R16
	FMOVS   R16, F16
	FCVTHS  F16, F16
	TQ_BLOCK_END(V12, F20)
	TQ_BLOCK_END(V13, F21)
	TQ_BLOCK_END(V14, F22)
	TQ_BLOCK_END(V15, F23)
	SUBS    $1, R13, R13
	BNE     tq1b4
	GROUP4_END
	B       tq1g4

tq1g1:
	CBZ  R11, tq1next
	MOVD R9, R19
	MOVD R0, R12
	VEOR V20.B16, V20.B16, V20.B16
	LSR  $8, R4, R13

tq1b1:
	VEOR    V12.B16, V12.B16, V12.B16
	VLD1.P  32(R12), [V16.B16, V17.B16]
	TQ1_DECODE_A
	TQ1_DOT_A(R19, 12)
	VLD1.P  16(R12), [V16.B16]
	MOVWU.P 4(R12), R16
	VDUP    R16, V17.S4
	TQ1_DECODE_B
	TQ1_DOT_B(R19, 12)
	MOVHU.P 2(R12), R16
	FMOVS   R16, F16
	FCVTHS  F16, F16
	TQ_BLOCK_END(V12, F20)
	SUBS    $1, R13, R13
	BNE     tq1b1
	FMOVS   F20, (R10)
	ADD     R4, R9, R9
	ADD     R7, R10, R10
	SUB     $1, R11, R11
	B       tq1g1

tq1next:
	ADD  R2, R0, R0
	ADD  $4, R6, R6
	SUBS $1, R1, R1
	BNE  tq1row

tq1done:
	RET

// func TQ1W_NAME(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int, skip int)
//
// TQ1_0's codes summed over the whole row, float32 of the integer dot (as
// I2_S): blocks of 52 code bytes followed by skip bytes (TQ1_S: 0; TQ1_0
// with one d: 2, its d not read). R14 skip.
TEXT TQ1W_NAME(SB), NOSPLIT, $0-120
	TERN_PROLOGUE
	MOVD skip+112(FP), R14
	CBZ  R1, tq1wdone

tq1wrow:
	MOVD R3, R9
	MOVD R6, R10
	MOVD R5, R11

tq1wg4:
	CMP $4, R11
	BLT tq1wg1
	GROUP4_START
	ZERO_ACC4
	LSR $8, R4, R13

tq1wb4:
	VLD1.P  32(R12), [V16.B16, V17.B16]
	TQ1_DECODE_A
	TQ1_DOT_A(R19, 12)
	TQ1_DOT_A(R20, 13)
	TQ1_DOT_A(R21, 14)
	TQ1_DOT_A(R22, 15)
	VLD1.P  16(R12), [V16.B16]
	MOVWU.P 4(R12), R16
	VDUP    R16, V17.S4
	TQ1_DECODE_B
	TQ1_DOT_B(R19, 12)
	TQ1_DOT_B(R20, 13)
	TQ1_DOT_B(R21, 14)
	TQ1_DOT_B(R22, 15)
	ADD     R14, R12, R12
	SUBS    $1, R13, R13
	BNE     tq1wb4
	I2S_ROW_END(V12, F20)
	I2S_ROW_END(V13, F21)
	I2S_ROW_END(V14, F22)
	I2S_ROW_END(V15, F23)
	GROUP4_END
	B       tq1wg4

tq1wg1:
	CBZ  R11, tq1wnext
	MOVD R9, R19
	MOVD R0, R12
	VEOR V12.B16, V12.B16, V12.B16
	LSR  $8, R4, R13

tq1wb1:
	VLD1.P  32(R12), [V16.B16, V17.B16]
	TQ1_DECODE_A
	TQ1_DOT_A(R19, 12)
	VLD1.P  16(R12), [V16.B16]
	MOVWU.P 4(R12), R16
	VDUP    R16, V17.S4
	TQ1_DECODE_B
	TQ1_DOT_B(R19, 12)
	ADD     R14, R12, R12
	SUBS    $1, R13, R13
	BNE     tq1wb1
	I2S_ROW_END(V12, F20)
	FMOVS   F20, (R10)
	ADD     R4, R9, R9
	ADD     R7, R10, R10
	SUB     $1, R11, R11
	B       tq1wg1

tq1wnext:
	ADD  R2, R0, R0
	ADD  $4, R6, R6
	SUBS $1, R1, R1
	BNE  tq1wrow

tq1wdone:
	RET
