//go:build !noasm

#include "textflag.h"

// SiLUMul's and ReLU2Mul's kernels. SiLU: x = -g is clamped to
// [-120, 100] (NaN kept: VMINPS/VMAXPS return their Go-first operand when
// one is NaN), where float32(math.Exp(x)) is 0 below -120 and +Inf above
// 100 as at the clamp, so math.Exp's overflow, underflow and not-finite
// branches are never needed; then each lane runs math.Exp's avxfma path
// (math/exp_amd64.s) in float64 with the same constants and the same
// roundings: k = round(x*LOG2E) (VCVTPD2DQ rounds to nearest even as
// CVTSD2SL does), two fused reductions, *1/16, the degree-8 Horner in FMAs,
// four squarings (the last fused with +1) and *2^k (exact: normal results);
// then float32(e), and (g / (1 + e)) * up in float32 as the Go loop does.
// ReLU²: Go's max(g, 0) is -min(-g, -0) with MINSS twice and an OR: it
// gives +0 for ±0 and |g| for NaN (payload kept); VMAXPS returns g when g
// is NaN or ±0, so the sign bit cleared after it gives the same bits; then
// (g*g)*up.

// Constants, each repeated to fill 32 bytes.
// hi
DATA gact<>+0(SB)/4, $100.0
DATA gact<>+4(SB)/4, $100.0
DATA gact<>+8(SB)/4, $100.0
DATA gact<>+12(SB)/4, $100.0
DATA gact<>+16(SB)/4, $100.0
DATA gact<>+20(SB)/4, $100.0
DATA gact<>+24(SB)/4, $100.0
DATA gact<>+28(SB)/4, $100.0
// lo
DATA gact<>+32(SB)/4, $-120.0
DATA gact<>+36(SB)/4, $-120.0
DATA gact<>+40(SB)/4, $-120.0
DATA gact<>+44(SB)/4, $-120.0
DATA gact<>+48(SB)/4, $-120.0
DATA gact<>+52(SB)/4, $-120.0
DATA gact<>+56(SB)/4, $-120.0
DATA gact<>+60(SB)/4, $-120.0
// sign
DATA gact<>+64(SB)/4, $0x80000000
DATA gact<>+68(SB)/4, $0x80000000
DATA gact<>+72(SB)/4, $0x80000000
DATA gact<>+76(SB)/4, $0x80000000
DATA gact<>+80(SB)/4, $0x80000000
DATA gact<>+84(SB)/4, $0x80000000
DATA gact<>+88(SB)/4, $0x80000000
DATA gact<>+92(SB)/4, $0x80000000
// one32
DATA gact<>+96(SB)/4, $1.0
DATA gact<>+100(SB)/4, $1.0
DATA gact<>+104(SB)/4, $1.0
DATA gact<>+108(SB)/4, $1.0
DATA gact<>+112(SB)/4, $1.0
DATA gact<>+116(SB)/4, $1.0
DATA gact<>+120(SB)/4, $1.0
DATA gact<>+124(SB)/4, $1.0
// log2e
DATA gact<>+128(SB)/8, $1.4426950408889634073599246810018920
DATA gact<>+136(SB)/8, $1.4426950408889634073599246810018920
DATA gact<>+144(SB)/8, $1.4426950408889634073599246810018920
DATA gact<>+152(SB)/8, $1.4426950408889634073599246810018920
// ln2u
DATA gact<>+160(SB)/8, $0.69314718055966295651160180568695068359375
DATA gact<>+168(SB)/8, $0.69314718055966295651160180568695068359375
DATA gact<>+176(SB)/8, $0.69314718055966295651160180568695068359375
DATA gact<>+184(SB)/8, $0.69314718055966295651160180568695068359375
// ln2l
DATA gact<>+192(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA gact<>+200(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA gact<>+208(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA gact<>+216(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
// sixteenth
DATA gact<>+224(SB)/8, $0.0625
DATA gact<>+232(SB)/8, $0.0625
DATA gact<>+240(SB)/8, $0.0625
DATA gact<>+248(SB)/8, $0.0625
// c64
DATA gact<>+256(SB)/8, $2.4801587301587301587e-5
DATA gact<>+264(SB)/8, $2.4801587301587301587e-5
DATA gact<>+272(SB)/8, $2.4801587301587301587e-5
DATA gact<>+280(SB)/8, $2.4801587301587301587e-5
// c56
DATA gact<>+288(SB)/8, $1.9841269841269841270e-4
DATA gact<>+296(SB)/8, $1.9841269841269841270e-4
DATA gact<>+304(SB)/8, $1.9841269841269841270e-4
DATA gact<>+312(SB)/8, $1.9841269841269841270e-4
// c48
DATA gact<>+320(SB)/8, $1.3888888888888888889e-3
DATA gact<>+328(SB)/8, $1.3888888888888888889e-3
DATA gact<>+336(SB)/8, $1.3888888888888888889e-3
DATA gact<>+344(SB)/8, $1.3888888888888888889e-3
// c40
DATA gact<>+352(SB)/8, $8.3333333333333333333e-3
DATA gact<>+360(SB)/8, $8.3333333333333333333e-3
DATA gact<>+368(SB)/8, $8.3333333333333333333e-3
DATA gact<>+376(SB)/8, $8.3333333333333333333e-3
// c32
DATA gact<>+384(SB)/8, $4.1666666666666666667e-2
DATA gact<>+392(SB)/8, $4.1666666666666666667e-2
DATA gact<>+400(SB)/8, $4.1666666666666666667e-2
DATA gact<>+408(SB)/8, $4.1666666666666666667e-2
// c24
DATA gact<>+416(SB)/8, $1.6666666666666666667e-1
DATA gact<>+424(SB)/8, $1.6666666666666666667e-1
DATA gact<>+432(SB)/8, $1.6666666666666666667e-1
DATA gact<>+440(SB)/8, $1.6666666666666666667e-1
// half
DATA gact<>+448(SB)/8, $0.5
DATA gact<>+456(SB)/8, $0.5
DATA gact<>+464(SB)/8, $0.5
DATA gact<>+472(SB)/8, $0.5
// one
DATA gact<>+480(SB)/8, $1.0
DATA gact<>+488(SB)/8, $1.0
DATA gact<>+496(SB)/8, $1.0
DATA gact<>+504(SB)/8, $1.0
// two
DATA gact<>+512(SB)/8, $2.0
DATA gact<>+520(SB)/8, $2.0
DATA gact<>+528(SB)/8, $2.0
DATA gact<>+536(SB)/8, $2.0
// bias
DATA gact<>+544(SB)/8, $1023
DATA gact<>+552(SB)/8, $1023
DATA gact<>+560(SB)/8, $1023
DATA gact<>+568(SB)/8, $1023
// abs
DATA gact<>+576(SB)/4, $0x7fffffff
DATA gact<>+580(SB)/4, $0x7fffffff
DATA gact<>+584(SB)/4, $0x7fffffff
DATA gact<>+588(SB)/4, $0x7fffffff
DATA gact<>+592(SB)/4, $0x7fffffff
DATA gact<>+596(SB)/4, $0x7fffffff
DATA gact<>+600(SB)/4, $0x7fffffff
DATA gact<>+604(SB)/4, $0x7fffffff
GLOBL gact<>(SB), RODATA|NOPTR, $608
#define HI gact<>+0(SB)
#define ABS gact<>+576(SB)
#define LO gact<>+32(SB)
#define SIGN gact<>+64(SB)
#define ONE32 gact<>+96(SB)
#define LOG2E gact<>+128(SB)
#define LN2U gact<>+160(SB)
#define LN2L gact<>+192(SB)
#define SIXTEENTH gact<>+224(SB)
#define C64 gact<>+256(SB)
#define C56 gact<>+288(SB)
#define C48 gact<>+320(SB)
#define C40 gact<>+352(SB)
#define C32 gact<>+384(SB)
#define C24 gact<>+416(SB)
#define HALF gact<>+448(SB)
#define ONE gact<>+480(SB)
#define TWO gact<>+512(SB)
#define BIAS gact<>+544(SB)

// func siluMul8AVX2(gate, up *float32, n int)
TEXT ·siluMul8AVX2(SB), NOSPLIT, $0-24
	MOVQ    gate+0(FP), SI
	MOVQ    up+8(FP), DI
	MOVQ    n+16(FP), CX
	SHRQ    $3, CX
	JZ      sdone
	VMOVUPS HI, Y14
	VMOVUPS LO, Y15
	VMOVUPD LOG2E, Y8
	VMOVUPD LN2U, Y9
	VMOVUPD LN2L, Y10
	VMOVUPD TWO, Y11
	VMOVUPD ONE, Y12
	VMOVUPD SIXTEENTH, Y13

sloop:
	VMOVUPS      (SI), Y0
	VXORPS       SIGN, Y0, Y1
	VMINPS       Y1, Y14, Y1
	VMAXPS       Y1, Y15, Y1
	VCVTPS2PD    X1, Y2
	VEXTRACTF128 $1, Y1, X3
	VCVTPS2PD    X3, Y3
	VMULPD       Y8, Y2, Y4
	VMULPD       Y8, Y3, Y5
	VCVTPD2DQY   Y4, X6
	VCVTPD2DQY   Y5, X7
	VCVTDQ2PD    X6, Y4
	VCVTDQ2PD    X7, Y5
	VFNMADD231PD Y9, Y4, Y2
	VFNMADD231PD Y9, Y5, Y3
	VFNMADD231PD Y10, Y4, Y2
	VFNMADD231PD Y10, Y5, Y3
	VMULPD       Y13, Y2, Y2
	VMULPD       Y13, Y3, Y3
	VMOVUPD      C64, Y4
	VMOVUPD      C64, Y5
	VFMADD213PD  C56, Y2, Y4
	VFMADD213PD  C56, Y3, Y5
	VFMADD213PD  C48, Y2, Y4
	VFMADD213PD  C48, Y3, Y5
	VFMADD213PD  C40, Y2, Y4
	VFMADD213PD  C40, Y3, Y5
	VFMADD213PD  C32, Y2, Y4
	VFMADD213PD  C32, Y3, Y5
	VFMADD213PD  C24, Y2, Y4
	VFMADD213PD  C24, Y3, Y5
	VFMADD213PD  HALF, Y2, Y4
	VFMADD213PD  HALF, Y3, Y5
	VFMADD213PD  Y12, Y2, Y4
	VFMADD213PD  Y12, Y3, Y5
	VMULPD       Y4, Y2, Y2
	VMULPD       Y5, Y3, Y3
	VADDPD       Y11, Y2, Y4
	VADDPD       Y11, Y3, Y5
	VMULPD       Y4, Y2, Y2
	VMULPD       Y5, Y3, Y3
	VADDPD       Y11, Y2, Y4
	VADDPD       Y11, Y3, Y5
	VMULPD       Y4, Y2, Y2
	VMULPD       Y5, Y3, Y3
	VADDPD       Y11, Y2, Y4
	VADDPD       Y11, Y3, Y5
	VMULPD       Y4, Y2, Y2
	VMULPD       Y5, Y3, Y3
	VADDPD       Y11, Y2, Y4
	VADDPD       Y11, Y3, Y5
	VFMADD213PD  Y12, Y4, Y2
	VFMADD213PD  Y12, Y5, Y3
	VPMOVSXDQ    X6, Y6
	VPMOVSXDQ    X7, Y7
	VPADDQ       BIAS, Y6, Y6
	VPADDQ       BIAS, Y7, Y7
	VPSLLQ       $52, Y6, Y6
	VPSLLQ       $52, Y7, Y7
	VMULPD       Y6, Y2, Y2
	VMULPD       Y7, Y3, Y3
	VCVTPD2PSY   Y2, X2
	VCVTPD2PSY   Y3, X3
	VINSERTF128  $1, X3, Y2, Y2
	VADDPS       ONE32, Y2, Y2
	VDIVPS       Y2, Y0, Y2
	VMULPS       (DI), Y2, Y2
	VMOVUPS      Y2, (SI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	DECQ         CX
	JNZ          sloop

sdone:
	VZEROUPPER
	RET

// func relu2Mul8AVX2(gate, up *float32, n int)
TEXT ·relu2Mul8AVX2(SB), NOSPLIT, $0-24
	MOVQ   gate+0(FP), SI
	MOVQ   up+8(FP), DI
	MOVQ   n+16(FP), CX
	SHRQ   $3, CX
	JZ     rdone
	VXORPS Y15, Y15, Y15
	VMOVUPS ABS, Y14

rloop:
	VMOVUPS (SI), Y0
	VMAXPS  Y0, Y15, Y0
	VANDPS  Y14, Y0, Y0
	VMULPS  Y0, Y0, Y0
	VMULPS  (DI), Y0, Y0
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     rloop

rdone:
	VZEROUPPER
	RET

// SILU16 does Z2 = SiLU(Z0) * Z1 on 16 lanes (constants in Z15..Z31, see
// siluMulZ; the steps as in siluMul8AVX2, 2^k by VSCALEFPD, exact here).
#define SILU16 \
	VPXORD        Z15, Z0, Z3; \
	VMINPS        Z3, Z30, Z3; \
	VMAXPS        Z3, Z31, Z3; \
	VCVTPS2PD     Y3, Z4; \
	VEXTRACTF32X8 $1, Z3, Y5; \
	VCVTPS2PD     Y5, Z5; \
	VMULPD        Z16, Z4, Z6; \
	VMULPD        Z16, Z5, Z7; \
	VCVTPD2DQ     Z6, Y6; \
	VCVTPD2DQ     Z7, Y7; \
	VCVTDQ2PD     Y6, Z6; \
	VCVTDQ2PD     Y7, Z7; \
	VFNMADD231PD  Z17, Z6, Z4; \
	VFNMADD231PD  Z17, Z7, Z5; \
	VFNMADD231PD  Z18, Z6, Z4; \
	VFNMADD231PD  Z18, Z7, Z5; \
	VMULPD        Z19, Z4, Z4; \
	VMULPD        Z19, Z5, Z5; \
	VMOVAPD       Z20, Z8; \
	VMOVAPD       Z20, Z9; \
	VFMADD213PD   Z21, Z4, Z8; \
	VFMADD213PD   Z21, Z5, Z9; \
	VFMADD213PD   Z22, Z4, Z8; \
	VFMADD213PD   Z22, Z5, Z9; \
	VFMADD213PD   Z23, Z4, Z8; \
	VFMADD213PD   Z23, Z5, Z9; \
	VFMADD213PD   Z24, Z4, Z8; \
	VFMADD213PD   Z24, Z5, Z9; \
	VFMADD213PD   Z25, Z4, Z8; \
	VFMADD213PD   Z25, Z5, Z9; \
	VFMADD213PD   Z26, Z4, Z8; \
	VFMADD213PD   Z26, Z5, Z9; \
	VFMADD213PD   Z27, Z4, Z8; \
	VFMADD213PD   Z27, Z5, Z9; \
	VMULPD        Z8, Z4, Z4; \
	VMULPD        Z9, Z5, Z5; \
	VADDPD        Z28, Z4, Z8; \
	VADDPD        Z28, Z5, Z9; \
	VMULPD        Z8, Z4, Z4; \
	VMULPD        Z9, Z5, Z5; \
	VADDPD        Z28, Z4, Z8; \
	VADDPD        Z28, Z5, Z9; \
	VMULPD        Z8, Z4, Z4; \
	VMULPD        Z9, Z5, Z5; \
	VADDPD        Z28, Z4, Z8; \
	VADDPD        Z28, Z5, Z9; \
	VMULPD        Z8, Z4, Z4; \
	VMULPD        Z9, Z5, Z5; \
	VADDPD        Z28, Z4, Z8; \
	VADDPD        Z28, Z5, Z9; \
	VFMADD213PD   Z27, Z8, Z4; \
	VFMADD213PD   Z27, Z9, Z5; \
	VSCALEFPD     Z6, Z4, Z4; \
	VSCALEFPD     Z7, Z5, Z5; \
	VCVTPD2PS     Z4, Y4; \
	VCVTPD2PS     Z5, Y5; \
	VINSERTF32X8  $1, Y5, Z4, Z4; \
	VADDPS        Z29, Z4, Z4; \
	VDIVPS        Z4, Z0, Z2; \
	VMULPS        Z1, Z2, Z2

// func siluMulZ(gate, up *float32, n int)
TEXT ·siluMulZ(SB), NOSPLIT, $0-24
	MOVQ         gate+0(FP), SI
	MOVQ         up+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS SIGN, Z15
	VBROADCASTSD LOG2E, Z16
	VBROADCASTSD LN2U, Z17
	VBROADCASTSD LN2L, Z18
	VBROADCASTSD SIXTEENTH, Z19
	VBROADCASTSD C64, Z20
	VBROADCASTSD C56, Z21
	VBROADCASTSD C48, Z22
	VBROADCASTSD C40, Z23
	VBROADCASTSD C32, Z24
	VBROADCASTSD C24, Z25
	VBROADCASTSD HALF, Z26
	VBROADCASTSD ONE, Z27
	VBROADCASTSD TWO, Z28
	VBROADCASTSS ONE32, Z29
	VBROADCASTSS HI, Z30
	VBROADCASTSS LO, Z31
	CMPQ         CX, $16
	JB           zstail

zsloop:
	VMOVUPS (SI), Z0
	VMOVUPS (DI), Z1
	SILU16
	VMOVUPS Z2, (SI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     zsloop

zstail:
	TESTQ     CX, CX
	JZ        zsdone
	MOVL      $1, AX
	SHLL      CX, AX
	DECL      AX
	KMOVW     AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DI), K1, Z1
	SILU16
	VMOVUPS   Z2, K1, (SI)

zsdone:
	VZEROUPPER
	RET

// func relu2MulZ(gate, up *float32, n int)
TEXT ·relu2MulZ(SB), NOSPLIT, $0-24
	MOVQ   gate+0(FP), SI
	MOVQ   up+8(FP), DI
	MOVQ   n+16(FP), CX
	VPXORD Z15, Z15, Z15
	VBROADCASTSS ABS, Z14
	CMPQ   CX, $32
	JB     zr16

zrloop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z2
	VMAXPS  Z0, Z15, Z0
	VMAXPS  Z2, Z15, Z2
	VPANDD  Z14, Z0, Z0
	VPANDD  Z14, Z2, Z2
	VMULPS  Z0, Z0, Z0
	VMULPS  Z2, Z2, Z2
	VMULPS  (DI), Z0, Z0
	VMULPS  64(DI), Z2, Z2
	VMOVUPS Z0, (SI)
	VMOVUPS Z2, 64(SI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     zrloop

zr16:
	CMPQ    CX, $16
	JB      zrtail
	VMOVUPS (SI), Z0
	VMAXPS  Z0, Z15, Z0
	VPANDD  Z14, Z0, Z0
	VMULPS  Z0, Z0, Z0
	VMULPS  (DI), Z0, Z0
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX

zrtail:
	TESTQ     CX, CX
	JZ        zrdone
	MOVL      $1, AX
	SHLL      CX, AX
	DECL      AX
	KMOVW     AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DI), K1, Z1
	VMAXPS    Z0, Z15, Z0
	VPANDD    Z14, Z0, Z0
	VMULPS    Z0, Z0, Z0
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (SI)

zrdone:
	VZEROUPPER
	RET
