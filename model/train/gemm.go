package train

import "github.com/bitrepl/bitrepl/metal/cpu"

// Block sizes of gemm: a kc x nc panel of B (256 KB) stays in L2 while every 4-row strip of A streams past it.
const (
	gemmKC = 256
	gemmNC = 256
)

// gemmRef is the reference loop of gemm:
//
//	for i < m: for j < n: C[i*ldc+j] = (acc ? C[i*ldc+j] : 0) + sum_{p<k} A[i*lda+p]*B[p*ldb+j]
func gemmRef(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		if !acc {
			clear(ci)
		}
		for p := 0; p < k; p++ {
			av := a[i*lda+p]
			if av == 0 {
				continue
			}
			bp := b[p*ldb : p*ldb+n]
			for j, bv := range bp {
				ci[j] += av * bv
			}
		}
	}
}

// gemm computes C = A·B (acc false) or C += A·B (acc true) on one goroutine: A is m x k, B is k x n, C is m x n,
// all row-major with leading dimensions lda, ldb, ldc. It uses the AVX2 4x16 kernel for the bulk and gemmRef for
// the edges; the sums run in the same order for a given shape, so results are deterministic.
func gemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	if !acc {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
	}
	if k == 0 {
		return
	}
	if !haveFMA || m < 4 || n < 16 {
		gemmRef(m, n, k, a, lda, b, ldb, c, ldc, true)
		return
	}
	// bounds checks once, so the kernel cannot run past the slices
	_ = a[(m-1)*lda+k-1]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	m4, n16 := m&^3, n&^15
	for jc := 0; jc < n16; jc += gemmNC {
		nc := min(gemmNC, n16-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			for i := 0; i < m4; i += 4 {
				ap := &a[i*lda+pc]
				for j := jc; j < jc+nc; j += 16 {
					kern4x16(&c[i*ldc+j], ldc, ap, lda, &b[pc*ldb+j], ldb, kc)
				}
			}
		}
	}
	if n16 < n { // right edge, all rows
		gemmRef(m, n-n16, k, a, lda, b[n16:], ldb, c[n16:], ldc, true)
	}
	if m4 < m { // bottom edge, bulk columns
		gemmRef(m-m4, n16, k, a[m4*lda:], lda, b, ldb, c[m4*ldc:], ldc, true)
	}
}

// pgemm is gemm split over the rows of C on cpu's worker pool, in multiples of 4 rows so that every row takes
// the same path (kernel or edge loop) as in one call. Each output element is computed by one thread in the same
// order on every run, so the result does not depend on the number of threads.
func pgemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	cpu.ParallelPark(m, 4, func(lo, hi int) {
		gemm(hi-lo, n, k, a[lo*lda:], lda, b, ldb, c[lo*ldc:], ldc, acc)
	})
}

// transpose writes the transpose of the r x c matrix src (leading dimension lds) into dst (c x r, leading
// dimension ldd), in 32x32 tiles.
func transpose(dst []float32, ldd int, src []float32, lds int, r, c int) {
	const t = 32
	for i0 := 0; i0 < r; i0 += t {
		i1 := min(i0+t, r)
		for j0 := 0; j0 < c; j0 += t {
			j1 := min(j0+t, c)
			for i := i0; i < i1; i++ {
				row := src[i*lds : i*lds+j1]
				for j := j0; j < j1; j++ {
					dst[j*ldd+i] = row[j]
				}
			}
		}
	}
}
