// Int8-activation row kernels for arm64 (Q8_0, Q4_0, Q6_K), included twice
// by float_arm64.s with DOT16 = SDOT (NEONDot) or SMULL/SMLAL2/SADALP
// (NEON); the macros are in float_arm64.s. Each computes, for r < len(dst),
//
//	dst[r] = scale * Σ_blocks d_w * Σ_{32-blocks b} d[b] * float32(Σ_{j in b} wq[j]*q[j])
//
// (float32 sums in 4 lanes, in another order than rowDotQ8Generic).
//
// Registers: R0 dst, R1 rows left, R2 row weights, R3 rb, R4 q, R5 d,
// R6 blocks per row, R7 block pointer, R8 q pointer, R9 d pointer, R10
// blocks left, R11 scratch; V25 row accumulator, V30 DOT16 scratch.

// func Q80_NAME(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)
TEXT Q80_NAME(SB), NOSPLIT, $0-108
	Q_PROLOGUE
	CBZ R1, q80done

q80row:
	VEOR V25.B16, V25.B16, V25.B16
	MOVD R2, R7
	MOVD R4, R8
	MOVD R5, R9
	MOVD R6, R10

q80blk:
	MOVHU.P 2(R7), R11
	VLD1.P  32(R7), [V0.B16, V1.B16]
	VLD1.P  32(R8), [V2.B16, V3.B16]
	VEOR    V4.B16, V4.B16, V4.B16
	DOT16(4, 0, 2)
	DOT16(4, 1, 3)
	Q8_BLOCK_END
	SUBS    $1, R10, R10
	BNE     q80blk
	Q_ROW_END
	SUBS    $1, R1, R1
	BNE     q80row

q80done:
	RET

// func Q40_NAME(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)
TEXT Q40_NAME(SB), NOSPLIT, $0-108
	Q_PROLOGUE
	CBZ R1, q40done

q40row:
	VEOR V25.B16, V25.B16, V25.B16
	MOVD R2, R7
	MOVD R4, R8
	MOVD R5, R9
	MOVD R6, R10

q40blk:
	MOVHU.P 2(R7), R11
	VLD1.P  16(R7), [V5.B16]
	VAND    V26.B16, V5.B16, V0.B16
	VSUB    V29.B16, V0.B16, V0.B16
	VUSHR   $4, V5.B16, V1.B16
	VSUB    V29.B16, V1.B16, V1.B16
	VLD1.P  32(R8), [V2.B16, V3.B16]
	VEOR    V4.B16, V4.B16, V4.B16
	DOT16(4, 0, 2)
	DOT16(4, 1, 3)
	Q8_BLOCK_END
	SUBS    $1, R10, R10
	BNE     q40blk
	Q_ROW_END
	SUBS    $1, R1, R1
	BNE     q40row

q40done:
	RET

// func Q6K_NAME(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)
TEXT Q6K_NAME(SB), NOSPLIT, $0-108
	Q_PROLOGUE
	LSR $3, R6, R6 // 256-element blocks
	CBZ R1, q6done
	CBZ R6, q6done

q6row:
	VEOR V25.B16, V25.B16, V25.B16
	MOVD R2, R7
	MOVD R4, R8
	MOVD R5, R9
	MOVD R6, R10

q6blk:
	VLD1.P  64(R7), [V0.B16, V1.B16, V2.B16, V3.B16]
	VLD1.P  64(R7), [V4.B16, V5.B16, V6.B16, V7.B16]
	VLD1.P  32(R7), [V8.B16, V9.B16]
	VLD1.P  32(R7), [V10.B16, V11.B16]
	VLD1.P  16(R7), [V12.B16]
	MOVHU.P 2(R7), R11
	SXTL8H(13, 12)
	SXTL28H(14, 12)
	SXTL4S(20, 13)
	SXTL24S(21, 13)
	SXTL4S(22, 14)
	SXTL24S(23, 14)
	VEOR    V24.B16, V24.B16, V24.B16
	Q6_HALF(V0, V1, V2, V3, V8, V9, 20, 21)
	Q6_HALF(V4, V5, V6, V7, V10, V11, 22, 23)
	FMOVS   R11, F13
	FCVTHS  F13, F13
	VDUP    V13.S[0], V13.S4
	VFMLA   V13.S4, V24.S4, V25.S4
	SUBS    $1, R10, R10
	BNE     q6blk
	Q_ROW_END
	SUBS    $1, R1, R1
	BNE     q6row

q6done:
	RET
