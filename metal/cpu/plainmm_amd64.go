//go:build !noasm

package cpu

// The AVX512 level's kernelSet.mm4 (plainmm.go; assembly in
// plainmm_amd64.s). Its floatRows for Q8_0 and Q4_0 rows of a multiple of 8
// blocks are rowsQ8_0AVX512 and rowsQ4_0AVX512, whose order mm4 keeps; they
// need F16C, like floatRowsAVX512.

func init() {
	if hasF16C() {
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

func mm4AVX512(dst []float32, ds, rows int, t DType, w []byte, rb int, a *mmActs, t0 int, scale float32) {
	cols := a.cols
	if rows <= 0 {
		return
	}
	if rows%2 != 0 || cols%256 != 0 || rb < t.BlockBytes()*cols/32 || len(w) < rows*rb ||
		len(dst) < 3*ds+rows || ds < rows || t0 < 0 || t0+4 > a.n {
		panic("metal: mm4AVX512: shapes do not match")
	}
	q := a.q[t0*cols : (t0+4)*cols]
	d8 := a.d8[t0*cols/4 : (t0+4)*cols/4]
	corr := a.corr[t0*cols/4 : (t0+4)*cols/4]
	switch t {
	case Q8_0:
		mmQ8_0AVX512(dst, ds, rows, w, rb, q, d8, corr, cols, scale)
	case Q4_0:
		mmQ4_0AVX512(dst, ds, rows, w, rb, q, d8, corr, cols, scale)
	default:
		panic("metal: mm4AVX512: type " + t.String())
	}
}
