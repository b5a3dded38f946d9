//go:build !noasm

#include "textflag.h"
#include "neon_arm64.h"

// func relu2Mul8NEON(gate, up *float32, n int)
//
// Go compiles max(g, 0) to FMAXS, and g*g*up to two FMULS (g*g first):
// FMAX and FMUL on 4 lanes give the same bits, NaNs included.
TEXT ·relu2Mul8NEON(SB), NOSPLIT, $0-24
	MOVD gate+0(FP), R0
	MOVD up+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $3, R2, R2
	CBZ  R2, rdone
	VEOR V7.B16, V7.B16, V7.B16

rloop:
	VLD1   (R0), [V0.S4, V1.S4]
	VLD1.P 32(R1), [V2.S4, V3.S4]
	FMAX4S(0, 0, 7)
	FMAX4S(1, 1, 7)
	FMUL4S(0, 0, 0)
	FMUL4S(1, 1, 1)
	FMUL4S(0, 0, 2)
	FMUL4S(1, 1, 3)
	VST1.P [V0.S4, V1.S4], 32(R0)
	SUBS   $1, R2, R2
	BNE    rloop

rdone:
	RET

// NEON encodings that gatedact needs beyond neon_arm64.h's (register
// numbers as arguments, d the destination).
#define FMLS2D(d, n, m) WORD $(0x4EE0CC00 | ((m)<<16) | ((n)<<5) | (d))
#define FMUL2D(d, n, m) WORD $(0x6E60DC00 | ((m)<<16) | ((n)<<5) | (d))
#define FSUB2D(d, n, m) WORD $(0x4EE0D400 | ((m)<<16) | ((n)<<5) | (d))
#define FDIV2D(d, n, m) WORD $(0x6E60FC00 | ((m)<<16) | ((n)<<5) | (d))
#define FDIV4S(d, n, m) WORD $(0x6E20FC00 | ((m)<<16) | ((n)<<5) | (d))
#define FCMGT2D(d, n, m) WORD $(0x6EE0E400 | ((m)<<16) | ((n)<<5) | (d))
#define FCMEQ2D(d, n, m) WORD $(0x4E60E400 | ((m)<<16) | ((n)<<5) | (d))
#define FCVTZS2D(d, n) WORD $(0x4EE1B800 | ((n)<<5) | (d))
#define SCVTF2D(d, n) WORD $(0x4E61D800 | ((n)<<5) | (d))
#define FCMLTZ2D(d, n) WORD $(0x4EE0E800 | ((n)<<5) | (d))
#define FABS2D(d, n) WORD $(0x4EE0F800 | ((n)<<5) | (d))
#define BSLB(d, n, m) WORD $(0x6E601C00 | ((m)<<16) | ((n)<<5) | (d))
#define SHL2D52(d, n) WORD $(0x4F745400 | ((n)<<5) | (d))
#define ADD2D(d, n, m) WORD $(0x4EE08400 | ((m)<<16) | ((n)<<5) | (d))
#define FCVTN2S(d, n) WORD $(0x0E616800 | ((n)<<5) | (d))
#define FCVTN4S(d, n) WORD $(0x4E616800 | ((n)<<5) | (d))
#define FNEG4S(d, n) WORD $(0x6EA0F800 | ((n)<<5) | (d))
#define MOVB(d, n) WORD $(0x4EA01C00 | ((n)<<16) | ((n)<<5) | (d))

// EXP2D(x) sets V8.2D to math.Exp of V<x>.2D as math/exp_arm64.s
// computes it, for x in [-120, 100] or NaN (the main path: k = trunc(x*Log2e
// ± 0.5) by the sign of x, hi and lo, the rational correction with its
// division, then 2^k added to the exponent bits; 1+x when |x| < 2^-28; x
// when NaN). Constants in V16..V28; V6, V7 and V9..V15 are clobbered.
#define EXP2D(x) \
	FABS2D(6, x); \
	FCMGT2D(6, 28, 6); \
	MOVB(7, 17); \
	FMLA2D(7, x, 16); \
	MOVB(8, 18); \
	FMLA2D(8, x, 16); \
	FCMLTZ2D(9, x); \
	BSLB(9, 8, 7); \
	FCVTZS2D(9, 9); \
	SCVTF2D(10, 9); \
	MOVB(11, x); \
	FMLS2D(11, 10, 19); \
	FMUL2D(12, 10, 20); \
	FSUB2D(13, 11, 12); \
	FMUL2D(14, 13, 13); \
	MOVB(15, 22); \
	FMLA2D(15, 14, 21); \
	MOVB(7, 23); \
	FMLA2D(7, 14, 15); \
	MOVB(8, 24); \
	FMLA2D(8, 14, 7); \
	MOVB(15, 25); \
	FMLA2D(15, 14, 8); \
	MOVB(7, 13); \
	FMLS2D(7, 15, 14); \
	FSUB2D(8, 26, 7); \
	FMUL2D(15, 7, 13); \
	FDIV2D(15, 15, 8); \
	FSUB2D(15, 12, 15); \
	FSUB2D(15, 15, 11); \
	FSUB2D(15, 27, 15); \
	SHL2D52(9, 9); \
	ADD2D(15, 15, 9); \
	FADD2D(7, x, 27); \
	BSLB(6, 7, 15); \
	FCMEQ2D(8, x, x); \
	BSLB(8, 6, x)

// func siluMul4NEON(gate, up *float32, n int)
//
// siluMulGeneric on gate[:n] and up[:n], n a multiple of 4: -g clamped to
// [-120, 100] (FMIN/FMAX keep a NaN, quieted as the conversion to float64
// quiets it; float32(exp) is 0 below -120 and +Inf above 100 as at the
// clamp), widened, EXP2D on each half, narrowed (FCVTN rounds to nearest
// as FCVTSD does), then (g / (1 + e)) * up in float32.
TEXT ·siluMul4NEON(SB), NOSPLIT, $0-24
	MOVD gate+0(FP), R0
	MOVD up+8(FP), R1
	MOVD n+16(FP), R2
	LSR  $2, R2, R2
	CBZ  R2, sdone
	MOVD $0x3ff71547652b82fe, R3 // Log2e
	VDUP R3, V16.D2
	MOVD $0x3fe0000000000000, R3 // 0.5
	VDUP R3, V17.D2
	MOVD $0xbfe0000000000000, R3 // -0.5
	VDUP R3, V18.D2
	MOVD $0x3fe62e42fee00000, R3 // Ln2Hi
	VDUP R3, V19.D2
	MOVD $0x3dea39ef35793c76, R3 // Ln2Lo
	VDUP R3, V20.D2
	MOVD $0x3e66376972bea4d0, R3 // P5
	VDUP R3, V21.D2
	MOVD $0xbebbbd41c5d26bf1, R3 // P4
	VDUP R3, V22.D2
	MOVD $0x3f11566aaf25de2c, R3 // P3
	VDUP R3, V23.D2
	MOVD $0xbf66c16c16bebd93, R3 // P2
	VDUP R3, V24.D2
	MOVD $0x3fc5555555555555, R3 // P1
	VDUP R3, V25.D2
	MOVD $0x4000000000000000, R3 // 2.0
	VDUP R3, V26.D2
	MOVD $0x3ff0000000000000, R3 // 1.0
	VDUP R3, V27.D2
	MOVD $0x3e30000000000000, R3 // NearZero, 2^-28
	VDUP R3, V28.D2
	MOVW $0x42c80000, R3 // 100 (float32)
	VDUP R3, V29.S4
	MOVW $0xc2f00000, R3 // -120
	VDUP R3, V30.S4
	MOVW $0x3f800000, R3 // 1 (float32)
	VDUP R3, V31.S4

sloop:
	VLD1   (R0), [V0.S4]
	VLD1.P 16(R1), [V1.S4]
	FNEG4S(2, 0)
	FMIN4S(2, 2, 29)
	FMAX4S(2, 2, 30)
	FCVTL2D(3, 2)
	FCVTL2D2(4, 2)
	EXP2D(3)
	FCVTN2S(5, 8)
	EXP2D(4)
	FCVTN4S(5, 8)
	FADD4S(5, 5, 31)
	FDIV4S(5, 0, 5)
	FMUL4S(5, 5, 1)
	VST1.P [V5.S4], 16(R0)
	SUBS   $1, R2, R2
	BNE    sloop

sdone:
	RET
