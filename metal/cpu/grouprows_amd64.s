//go:build !noasm

#include "textflag.h"

// dotRowsF16AVX2 and axpyRowsF16AVX2 (f16rows_amd64.s) for two queries at a
// time over the same rows: each row is widened once for both, and each
// query gets the single-query kernel's FMAs and adds in the same order, so
// the same bits. An odd last query runs as a pair with itself (both halves
// compute the same values and store them to the same place).

// HSUM reduces the 8 lanes of Ya (with Xt as a temporary) into the low lane
// of Xa as f16rows_amd64.s's HSUM0F does.
#define HSUM(Ya, Xa, Xt) \
	VEXTRACTF128 $1, Ya, Xt; \
	VADDPS       Xt, Xa, Xa; \
	VPERMILPS    $0x4e, Xa, Xt; \
	VADDPS       Xt, Xa, Xa; \
	VPERMILPS    $0xb1, Xa, Xt; \
	VADDPS       Xt, Xa, Xa

// func dotRowsF16GroupAVX2(dst *float32, dstStride int, x *float32, n, w int, m *uint16, rows, stride int, scale float32)
TEXT ·dotRowsF16GroupAVX2(SB), NOSPLIT, $0-68
	MOVQ         dst+0(FP), R14
	MOVQ         dstStride+8(FP), R15
	SHLQ         $2, R15
	MOVQ         x+16(FP), R9
	MOVQ         n+24(FP), AX
	MOVQ         w+32(FP), R10
	MOVQ         stride+56(FP), R12
	SHLQ         $1, R12
	VBROADCASTSS scale+64(FP), Y15

gdpair:
	// BX: the second query's x offset in floats, R15 its dst offset in
	// bytes (0 and 0 for an odd last query).
	TESTQ AX, AX
	JEQ   gddone
	MOVQ  R10, BX
	MOVQ  dstStride+8(FP), R15
	SHLQ  $2, R15
	CMPQ  AX, $1
	JNE   gdrows
	XORQ  BX, BX
	XORQ  R15, R15

gdrows:
	MOVQ m+40(FP), R11
	MOVQ rows+48(FP), R8
	MOVQ R14, DI

gdrow:
	TESTQ  R8, R8
	JEQ    gdnext
	MOVQ   R9, SI
	MOVQ   R11, DX
	MOVQ   R10, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ   CX, $32
	JB     gdtail8

gdloop32:
	VCVTPH2PS   (DX), Y8
	VCVTPH2PS   16(DX), Y9
	VCVTPH2PS   32(DX), Y10
	VCVTPH2PS   48(DX), Y11
	VFMADD231PS (SI), Y8, Y0
	VFMADD231PS 32(SI), Y9, Y1
	VFMADD231PS 64(SI), Y10, Y2
	VFMADD231PS 96(SI), Y11, Y3
	VFMADD231PS (SI)(BX*4), Y8, Y4
	VFMADD231PS 32(SI)(BX*4), Y9, Y5
	VFMADD231PS 64(SI)(BX*4), Y10, Y6
	VFMADD231PS 96(SI)(BX*4), Y11, Y7
	ADDQ        $128, SI
	ADDQ        $64, DX
	SUBQ        $32, CX
	CMPQ        CX, $32
	JAE         gdloop32

gdtail8:
	CMPQ        CX, $8
	JB          gdreduce
	VCVTPH2PS   (DX), Y8
	VFMADD231PS (SI), Y8, Y0
	VFMADD231PS (SI)(BX*4), Y8, Y4
	ADDQ        $32, SI
	ADDQ        $16, DX
	SUBQ        $8, CX
	JMP         gdtail8

gdreduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VADDPS Y5, Y4, Y4
	VADDPS Y7, Y6, Y6
	VADDPS Y6, Y4, Y4
	HSUM(Y0, X0, X1)
	HSUM(Y4, X4, X5)

gdtail1:
	TESTQ       CX, CX
	JEQ         gdstore
	MOVWLZX     (DX), R13
	VMOVD       R13, X2
	VCVTPH2PS   X2, X2
	VMOVSS      (SI), X1
	VFMADD231SS X2, X1, X0
	VMOVSS      (SI)(BX*4), X5
	VFMADD231SS X2, X5, X4
	ADDQ        $4, SI
	ADDQ        $2, DX
	DECQ        CX
	JMP         gdtail1

gdstore:
	VMULSS X15, X0, X0
	VMULSS X15, X4, X4
	VMOVSS X0, (DI)
	VMOVSS X4, (DI)(R15*1)
	ADDQ   $4, DI
	ADDQ   R12, R11
	DECQ   R8
	JMP    gdrow

gdnext:
	// Past the pair: two queries on (or one, for the odd last).
	LEAQ (R9)(R10*8), R9
	MOVQ dstStride+8(FP), R13
	LEAQ (R14)(R13*8), R14
	SUBQ $2, AX
	JGT  gdpair

gddone:
	VZEROUPPER
	RET

// func axpyRowsF16GroupAVX2(dst *float32, n, w int, a *float32, aStride int, m *uint16, rows, stride int)
//
// Its first pass reads a column of 64 bytes of each row: it prefetches the
// rest of the row (a 128-wide head's), which halves its time on a cache that
// is not in the caches yet (a deep decode's).
TEXT ·axpyRowsF16GroupAVX2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), AX
	MOVQ w+16(FP), R10
	MOVQ a+24(FP), R9
	MOVQ aStride+32(FP), R14
	SHLQ $2, R14
	MOVQ stride+56(FP), R12
	SHLQ $1, R12

gapair:
	// DX: the second query's dst offset in floats, R13 its weights (the
	// first query's for an odd last query).
	TESTQ AX, AX
	JEQ   gadone
	MOVQ  R10, DX
	LEAQ  (R9)(R14*1), R13
	CMPQ  AX, $1
	JNE   gacols
	XORQ  DX, DX
	MOVQ  R9, R13

gacols:
	MOVQ m+40(FP), R11
	MOVQ rows+48(FP), R8
	MOVQ R10, CX

gachunk32:
	CMPQ    CX, $32
	JB      gachunk8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS (DI)(DX*4), Y4
	VMOVUPS 32(DI)(DX*4), Y5
	VMOVUPS 64(DI)(DX*4), Y6
	VMOVUPS 96(DI)(DX*4), Y7
	MOVQ    R11, SI
	XORQ    BX, BX

garow32:
	CMPQ         BX, R8
	JAE          gastore32
	VBROADCASTSS (R9)(BX*4), Y12
	VBROADCASTSS (R13)(BX*4), Y13
	PREFETCHT0   64(SI)
	PREFETCHT0   128(SI)
	PREFETCHT0   192(SI)
	VCVTPH2PS    (SI), Y8
	VCVTPH2PS    16(SI), Y9
	VCVTPH2PS    32(SI), Y10
	VCVTPH2PS    48(SI), Y11
	VMULPS       Y8, Y12, Y14
	VMULPS       Y8, Y13, Y15
	VADDPS       Y14, Y0, Y0
	VADDPS       Y15, Y4, Y4
	VMULPS       Y9, Y12, Y14
	VMULPS       Y9, Y13, Y15
	VADDPS       Y14, Y1, Y1
	VADDPS       Y15, Y5, Y5
	VMULPS       Y10, Y12, Y14
	VMULPS       Y10, Y13, Y15
	VADDPS       Y14, Y2, Y2
	VADDPS       Y15, Y6, Y6
	VMULPS       Y11, Y12, Y14
	VMULPS       Y11, Y13, Y15
	VADDPS       Y14, Y3, Y3
	VADDPS       Y15, Y7, Y7
	ADDQ         R12, SI
	INCQ         BX
	JMP          garow32

gastore32:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, (DI)(DX*4)
	VMOVUPS Y5, 32(DI)(DX*4)
	VMOVUPS Y6, 64(DI)(DX*4)
	VMOVUPS Y7, 96(DI)(DX*4)
	ADDQ    $128, DI
	ADDQ    $64, R11
	SUBQ    $32, CX
	JMP     gachunk32

gachunk8:
	CMPQ    CX, $8
	JB      gachunk1
	VMOVUPS (DI), Y0
	VMOVUPS (DI)(DX*4), Y4
	MOVQ    R11, SI
	XORQ    BX, BX

garow8:
	CMPQ         BX, R8
	JAE          gastore8
	VBROADCASTSS (R9)(BX*4), Y12
	VBROADCASTSS (R13)(BX*4), Y13
	VCVTPH2PS    (SI), Y8
	VMULPS       Y8, Y12, Y14
	VMULPS       Y8, Y13, Y15
	VADDPS       Y14, Y0, Y0
	VADDPS       Y15, Y4, Y4
	ADDQ         R12, SI
	INCQ         BX
	JMP          garow8

gastore8:
	VMOVUPS Y0, (DI)
	VMOVUPS Y4, (DI)(DX*4)
	ADDQ    $32, DI
	ADDQ    $16, R11
	SUBQ    $8, CX
	JMP     gachunk8

gachunk1:
	// R8 is a temporary here: the rows are compared in memory.
	TESTQ  CX, CX
	JEQ    ganext
	VMOVSS (DI), X0
	VMOVSS (DI)(DX*4), X4
	MOVQ   R11, SI
	XORQ   BX, BX

garow1:
	CMPQ      BX, rows+48(FP)
	JAE       gastore1
	VMOVSS    (R9)(BX*4), X12
	VMOVSS    (R13)(BX*4), X13
	MOVWLZX   (SI), R8
	VMOVD     R8, X8
	VCVTPH2PS X8, X8
	VMULSS    X8, X12, X14
	VMULSS    X8, X13, X15
	VADDSS    X14, X0, X0
	VADDSS    X15, X4, X4
	ADDQ      R12, SI
	INCQ      BX
	JMP       garow1

gastore1:
	VMOVSS X0, (DI)
	VMOVSS X4, (DI)(DX*4)
	ADDQ   $4, DI
	ADDQ   $2, R11
	DECQ   CX
	JMP    gachunk1

ganext:
	// DI is past the first query's row: skip the second's (not for the
	// odd last query, after which nothing is left).
	LEAQ (DI)(R10*4), DI
	LEAQ (R9)(R14*2), R9
	SUBQ $2, AX
	JGT  gapair

gadone:
	VZEROUPPER
	RET

// QZERO clears the four queries' accumulators Y16-Y31.
#define QZERO \
	VXORPS Y16, Y16, Y16; \
	VXORPS Y17, Y17, Y17; \
	VXORPS Y18, Y18, Y18; \
	VXORPS Y19, Y19, Y19; \
	VXORPS Y20, Y20, Y20; \
	VXORPS Y21, Y21, Y21; \
	VXORPS Y22, Y22, Y22; \
	VXORPS Y23, Y23, Y23; \
	VXORPS Y24, Y24, Y24; \
	VXORPS Y25, Y25, Y25; \
	VXORPS Y26, Y26, Y26; \
	VXORPS Y27, Y27, Y27; \
	VXORPS Y28, Y28, Y28; \
	VXORPS Y29, Y29, Y29; \
	VXORPS Y30, Y30, Y30; \
	VXORPS Y31, Y31, Y31

// QDOT32 widens 32 halves of the row at DX and adds their products with the
// four queries at SI (R10 floats apart, BX = 3*R10) to Y16-Y31.
#define QDOT32 \
	VCVTPH2PS   (DX), Y8; \
	VCVTPH2PS   16(DX), Y9; \
	VCVTPH2PS   32(DX), Y10; \
	VCVTPH2PS   48(DX), Y11; \
	VFMADD231PS (SI), Y8, Y16; \
	VFMADD231PS 32(SI), Y9, Y17; \
	VFMADD231PS 64(SI), Y10, Y18; \
	VFMADD231PS 96(SI), Y11, Y19; \
	VFMADD231PS (SI)(R10*4), Y8, Y20; \
	VFMADD231PS 32(SI)(R10*4), Y9, Y21; \
	VFMADD231PS 64(SI)(R10*4), Y10, Y22; \
	VFMADD231PS 96(SI)(R10*4), Y11, Y23; \
	VFMADD231PS (SI)(R10*8), Y8, Y24; \
	VFMADD231PS 32(SI)(R10*8), Y9, Y25; \
	VFMADD231PS 64(SI)(R10*8), Y10, Y26; \
	VFMADD231PS 96(SI)(R10*8), Y11, Y27; \
	VFMADD231PS (SI)(BX*4), Y8, Y28; \
	VFMADD231PS 32(SI)(BX*4), Y9, Y29; \
	VFMADD231PS 64(SI)(BX*4), Y10, Y30; \
	VFMADD231PS 96(SI)(BX*4), Y11, Y31; \
	ADDQ        $128, SI; \
	ADDQ        $64, DX; \
	SUBQ        $32, CX

// QDOT8 is QDOT32 for 8 halves, into each query's first accumulator.
#define QDOT8 \
	VCVTPH2PS   (DX), Y8; \
	VFMADD231PS (SI), Y8, Y16; \
	VFMADD231PS (SI)(R10*4), Y8, Y20; \
	VFMADD231PS (SI)(R10*8), Y8, Y24; \
	VFMADD231PS (SI)(BX*4), Y8, Y28; \
	ADDQ        $32, SI; \
	ADDQ        $16, DX; \
	SUBQ        $8, CX

// QPAIR does HSUM's first add (low half + high half) for two rows at once:
// p (the earlier row) and b give [p.lo+p.hi | b.lo+b.hi] in t1.
#define QPAIR(p, b, t1, t2) \
	VSHUFF32X4 $0, b, p, t1; \
	VSHUFF32X4 $3, b, p, t2; \
	VADDPS     t2, t1, t1

// QQUAD does HSUM's second add (lanes 0,1 + lanes 2,3) for the four rows of
// two QPAIR results w1 and w2, into t1: [r0 r0 r2 r2 | r1 r1 r3 r3] for
// w1 = (r0, r1) and w2 = (r2, r3).
#define QQUAD(w1, w2, t1, t2) \
	VSHUFPS $0x44, w2, w1, t1; \
	VSHUFPS $0xee, w2, w1, t2; \
	VADDPS  t2, t1, t1

// QOCT does HSUM's last add (lane 0 + lane 1) for the eight rows of two
// QQUAD results z and q, and scales them by s, into t1.
#define QOCT(z, q, t1, t2, s) \
	VSHUFPS $0x88, q, z, t1; \
	VSHUFPS $0xdd, q, z, t2; \
	VADDPS  t2, t1, t1; \
	VMULPS  s, t1, t1

// QDOT32P is QDOT32 for two rows at once, on zmm registers: 32 halves of
// the rows at DX and DX+R12 widened into Z8-Z9 and Z10-Z11, each query's
// [a0|a1] and [a2|a3] (QDOT32's Y16-Y19 as two zmm) in Z16+2q, Z17+2q for
// the first row and Z24+2q, Z25+2q for the second: the same FMA per lane.
// It prefetches the same cache lines of the rows GQAHEAD bytes on (a
// decode step's next tile of 128-wide rows): the rows of a deep cache in
// tiles of 64 went 1.15x as fast on one thread (1.13x 16 KiB ahead), and a
// decode step's attention over 30 layers at depth 4064 took 1/1.033-1/1.037
// of the time (in-process A/B, medians of 41 and 61 interleaved rounds,
// load 2.2-2.9).
#define GQAHEAD 8192

#define QDOT32P \
	PREFETCHT0  GQAHEAD(DX); \
	PREFETCHT0  GQAHEAD(DX)(R12*1); \
	VCVTPH2PS   (DX), Z8; \
	VCVTPH2PS   32(DX), Z9; \
	VCVTPH2PS   (DX)(R12*1), Z10; \
	VCVTPH2PS   32(DX)(R12*1), Z11; \
	VMOVUPS     (SI), Z0; \
	VMOVUPS     64(SI), Z1; \
	VMOVUPS     (SI)(R10*4), Z2; \
	VMOVUPS     64(SI)(R10*4), Z3; \
	VFMADD231PS Z0, Z8, Z16; \
	VFMADD231PS Z0, Z10, Z24; \
	VFMADD231PS Z1, Z9, Z17; \
	VFMADD231PS Z1, Z11, Z25; \
	VFMADD231PS Z2, Z8, Z18; \
	VFMADD231PS Z2, Z10, Z26; \
	VFMADD231PS Z3, Z9, Z19; \
	VFMADD231PS Z3, Z11, Z27; \
	VMOVUPS     (SI)(R10*8), Z0; \
	VMOVUPS     64(SI)(R10*8), Z1; \
	VMOVUPS     (SI)(BX*4), Z2; \
	VMOVUPS     64(SI)(BX*4), Z3; \
	VFMADD231PS Z0, Z8, Z20; \
	VFMADD231PS Z0, Z10, Z28; \
	VFMADD231PS Z1, Z9, Z21; \
	VFMADD231PS Z1, Z11, Z29; \
	VFMADD231PS Z2, Z8, Z22; \
	VFMADD231PS Z2, Z10, Z30; \
	VFMADD231PS Z3, Z9, Z23; \
	VFMADD231PS Z3, Z11, Z31; \
	ADDQ        $128, SI; \
	ADDQ        $64, DX; \
	SUBQ        $32, CX

// QSUMZ sums a query's accumulators [a0|a1] in za and [a2|a3] in zb as
// (a0+a1)+(a2+a3) into y (Y8, Y9 scratch), as QDOT32's sums are added.
#define QSUMZ(za, ya, zb, yb, y) \
	VEXTRACTF64X4 $1, za, Y8; \
	VADDPS        Y8, ya, Y8; \
	VEXTRACTF64X4 $1, zb, Y9; \
	VADDPS        Y9, yb, Y9; \
	VADDPS        Y9, Y8, y

// gqorder puts dotRowsF16QuadAVX512's rows [0 2 4 6 | 1 3 5 7] in order.
DATA gqorder<>+0(SB)/4, $0
DATA gqorder<>+4(SB)/4, $4
DATA gqorder<>+8(SB)/4, $1
DATA gqorder<>+12(SB)/4, $5
DATA gqorder<>+16(SB)/4, $2
DATA gqorder<>+20(SB)/4, $6
DATA gqorder<>+24(SB)/4, $3
DATA gqorder<>+28(SB)/4, $7
GLOBL gqorder<>(SB), RODATA|NOPTR, $32

// func dotRowsF16QuadAVX512(dst *float32, dstStride int, x *float32, n, w int, m *uint16, rows, stride int, scale float32)
//
// dotRowsF16GroupAVX2 for four queries at a time (n a multiple of 4), their
// 16 accumulators in Y16-Y31 (EVEX): each row is widened once for four
// queries, each query's FMAs and adds as dotRowsF16AVX2's. When w is a
// multiple of 8 (no scalar tail after the lane sums), rows go by eights
// and their lane sums are transposed: each row gets HSUM's three adds on
// the same operands in the same order (QPAIR, QQUAD, QOCT), each vector
// add serving up to eight rows, and the eight scaled results are stored at
// once. The rows are read in order (out of order, the hardware prefetcher
// of a deep cache lost more than the adds saved). When w is a multiple of
// 32, the rows of an eight go by pairs (QDOT32P): each query lane vector
// is loaded once for two rows, on zmm registers, which halves the loads
// of the queries that bound the ymm loop (1.15-1.18x as fast on 64 rows
// in the L1 cache, in-process A/B). Other rows (and widths) are summed one
// at a time.
TEXT ·dotRowsF16QuadAVX512(SB), NOSPLIT, $0-68
	MOVQ         dst+0(FP), R14
	MOVQ         x+16(FP), R9
	MOVQ         n+24(FP), AX
	MOVQ         w+32(FP), R10
	LEAQ         (R10)(R10*2), BX
	MOVQ         dstStride+8(FP), R15
	SHLQ         $2, R15
	MOVQ         stride+56(FP), R12
	SHLQ         $1, R12
	VBROADCASTSS scale+64(FP), Y15

gqquad:
	TESTQ AX, AX
	JEQ   gqdone
	MOVQ  m+40(FP), R11
	MOVQ  rows+48(FP), R8
	MOVQ  R14, DI
	TESTQ $7, R10
	JNE   gqrow

gqblock:
	// Eight rows from R11, row R13 at DX. The eight rows' partial sums per
	// query: Y0-Y3 the last even row's, Y4-Y7 rows 0-1 (or 4-5) paired,
	// Y12-Y15 rows 0-3 (Y15 is the scale outside the eights).
	CMPQ R8, $8
	JB   gqrow
	XORQ R13, R13
	MOVQ R11, DX
	TESTQ $31, R10
	JEQ   gqpbrow

gqbrow:
	MOVQ   R9, SI
	MOVQ   R10, CX
	QZERO
	CMPQ   CX, $32
	JB     gqbtail8

gqbloop32:
	QDOT32
	CMPQ CX, $32
	JAE  gqbloop32

gqbtail8:
	CMPQ CX, $8
	JB   gqbsum
	QDOT8
	JMP  gqbtail8

gqbsum:
	// (a0+a1)+(a2+a3) of each query into Y16, Y20, Y24, Y28.
	VADDPS Y17, Y16, Y16
	VADDPS Y19, Y18, Y18
	VADDPS Y18, Y16, Y16
	VADDPS Y21, Y20, Y20
	VADDPS Y23, Y22, Y22
	VADDPS Y22, Y20, Y20
	VADDPS Y25, Y24, Y24
	VADDPS Y27, Y26, Y26
	VADDPS Y26, Y24, Y24
	VADDPS Y29, Y28, Y28
	VADDPS Y31, Y30, Y30
	VADDPS Y30, Y28, Y28
	TESTQ  $1, R13
	JNE    gqbodd
	VMOVAPS Y16, Y0
	VMOVAPS Y20, Y1
	VMOVAPS Y24, Y2
	VMOVAPS Y28, Y3
	JMP     gqbnext

gqbodd:
	QPAIR(Y0, Y16, Y17, Y18)
	QPAIR(Y1, Y20, Y21, Y22)
	QPAIR(Y2, Y24, Y25, Y26)
	QPAIR(Y3, Y28, Y29, Y30)
	TESTQ $2, R13
	JNE   gqbquad
	VMOVAPS Y17, Y4
	VMOVAPS Y21, Y5
	VMOVAPS Y25, Y6
	VMOVAPS Y29, Y7
	JMP     gqbnext

gqbquad:
	QQUAD(Y4, Y17, Y18, Y19)
	QQUAD(Y5, Y21, Y22, Y23)
	QQUAD(Y6, Y25, Y26, Y27)
	QQUAD(Y7, Y29, Y30, Y31)
	CMPQ    R13, $7
	JEQ     gqbstore
	VMOVAPS Y18, Y12
	VMOVAPS Y22, Y13
	VMOVAPS Y26, Y14
	VMOVAPS Y30, Y15
	JMP     gqbnext

gqbstore:
	// Rows [0 2 4 6 | 1 3 5 7] of each query, put in order by Y9.
	VBROADCASTSS scale+64(FP), Y8
	VMOVDQU      gqorder<>(SB), Y9
	QOCT(Y12, Y18, Y17, Y19, Y8)
	QOCT(Y13, Y22, Y21, Y23, Y8)
	QOCT(Y14, Y26, Y25, Y27, Y8)
	QOCT(Y15, Y30, Y29, Y31, Y8)
	VPERMPS Y17, Y9, Y17
	VPERMPS Y21, Y9, Y21
	VPERMPS Y25, Y9, Y25
	VPERMPS Y29, Y9, Y29
	LEAQ    (R15)(R15*2), CX
	VMOVUPS Y17, (DI)
	VMOVUPS Y21, (DI)(R15*1)
	VMOVUPS Y25, (DI)(R15*2)
	VMOVUPS Y29, (DI)(CX*1)
	VMOVAPS Y8, Y15
	ADDQ    $32, DI
	LEAQ    (R11)(R12*8), R11
	SUBQ    $8, R8
	JMP     gqblock

gqbnext:
	INCQ R13
	MOVQ R11, DX
	MOVQ R13, CX
	IMULQ R12, CX
	ADDQ CX, DX
	TESTQ $31, R10
	JEQ   gqpbrow
	JMP  gqbrow

gqpbrow:
	// Rows R13 (even) at DX and R13+1 together, w a multiple of 32: each
	// query's lanes loaded once for both, row R13's sums into Y0-Y3, row
	// R13+1's into Y16, Y20, Y24, Y28 as gqbsum leaves them, then on as
	// for an odd row.
	MOVQ R9, SI
	MOVQ R10, CX
	QZERO

gqploop:
	QDOT32P
	JNE  gqploop
	QSUMZ(Z16, Y16, Z17, Y17, Y0)
	QSUMZ(Z18, Y18, Z19, Y19, Y1)
	QSUMZ(Z20, Y20, Z21, Y21, Y2)
	QSUMZ(Z22, Y22, Z23, Y23, Y3)
	QSUMZ(Z24, Y24, Z25, Y25, Y16)
	QSUMZ(Z26, Y26, Z27, Y27, Y20)
	QSUMZ(Z28, Y28, Z29, Y29, Y24)
	QSUMZ(Z30, Y30, Z31, Y31, Y28)
	INCQ R13
	JMP  gqbodd

gqrow:
	TESTQ R8, R8
	JEQ   gqnext
	MOVQ  R9, SI
	MOVQ  R11, DX
	MOVQ  R10, CX
	QZERO
	CMPQ  CX, $32
	JB    gqtail8

gqloop32:
	QDOT32
	CMPQ CX, $32
	JAE  gqloop32

gqtail8:
	CMPQ CX, $8
	JB   gqreduce
	QDOT8
	JMP  gqtail8

gqreduce:
	// (a0+a1)+(a2+a3) of each query into Y0, Y2, Y4, Y6, then its lanes.
	VADDPS Y17, Y16, Y0
	VADDPS Y19, Y18, Y1
	VADDPS Y1, Y0, Y0
	VADDPS Y21, Y20, Y2
	VADDPS Y23, Y22, Y3
	VADDPS Y3, Y2, Y2
	VADDPS Y25, Y24, Y4
	VADDPS Y27, Y26, Y5
	VADDPS Y5, Y4, Y4
	VADDPS Y29, Y28, Y6
	VADDPS Y31, Y30, Y7
	VADDPS Y7, Y6, Y6
	HSUM(Y0, X0, X1)
	HSUM(Y2, X2, X3)
	HSUM(Y4, X4, X5)
	HSUM(Y6, X6, X7)

gqtail1:
	TESTQ        CX, CX
	JEQ          gqstore
	VPBROADCASTW (DX), X12
	VCVTPH2PS    X12, X12
	VMOVSS       (SI), X1
	VFMADD231SS  X12, X1, X0
	VMOVSS       (SI)(R10*4), X3
	VFMADD231SS  X12, X3, X2
	VMOVSS       (SI)(R10*8), X5
	VFMADD231SS  X12, X5, X4
	VMOVSS       (SI)(BX*4), X7
	VFMADD231SS  X12, X7, X6
	ADDQ         $4, SI
	ADDQ         $2, DX
	DECQ         CX
	JMP          gqtail1

gqstore:
	VMULSS X15, X0, X0
	VMULSS X15, X2, X2
	VMULSS X15, X4, X4
	VMULSS X15, X6, X6
	LEAQ   (R15)(R15*2), CX
	VMOVSS X0, (DI)
	VMOVSS X2, (DI)(R15*1)
	VMOVSS X4, (DI)(R15*2)
	VMOVSS X6, (DI)(CX*1)
	ADDQ   $4, DI
	ADDQ   R12, R11
	DECQ   R8
	JMP    gqrow

gqnext:
	LEAQ (R9)(R10*8), R9
	LEAQ (R9)(R10*8), R9
	LEAQ (R14)(R15*4), R14
	SUBQ $4, AX
	JMP  gqquad

gqdone:
	VZEROUPPER
	RET

// AXPYQ adds the widened row lane vector Zv times the four queries'
// weights (Z20-Z23) to their accumulators Za, Zb, Zc, Zd, one VMULPS and
// one add each as axpyRowsF16AVX2 does (the products in Z24-Z27). The
// fourth query's add is a VFMADD213PS of 1.0 (Z28) times its accumulator
// plus the product: one rounding of the same exact sum, the same zero
// signs, and of two NaNs the accumulator's, as VADDPS's first operand
// (TestAxpyRowsF16GroupNaN); it runs on the multiply pipes, which the
// adds and the VCVTPH2PS widenings share less evenly: 1.03-1.04x as fast
// on 64 rows in the L1 cache and on 32768 rows out of it (in-process
// A/B, medians of 41 interleaved rounds, load 2.8-3.1; moving two
// queries' adds: 1.01-1.04x, three: 0.94x).
//
// What bounds it (Zen 4 VM, no PMU: loops of registers-only instructions
// timed against a chain of dependent ADDQs): 16 VMULPS or 16 VADDPS of zmm
// take 16 cycles, both together 16 (the multiply and add pipes); 8
// VCVTPH2PS to zmm take 10.6 alone, 24 with 16 VADDPS (they use the add
// pipes), 18.6 with 16 VMULPS; 8 VBROADCASTSS take 8, hidden by 16 VMULPS
// or VADDPS. A 64-lane row (ROW64's mix) takes 23.3 cycles, the kernel
// 48-51 per 128-lane row in the L1 cache: 4 queries' multiply and add per
// lane can't be one FMA (another rounding), so the pipes' floor is ~36.
// Embedded {1to16} broadcasts instead of VBROADCASTSS: 20.0-20.8 cycles,
// 1.05x in the L1 cache, but 0.96x out of it on one thread and 0.99-1.02x
// on a decode step (16 more loads a row in the window while rows come
// from memory). Out of the cache the kernel is bound by the memory, see
// axpyRowsF16QuadAVX512.
#define AXPYQ(Zv, Za, Zb, Zc, Zd) \
	VMULPS      Zv, Z20, Z24; \
	VMULPS      Zv, Z21, Z25; \
	VMULPS      Zv, Z22, Z26; \
	VMULPS      Zv, Z23, Z27; \
	VADDPS      Z24, Za, Za; \
	VADDPS      Z25, Zb, Zb; \
	VADDPS      Z26, Zc, Zc; \
	VFMADD213PS Z27, Z28, Zd

// ROW64 adds row SI (64 lanes) times the four queries' weights at BX to
// Z0-Z15 and moves to the next row, comparing BX with the rows R8.
#define ROW64 \
	VCVTPH2PS    (SI), Z16; \
	VCVTPH2PS    32(SI), Z17; \
	VCVTPH2PS    64(SI), Z18; \
	VCVTPH2PS    96(SI), Z19; \
	VBROADCASTSS (R9)(BX*4), Z20; \
	VBROADCASTSS (R11)(BX*4), Z21; \
	VBROADCASTSS (DX)(BX*4), Z22; \
	VBROADCASTSS (CX)(BX*4), Z23; \
	AXPYQ(Z16, Z0, Z4, Z8, Z12); \
	AXPYQ(Z17, Z1, Z5, Z9, Z13); \
	AXPYQ(Z18, Z2, Z6, Z10, Z14); \
	AXPYQ(Z19, Z3, Z7, Z11, Z15); \
	ADDQ         R12, SI; \
	INCQ         BX; \
	CMPQ         BX, R8

#define HQAHEAD 4096

// func axpyRowsF16QuadAVX512(dst *float32, n, w int, a *float32, aStride int, m *uint16, rows, stride int)
//
// axpyRowsF16GroupAVX2 for four queries at a time (n a multiple of 4, w of
// 32, rows > 0): a pass over the rows takes 64 lanes (a last one 32), the
// four queries' accumulators held in Z0-Z15 over all rows, each row's lanes
// widened once for the four; each lane gets axpyRowsF16AVX2's multiply and
// add per row, in the same order, so the same bits. A pass with 64 lanes
// or more after it prefetches the next pass's two cache lines of each row
// (and no lane past w: another thread may be reading those). Every pass
// also prefetches its own lines of the row HQAHEAD bytes on (in a decode
// step over 128-wide heads, 16 rows on, half of model's tile of 32 rows).
// Out of the cache, the rows come from memory at about two thirds of the
// rate a loop of plain loads gets over the same split on 2 threads (the
// values of a decode step over 30 layers at depth 4064: 7.1-7.5 ms a
// token, against 5.2 for the loads and 4.5 with the rows in the L1 cache;
// the scores, dotRowsF16QuadAVX512 over as many bytes, take 5.0-5.5, the
// loads' rate). Tiles of 64 rows prefetched 16 KiB ahead kept 32 KiB of
// rows live, the whole L1 cache; tiles of 32 prefetched 4 KiB ahead went
// 1.05x as fast (in-process A/B, medians of 25 interleaved rounds: 1.051,
// 1.046 at load 0.7-1.0, 1/0.958 at load 2.1; against tiles of 64 and 16
// KiB: tiles of 32 and 8 KiB 1.026, tiles of 16 and 4 KiB 1.03-1.06;
// against tiles of 32 and 4 KiB: 2 KiB 0.99x, tiles of 64 0.95x). Without
// the first pass's prefetch of the row's next lines, 0.89x.
TEXT ·axpyRowsF16QuadAVX512(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), AX
	MOVQ a+24(FP), R9
	MOVQ rows+48(FP), R8
	MOVQ stride+56(FP), R12
	SHLQ $1, R12
	MOVL $0x3f800000, SI
	VPBROADCASTD SI, Z28      // 1.0 for AXPYQ
	MOVQ w+16(FP), R15
	SHLQ $2, R15              // a query's dst in bytes
	LEAQ (R15)(R15*2), R13    // three of them

hqquad:
	// Queries' weights R9, R11, DX, CX; R14 the pass's lanes of row 0,
	// R10 the lanes left.
	MOVQ aStride+32(FP), R14
	SHLQ $2, R14
	LEAQ (R9)(R14*1), R11
	LEAQ (R11)(R14*1), DX
	LEAQ (DX)(R14*1), CX
	MOVQ m+40(FP), R14
	MOVQ w+16(FP), R10

hqpass64:
	CMPQ    R10, $64
	JB      hqpass32
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VMOVUPS (DI)(R15*1), Z4
	VMOVUPS 64(DI)(R15*1), Z5
	VMOVUPS 128(DI)(R15*1), Z6
	VMOVUPS 192(DI)(R15*1), Z7
	VMOVUPS (DI)(R15*2), Z8
	VMOVUPS 64(DI)(R15*2), Z9
	VMOVUPS 128(DI)(R15*2), Z10
	VMOVUPS 192(DI)(R15*2), Z11
	VMOVUPS (DI)(R13*1), Z12
	VMOVUPS 64(DI)(R13*1), Z13
	VMOVUPS 128(DI)(R13*1), Z14
	VMOVUPS 192(DI)(R13*1), Z15
	MOVQ    R14, SI
	XORQ    BX, BX
	CMPQ    R10, $128
	JB      hqrow64

hqrow64pf:
	PREFETCHT0 128(SI)
	PREFETCHT0 192(SI)
	PREFETCHT0 HQAHEAD(SI)
	PREFETCHT0 HQAHEAD+64(SI)
	ROW64
	JB         hqrow64pf
	JMP        hqstore64

hqrow64:
	PREFETCHT0 HQAHEAD(SI)
	PREFETCHT0 HQAHEAD+64(SI)
	ROW64
	JB hqrow64

hqstore64:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, (DI)(R15*1)
	VMOVUPS Z5, 64(DI)(R15*1)
	VMOVUPS Z6, 128(DI)(R15*1)
	VMOVUPS Z7, 192(DI)(R15*1)
	VMOVUPS Z8, (DI)(R15*2)
	VMOVUPS Z9, 64(DI)(R15*2)
	VMOVUPS Z10, 128(DI)(R15*2)
	VMOVUPS Z11, 192(DI)(R15*2)
	VMOVUPS Z12, (DI)(R13*1)
	VMOVUPS Z13, 64(DI)(R13*1)
	VMOVUPS Z14, 128(DI)(R13*1)
	VMOVUPS Z15, 192(DI)(R13*1)
	ADDQ    $256, DI
	ADDQ    $128, R14
	SUBQ    $64, R10
	JMP     hqpass64

hqpass32:
	TESTQ   R10, R10
	JEQ     hqnext
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS (DI)(R15*1), Z4
	VMOVUPS 64(DI)(R15*1), Z5
	VMOVUPS (DI)(R15*2), Z8
	VMOVUPS 64(DI)(R15*2), Z9
	VMOVUPS (DI)(R13*1), Z12
	VMOVUPS 64(DI)(R13*1), Z13
	MOVQ    R14, SI
	XORQ    BX, BX

hqrow32:
	PREFETCHT0   HQAHEAD(SI)
	VCVTPH2PS    (SI), Z16
	VCVTPH2PS    32(SI), Z17
	VBROADCASTSS (R9)(BX*4), Z20
	VBROADCASTSS (R11)(BX*4), Z21
	VBROADCASTSS (DX)(BX*4), Z22
	VBROADCASTSS (CX)(BX*4), Z23
	AXPYQ(Z16, Z0, Z4, Z8, Z12)
	AXPYQ(Z17, Z1, Z5, Z9, Z13)
	ADDQ         R12, SI
	INCQ         BX
	CMPQ         BX, R8
	JB           hqrow32

	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z4, (DI)(R15*1)
	VMOVUPS Z5, 64(DI)(R15*1)
	VMOVUPS Z8, (DI)(R15*2)
	VMOVUPS Z9, 64(DI)(R15*2)
	VMOVUPS Z12, (DI)(R13*1)
	VMOVUPS Z13, 64(DI)(R13*1)
	ADDQ    $128, DI

hqnext:
	// DI is past query 0's lanes: on to query 4's.
	ADDQ R13, DI
	MOVQ aStride+32(FP), R14
	SHLQ $4, R14
	ADDQ R14, R9
	SUBQ $4, AX
	JGT  hqquad

	VZEROUPPER
	RET
