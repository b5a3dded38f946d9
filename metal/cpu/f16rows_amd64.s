//go:build !noasm

#include "textflag.h"

// dotRowsAVX2 and axpyRowsAVX2 (float_amd64.s) over rows of half floats,
// each widened by VCVTPH2PS as it is loaded: the same FMAs and adds in the
// same order, so the same bits as the float32 kernels on widened rows.

#define HSUM0F \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VPERMILPS    $0x4e, X0, X1; \
	VADDPS       X1, X0, X0; \
	VPERMILPS    $0xb1, X0, X1; \
	VADDPS       X1, X0, X0

// func dotRowsF16AVX2(dst, x []float32, m []uint16, stride int, scale float32)
TEXT ·dotRowsF16AVX2(SB), NOSPLIT, $0-84
	MOVQ   dst_base+0(FP), DI
	MOVQ   dst_len+8(FP), R8
	MOVQ   x_base+24(FP), R9
	MOVQ   x_len+32(FP), R10
	MOVQ   m_base+48(FP), R11
	MOVQ   stride+72(FP), R12
	SHLQ   $1, R12
	VMOVSS scale+80(FP), X8

hdrow:
	TESTQ  R8, R8
	JEQ    hddone
	MOVQ   R9, SI
	MOVQ   R11, DX
	MOVQ   R10, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JB     hdtail8

hdloop32:
	VCVTPH2PS   (DX), Y9
	VCVTPH2PS   16(DX), Y10
	VCVTPH2PS   32(DX), Y11
	VCVTPH2PS   48(DX), Y12
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS Y9, Y4, Y0
	VFMADD231PS Y10, Y5, Y1
	VFMADD231PS Y11, Y6, Y2
	VFMADD231PS Y12, Y7, Y3
	ADDQ        $128, SI
	ADDQ        $64, DX
	SUBQ        $32, CX
	CMPQ        CX, $32
	JAE         hdloop32

hdtail8:
	CMPQ        CX, $8
	JB          hdreduce
	VCVTPH2PS   (DX), Y9
	VMOVUPS     (SI), Y4
	VFMADD231PS Y9, Y4, Y0
	ADDQ        $32, SI
	ADDQ        $16, DX
	SUBQ        $8, CX
	JMP         hdtail8

hdreduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM0F

hdtail1:
	TESTQ       CX, CX
	JEQ         hdstore
	MOVWLZX     (DX), R13
	VMOVD       R13, X2
	VCVTPH2PS   X2, X2
	VMOVSS      (SI), X1
	VFMADD231SS X2, X1, X0
	ADDQ        $4, SI
	ADDQ        $2, DX
	DECQ        CX
	JMP         hdtail1

hdstore:
	VMULSS X8, X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R12, R11
	DECQ   R8
	JMP    hdrow

hddone:
	VZEROUPPER
	RET

// func axpyRowsF16AVX2(dst, a []float32, m []uint16, stride int)
TEXT ·axpyRowsF16AVX2(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ a_base+24(FP), R9
	MOVQ a_len+32(FP), R8
	MOVQ m_base+48(FP), R11
	MOVQ stride+72(FP), R12
	SHLQ $1, R12

hachunk32:
	CMPQ    CX, $32
	JB      hachunk8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	MOVQ    R11, SI
	XORQ    BX, BX

harow32:
	CMPQ         BX, R8
	JAE          hastore32
	VBROADCASTSS (R9)(BX*4), Y15
	VCVTPH2PS    (SI), Y4
	VCVTPH2PS    16(SI), Y5
	VCVTPH2PS    32(SI), Y6
	VCVTPH2PS    48(SI), Y7
	VMULPS       Y4, Y15, Y4
	VMULPS       Y5, Y15, Y5
	VMULPS       Y6, Y15, Y6
	VMULPS       Y7, Y15, Y7
	VADDPS       Y4, Y0, Y0
	VADDPS       Y5, Y1, Y1
	VADDPS       Y6, Y2, Y2
	VADDPS       Y7, Y3, Y3
	ADDQ         R12, SI
	INCQ         BX
	JMP          harow32

hastore32:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, DI
	ADDQ    $64, R11
	SUBQ    $32, CX
	JMP     hachunk32

hachunk8:
	CMPQ    CX, $8
	JB      hachunk1
	VMOVUPS (DI), Y0
	MOVQ    R11, SI
	XORQ    BX, BX

harow8:
	CMPQ         BX, R8
	JAE          hastore8
	VBROADCASTSS (R9)(BX*4), Y15
	VCVTPH2PS    (SI), Y4
	VMULPS       Y4, Y15, Y4
	VADDPS       Y4, Y0, Y0
	ADDQ         R12, SI
	INCQ         BX
	JMP          harow8

hastore8:
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $16, R11
	SUBQ    $8, CX
	JMP     hachunk8

hachunk1:
	TESTQ  CX, CX
	JEQ    hadone
	VMOVSS (DI), X0
	MOVQ   R11, SI
	XORQ   BX, BX

harow1:
	CMPQ      BX, R8
	JAE       hastore1
	VMOVSS    (R9)(BX*4), X15
	MOVWLZX   (SI), R13
	VMOVD     R13, X4
	VCVTPH2PS X4, X4
	VMULSS    X4, X15, X4
	VADDSS    X4, X0, X0
	ADDQ      R12, SI
	INCQ      BX
	JMP       harow1

hastore1:
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   $2, R11
	DECQ   CX
	JMP    hachunk1

hadone:
	VZEROUPPER
	RET
