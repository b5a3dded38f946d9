//go:build !noasm

#include "textflag.h"

// AVX2 + FMA + F16C kernels with float activations (LM head, embeddings):
// row dots of F32, F16, BF16 rows with float32 x, and of Q8_0, Q4_0, Q6_K
// rows with x quantized to int8 per 32 elements (see act.go). Each rows*
// function loops over len(dst) rows stored back to back, rb bytes apart, and
// stores scale * dot. The Go declarations and reference loops are in
// float_amd64.go.

DATA ones16<>+0(SB)/8, $0x0001000100010001
DATA ones16<>+8(SB)/8, $0x0001000100010001
GLOBL ones16<>(SB), RODATA|NOPTR, $16

DATA nib0f<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib0f<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL nib0f<>(SB), RODATA|NOPTR, $16

DATA bits30<>+0(SB)/8, $0x3030303030303030
DATA bits30<>+8(SB)/8, $0x3030303030303030
GLOBL bits30<>(SB), RODATA|NOPTR, $16

DATA eight8<>+0(SB)/8, $0x0808080808080808
DATA eight8<>+8(SB)/8, $0x0808080808080808
GLOBL eight8<>(SB), RODATA|NOPTR, $16

// q6shuf<> holds four VPSHUFB masks: mask c puts int16 lane 2c of the low
// 128 bits into every low lane and lane 2c+1 into every high lane.
#define SHUF2(a, b) DATA q6shuf<>+a(SB)/8, $b
SHUF2(0, 0x0100010001000100)
SHUF2(8, 0x0100010001000100)
SHUF2(16, 0x0302030203020302)
SHUF2(24, 0x0302030203020302)
SHUF2(32, 0x0504050405040504)
SHUF2(40, 0x0504050405040504)
SHUF2(48, 0x0706070607060706)
SHUF2(56, 0x0706070607060706)
SHUF2(64, 0x0908090809080908)
SHUF2(72, 0x0908090809080908)
SHUF2(80, 0x0b0a0b0a0b0a0b0a)
SHUF2(88, 0x0b0a0b0a0b0a0b0a)
SHUF2(96, 0x0d0c0d0c0d0c0d0c)
SHUF2(104, 0x0d0c0d0c0d0c0d0c)
SHUF2(112, 0x0f0e0f0e0f0e0f0e)
SHUF2(120, 0x0f0e0f0e0f0e0f0e)
GLOBL q6shuf<>(SB), RODATA|NOPTR, $128

// dw2w<>: VPSHUFB mask taking the low word of each dword into the low 8
// bytes of each 128-bit lane.
DATA dw2w<>+0(SB)/8, $0x0d0c090805040100
DATA dw2w<>+8(SB)/8, $0x8080808080808080
DATA dw2w<>+16(SB)/8, $0x0d0c090805040100
DATA dw2w<>+24(SB)/8, $0x8080808080808080
GLOBL dw2w<>(SB), RODATA|NOPTR, $32

// AVX2 Q8_0/Q4_0 in groups of 8 blocks: the 8 scales d_w*d[b] computed at
// once (d_w gathered at the Y11 offsets, f16 in the low half of each
// dword) into sc-32(SP).
#define Q8SCALES8 \
	VPCMPEQD   Y7, Y7, Y7; \
	VPXOR      Y8, Y8, Y8; \
	VPGATHERDD Y7, (AX)(Y11*1), Y8; \
	VPSHUFB    dw2w<>(SB), Y8, Y8; \
	VPERMQ     $0x08, Y8, Y8; \
	VCVTPH2PS  X8, Y8; \
	VMULPS     (R11), Y8, Y8; \
	VMOVUPS    Y8, sc-32(SP)

// One block of a group: signed weights in Y2, activations at XO(BX), its
// scale at SO: ACC += float32(lane sums of w*q) * scale.
#define Q8DOTBLK(XO, SO, ACC) \
	VMOVDQU      XO(BX), Y3; \
	VPSIGNB      Y2, Y3, Y3; \
	VPABSB       Y2, Y2; \
	VPMADDUBSW   Y3, Y2, Y4; \
	VPMADDWD     Y13, Y4, Y4; \
	VCVTDQ2PS    Y4, Y4; \
	VBROADCASTSS SO, Y5; \
	VFMADD231PS  Y5, Y4, ACC

#define Q4LOADAT(WO) \
	VMOVDQU     WO(AX), X2; \
	VPSRLW      $4, X2, X3; \
	VINSERTI128 $1, X3, Y2, Y2; \
	VPAND       Y12, Y2, Y2; \
	VPSUBB      Y14, Y2, Y2

// q8idx<> / q4idx<>: byte offsets of the d of 8 consecutive Q8_0 / Q4_0
// blocks (VPGATHERDD indexes); q8perm<>: four VPERMPS indexes, vector k
// selecting block scale 2k in lanes 0-7 and 2k+1 in lanes 8-15.
DATA q8idx<>+0(SB)/8, $0x0000002200000000
DATA q8idx<>+8(SB)/8, $0x0000006600000044
DATA q8idx<>+16(SB)/8, $0x000000aa00000088
DATA q8idx<>+24(SB)/8, $0x000000ee000000cc
GLOBL q8idx<>(SB), RODATA|NOPTR, $32
DATA q4idx<>+0(SB)/8, $0x0000001200000000
DATA q4idx<>+8(SB)/8, $0x0000003600000024
DATA q4idx<>+16(SB)/8, $0x0000005a00000048
DATA q4idx<>+24(SB)/8, $0x0000007e0000006c
GLOBL q4idx<>(SB), RODATA|NOPTR, $32
DATA q8perm<>+0(SB)/8, $0x0000000000000000
DATA q8perm<>+8(SB)/8, $0x0000000000000000
DATA q8perm<>+16(SB)/8, $0x0000000000000000
DATA q8perm<>+24(SB)/8, $0x0000000000000000
DATA q8perm<>+32(SB)/8, $0x0000000100000001
DATA q8perm<>+40(SB)/8, $0x0000000100000001
DATA q8perm<>+48(SB)/8, $0x0000000100000001
DATA q8perm<>+56(SB)/8, $0x0000000100000001
DATA q8perm<>+64(SB)/8, $0x0000000200000002
DATA q8perm<>+72(SB)/8, $0x0000000200000002
DATA q8perm<>+80(SB)/8, $0x0000000200000002
DATA q8perm<>+88(SB)/8, $0x0000000200000002
DATA q8perm<>+96(SB)/8, $0x0000000300000003
DATA q8perm<>+104(SB)/8, $0x0000000300000003
DATA q8perm<>+112(SB)/8, $0x0000000300000003
DATA q8perm<>+120(SB)/8, $0x0000000300000003
DATA q8perm<>+128(SB)/8, $0x0000000400000004
DATA q8perm<>+136(SB)/8, $0x0000000400000004
DATA q8perm<>+144(SB)/8, $0x0000000400000004
DATA q8perm<>+152(SB)/8, $0x0000000400000004
DATA q8perm<>+160(SB)/8, $0x0000000500000005
DATA q8perm<>+168(SB)/8, $0x0000000500000005
DATA q8perm<>+176(SB)/8, $0x0000000500000005
DATA q8perm<>+184(SB)/8, $0x0000000500000005
DATA q8perm<>+192(SB)/8, $0x0000000600000006
DATA q8perm<>+200(SB)/8, $0x0000000600000006
DATA q8perm<>+208(SB)/8, $0x0000000600000006
DATA q8perm<>+216(SB)/8, $0x0000000600000006
DATA q8perm<>+224(SB)/8, $0x0000000700000007
DATA q8perm<>+232(SB)/8, $0x0000000700000007
DATA q8perm<>+240(SB)/8, $0x0000000700000007
DATA q8perm<>+248(SB)/8, $0x0000000700000007
GLOBL q8perm<>(SB), RODATA|NOPTR, $256

// AVX-512 Q8_0/Q4_0: two blocks whose signed weights are in Z2, their 64
// activations at XO(BX), their scales (d_w*d) picked from Z8 by IDX: ACC +=
// float32(lane sums of w*q) * scale.
#define Q8PAIR512(XO, IDX, ACC) \
	VMOVDQU64   XO(BX), Z3; \
	VPMOVB2M    Z2, K1; \
	VPABSB      Z2, Z2; \
	VPSUBB      Z3, Z30, K1, Z3; \
	VPXORD      Z4, Z4, Z4; \
	VPDPBUSD    Z3, Z2, Z4; \
	VCVTDQ2PS   Z4, Z4; \
	VPERMPS     Z8, IDX, Z5; \
	VFMADD231PS Z5, Z4, ACC

#define Q80LOAD512(WO) \
	VMOVDQU      WO+2(AX), Y2; \
	VINSERTI64X4 $1, WO+36(AX), Z2, Z2

#define Q40LOAD512(WO) \
	VMOVDQU      WO+2(AX), X2; \
	VINSERTI128  $1, WO+20(AX), Y2, Y2; \
	VPSRLW       $4, Y2, Y3; \
	VINSERTI64X4 $1, Y3, Z2, Z2; \
	VSHUFI64X2   $0xd8, Z2, Z2, Z2; \
	VPANDD       Z14, Z2, Z2; \
	VPSUBB       Z13, Z2, Z2

// The scales of 8 blocks into Y8: d_w gathered at IDXREG offsets from AX
// (f16 in the low half of each dword), times d[b..b+7] at R11.
#define Q8SCALES512(IDXREG) \
	VPCMPEQD   Y7, Y7, Y7; \
	VPXOR      Y8, Y8, Y8; \
	VPGATHERDD Y7, (AX)(IDXREG*1), Y8; \
	VPMOVDW    Y8, X8; \
	VCVTPH2PS  X8, Y8; \
	VMULPS     (R11), Y8, Y8

// q6perm<> holds four VPERMW index vectors (32 words each): vector k puts
// scale 4k+i (i < 4) in words 8i..8i+7.
DATA q6perm<>+0(SB)/8, $0x0000000000000000
DATA q6perm<>+8(SB)/8, $0x0000000000000000
DATA q6perm<>+16(SB)/8, $0x0001000100010001
DATA q6perm<>+24(SB)/8, $0x0001000100010001
DATA q6perm<>+32(SB)/8, $0x0002000200020002
DATA q6perm<>+40(SB)/8, $0x0002000200020002
DATA q6perm<>+48(SB)/8, $0x0003000300030003
DATA q6perm<>+56(SB)/8, $0x0003000300030003
DATA q6perm<>+64(SB)/8, $0x0004000400040004
DATA q6perm<>+72(SB)/8, $0x0004000400040004
DATA q6perm<>+80(SB)/8, $0x0005000500050005
DATA q6perm<>+88(SB)/8, $0x0005000500050005
DATA q6perm<>+96(SB)/8, $0x0006000600060006
DATA q6perm<>+104(SB)/8, $0x0006000600060006
DATA q6perm<>+112(SB)/8, $0x0007000700070007
DATA q6perm<>+120(SB)/8, $0x0007000700070007
DATA q6perm<>+128(SB)/8, $0x0008000800080008
DATA q6perm<>+136(SB)/8, $0x0008000800080008
DATA q6perm<>+144(SB)/8, $0x0009000900090009
DATA q6perm<>+152(SB)/8, $0x0009000900090009
DATA q6perm<>+160(SB)/8, $0x000a000a000a000a
DATA q6perm<>+168(SB)/8, $0x000a000a000a000a
DATA q6perm<>+176(SB)/8, $0x000b000b000b000b
DATA q6perm<>+184(SB)/8, $0x000b000b000b000b
DATA q6perm<>+192(SB)/8, $0x000c000c000c000c
DATA q6perm<>+200(SB)/8, $0x000c000c000c000c
DATA q6perm<>+208(SB)/8, $0x000d000d000d000d
DATA q6perm<>+216(SB)/8, $0x000d000d000d000d
DATA q6perm<>+224(SB)/8, $0x000e000e000e000e
DATA q6perm<>+232(SB)/8, $0x000e000e000e000e
DATA q6perm<>+240(SB)/8, $0x000f000f000f000f
DATA q6perm<>+248(SB)/8, $0x000f000f000f000f
GLOBL q6perm<>(SB), RODATA|NOPTR, $256

// AVX-512 Q6_K: one 128-element half: ql at QL(AX), qh at QH(AX), the
// VPERMW indexes of its two 64-element groups in IA, IB, activations at
// XO(BX), expanded d at DO(R12). Adds into Z10.
#define Q6HALF512(QL, QH, IA, IB, XO, DO) \
	VMOVDQU64    QL(AX), Z0; \
	VMOVDQU      QH(AX), Y2; \
	VPSRLW       $2, Y2, Y3; \
	VINSERTI64X4 $1, Y3, Z2, Z2; \
	VPSLLW       $4, Z2, Z3; \
	VPANDD       Z14, Z3, Z3; \
	VPTERNLOGD   $0xf8, Z15, Z0, Z3; \
	VPANDD       Z14, Z2, Z4; \
	VPSRLW       $4, Z0, Z5; \
	VPTERNLOGD   $0xf8, Z15, Z5, Z4; \
	VPMADDUBSW   XO(BX), Z3, Z5; \
	VPERMW       Z12, IA, Z6; \
	VPMADDWD     Z6, Z5, Z5; \
	VCVTDQ2PS    Z5, Z5; \
	VFMADD231PS  DO(R12), Z5, Z10; \
	VPMADDUBSW   XO+64(BX), Z4, Z5; \
	VPERMW       Z12, IB, Z6; \
	VPMADDWD     Z6, Z5, Z5; \
	VCVTDQ2PS    Z5, Z5; \
	VFMADD231PS  DO+64(R12), Z5, Z10

// Horizontal sum of the 8 floats of Y0 into X0 (lane 0); clobbers X1.
#define HSUM0 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VPERMILPS    $0x4e, X0, X1; \
	VADDPS       X1, X0, X0; \
	VPERMILPS    $0xb1, X0, X1; \
	VADDPS       X1, X0, X0

// Common prologue of the float rows kernels: DI dst, R8 rows, SI w, R9 rb,
// DX x, CX cols, X15 scale.
#define FLOAT_ROWS_PROLOGUE \
	MOVQ   dst_base+0(FP), DI; \
	MOVQ   dst_len+8(FP), R8; \
	MOVQ   w_base+24(FP), SI; \
	MOVQ   rb+48(FP), R9; \
	MOVQ   x_base+56(FP), DX; \
	MOVQ   x_len+64(FP), CX; \
	VMOVSS scale+80(FP), X15; \
	TESTQ  R8, R8; \
	JEQ    done

// Common row epilogue: Y0..Y3 partial sums, scalar tail added into X0 by
// the caller; then dst[r] = scale * sum and on to the next row.
#define REDUCE4 \
	VADDPS Y1, Y0, Y0; \
	VADDPS Y3, Y2, Y2; \
	VADDPS Y2, Y0, Y0; \
	HSUM0

// Q8_0 / Q4_0 block step: Y2 holds the 32 signed weights of the block at
// AX, BX points at the block's 32 int8 activations and R11 at its d. Adds
// d_w*d_x*(lane sums of w*q) into ACC. Clobbers Y3, Y4, X5/Y5, R12.
#define Q8STEP(ACC) \
	VMOVDQU      (BX), Y3; \
	VPSIGNB      Y2, Y3, Y3; \
	VPABSB       Y2, Y2; \
	VPMADDUBSW   Y3, Y2, Y4; \
	VPMADDWD     Y13, Y4, Y4; \
	VCVTDQ2PS    Y4, Y4; \
	MOVWLZX      (AX), R12; \
	VMOVD        R12, X5; \
	VCVTPH2PS    X5, X5; \
	VMULSS       (R11), X5, X5; \
	VBROADCASTSS X5, Y5; \
	VFMADD231PS  Y5, Y4, ACC

// Prologue of the int8-activation kernels: DI dst, R8 rows, SI w, R9 rb,
// DX q, CX blocks of 32, R15 d.
#define Q8_ROWS_PROLOGUE \
	MOVQ dst_base+0(FP), DI; \
	MOVQ dst_len+8(FP), R8; \
	MOVQ w_base+24(FP), SI; \
	MOVQ rb+48(FP), R9; \
	MOVQ q_base+56(FP), DX; \
	MOVQ d_base+80(FP), R15; \
	MOVQ d_len+88(FP), CX; \
	TESTQ R8, R8; \
	JEQ  done

// Q4_0 weights of the block at AX into Y2 as signed bytes (q - 8).
#define Q4LOAD \
	VMOVDQU     2(AX), X2; \
	VPSRLW      $4, X2, X3; \
	VINSERTI128 $1, X3, Y2, Y2; \
	VPAND       Y12, Y2, Y2; \
	VPSUBB      Y14, Y2, Y2

// Q6_K: one 32-element chunk. YQ holds its 6-bit codes (unsigned, q+32),
// XO is the offset of its activations from BX, MASK the offset of its
// scale-shuffle mask, SC the 16 scales of this half (int16, both 128-bit
// lanes alike), D8 the offset of its expanded d from R12. Adds into Y10.
#define Q6CHUNK(YQ, XO, MASK, SC, D8) \
	VPMADDUBSW  XO(BX), YQ, Y5; \
	VPSHUFB     q6shuf<>+MASK(SB), SC, Y6; \
	VPMADDWD    Y6, Y5, Y5; \
	VCVTDQ2PS   Y5, Y5; \
	VFMADD231PS D8(R12), Y5, Y10

// Q6_K: one 128-element half: ql at QL(AX), qh at QH(AX).
#define Q6HALF(QL, QH, SC, XO, D8) \
	VMOVDQU   QL(AX), Y0; \
	VMOVDQU   QL+32(AX), Y1; \
	VMOVDQU   QH(AX), Y2; \
	VPAND     Y15, Y0, Y3; \
	VPSLLW    $4, Y2, Y4; \
	VPAND     Y14, Y4, Y4; \
	VPOR      Y4, Y3, Y3; \
	Q6CHUNK(Y3, XO, 0, SC, D8); \
	VPAND     Y15, Y1, Y7; \
	VPSLLW    $2, Y2, Y4; \
	VPAND     Y14, Y4, Y4; \
	VPOR      Y4, Y7, Y7; \
	Q6CHUNK(Y7, XO+32, 32, SC, D8+32); \
	VPSRLW    $4, Y0, Y3; \
	VPAND     Y15, Y3, Y3; \
	VPAND     Y14, Y2, Y4; \
	VPOR      Y4, Y3, Y3; \
	Q6CHUNK(Y3, XO+64, 64, SC, D8+64); \
	VPSRLW    $4, Y1, Y7; \
	VPAND     Y15, Y7, Y7; \
	VPSRLW    $2, Y2, Y4; \
	VPAND     Y14, Y4, Y4; \
	VPOR      Y4, Y7, Y7; \
	Q6CHUNK(Y7, XO+96, 96, SC, D8+96)

// Quantize the 8 floats of Y into int32 lanes: y = x*s (Y15), NaN -> 0,
// clamp to [-128, 127] (Y14, Y13), round half to even.
#define QSCALE(OFF, Y) \
	VMULPS    OFF(SI), Y15, Y; \
	VCMPPS    $0, Y, Y, Y12; \
	VANDPS    Y12, Y, Y; \
	VMINPS    Y14, Y, Y; \
	VMAXPS    Y13, Y, Y; \
	VCVTPS2DQ Y, Y

// Prologue of the AVX-512 Q8_0/Q4_0 kernels: Q8_ROWS_PROLOGUE, CX in
// groups of 8 blocks, the scale indexes in Z20-Z23, Z30 = 0.
#define Q8_512_PROLOGUE \
	Q8_ROWS_PROLOGUE; \
	SHRQ      $3, CX; \
	VMOVSS    scale+104(FP), X15; \
	VMOVDQU64 q8perm<>+0(SB), Z20; \
	VMOVDQU64 q8perm<>+64(SB), Z21; \
	VMOVDQU64 q8perm<>+128(SB), Z22; \
	VMOVDQU64 q8perm<>+192(SB), Z23; \
	VPXORD    Z30, Z30, Z30; \
	TESTQ     CX, CX; \
	JEQ       done

#define Q8_512_ROW_START \
	VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	MOVQ   SI, AX; \
	MOVQ   DX, BX; \
	MOVQ   R15, R11; \
	MOVQ   CX, R10

#define Q8_512_ROW_END \
	VADDPS        Z1, Z0, Z0; \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS        Y1, Y0, Y0; \
	HSUM0; \
	VMULSS        X15, X0, X0; \
	VMOVSS        X0, (DI); \
	ADDQ          $4, DI; \
	ADDQ          R9, SI

// func rowsF32AVX2(dst []float32, w []byte, rb int, x []float32, scale float32)
TEXT ·rowsF32AVX2(SB), NOSPLIT, $0-84
	FLOAT_ROWS_PROLOGUE

f32row:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   DX, BX
	MOVQ   CX, R10
	CMPQ   R10, $32
	JB     f32tail8

f32loop32:
	VMOVUPS     (AX), Y4
	VMOVUPS     32(AX), Y5
	VMOVUPS     64(AX), Y6
	VMOVUPS     96(AX), Y7
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	VFMADD231PS 64(BX), Y6, Y2
	VFMADD231PS 96(BX), Y7, Y3
	ADDQ        $128, AX
	ADDQ        $128, BX
	SUBQ        $32, R10
	CMPQ        R10, $32
	JAE         f32loop32

f32tail8:
	CMPQ        R10, $8
	JB          f32reduce
	VMOVUPS     (AX), Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ        $32, AX
	ADDQ        $32, BX
	SUBQ        $8, R10
	JMP         f32tail8

f32reduce:
	REDUCE4

f32tail1:
	TESTQ       R10, R10
	JEQ         f32store
	VMOVSS      (AX), X1
	VFMADD231SS (BX), X1, X0
	ADDQ        $4, AX
	ADDQ        $4, BX
	DECQ        R10
	JMP         f32tail1

f32store:
	VMULSS X0, X15, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, SI
	DECQ   R8
	JNE    f32row

done:
	VZEROUPPER
	RET

// func rowsF16AVX2(dst []float32, w []byte, rb int, x []float32, scale float32)
TEXT ·rowsF16AVX2(SB), NOSPLIT, $0-84
	FLOAT_ROWS_PROLOGUE

f16row:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   DX, BX
	MOVQ   CX, R10
	CMPQ   R10, $32
	JB     f16tail8

f16loop32:
	VCVTPH2PS   (AX), Y4
	VCVTPH2PS   16(AX), Y5
	VCVTPH2PS   32(AX), Y6
	VCVTPH2PS   48(AX), Y7
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	VFMADD231PS 64(BX), Y6, Y2
	VFMADD231PS 96(BX), Y7, Y3
	ADDQ        $64, AX
	ADDQ        $128, BX
	SUBQ        $32, R10
	CMPQ        R10, $32
	JAE         f16loop32

f16tail8:
	CMPQ        R10, $8
	JB          f16reduce
	VCVTPH2PS   (AX), Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ        $16, AX
	ADDQ        $32, BX
	SUBQ        $8, R10
	JMP         f16tail8

f16reduce:
	REDUCE4

f16tail1:
	TESTQ       R10, R10
	JEQ         f16store
	MOVWLZX     (AX), R11
	VMOVD       R11, X1
	VCVTPH2PS   X1, X1
	VFMADD231SS (BX), X1, X0
	ADDQ        $2, AX
	ADDQ        $4, BX
	DECQ        R10
	JMP         f16tail1

f16store:
	VMULSS X0, X15, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, SI
	DECQ   R8
	JNE    f16row

done:
	VZEROUPPER
	RET

// func rowsBF16AVX2(dst []float32, w []byte, rb int, x []float32, scale float32)
TEXT ·rowsBF16AVX2(SB), NOSPLIT, $0-84
	FLOAT_ROWS_PROLOGUE

bf16row:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   DX, BX
	MOVQ   CX, R10
	CMPQ   R10, $32
	JB     bf16tail8

bf16loop32:
	VPMOVZXWD   (AX), Y4
	VPMOVZXWD   16(AX), Y5
	VPMOVZXWD   32(AX), Y6
	VPMOVZXWD   48(AX), Y7
	VPSLLD      $16, Y4, Y4
	VPSLLD      $16, Y5, Y5
	VPSLLD      $16, Y6, Y6
	VPSLLD      $16, Y7, Y7
	VFMADD231PS (BX), Y4, Y0
	VFMADD231PS 32(BX), Y5, Y1
	VFMADD231PS 64(BX), Y6, Y2
	VFMADD231PS 96(BX), Y7, Y3
	ADDQ        $64, AX
	ADDQ        $128, BX
	SUBQ        $32, R10
	CMPQ        R10, $32
	JAE         bf16loop32

bf16tail8:
	CMPQ        R10, $8
	JB          bf16reduce
	VPMOVZXWD   (AX), Y4
	VPSLLD      $16, Y4, Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ        $16, AX
	ADDQ        $32, BX
	SUBQ        $8, R10
	JMP         bf16tail8

bf16reduce:
	REDUCE4

bf16tail1:
	TESTQ       R10, R10
	JEQ         bf16store
	MOVWLZX     (AX), R11
	SHLL        $16, R11
	VMOVD       R11, X1
	VFMADD231SS (BX), X1, X0
	ADDQ        $2, AX
	ADDQ        $4, BX
	DECQ        R10
	JMP         bf16tail1

bf16store:
	VMULSS X0, X15, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, SI
	DECQ   R8
	JNE    bf16row

done:
	VZEROUPPER
	RET

// func rowsQ8_0AVX2(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)
TEXT ·rowsQ8_0AVX2(SB), NOSPLIT, $32-108
	Q8_ROWS_PROLOGUE
	VMOVSS         scale+104(FP), X15
	VBROADCASTI128 ones16<>(SB), Y13
	VMOVDQU        q8idx<>(SB), Y11

q80row:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ   SI, AX
	MOVQ   DX, BX
	MOVQ   R15, R11
	MOVQ   CX, R10

q80grp:
	CMPQ    R10, $8
	JB      q80pair
	Q8SCALES8
	VMOVDQU 2(AX), Y2
	Q8DOTBLK(0, sc-32(SP), Y0)
	VMOVDQU 36(AX), Y2
	Q8DOTBLK(32, sc-28(SP), Y1)
	VMOVDQU 70(AX), Y2
	Q8DOTBLK(64, sc-24(SP), Y0)
	VMOVDQU 104(AX), Y2
	Q8DOTBLK(96, sc-20(SP), Y1)
	VMOVDQU 138(AX), Y2
	Q8DOTBLK(128, sc-16(SP), Y0)
	VMOVDQU 172(AX), Y2
	Q8DOTBLK(160, sc-12(SP), Y1)
	VMOVDQU 206(AX), Y2
	Q8DOTBLK(192, sc-8(SP), Y0)
	VMOVDQU 240(AX), Y2
	Q8DOTBLK(224, sc-4(SP), Y1)
	ADDQ    $272, AX
	ADDQ    $256, BX
	ADDQ    $32, R11
	SUBQ    $8, R10
	JMP     q80grp

q80pair:
	CMPQ    R10, $2
	JB      q80one
	VMOVDQU 2(AX), Y2
	Q8STEP(Y0)
	VMOVDQU 36(AX), Y2
	ADDQ    $34, AX
	ADDQ    $32, BX
	ADDQ    $4, R11
	Q8STEP(Y1)
	ADDQ    $34, AX
	ADDQ    $32, BX
	ADDQ    $4, R11
	SUBQ    $2, R10
	JMP     q80pair

q80one:
	TESTQ   R10, R10
	JEQ     q80reduce
	VMOVDQU 2(AX), Y2
	Q8STEP(Y0)

q80reduce:
	VADDPS Y1, Y0, Y0
	HSUM0
	VMULSS X0, X15, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, SI
	DECQ   R8
	JNE    q80row

done:
	VZEROUPPER
	RET

// func rowsQ4_0AVX2(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)
TEXT ·rowsQ4_0AVX2(SB), NOSPLIT, $32-108
	Q8_ROWS_PROLOGUE
	VMOVSS         scale+104(FP), X15
	VBROADCASTI128 ones16<>(SB), Y13
	VBROADCASTI128 nib0f<>(SB), Y12
	VBROADCASTI128 eight8<>(SB), Y14
	VMOVDQU        q4idx<>(SB), Y11

q40row:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ   SI, AX
	MOVQ   DX, BX
	MOVQ   R15, R11
	MOVQ   CX, R10

q40grp:
	CMPQ R10, $8
	JB   q40pair
	Q8SCALES8
	Q4LOADAT(2)
	Q8DOTBLK(0, sc-32(SP), Y0)
	Q4LOADAT(20)
	Q8DOTBLK(32, sc-28(SP), Y1)
	Q4LOADAT(38)
	Q8DOTBLK(64, sc-24(SP), Y0)
	Q4LOADAT(56)
	Q8DOTBLK(96, sc-20(SP), Y1)
	Q4LOADAT(74)
	Q8DOTBLK(128, sc-16(SP), Y0)
	Q4LOADAT(92)
	Q8DOTBLK(160, sc-12(SP), Y1)
	Q4LOADAT(110)
	Q8DOTBLK(192, sc-8(SP), Y0)
	Q4LOADAT(128)
	Q8DOTBLK(224, sc-4(SP), Y1)
	ADDQ $144, AX
	ADDQ $256, BX
	ADDQ $32, R11
	SUBQ $8, R10
	JMP  q40grp

q40pair:
	CMPQ R10, $2
	JB   q40one
	Q4LOAD
	Q8STEP(Y0)
	ADDQ $18, AX
	ADDQ $32, BX
	ADDQ $4, R11
	Q4LOAD
	Q8STEP(Y1)
	ADDQ $18, AX
	ADDQ $32, BX
	ADDQ $4, R11
	SUBQ $2, R10
	JMP  q40pair

q40one:
	TESTQ R10, R10
	JEQ   q40reduce
	Q4LOAD
	Q8STEP(Y0)

q40reduce:
	VADDPS Y1, Y0, Y0
	HSUM0
	VMULSS X0, X15, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, SI
	DECQ   R8
	JNE    q40row

done:
	VZEROUPPER
	RET

// func rowsQ6_KAVX2(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32)
TEXT ·rowsQ6_KAVX2(SB), NOSPLIT, $0-156
	MOVQ           dst_base+0(FP), DI
	MOVQ           dst_len+8(FP), R8
	MOVQ           w_base+24(FP), SI
	MOVQ           rb+48(FP), R9
	MOVQ           d_len+88(FP), CX
	SHRQ           $3, CX                // 256-element blocks
	VBROADCASTI128 nib0f<>(SB), Y15
	VBROADCASTI128 bits30<>(SB), Y14
	TESTQ          R8, R8
	JEQ            done
	TESTQ          CX, CX
	JEQ            done

q6row:
	VXORPS Y13, Y13, Y13
	MOVQ   SI, AX
	MOVQ   q_base+56(FP), BX
	MOVQ   d_base+80(FP), R11
	MOVQ   d8_base+104(FP), R12
	MOVQ   bs_base+128(FP), R13
	MOVQ   CX, R10

q6blk:
	// Prefetch the block 2 KiB ahead, as rowsQ6_KAVX512 does (on this
	// kernel, forced on the AVX-512 machine: tokens 2-6% faster).
	PREFETCHT0 2048(AX)
	PREFETCHT0 2112(AX)
	PREFETCHT0 2176(AX)
	PREFETCHT0 2240(AX)
	// Block accumulator Y10 starts at -32 * Σ_c d[c] * (sc·bs of chunk c).
	VPMOVSXBW 192(AX), Y12
	VPMADDWD  (R13), Y12, Y11
	VPSLLD    $5, Y11, Y11
	VCVTDQ2PS Y11, Y11
	VMULPS    (R11), Y11, Y11
	VXORPS    Y10, Y10, Y10
	VSUBPS    Y11, Y10, Y10
	VPERMQ    $0x44, Y12, Y9
	VPERMQ    $0xee, Y12, Y12
	Q6HALF(0, 128, Y9, 0, 0)
	Q6HALF(64, 160, Y12, 128, 128)
	MOVWLZX      208(AX), R14
	VMOVD        R14, X8
	VCVTPH2PS    X8, X8
	VBROADCASTSS X8, Y8
	VFMADD231PS  Y8, Y10, Y13
	ADDQ         $210, AX
	ADDQ         $256, BX
	ADDQ         $32, R11
	ADDQ         $256, R12
	ADDQ         $32, R13
	DECQ         R10
	JNE          q6blk

	VMOVAPS Y13, Y0
	HSUM0
	VMULSS  scale+152(FP), X0, X0
	VMOVSS  X0, (DI)
	ADDQ    $4, DI
	ADDQ    R9, SI
	DECQ    R8
	JNE     q6row

done:
	VZEROUPPER
	RET

DATA absmask<>+0(SB)/4, $0x7fffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $4

DATA f127<>+0(SB)/4, $127.0
GLOBL f127<>(SB), RODATA|NOPTR, $4

DATA fm128<>+0(SB)/4, $-128.0
GLOBL fm128<>(SB), RODATA|NOPTR, $4

DATA permpack<>+0(SB)/8, $0x0000000400000000
DATA permpack<>+8(SB)/8, $0x0000000500000001
DATA permpack<>+16(SB)/8, $0x0000000600000002
DATA permpack<>+24(SB)/8, $0x0000000700000003
GLOBL permpack<>(SB), RODATA|NOPTR, $32

// func absMaxAVX2(x []float32, floor float32) float32
TEXT ·absMaxAVX2(SB), NOSPLIT, $0-36
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	SHRQ         $5, CX
	VBROADCASTSS floor+24(FP), Y0
	VMOVAPS      Y0, Y1
	VMOVAPS      Y0, Y2
	VMOVAPS      Y0, Y3
	VBROADCASTSS absmask<>(SB), Y15
	TESTQ        CX, CX
	JEQ          amreduce

amloop:
	// VMAXPS returns its second source when either is NaN: data first,
	// accumulator second, so NaN data never replaces the maximum.
	VANDPS (SI), Y15, Y4
	VANDPS 32(SI), Y15, Y5
	VANDPS 64(SI), Y15, Y6
	VANDPS 96(SI), Y15, Y7
	VMAXPS Y0, Y4, Y0
	VMAXPS Y1, Y5, Y1
	VMAXPS Y2, Y6, Y2
	VMAXPS Y3, Y7, Y3
	ADDQ   $128, SI
	DECQ   CX
	JNE    amloop

amreduce:
	VMAXPS       Y1, Y0, Y0
	VMAXPS       Y3, Y2, Y2
	VMAXPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VMOVSS       X0, ret+32(FP)
	VZEROUPPER
	RET

// func quantScaleAVX2(dst []int8, x []float32, s float32)
TEXT ·quantScaleAVX2(SB), NOSPLIT, $0-52
	MOVQ         dst_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	SHRQ         $5, CX
	VBROADCASTSS s+48(FP), Y15
	VBROADCASTSS f127<>(SB), Y14
	VBROADCASTSS fm128<>(SB), Y13
	VMOVDQU      permpack<>(SB), Y11
	TESTQ        CX, CX
	JEQ          qsdone

qsloop:
	QSCALE(0, Y0)
	QSCALE(32, Y1)
	QSCALE(64, Y2)
	QSCALE(96, Y3)
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD    Y0, Y11, Y0
	VMOVDQU   Y0, (DI)
	ADDQ      $128, SI
	ADDQ      $32, DI
	DECQ      CX
	JNE       qsloop

qsdone:
	VZEROUPPER
	RET

// func sumSquaresAVX2(x []float32) float64
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-32
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	CMPQ   CX, $16
	JB     sstail4

ssloop16:
	VCVTPS2PD   (SI), Y4
	VCVTPS2PD   16(SI), Y5
	VCVTPS2PD   32(SI), Y6
	VCVTPS2PD   48(SI), Y7
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ        $64, SI
	SUBQ        $16, CX
	CMPQ        CX, $16
	JAE         ssloop16

sstail4:
	CMPQ        CX, $4
	JB          ssreduce
	VCVTPS2PD   (SI), Y4
	VFMADD231PD Y4, Y4, Y0
	ADDQ        $16, SI
	SUBQ        $4, CX
	JMP         sstail4

ssreduce:
	VADDPD       Y1, Y0, Y0
	VADDPD       Y3, Y2, Y2
	VADDPD       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0

sstail1:
	TESTQ       CX, CX
	JEQ         ssdone
	VCVTSS2SD   (SI), X1, X1
	VFMADD231SD X1, X1, X0
	ADDQ        $4, SI
	DECQ        CX
	JMP         sstail1

ssdone:
	VMOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// func scaleMulAVX2(dst, x, w []float32, s float32)
TEXT ·scaleMulAVX2(SB), NOSPLIT, $0-76
	MOVQ         dst_base+0(FP), DI
	MOVQ         x_base+24(FP), SI
	MOVQ         x_len+32(FP), CX
	MOVQ         w_base+48(FP), DX
	MOVQ         w_len+56(FP), BX
	VBROADCASTSS s+72(FP), Y15
	TESTQ        BX, BX
	JEQ          smnow

smtail8:
	CMPQ    CX, $8
	JB      smtail1
	VMULPS  (SI), Y15, Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     smtail8

smtail1:
	TESTQ  CX, CX
	JEQ    smdone
	VMULSS (SI), X15, X0
	VMULSS (DX), X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DX
	ADDQ   $4, DI
	DECQ   CX
	JMP    smtail1

smnow:
	CMPQ    CX, $8
	JB      smnow1
	VMULPS  (SI), Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     smnow

smnow1:
	TESTQ  CX, CX
	JEQ    smdone
	VMULSS (SI), X15, X0
	VMOVSS X0, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JMP    smnow1

smdone:
	VZEROUPPER
	RET

// func readSumAVX2(b []byte) uint64
TEXT ·readSumAVX2(SB), NOSPLIT, $0-32
	MOVQ   b_base+0(FP), SI
	MOVQ   b_len+8(FP), CX
	SHRQ   $7, CX
	VPXOR  Y0, Y0, Y0
	VPXOR  Y1, Y1, Y1
	VPXOR  Y2, Y2, Y2
	VPXOR  Y3, Y3, Y3
	TESTQ  CX, CX
	JEQ    rsreduce

rsloop:
	VPADDQ (SI), Y0, Y0
	VPADDQ 32(SI), Y1, Y1
	VPADDQ 64(SI), Y2, Y2
	VPADDQ 96(SI), Y3, Y3
	ADDQ   $128, SI
	DECQ   CX
	JNE    rsloop

rsreduce:
	VPADDQ       Y1, Y0, Y0
	VPADDQ       Y3, Y2, Y2
	VPADDQ       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	MOVQ         AX, ret+24(FP)
	VZEROUPPER
	RET

DATA bcast0f<>+0(SB)/4, $0x0f0f0f0f
GLOBL bcast0f<>(SB), RODATA|NOPTR, $4

DATA bcast30<>+0(SB)/4, $0x30303030
GLOBL bcast30<>(SB), RODATA|NOPTR, $4

// func rowsQ6_KAVX512(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32)
TEXT ·rowsQ6_KAVX512(SB), NOSPLIT, $0-156
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), R8
	MOVQ         w_base+24(FP), SI
	MOVQ         rb+48(FP), R9
	MOVQ         d_len+88(FP), CX
	SHRQ         $3, CX
	VPBROADCASTD bcast0f<>(SB), Z15
	VPBROADCASTD bcast30<>(SB), Z14
	VMOVDQU64    q6perm<>+0(SB), Z20
	VMOVDQU64    q6perm<>+64(SB), Z21
	VMOVDQU64    q6perm<>+128(SB), Z22
	VMOVDQU64    q6perm<>+192(SB), Z23
	TESTQ        R8, R8
	JEQ          done
	TESTQ        CX, CX
	JEQ          done

row:
	VXORPS Z13, Z13, Z13
	MOVQ   SI, AX
	MOVQ   q_base+56(FP), BX
	MOVQ   d_base+80(FP), R11
	MOVQ   d8_base+104(FP), R12
	MOVQ   bs_base+128(FP), R13
	MOVQ   CX, R10

blk:
	// Prefetch the block 2 KiB ahead (4 lines cover its 210 bytes): each
	// thread's rows are one stream, which hardware prefetchers do not follow
	// past a 4 KiB boundary. With the 2B-4T LM head (128256 rows, 269 MB, a
	// third of a token's weight bytes) tokens decoded 4-8% faster (1 KiB
	// ahead: 2-3%; 3-4 KiB: as 2), from huge pages and from 4 KiB ones.
	PREFETCHT0 2048(AX)
	PREFETCHT0 2112(AX)
	PREFETCHT0 2176(AX)
	PREFETCHT0 2240(AX)
	// Z10 starts at -32 * Σ_c d[c] * (sc·bs of chunk c) (low 8 lanes).
	VPMOVSXBW 192(AX), Y12
	VPMADDWD  (R13), Y12, Y11
	VPSLLD    $5, Y11, Y11
	VCVTDQ2PS Y11, Y11
	VMULPS    (R11), Y11, Y11
	VXORPS    Y10, Y10, Y10
	VSUBPS    Y11, Y10, Y10
	Q6HALF512(0, 128, Z20, Z21, 0, 0)
	Q6HALF512(64, 160, Z22, Z23, 128, 128)
	MOVWLZX      208(AX), R14
	VMOVD        R14, X8
	VCVTPH2PS    X8, X8
	VBROADCASTSS X8, Z8
	VFMADD231PS  Z8, Z10, Z13
	ADDQ         $210, AX
	ADDQ         $256, BX
	ADDQ         $32, R11
	ADDQ         $256, R12
	ADDQ         $32, R13
	DECQ         R10
	JNE          blk

	VEXTRACTF64X4 $1, Z13, Y1
	VADDPS        Y1, Y13, Y0
	HSUM0
	VMULSS        scale+152(FP), X0, X0
	VMOVSS        X0, (DI)
	ADDQ          $4, DI
	ADDQ          R9, SI
	DECQ          R8
	JNE           row

done:
	VZEROUPPER
	RET

// q6gf<>: the GF2P8AFFINEQB matrices of rowsQ6_KAVX512GFNI, one per qword
// of a 512-bit operand (output bit i is the parity of the source byte ANDed
// with matrix byte 7-i): the first moves qh bits 0-1 (low 256 bits) or 2-3
// (high 256 bits) to bits 4-5, the second bits 4-5 or 6-7; every other bit
// is 0.
DATA q6gf<>+0(SB)/8, $0x0000000001020000
DATA q6gf<>+8(SB)/8, $0x0000000001020000
DATA q6gf<>+16(SB)/8, $0x0000000001020000
DATA q6gf<>+24(SB)/8, $0x0000000001020000
DATA q6gf<>+32(SB)/8, $0x0000000004080000
DATA q6gf<>+40(SB)/8, $0x0000000004080000
DATA q6gf<>+48(SB)/8, $0x0000000004080000
DATA q6gf<>+56(SB)/8, $0x0000000004080000
DATA q6gf<>+64(SB)/8, $0x0000000010200000
DATA q6gf<>+72(SB)/8, $0x0000000010200000
DATA q6gf<>+80(SB)/8, $0x0000000010200000
DATA q6gf<>+88(SB)/8, $0x0000000010200000
DATA q6gf<>+96(SB)/8, $0x0000000040800000
DATA q6gf<>+104(SB)/8, $0x0000000040800000
DATA q6gf<>+112(SB)/8, $0x0000000040800000
DATA q6gf<>+120(SB)/8, $0x0000000040800000
GLOBL q6gf<>(SB), RODATA|NOPTR, $128

// Q6HALF512 with the codes' high bits placed by GF2P8AFFINEQB (matrices in
// Z16, Z17) from qh loaded into both 256-bit halves: the same codes in 5
// instructions instead of 8.
#define Q6HALFGF(QL, QH, IA, IB, XO, DO) \
	VMOVDQU64       QL(AX), Z0; \
	VBROADCASTI64X4 QH(AX), Z2; \
	VGF2P8AFFINEQB  $0, Z16, Z2, Z3; \
	VPTERNLOGD      $0xf8, Z15, Z0, Z3; \
	VGF2P8AFFINEQB  $0, Z17, Z2, Z4; \
	VPSRLW          $4, Z0, Z5; \
	VPTERNLOGD      $0xf8, Z15, Z5, Z4; \
	VPMADDUBSW      XO(BX), Z3, Z5; \
	VPERMW          Z12, IA, Z6; \
	VPMADDWD        Z6, Z5, Z5; \
	VCVTDQ2PS       Z5, Z5; \
	VFMADD231PS     DO(R12), Z5, Z10; \
	VPMADDUBSW      XO+64(BX), Z4, Z5; \
	VPERMW          Z12, IB, Z6; \
	VPMADDWD        Z6, Z5, Z5; \
	VCVTDQ2PS       Z5, Z5; \
	VFMADD231PS     DO+64(R12), Z5, Z10

// func rowsQ6_KAVX512GFNI(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32)
TEXT ·rowsQ6_KAVX512GFNI(SB), NOSPLIT, $0-156
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), R8
	MOVQ         w_base+24(FP), SI
	MOVQ         rb+48(FP), R9
	MOVQ         d_len+88(FP), CX
	SHRQ         $3, CX
	VPBROADCASTD bcast0f<>(SB), Z15
	VPBROADCASTD bcast30<>(SB), Z14
	VMOVDQU64    q6perm<>+0(SB), Z20
	VMOVDQU64    q6perm<>+64(SB), Z21
	VMOVDQU64    q6perm<>+128(SB), Z22
	VMOVDQU64    q6perm<>+192(SB), Z23
	VMOVDQU64    q6gf<>+0(SB), Z16
	VMOVDQU64    q6gf<>+64(SB), Z17
	TESTQ        R8, R8
	JEQ          done
	TESTQ        CX, CX
	JEQ          done

row:
	VXORPS Z13, Z13, Z13
	MOVQ   SI, AX
	MOVQ   q_base+56(FP), BX
	MOVQ   d_base+80(FP), R11
	MOVQ   d8_base+104(FP), R12
	MOVQ   bs_base+128(FP), R13
	MOVQ   CX, R10

blk:
	// Prefetch the block 4 KiB ahead (4 lines cover its 210 bytes), about
	// two rows: the head streamed from huge pages 1.06x as fast as 2 KiB
	// ahead (6 KiB: 1.055x, 8 KiB: 1.03x; BenchmarkQ6_KHeadBound).
	PREFETCHT0 4096(AX)
	PREFETCHT0 4160(AX)
	PREFETCHT0 4224(AX)
	PREFETCHT0 4288(AX)
	// Z10 starts at -32 * Σ_c d[c] * (sc·bs of chunk c) (low 8 lanes).
	VPMOVSXBW 192(AX), Y12
	VPMADDWD  (R13), Y12, Y11
	VPSLLD    $5, Y11, Y11
	VCVTDQ2PS Y11, Y11
	VMULPS    (R11), Y11, Y11
	VXORPS    Y10, Y10, Y10
	VSUBPS    Y11, Y10, Y10
	Q6HALFGF(0, 128, Z20, Z21, 0, 0)
	Q6HALFGF(64, 160, Z22, Z23, 128, 128)
	MOVWLZX      208(AX), R14
	VMOVD        R14, X8
	VCVTPH2PS    X8, X8
	VBROADCASTSS X8, Z8
	VFMADD231PS  Z8, Z10, Z13
	ADDQ         $210, AX
	ADDQ         $256, BX
	ADDQ         $32, R11
	ADDQ         $256, R12
	ADDQ         $32, R13
	DECQ         R10
	JNE          blk

	VEXTRACTF64X4 $1, Z13, Y1
	VADDPS        Y1, Y13, Y0
	HSUM0
	VMULSS        scale+152(FP), X0, X0
	VMOVSS        X0, (DI)
	ADDQ          $4, DI
	ADDQ          R9, SI
	DECQ          R8
	JNE           row

done:
	VZEROUPPER
	RET

// rowsQ6_KPairsAVX512GFNI: Q6HALFGF for one row of a pair, the half's
// activations already in XA, XB; the row's ql at QL(R), qh at QH(R); SC its
// scales, T0-T6 temporaries; adds into ACC in the order of Q6HALF512.
#define Q6HALFPAIR(R, QL, QH, IA, IB, XA, XB, DO, SC, ACC, T0, T2, T3, T4, T5, T6) \
	VMOVDQU64       QL(R), T0; \
	VBROADCASTI64X4 QH(R), T2; \
	VGF2P8AFFINEQB  $0, Z28, T2, T3; \
	VPTERNLOGD      $0xf8, Z15, T0, T3; \
	VGF2P8AFFINEQB  $0, Z29, T2, T4; \
	VPSRLW          $4, T0, T5; \
	VPTERNLOGD      $0xf8, Z15, T5, T4; \
	VPMADDUBSW      XA, T3, T5; \
	VPERMW          SC, IA, T6; \
	VPMADDWD        T6, T5, T5; \
	VCVTDQ2PS       T5, T5; \
	VFMADD231PS     DO(R12), T5, ACC; \
	VPMADDUBSW      XB, T4, T5; \
	VPERMW          SC, IB, T6; \
	VPMADDWD        T6, T5, T5; \
	VCVTDQ2PS       T5, T5; \
	VFMADD231PS     DO+64(R12), T5, ACC

// The start of a block for one row of a pair (rowsQ6_KAVX512's, bit for
// bit): the scales of the block at R into SC, ACC = -32 * Σ_c d[c] * (sc·bs
// of chunk c) in the low 8 lanes; T is a temporary.
#define Q6STARTPAIR(R, SC, ACC, T) \
	VPMOVSXBW 192(R), SC; \
	VPMADDWD  (R13), SC, T; \
	VPSLLD    $5, T, T; \
	VCVTDQ2PS T, T; \
	VMULPS    (R11), T, T; \
	VPXORD    ACC, ACC, ACC; \
	VSUBPS    T, ACC, ACC

// The end of a block for one row of a pair: SUM += d_w * ACC (XT, ZT a
// temporary), as rowsQ6_KAVX512 does it.
#define Q6ENDPAIR(R, ACC, SUM, XT, ZT) \
	MOVWLZX      208(R), R14; \
	VMOVD        R14, XT; \
	VCVTPH2PS    XT, XT; \
	VBROADCASTSS XT, ZT; \
	VFMADD231PS  ZT, ACC, SUM

// A row's sum into DST as rowsQ6_KAVX512 stores it.
#define Q6STOREPAIR(SUM, YSUM, DST) \
	VEXTRACTF64X4 $1, SUM, Y1; \
	VADDPS        Y1, YSUM, Y0; \
	HSUM0; \
	VMULSS        scale+152(FP), X0, X0; \
	VMOVSS        X0, DST

// func rowsQ6_KPairsAVX512GFNI(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32)
TEXT ·rowsQ6_KPairsAVX512GFNI(SB), NOSPLIT, $0-156
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), R8
	SHRQ         $1, R8
	MOVQ         w_base+24(FP), SI
	MOVQ         rb+48(FP), R9
	MOVQ         R8, R15
	IMULQ        R9, R15
	MOVQ         d_len+88(FP), CX
	SHRQ         $3, CX
	VPBROADCASTD bcast0f<>(SB), Z15
	VMOVDQU64    q6perm<>+0(SB), Z20
	VMOVDQU64    q6perm<>+64(SB), Z21
	VMOVDQU64    q6perm<>+128(SB), Z22
	VMOVDQU64    q6perm<>+192(SB), Z23
	VMOVDQU64    q6gf<>+0(SB), Z28
	VMOVDQU64    q6gf<>+64(SB), Z29
	TESTQ        R8, R8
	JEQ          done
	TESTQ        CX, CX
	JEQ          done

pair:
	VPXORD Z13, Z13, Z13
	VPXORD Z19, Z19, Z19
	MOVQ   SI, AX
	LEAQ   (SI)(R15*1), DX
	MOVQ   q_base+56(FP), BX
	MOVQ   d_base+80(FP), R11
	MOVQ   d8_base+104(FP), R12
	MOVQ   bs_base+128(FP), R13
	MOVQ   CX, R10

blk:
	// Both rows' streams prefetched 4 KiB ahead, as rowsQ6_KAVX512GFNI's.
	PREFETCHT0 4096(AX)
	PREFETCHT0 4160(AX)
	PREFETCHT0 4224(AX)
	PREFETCHT0 4288(AX)
	PREFETCHT0 4096(DX)
	PREFETCHT0 4160(DX)
	PREFETCHT0 4224(DX)
	PREFETCHT0 4288(DX)
	VMOVDQU64 (BX), Z24
	VMOVDQU64 64(BX), Z25
	VMOVDQU64 128(BX), Z26
	VMOVDQU64 192(BX), Z27
	Q6STARTPAIR(AX, Y12, Y10, Y5)
	Q6STARTPAIR(DX, Y18, Y17, Y16)
	Q6HALFPAIR(AX, 0, 128, Z20, Z21, Z24, Z25, 0, Z12, Z10, Z0, Z2, Z3, Z4, Z5, Z6)
	Q6HALFPAIR(DX, 0, 128, Z20, Z21, Z24, Z25, 0, Z18, Z17, Z1, Z7, Z8, Z9, Z11, Z16)
	Q6HALFPAIR(AX, 64, 160, Z22, Z23, Z26, Z27, 128, Z12, Z10, Z0, Z2, Z3, Z4, Z5, Z6)
	Q6HALFPAIR(DX, 64, 160, Z22, Z23, Z26, Z27, 128, Z18, Z17, Z1, Z7, Z8, Z9, Z11, Z16)
	Q6ENDPAIR(AX, Z10, Z13, X5, Z5)
	Q6ENDPAIR(DX, Z17, Z19, X11, Z11)
	ADDQ $210, AX
	ADDQ $210, DX
	ADDQ $256, BX
	ADDQ $32, R11
	ADDQ $256, R12
	ADDQ $32, R13
	DECQ R10
	JNE  blk

	Q6STOREPAIR(Z13, Y13, (DI))
	MOVQ         dst_len+8(FP), R14
	SHRQ         $1, R14
	Q6STOREPAIR(Z19, Y19, (DI)(R14*4))
	ADDQ $4, DI
	ADDQ R9, SI
	DECQ R8
	JNE  pair

done:
	VZEROUPPER
	RET

// func rowsF16AVX512(dst []float32, w []byte, rb int, x []float32, scale float32)
TEXT ·rowsF16AVX512(SB), NOSPLIT, $0-84
	FLOAT_ROWS_PROLOGUE

row:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	MOVQ   SI, AX
	MOVQ   DX, BX
	MOVQ   CX, R10
	CMPQ   R10, $64
	JB     tail16

loop64:
	// Prefetch into L2 1 KiB ahead: the 2B-4T head (F16, 657 MB, the
	// larger part of an I2_S file's bytes per token) streamed from huge
	// pages 1.07-1.21x as fast (3 sets of interleaved rounds at load
	// average 2-3.5); PREFETCHT0 at any distance from 256 B to 8 KiB made it
	// 0.6-0.9x as fast.
	PREFETCHT2  1024(AX)
	PREFETCHT2  1088(AX)
	VCVTPH2PS   (AX), Z4
	VCVTPH2PS   32(AX), Z5
	VCVTPH2PS   64(AX), Z6
	VCVTPH2PS   96(AX), Z7
	VFMADD231PS (BX), Z4, Z0
	VFMADD231PS 64(BX), Z5, Z1
	VFMADD231PS 128(BX), Z6, Z2
	VFMADD231PS 192(BX), Z7, Z3
	ADDQ        $128, AX
	ADDQ        $256, BX
	SUBQ        $64, R10
	CMPQ        R10, $64
	JAE         loop64

tail16:
	CMPQ        R10, $16
	JB          fold
	VCVTPH2PS   (AX), Z4
	VFMADD231PS (BX), Z4, Z0
	ADDQ        $32, AX
	ADDQ        $64, BX
	SUBQ        $16, R10
	JMP         tail16

fold:
	// Fold the zmm sums into Y0 before any VEX instruction touches them.
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0

tail8:
	CMPQ        R10, $8
	JB          reduce
	VCVTPH2PS   (AX), Y4
	VFMADD231PS (BX), Y4, Y0
	ADDQ        $16, AX
	ADDQ        $32, BX
	SUBQ        $8, R10
	JMP         tail8

reduce:
	HSUM0

tail1:
	TESTQ       R10, R10
	JEQ         store
	MOVWLZX     (AX), R11
	VMOVD       R11, X1
	VCVTPH2PS   X1, X1
	VFMADD231SS (BX), X1, X0
	ADDQ        $2, AX
	ADDQ        $4, BX
	DECQ        R10
	JMP         tail1

store:
	VMULSS X0, X15, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, SI
	DECQ   R8
	JNE    row

done:
	VZEROUPPER
	RET

// func cpuid1ECX() uint32
TEXT ·cpuid1ECX(SB), NOSPLIT, $0-4
	MOVL  $1, AX
	XORL  CX, CX
	CPUID
	MOVL  CX, ret+0(FP)
	RET

// Constants of expSubSumAVX2 (Cephes expf).
DATA expc<>+0(SB)/4, $1.44269504088896341 // log2(e)
DATA expc<>+4(SB)/4, $0.693359375         // ln 2, high part
DATA expc<>+8(SB)/4, $-2.12194440e-4      // ln 2, low part
DATA expc<>+12(SB)/4, $1.9875691500e-4
DATA expc<>+16(SB)/4, $1.3981999507e-3
DATA expc<>+20(SB)/4, $8.3334519073e-3
DATA expc<>+24(SB)/4, $4.1665795894e-2
DATA expc<>+28(SB)/4, $1.6666665459e-1
DATA expc<>+32(SB)/4, $5.0000001201e-1
DATA expc<>+36(SB)/4, $1.0
DATA expc<>+40(SB)/4, $-87.33654475       // ln(2^-126): below it the result is 0
DATA expc<>+44(SB)/4, $127
GLOBL expc<>(SB), RODATA|NOPTR, $48

// func expSubSumAVX2(x []float32, mx float32) float64
TEXT ·expSubSumAVX2(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	SHRQ         $3, CX
	VBROADCASTSS mx+24(FP), Y15
	VBROADCASTSS expc<>+0(SB), Y14
	VBROADCASTSS expc<>+4(SB), Y13
	VBROADCASTSS expc<>+8(SB), Y12
	VBROADCASTSS expc<>+40(SB), Y11
	VPBROADCASTD expc<>+44(SB), Y10
	VBROADCASTSS expc<>+36(SB), Y9
	VXORPD       Y7, Y7, Y7
	VXORPD       Y8, Y8, Y8
	TESTQ        CX, CX
	JEQ          exdone

exloop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y15, Y0, Y0         // t = x - mx
	VCMPPS       $1, Y11, Y0, Y6     // t < ln(2^-126) (-Inf too): result 0
	VMAXPS       Y11, Y0, Y0
	VMULPS       Y14, Y0, Y1
	VCVTPS2DQ    Y1, Y1              // n = round(t*log2e)
	VCVTDQ2PS    Y1, Y2
	VFNMADD231PS Y13, Y2, Y0         // r = t - n*ln2hi - n*ln2lo
	VFNMADD231PS Y12, Y2, Y0
	VBROADCASTSS expc<>+12(SB), Y3
	VBROADCASTSS expc<>+16(SB), Y4
	VFMADD213PS  Y4, Y0, Y3          // y = y*r + c
	VBROADCASTSS expc<>+20(SB), Y4
	VFMADD213PS  Y4, Y0, Y3
	VBROADCASTSS expc<>+24(SB), Y4
	VFMADD213PS  Y4, Y0, Y3
	VBROADCASTSS expc<>+28(SB), Y4
	VFMADD213PS  Y4, Y0, Y3
	VBROADCASTSS expc<>+32(SB), Y4
	VFMADD213PS  Y4, Y0, Y3
	VMULPS       Y0, Y0, Y4          // r^2
	VFMADD213PS  Y0, Y4, Y3          // y = y*r^2 + r
	VADDPS       Y9, Y3, Y3          // + 1
	VPADDD       Y10, Y1, Y1         // 2^n as float bits
	VPSLLD       $23, Y1, Y1
	VMULPS       Y1, Y3, Y3
	VANDNPS      Y3, Y6, Y3          // 0 where t was too small
	VMOVUPS      Y3, (SI)
	VCVTPS2PD    X3, Y4
	VEXTRACTF128 $1, Y3, X3
	VCVTPS2PD    X3, Y5
	VADDPD       Y4, Y7, Y7
	VADDPD       Y5, Y8, Y8
	ADDQ         $32, SI
	DECQ         CX
	JNE          exloop

exdone:
	VADDPD       Y8, Y7, Y7
	VEXTRACTF128 $1, Y7, X1
	VADDPD       X1, X7, X7
	VPERMILPD    $1, X7, X1
	VADDSD       X1, X7, X7
	VMOVSD       X7, ret+32(FP)
	VZEROUPPER
	RET

// func rowsQ8_0AVX512(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)
TEXT ·rowsQ8_0AVX512(SB), NOSPLIT, $0-108
	Q8_512_PROLOGUE
	VMOVDQU q8idx<>(SB), Y12

row:
	Q8_512_ROW_START

grp:
	Q8SCALES512(Y12)
	Q80LOAD512(0)
	Q8PAIR512(0, Z20, Z0)
	Q80LOAD512(68)
	Q8PAIR512(64, Z21, Z1)
	Q80LOAD512(136)
	Q8PAIR512(128, Z22, Z0)
	Q80LOAD512(204)
	Q8PAIR512(192, Z23, Z1)
	ADDQ $272, AX
	ADDQ $256, BX
	ADDQ $32, R11
	DECQ R10
	JNE  grp
	Q8_512_ROW_END
	DECQ R8
	JNE  row

done:
	VZEROUPPER
	RET

// func rowsQ4_0AVX512(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)
TEXT ·rowsQ4_0AVX512(SB), NOSPLIT, $0-108
	Q8_512_PROLOGUE
	VMOVDQU      q4idx<>(SB), Y12
	VPBROADCASTD bcast0f<>(SB), Z14
	VPBROADCASTD bcast08<>(SB), Z13

row:
	Q8_512_ROW_START

grp:
	Q8SCALES512(Y12)
	Q40LOAD512(0)
	Q8PAIR512(0, Z20, Z0)
	Q40LOAD512(36)
	Q8PAIR512(64, Z21, Z1)
	Q40LOAD512(72)
	Q8PAIR512(128, Z22, Z0)
	Q40LOAD512(108)
	Q8PAIR512(192, Z23, Z1)
	ADDQ $144, AX
	ADDQ $256, BX
	ADDQ $32, R11
	DECQ R10
	JNE  grp
	Q8_512_ROW_END
	DECQ R8
	JNE  row

done:
	VZEROUPPER
	RET

DATA bcast08<>+0(SB)/4, $0x08080808
GLOBL bcast08<>(SB), RODATA|NOPTR, $4

// func dotRowsAVX2(dst, x, m []float32, stride int, scale float32)
// dst[j] = scale * Σ_i x[i]*m[j*stride+i]: FMAs in 4x8 float32 lanes (32
// elements a step, then 8 into the first accumulator), the lanes reduced by
// REDUCE4, the last len(x)%8 products added in lane 0. Dot is this kernel on
// one row.
TEXT ·dotRowsAVX2(SB), NOSPLIT, $0-84
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), R8
	MOVQ   x_base+24(FP), R9
	MOVQ   x_len+32(FP), R10
	MOVQ   m_base+48(FP), R11
	MOVQ   stride+72(FP), R12
	SHLQ   $2, R12
	VMOVSS scale+80(FP), X8

drrow:
	TESTQ  R8, R8
	JEQ    drdone
	MOVQ   R9, SI
	MOVQ   R11, DX
	MOVQ   R10, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JB     drtail8

drloop32:
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DX), Y4, Y0
	VFMADD231PS 32(DX), Y5, Y1
	VFMADD231PS 64(DX), Y6, Y2
	VFMADD231PS 96(DX), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DX
	SUBQ        $32, CX
	CMPQ        CX, $32
	JAE         drloop32

drtail8:
	CMPQ        CX, $8
	JB          drreduce
	VMOVUPS     (SI), Y4
	VFMADD231PS (DX), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DX
	SUBQ        $8, CX
	JMP         drtail8

drreduce:
	REDUCE4

drtail1:
	TESTQ       CX, CX
	JEQ         drstore
	VMOVSS      (SI), X1
	VFMADD231SS (DX), X1, X0
	ADDQ        $4, SI
	ADDQ        $4, DX
	DECQ        CX
	JMP         drtail1

drstore:
	VMULSS X8, X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R12, R11
	DECQ   R8
	JMP    drrow

drdone:
	VZEROUPPER
	RET

// func axpyRowsAVX2(dst, a, m []float32, stride int)
// For j = 0, 1, ...: dst[i] += a[j]*m[j*stride+i], each product rounded
// before the add (no FMA), as axpyGeneric computes it. dst stays in
// registers, 32 floats at a time, while the rows stream by. AxpyTo is this
// kernel on one row.
TEXT ·axpyRowsAVX2(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ a_base+24(FP), R9
	MOVQ a_len+32(FP), R8
	MOVQ m_base+48(FP), R11
	MOVQ stride+72(FP), R12
	SHLQ $2, R12

archunk32:
	CMPQ    CX, $32
	JB      archunk8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	MOVQ    R11, SI
	XORQ    BX, BX

arrow32:
	CMPQ         BX, R8
	JAE          arstore32
	VBROADCASTSS (R9)(BX*4), Y15
	VMULPS       (SI), Y15, Y4
	VMULPS       32(SI), Y15, Y5
	VMULPS       64(SI), Y15, Y6
	VMULPS       96(SI), Y15, Y7
	VADDPS       Y4, Y0, Y0
	VADDPS       Y5, Y1, Y1
	VADDPS       Y6, Y2, Y2
	VADDPS       Y7, Y3, Y3
	ADDQ         R12, SI
	INCQ         BX
	JMP          arrow32

arstore32:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, DI
	ADDQ    $128, R11
	SUBQ    $32, CX
	JMP     archunk32

archunk8:
	CMPQ    CX, $8
	JB      archunk1
	VMOVUPS (DI), Y0
	MOVQ    R11, SI
	XORQ    BX, BX

arrow8:
	CMPQ         BX, R8
	JAE          arstore8
	VBROADCASTSS (R9)(BX*4), Y15
	VMULPS       (SI), Y15, Y4
	VADDPS       Y4, Y0, Y0
	ADDQ         R12, SI
	INCQ         BX
	JMP          arrow8

arstore8:
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, R11
	SUBQ    $8, CX
	JMP     archunk8

archunk1:
	TESTQ  CX, CX
	JEQ    ardone
	VMOVSS (DI), X0
	MOVQ   R11, SI
	XORQ   BX, BX

arrow1:
	CMPQ   BX, R8
	JAE    arstore1
	VMOVSS (R9)(BX*4), X15
	VMULSS (SI), X15, X4
	VADDSS X4, X0, X0
	ADDQ   R12, SI
	INCQ   BX
	JMP    arrow1

arstore1:
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   $4, R11
	DECQ   CX
	JMP    archunk1

ardone:
	VZEROUPPER
	RET

// func dotRowsAVX512(dst, x, m []float32, stride int, scale float32)
// dotRowsAVX2 with the 32-element steps on zmm registers: Z0 holds dotRowsAVX2's
// Y0 and Y1 side by side, Z2 its Y2 and Y3, so every lane sums the same
// products in the same order; they are split back before the tail and the
// reduction, which are dotRowsAVX2's.
TEXT ·dotRowsAVX512(SB), NOSPLIT, $0-84
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), R8
	MOVQ   x_base+24(FP), R9
	MOVQ   x_len+32(FP), R10
	MOVQ   m_base+48(FP), R11
	MOVQ   stride+72(FP), R12
	SHLQ   $2, R12
	VMOVSS scale+80(FP), X8

zdrow:
	TESTQ  R8, R8
	JEQ    zddone
	MOVQ   R9, SI
	MOVQ   R11, DX
	MOVQ   R10, CX
	VXORPS Z0, Z0, Z0
	VXORPS Z2, Z2, Z2

zdloop32:
	CMPQ        CX, $32
	JB          zdsplit
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z6
	VFMADD231PS (DX), Z4, Z0
	VFMADD231PS 64(DX), Z6, Z2
	ADDQ        $128, SI
	ADDQ        $128, DX
	SUBQ        $32, CX
	JMP         zdloop32

zdsplit:
	VEXTRACTF64X4 $1, Z0, Y1
	VEXTRACTF64X4 $1, Z2, Y3

zdtail8:
	CMPQ        CX, $8
	JB          zdreduce
	VMOVUPS     (SI), Y4
	VFMADD231PS (DX), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DX
	SUBQ        $8, CX
	JMP         zdtail8

zdreduce:
	REDUCE4

zdtail1:
	TESTQ       CX, CX
	JEQ         zdstore
	VMOVSS      (SI), X1
	VFMADD231SS (DX), X1, X0
	ADDQ        $4, SI
	ADDQ        $4, DX
	DECQ        CX
	JMP         zdtail1

zdstore:
	VMULSS X8, X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R12, R11
	DECQ   R8
	JMP    zdrow

zddone:
	VZEROUPPER
	RET

// func axpyRowsAVX512(dst, a, m []float32, stride int)
// axpyRowsAVX2 64 floats of dst at a time in zmm registers (elementwise, so
// the width changes no bit); the rest goes to axpyRowsAVX2's tails.
TEXT ·axpyRowsAVX512(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ a_base+24(FP), R9
	MOVQ a_len+32(FP), R8
	MOVQ m_base+48(FP), R11
	MOVQ stride+72(FP), R12
	SHLQ $2, R12

zachunk64:
	CMPQ    CX, $64
	JB      zachunk8
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	MOVQ    R11, SI
	XORQ    BX, BX

zarow64:
	CMPQ         BX, R8
	JAE          zastore64
	VBROADCASTSS (R9)(BX*4), Z15
	VMULPS       (SI), Z15, Z4
	VMULPS       64(SI), Z15, Z5
	VMULPS       128(SI), Z15, Z6
	VMULPS       192(SI), Z15, Z7
	VADDPS       Z4, Z0, Z0
	VADDPS       Z5, Z1, Z1
	VADDPS       Z6, Z2, Z2
	VADDPS       Z7, Z3, Z3
	ADDQ         R12, SI
	INCQ         BX
	JMP          zarow64

zastore64:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, DI
	ADDQ    $256, R11
	SUBQ    $64, CX
	JMP     zachunk64

zachunk8:
	CMPQ    CX, $8
	JB      zachunk1
	VMOVUPS (DI), Y0
	MOVQ    R11, SI
	XORQ    BX, BX

zarow8:
	CMPQ         BX, R8
	JAE          zastore8
	VBROADCASTSS (R9)(BX*4), Y15
	VMULPS       (SI), Y15, Y4
	VADDPS       Y4, Y0, Y0
	ADDQ         R12, SI
	INCQ         BX
	JMP          zarow8

zastore8:
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, R11
	SUBQ    $8, CX
	JMP     zachunk8

zachunk1:
	TESTQ  CX, CX
	JEQ    zadone
	VMOVSS (DI), X0
	MOVQ   R11, SI
	XORQ   BX, BX

zarow1:
	CMPQ   BX, R8
	JAE    zastore1
	VMOVSS (R9)(BX*4), X15
	VMULSS (SI), X15, X4
	VADDSS X4, X0, X0
	ADDQ   R12, SI
	INCQ   BX
	JMP    zarow1

zastore1:
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   $4, R11
	DECQ   CX
	JMP    zachunk1

zadone:
	VZEROUPPER
	RET

// func ropeHalfAVX2(lo, hi, cos, sin []float32)
// For i < len(cos): a, b := lo[i], hi[i]; lo[i] = a*cos[i] - b*sin[i];
// hi[i] = a*sin[i] + b*cos[i], each product rounded (no FMA), as RoPE's Go
// loop computes it.
TEXT ·ropeHalfAVX2(SB), NOSPLIT, $0-96
	MOVQ lo_base+0(FP), DI
	MOVQ hi_base+24(FP), SI
	MOVQ cos_base+48(FP), AX
	MOVQ cos_len+56(FP), CX
	MOVQ sin_base+72(FP), BX

ropeloop8:
	CMPQ    CX, $8
	JB      ropetail1
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	VMOVUPS (AX), Y2
	VMOVUPS (BX), Y3
	VMULPS  Y2, Y0, Y4
	VMULPS  Y3, Y1, Y5
	VSUBPS  Y5, Y4, Y4
	VMULPS  Y3, Y0, Y6
	VMULPS  Y2, Y1, Y7
	VADDPS  Y7, Y6, Y6
	VMOVUPS Y4, (DI)
	VMOVUPS Y6, (SI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, AX
	ADDQ    $32, BX
	SUBQ    $8, CX
	JMP     ropeloop8

ropetail1:
	TESTQ  CX, CX
	JEQ    ropedone
	VMOVSS (DI), X0
	VMOVSS (SI), X1
	VMOVSS (AX), X2
	VMOVSS (BX), X3
	VMULSS X2, X0, X4
	VMULSS X3, X1, X5
	VSUBSS X5, X4, X4
	VMULSS X3, X0, X6
	VMULSS X2, X1, X7
	VADDSS X7, X6, X6
	VMOVSS X4, (DI)
	VMOVSS X6, (SI)
	ADDQ   $4, DI
	ADDQ   $4, SI
	ADDQ   $4, AX
	ADDQ   $4, BX
	DECQ   CX
	JMP    ropetail1

ropedone:
	VZEROUPPER
	RET
