//go:build !noasm

package cpu

// kernelSet.mm4 at the AVX2 and AVX512 levels (plainmm.go; assembly in
// plainmm_amd64.s). Their floatRows for Q8_0 and Q4_0 rows of a multiple of
// 8 blocks are rowsQ8_0AVX2 and rowsQ4_0AVX2, rowsQ8_0AVX512 and
// rowsQ4_0AVX512, whose orders mm4 keeps; they need F16C, like floatRowsAVX2.

func init() {
	if hasF16C() {
		levelKernels[AVX2].mm4 = mm4AVX2
		levelKernels[AVX2].mmTypes = 1<<Q8_0 | 1<<Q4_0
		levelKernels[AVX512].mm4 = mm4AVX512
		levelKernels[AVX512].mmTypes = 1<<Q8_0 | 1<<Q4_0
	}
}

// mmQ8_0AVX512 and mmQ4_0AVX512 compute, for r < rows (even) and t < 4,
//
//	dst[t*ds+r] = scale * rowsQ8_0AVX512's (rowsQ4_0AVX512's) dot of row r
//	              with token t,
//
// row r at w[r*rb:], token t's q, d8 and corr at byte t*cols of q, d8 and
// corr (mmActs), cols a multiple of 256. Two rows and four tokens at a
// time: each pair of blocks is loaded once per row, its lane sums taken
// with VPDPBUSD from the unsigned weights and seeded with corr; each
// (row, token) has two accumulators, pairs alternating, as in the
// single-token kernels.
//
//go:noescape
func mmQ8_0AVX512(dst []float32, ds, rows int, w []byte, rb int, q []int8, d8 []float32, corr []int32, cols int, scale float32)

//go:noescape
func mmQ4_0AVX512(dst []float32, ds, rows int, w []byte, rb int, q []int8, d8 []float32, corr []int32, cols int, scale float32)

// mmQ8_0AVX2 and mmQ4_0AVX2 are the same at the AVX2 level in the order
// of rowsQ8_0AVX2 and rowsQ4_0AVX2, one row and four tokens at a time (any
// rows; corr unused): each block is loaded and its signs taken once per
// row.
//
//go:noescape
func mmQ8_0AVX2(dst []float32, ds, rows int, w []byte, rb int, q []int8, d8 []float32, corr []int32, cols int, scale float32)

//go:noescape
func mmQ4_0AVX2(dst []float32, ds, rows int, w []byte, rb int, q []int8, d8 []float32, corr []int32, cols int, scale float32)

func mm4AVX2(dst []float32, ds, rows int, t DType, w []byte, rb int, a *mmActs, t0 int, scale float32) {
	q, d8, corr := mm4Args("mm4AVX2", dst, ds, rows, t, w, rb, a, t0)
	switch t {
	case Q8_0:
		mmQ8_0AVX2(dst, ds, rows, w, rb, q, d8, corr, a.cols, scale)
	case Q4_0:
		mmQ4_0AVX2(dst, ds, rows, w, rb, q, d8, corr, a.cols, scale)
	default:
		panic("metal: mm4AVX2: type " + t.String())
	}
}

func mm4AVX512(dst []float32, ds, rows int, t DType, w []byte, rb int, a *mmActs, t0 int, scale float32) {
	q, d8, corr := mm4Args("mm4AVX512", dst, ds, rows, t, w, rb, a, t0)
	switch t {
	case Q8_0:
		mmQ8_0AVX512(dst, ds, rows, w, rb, q, d8, corr, a.cols, scale)
	case Q4_0:
		mmQ4_0AVX512(dst, ds, rows, w, rb, q, d8, corr, a.cols, scale)
	default:
		panic("metal: mm4AVX512: type " + t.String())
	}
}

// mm4Args checks the shapes of an mm4 call and returns the 4 tokens'
// activations.
func mm4Args(op string, dst []float32, ds, rows int, t DType, w []byte, rb int, a *mmActs, t0 int) (q []int8, d8 []float32, corr []int32) {
	cols := a.cols
	if rows < 0 || rows%2 != 0 || cols%256 != 0 || rb < t.BlockBytes()*cols/32 || len(w) < rows*rb ||
		len(dst) < 3*ds+rows || ds < rows || t0 < 0 || t0+4 > a.n {
		panic("metal: " + op + ": shapes do not match")
	}
	return a.q[t0*cols : (t0+4)*cols], a.d8[t0*cols/4 : (t0+4)*cols/4], a.corr[t0*cols/4 : (t0+4)*cols/4]
}
