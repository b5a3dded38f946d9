//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// Float-activation kernels for arm64 (ASIMD): F32, F16, BF16 rows with
// float32 x, Q8_0/Q4_0/Q6_K rows with int8 x (float_arm64.h, at two
// levels), QuantizeInt8, Dot, AxpyTo and RMSNorm's loops. The Go
// declarations and reference loops are in float_arm64.go.

// Common prologue of the float rows kernels: R0 dst, R1 rows, R2 row
// weights, R3 rb, R4 x, R5 cols, F31 scale, V30 = 0.
#define F_PROLOGUE \
	MOVD  dst_base+0(FP), R0; \
	MOVD  dst_len+8(FP), R1; \
	MOVD  w_base+24(FP), R2; \
	MOVD  rb+48(FP), R3; \
	MOVD  x_base+56(FP), R4; \
	MOVD  x_len+64(FP), R5; \
	FMOVS scale+80(FP), F31; \
	VEOR  V30.B16, V30.B16, V30.B16

#define F_ROW_START \
	VEOR V16.B16, V16.B16, V16.B16; \
	VEOR V17.B16, V17.B16, V17.B16; \
	VEOR V18.B16, V18.B16, V18.B16; \
	VEOR V19.B16, V19.B16, V19.B16; \
	MOVD R2, R7; \
	MOVD R4, R8; \
	MOVD R5, R10

// 16 activations at R8 against the weights in V0..V3, into V16..V19.
#define F_FMA16 \
	VLD1.P 64(R8), [V4.S4, V5.S4, V6.S4, V7.S4]; \
	VFMLA  V4.S4, V0.S4, V16.S4; \
	VFMLA  V5.S4, V1.S4, V17.S4; \
	VFMLA  V6.S4, V2.S4, V18.S4; \
	VFMLA  V7.S4, V3.S4, V19.S4

#define F_FMA4 \
	VLD1.P 16(R8), [V4.S4]; \
	VFMLA  V4.S4, V0.S4, V16.S4

// V16..V19 into F16.
#define F_REDUCE \
	FADD4S(16, 16, 17); \
	FADD4S(18, 18, 19); \
	FADD4S(16, 16, 18); \
	FADDP4S(16, 16, 16); \
	FADDP2S(16, 16)

// Scalar tail: weight in F0, activation from R8, into F16.
#define F_FMA1 \
	FMOVS.P 4(R8), F1; \
	FMULS   F1, F0, F0; \
	FADDS   F0, F16, F16

#define F_STORE \
	FMULS   F31, F16, F16; \
	FMOVS.P F16, 4(R0); \
	ADD     R3, R2, R2

// Prologue of the int8-activation kernels (see float_arm64.h). V26 =
// 0x0Fs, V27 = 0x30s, V28 = 32s, V29 = 8s, F31 scale.
#define Q_PROLOGUE \
	MOVD  dst_base+0(FP), R0; \
	MOVD  dst_len+8(FP), R1; \
	MOVD  w_base+24(FP), R2; \
	MOVD  rb+48(FP), R3; \
	MOVD  q_base+56(FP), R4; \
	MOVD  d_base+80(FP), R5; \
	MOVD  d_len+88(FP), R6; \
	FMOVS scale+104(FP), F31; \
	VMOVI $15, V26.B16; \
	VMOVI $48, V27.B16; \
	VMOVI $32, V28.B16; \
	VMOVI $8, V29.B16

// Q8_0/Q4_0 block end: V4 holds the int32 sums, R11 the f16 d_w, R9
// points at d[b]: V25 += float32(V4) * (d_w*d[b]).
#define Q8_BLOCK_END \
	SCVTF4S(4, 4); \
	FMOVS   R11, F5; \
	FCVTHS  F5, F5; \
	FMOVS.P 4(R9), F6; \
	FMULS   F6, F5, F5; \
	VDUP    V5.S[0], V5.S4; \
	VFMLA   V5.S4, V4.S4, V25.S4

#define Q_ROW_END \
	FADDP4S(25, 25, 25); \
	FADDP2S(25, 25); \
	FMULS   F31, F25, F25; \
	FMOVS.P F25, 4(R0); \
	ADD     R3, R2, R2

// Q6_K: 32 elements whose signed codes are in V15, V16, scale vector Vs
// lanes i, i+1; activations from R8, d from R9; into V24.
#define Q6_DOT(S, I) \
	VLD1.P  32(R8), [V17.B16, V18.B16]; \
	VEOR    V19.B16, V19.B16, V19.B16; \
	DOT16(19, 15, 17); \
	MULE(12, 19, S, I); \
	VEOR    V19.B16, V19.B16, V19.B16; \
	DOT16(19, 16, 18); \
	MLAE(12, 19, S, I+1); \
	SCVTF4S(12, 12); \
	VLD1R.P 4(R9), [V13.S4]; \
	VFMLA   V13.S4, V12.S4, V24.S4

// codes = (LO | HI) - 32 into VD, HI already in V14.
#define Q6_CODE(VD) \
	VORR V14.B16, VD.B16, VD.B16; \
	VSUB V28.B16, VD.B16, VD.B16

// Q6_K: one 128-element half: ql in A0..A3, qh in H0, H1, the scales of
// its 8 sub-blocks in vectors S0, S1 (int32).
#define Q6_HALF(A0, A1, A2, A3, H0, H1, S0, S1) \
	VAND  V26.B16, A0.B16, V15.B16; \
	VSHL  $4, H0.B16, V14.B16; \
	VAND  V27.B16, V14.B16, V14.B16; \
	Q6_CODE(V15); \
	VAND  V26.B16, A1.B16, V16.B16; \
	VSHL  $4, H1.B16, V14.B16; \
	VAND  V27.B16, V14.B16, V14.B16; \
	Q6_CODE(V16); \
	Q6_DOT(S0, 0); \
	VAND  V26.B16, A2.B16, V15.B16; \
	VSHL  $2, H0.B16, V14.B16; \
	VAND  V27.B16, V14.B16, V14.B16; \
	Q6_CODE(V15); \
	VAND  V26.B16, A3.B16, V16.B16; \
	VSHL  $2, H1.B16, V14.B16; \
	VAND  V27.B16, V14.B16, V14.B16; \
	Q6_CODE(V16); \
	Q6_DOT(S0, 2); \
	VUSHR $4, A0.B16, V15.B16; \
	VAND  V27.B16, H0.B16, V14.B16; \
	Q6_CODE(V15); \
	VUSHR $4, A1.B16, V16.B16; \
	VAND  V27.B16, H1.B16, V14.B16; \
	Q6_CODE(V16); \
	Q6_DOT(S1, 0); \
	VUSHR $4, A2.B16, V15.B16; \
	VUSHR $2, H0.B16, V14.B16; \
	VAND  V27.B16, V14.B16, V14.B16; \
	Q6_CODE(V15); \
	VUSHR $4, A3.B16, V16.B16; \
	VUSHR $2, H1.B16, V14.B16; \
	VAND  V27.B16, V14.B16, V14.B16; \
	Q6_CODE(V16); \
	Q6_DOT(S1, 2)

// Broadcast the float32 with bits B to every lane of Vv.
#define FCONST(B, V) \
	MOVW $B, R3; \
	VDUP R3, V.S4

// func rowsF32NEON(dst []float32, w []byte, rb int, x []float32, scale float32)
TEXT ·rowsF32NEON(SB), NOSPLIT, $0-84
	F_PROLOGUE
	CBZ R1, done

row:
	F_ROW_START

l16:
	CMP    $16, R10
	BLT    l4
	VLD1.P 64(R7), [V0.S4, V1.S4, V2.S4, V3.S4]
	F_FMA16
	SUB    $16, R10, R10
	B      l16

l4:
	CMP    $4, R10
	BLT    reduce
	VLD1.P 16(R7), [V0.S4]
	F_FMA4
	SUB    $4, R10, R10
	B      l4

reduce:
	F_REDUCE

l1:
	CBZ     R10, store
	FMOVS.P 4(R7), F0
	F_FMA1
	SUB     $1, R10, R10
	B       l1

store:
	F_STORE
	SUBS $1, R1, R1
	BNE  row

done:
	RET

// func rowsF16NEON(dst []float32, w []byte, rb int, x []float32, scale float32)
TEXT ·rowsF16NEON(SB), NOSPLIT, $0-84
	F_PROLOGUE
	CBZ R1, done

row:
	F_ROW_START

l16:
	CMP    $16, R10
	BLT    l4
	VLD1.P 32(R7), [V20.H8, V21.H8]
	FCVTL(0, 20)
	FCVTL2(1, 20)
	FCVTL(2, 21)
	FCVTL2(3, 21)
	F_FMA16
	SUB    $16, R10, R10
	B      l16

l4:
	CMP    $4, R10
	BLT    reduce
	VLD1.P 8(R7), [V20.H4]
	FCVTL(0, 20)
	F_FMA4
	SUB    $4, R10, R10
	B      l4

reduce:
	F_REDUCE

l1:
	CBZ     R10, store
	MOVHU.P 2(R7), R11
	FMOVS   R11, F0
	FCVTHS  F0, F0
	F_FMA1
	SUB     $1, R10, R10
	B       l1

store:
	F_STORE
	SUBS $1, R1, R1
	BNE  row

done:
	RET

// func rowsBF16NEON(dst []float32, w []byte, rb int, x []float32, scale float32)
TEXT ·rowsBF16NEON(SB), NOSPLIT, $0-84
	F_PROLOGUE
	CBZ R1, done

row:
	F_ROW_START

l16:
	CMP    $16, R10
	BLT    l4
	VLD1.P 32(R7), [V20.H8, V21.H8]
	VZIP1  V20.H8, V30.H8, V0.H8
	VZIP2  V20.H8, V30.H8, V1.H8
	VZIP1  V21.H8, V30.H8, V2.H8
	VZIP2  V21.H8, V30.H8, V3.H8
	F_FMA16
	SUB    $16, R10, R10
	B      l16

l4:
	CMP    $4, R10
	BLT    reduce
	VLD1.P 8(R7), [V20.H4]
	VZIP1  V20.H8, V30.H8, V0.H8
	F_FMA4
	SUB    $4, R10, R10
	B      l4

reduce:
	F_REDUCE

l1:
	CBZ     R10, store
	MOVHU.P 2(R7), R11
	LSLW    $16, R11, R11
	FMOVS   R11, F0
	F_FMA1
	SUB     $1, R10, R10
	B       l1

store:
	F_STORE
	SUBS $1, R1, R1
	BNE  row

done:
	RET

#define DOT16(a, w, x) SDOT(a, w, x)
#define Q80_NAME ·rowsQ8_0NEONDot
#define Q40_NAME ·rowsQ4_0NEONDot
#define Q6K_NAME ·rowsQ6_KNEONDot
#include "float_arm64.h"
#undef DOT16
#undef Q80_NAME
#undef Q40_NAME
#undef Q6K_NAME

// Plain NEON: |w| <= 128 and |q| <= 127, so 2 products fit an int16.
#define DOT16(a, w, x) SMULL(30, w, x); SMLAL2(30, w, x); SADALP(a, 30)
#define Q80_NAME ·rowsQ8_0NEON
#define Q40_NAME ·rowsQ4_0NEON
#define Q6K_NAME ·rowsQ6_KNEON
#include "float_arm64.h"

// func absMaxNEON(x []float32, floor float32) float32
TEXT ·absMaxNEON(SB), NOSPLIT, $0-36
	MOVD  x_base+0(FP), R0
	MOVD  x_len+8(FP), R1
	LSR   $4, R1, R1
	FMOVS floor+24(FP), F0
	VDUP  V0.S[0], V0.S4
	VMOV  V0.B16, V1.B16
	VMOV  V0.B16, V2.B16
	VMOV  V0.B16, V3.B16
	CBZ   R1, amreduce

amloop:
	// acc = x > acc ? x : acc, so a NaN x never replaces it.
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	FABS4S(4, 4)
	FABS4S(5, 5)
	FABS4S(6, 6)
	FABS4S(7, 7)
	FCMGT4S(8, 4, 0)
	FCMGT4S(9, 5, 1)
	FCMGT4S(10, 6, 2)
	FCMGT4S(11, 7, 3)
	BITB(0, 4, 8)
	BITB(1, 5, 9)
	BITB(2, 6, 10)
	BITB(3, 7, 11)
	SUBS   $1, R1, R1
	BNE    amloop

amreduce:
	FMAX4S(0, 0, 1)
	FMAX4S(2, 2, 3)
	FMAX4S(0, 0, 2)
	FMAXV4S(0, 0)
	FMOVS F0, ret+32(FP)
	RET

// func quantScaleNEON(dst []int8, x []float32, s float32)
TEXT ·quantScaleNEON(SB), NOSPLIT, $0-52
	MOVD  dst_base+0(FP), R0
	MOVD  x_base+24(FP), R1
	MOVD  x_len+32(FP), R2
	LSR   $4, R2, R2
	FMOVS s+48(FP), F31
	VDUP  V31.S[0], V31.S4
	MOVW  $0x42fe0000, R3 // 127.0
	VDUP  R3, V30.S4
	MOVW  $0xc3000000, R3 // -128.0
	VDUP  R3, V29.S4
	CBZ   R2, qsdone

qsloop:
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMUL4S(0, 0, 31)
	FMUL4S(1, 1, 31)
	FMUL4S(2, 2, 31)
	FMUL4S(3, 3, 31)
	FCMEQ4S(4, 0, 0)
	FCMEQ4S(5, 1, 1)
	FCMEQ4S(6, 2, 2)
	FCMEQ4S(7, 3, 3)
	VAND   V4.B16, V0.B16, V0.B16
	VAND   V5.B16, V1.B16, V1.B16
	VAND   V6.B16, V2.B16, V2.B16
	VAND   V7.B16, V3.B16, V3.B16
	FMIN4S(0, 0, 30)
	FMIN4S(1, 1, 30)
	FMIN4S(2, 2, 30)
	FMIN4S(3, 3, 30)
	FMAX4S(0, 0, 29)
	FMAX4S(1, 1, 29)
	FMAX4S(2, 2, 29)
	FMAX4S(3, 3, 29)
	FCVTNS4S(0, 0)
	FCVTNS4S(1, 1)
	FCVTNS4S(2, 2)
	FCVTNS4S(3, 3)
	VUZP1  V1.H8, V0.H8, V0.H8
	VUZP1  V3.H8, V2.H8, V2.H8
	VUZP1  V2.B16, V0.B16, V0.B16
	VST1.P [V0.B16], 16(R0)
	SUBS   $1, R2, R2
	BNE    qsloop

qsdone:
	RET

// func dotNEON(a, b []float32) float32
TEXT ·dotNEON(SB), NOSPLIT, $0-52
	MOVD a_base+0(FP), R7
	MOVD a_len+8(FP), R10
	MOVD b_base+24(FP), R8
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16

l16:
	CMP    $16, R10
	BLT    l4
	VLD1.P 64(R7), [V0.S4, V1.S4, V2.S4, V3.S4]
	F_FMA16
	SUB    $16, R10, R10
	B      l16

l4:
	CMP    $4, R10
	BLT    reduce
	VLD1.P 16(R7), [V0.S4]
	F_FMA4
	SUB    $4, R10, R10
	B      l4

reduce:
	F_REDUCE

l1:
	CBZ     R10, done
	FMOVS.P 4(R7), F0
	F_FMA1
	SUB     $1, R10, R10
	B       l1

done:
	FMOVS F16, ret+48(FP)
	RET

// func axpyNEON(dst []float32, alpha float32, x []float32)
TEXT ·axpyNEON(SB), NOSPLIT, $0-56
	MOVD  dst_base+0(FP), R0
	FMOVS alpha+24(FP), F31
	MOVD  x_base+32(FP), R1
	MOVD  x_len+40(FP), R2
	VDUP  V31.S[0], V30.S4

ax16:
	CMP    $16, R2
	BLT    ax4
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1   (R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	FMUL4S(0, 0, 30)
	FMUL4S(1, 1, 30)
	FMUL4S(2, 2, 30)
	FMUL4S(3, 3, 30)
	FADD4S(4, 4, 0)
	FADD4S(5, 5, 1)
	FADD4S(6, 6, 2)
	FADD4S(7, 7, 3)
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	SUB    $16, R2, R2
	B      ax16

ax4:
	CMP    $4, R2
	BLT    ax1
	VLD1.P 16(R1), [V0.S4]
	VLD1   (R0), [V4.S4]
	FMUL4S(0, 0, 30)
	FADD4S(4, 4, 0)
	VST1.P [V4.S4], 16(R0)
	SUB    $4, R2, R2
	B      ax4

ax1:
	CBZ     R2, axdone
	FMOVS.P 4(R1), F1
	FMOVS   (R0), F2
	FMULS   F31, F1, F1
	FADDS   F2, F1, F1
	FMOVS.P F1, 4(R0)
	SUB     $1, R2, R2
	B       ax1

axdone:
	RET

// func sumSquaresNEON(x []float32) float64
TEXT ·sumSquaresNEON(SB), NOSPLIT, $0-32
	MOVD x_base+0(FP), R0
	MOVD x_len+8(FP), R1
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16

ss8:
	CMP    $8, R1
	BLT    ss1r
	VLD1.P 32(R0), [V0.S4, V1.S4]
	FCVTL2D(2, 0)
	FCVTL2D2(3, 0)
	FCVTL2D(4, 1)
	FCVTL2D2(5, 1)
	FMLA2D(16, 2, 2)
	FMLA2D(17, 3, 3)
	FMLA2D(18, 4, 4)
	FMLA2D(19, 5, 5)
	SUB    $8, R1, R1
	B      ss8

ss1r:
	FADD2D(16, 16, 17)
	FADD2D(18, 18, 19)
	FADD2D(16, 16, 18)
	FADDP2D(16, 16)

ss1:
	CBZ     R1, ssdone
	FMOVS.P 4(R0), F0
	FCVTSD  F0, F0
	FMULD   F0, F0, F0
	FADDD   F0, F16, F16
	SUB     $1, R1, R1
	B       ss1

ssdone:
	FMOVD F16, ret+24(FP)
	RET

// func scaleMulNEON(dst, x, w []float32, s float32)
TEXT ·scaleMulNEON(SB), NOSPLIT, $0-76
	MOVD  dst_base+0(FP), R0
	MOVD  x_base+24(FP), R1
	MOVD  x_len+32(FP), R2
	MOVD  w_base+48(FP), R3
	MOVD  w_len+56(FP), R4
	FMOVS s+72(FP), F31
	VDUP  V31.S[0], V30.S4
	CBZ   R4, nw4

sm4:
	CMP    $4, R2
	BLT    sm1
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R3), [V1.S4]
	FMUL4S(0, 0, 30)
	FMUL4S(0, 0, 1)
	VST1.P [V0.S4], 16(R0)
	SUB    $4, R2, R2
	B      sm4

sm1:
	CBZ     R2, smdone
	FMOVS.P 4(R1), F0
	FMOVS.P 4(R3), F1
	FMULS   F31, F0, F0
	FMULS   F1, F0, F0
	FMOVS.P F0, 4(R0)
	SUB     $1, R2, R2
	B       sm1

nw4:
	CMP    $4, R2
	BLT    nw1
	VLD1.P 16(R1), [V0.S4]
	FMUL4S(0, 0, 30)
	VST1.P [V0.S4], 16(R0)
	SUB    $4, R2, R2
	B      nw4

nw1:
	CBZ     R2, smdone
	FMOVS.P 4(R1), F0
	FMULS   F31, F0, F0
	FMOVS.P F0, 4(R0)
	SUB     $1, R2, R2
	B       nw1

smdone:
	RET

// func expSubSumNEON(x []float32, mx float32) float64
TEXT ·expSubSumNEON(SB), NOSPLIT, $0-40
	MOVD  x_base+0(FP), R0
	MOVD  x_len+8(FP), R1
	LSR   $2, R1, R1
	FMOVS mx+24(FP), F31
	VDUP  V31.S[0], V31.S4
	FCONST(0x3fb8aa3b, V30) // log2(e)
	FCONST(0x3f318000, V29) // ln 2, high part
	FCONST(0xb95e8083, V28) // ln 2, low part
	FCONST(0xc2aeac50, V27) // ln(2^-126): below it the result is 0
	FCONST(0x39506967, V20) // Cephes expf polynomial
	FCONST(0x3ab743ce, V21)
	FCONST(0x3c088908, V22)
	FCONST(0x3d2aa9c1, V23)
	FCONST(0x3e2aaaaa, V24)
	FCONST(0x3f000000, V25)
	FCONST(0x3f800000, V26)
	MOVW  $127, R3
	VDUP  R3, V19.S4
	VEOR  V16.B16, V16.B16, V16.B16
	VEOR  V17.B16, V17.B16, V17.B16
	CBZ   R1, exdone

exloop:
	VLD1  (R0), [V0.S4]
	FSUB4S(0, 0, 31)    // t = x - mx
	FCMGT4S(6, 27, 0)   // t < ln(2^-126) (-Inf too): result 0
	FMAX4S(0, 0, 27)
	FMUL4S(1, 0, 30)
	FCVTNS4S(1, 1)      // n = round(t*log2e)
	SCVTF4S(2, 1)
	VFMLS V29.S4, V2.S4, V0.S4 // r = t - n*ln2hi - n*ln2lo
	VFMLS V28.S4, V2.S4, V0.S4
	VMOV  V21.B16, V3.B16
	VFMLA V0.S4, V20.S4, V3.S4 // y = c1 + c0*r
	VMOV  V22.B16, V4.B16
	VFMLA V0.S4, V3.S4, V4.S4
	VMOV  V23.B16, V3.B16
	VFMLA V0.S4, V4.S4, V3.S4
	VMOV  V24.B16, V4.B16
	VFMLA V0.S4, V3.S4, V4.S4
	VMOV  V25.B16, V3.B16
	VFMLA V0.S4, V4.S4, V3.S4
	FMUL4S(4, 0, 0)     // r^2
	VMOV  V0.B16, V5.B16
	VFMLA V4.S4, V3.S4, V5.S4  // y*r^2 + r
	FADD4S(5, 5, 26)    // + 1
	VADD  V19.S4, V1.S4, V1.S4 // 2^n as float bits
	VSHL  $23, V1.S4, V1.S4
	FMUL4S(5, 5, 1)
	BICB(5, 5, 6)
	VST1.P [V5.S4], 16(R0)
	FCVTL2D(7, 5)
	FCVTL2D2(8, 5)
	FADD2D(16, 16, 7)
	FADD2D(17, 17, 8)
	SUBS  $1, R1, R1
	BNE   exloop

exdone:
	FADD2D(16, 16, 17)
	FADDP2D(16, 16)
	FMOVD F16, ret+32(FP)
	RET
