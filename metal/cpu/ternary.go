package cpu

import "fmt"

func ternaryPanic(op string, m *Matrix, format string, args ...any) {
	panic(fmt.Sprintf("metal: %s on %v %d x %d matrix: %s", op, m.Type, m.Rows, m.Cols, fmt.Sprintf(format, args...)))
}

// MatVecTernary multiplies a ternary matrix (TQ1_0, TQ2_0, I2_S or TQ1_S) by
// one token's int8 activations xq (from QuantizeInt8, with its inv):
//
//	for r < m.Rows:
//		acc := float32(0)
//		for each block b of row r (256 elements; I2_S, TQ1_S: the whole row, d_b = 1):
//			acc += d_b * float32(Σ_{j in b} w[r,j]*xq[j])  // integer sum
//		dst[r] = (m.Scale * inv) * acc
//
// except for a TQ1_0 matrix with one d in every block (see
// Matrix.UseUniformScale), which is summed as TQ1_S:
//
//	dst[r] = ((m.Scale * d) * inv) * float32(Σ_j w[r,j]*xq[j])
//
// d_b is the TQ block's f16 d; each d_b*sum is rounded to float32 before
// the add (no FMA), and every level gives the same bits. The rows are split
// over the worker pool (SetThreads). It allocates nothing in the steady
// state. It panics unless m is ternary, len(xq) == m.Cols and len(dst) ==
// m.Rows.
func MatVecTernary(dst []float32, m *Matrix, xq []int8, inv float32) {
	m.check("MatVecTernary")
	if !m.Type.Ternary() {
		ternaryPanic("MatVecTernary", m, "not a ternary type")
	}
	if len(xq) != m.Cols || len(dst) != m.Rows {
		ternaryPanic("MatVecTernary", m, "len(xq) %d, len(dst) %d", len(xq), len(dst))
	}
	p := thePool
	p.mu.Lock()
	j := &p.tern
	scale := j.scales(1)
	scale[0] = m.outScale() * inv
	j.start(m, dst, xq, scale, 1)
	p.runTern(j)
	p.mu.Unlock()
}

// MatMulTernary is MatVecTernary for n tokens: token t's activations are
// xq[t*m.Cols:(t+1)*m.Cols] with inverse scale inv[t], and its outputs go to
// dst[t*m.Rows:(t+1)*m.Rows]. Every output equals MatVecTernary's bit for
// bit; the SIMD levels read each weight once per tile of tokens. It panics
// unless len(xq) == n*m.Cols, len(inv) == n and len(dst) == n*m.Rows.
func MatMulTernary(dst []float32, m *Matrix, xq []int8, inv []float32, n int) {
	m.check("MatMulTernary")
	if !m.Type.Ternary() {
		ternaryPanic("MatMulTernary", m, "not a ternary type")
	}
	if n < 0 || len(xq) != n*m.Cols || len(inv) != n || len(dst) != n*m.Rows {
		ternaryPanic("MatMulTernary", m, "n %d, len(xq) %d, len(inv) %d, len(dst) %d", n, len(xq), len(inv), len(dst))
	}
	if n == 0 {
		return
	}
	p := thePool
	p.mu.Lock()
	j := &p.tern
	scale := j.scales(n)
	for t := range scale {
		scale[t] = m.outScale() * inv[t]
	}
	j.start(m, dst, xq, scale, n)
	p.runTern(j)
	p.mu.Unlock()
}

// MatMulTernaryPair is MatMulTernary of the same activations by two ternary
// matrices of one type and shape, such as a feed-forward's gate and up, in a
// single pass over the worker pool. Each thread computes rows [r0, r1) of
// both for every token and then calls then(r0, r1) (if not nil), so an
// elementwise step on the two outputs runs in parallel, on data still in
// that core's cache. The outputs equal two MatMulTernary calls bit for bit.
// then must not call the matrix kernels or Parallel.
func MatMulTernaryPair(dstA []float32, a *Matrix, dstB []float32, b *Matrix, xq []int8, inv []float32, n int, then func(r0, r1 int)) {
	a.check("MatMulTernaryPair")
	b.check("MatMulTernaryPair")
	if !a.Type.Ternary() {
		ternaryPanic("MatMulTernaryPair", a, "not a ternary type")
	}
	if b.Type != a.Type || b.Rows != a.Rows || b.Cols != a.Cols {
		ternaryPanic("MatMulTernaryPair", a, "second matrix is %v %d x %d", b.Type, b.Rows, b.Cols)
	}
	if n < 0 || len(xq) != n*a.Cols || len(inv) != n || len(dstA) != n*a.Rows || len(dstB) != n*a.Rows {
		ternaryPanic("MatMulTernaryPair", a, "n %d, len(xq) %d, len(inv) %d, len(dstA) %d, len(dstB) %d",
			n, len(xq), len(inv), len(dstA), len(dstB))
	}
	if n == 0 {
		return
	}
	if a.wholeRow() != b.wholeRow() {
		// TQ1_0 with one d and TQ1_0 without: the two need different
		// activation sums. Rare (a model's tensors are quantized alike).
		MatMulTernary(dstA, a, xq, inv, n)
		MatMulTernary(dstB, b, xq, inv, n)
		if then != nil {
			Parallel(a.Rows, 4, then)
		}
		return
	}
	p := thePool
	p.mu.Lock()
	ja, jb := &p.tern, &p.tern2
	sa, sb := ja.scales(n), jb.scales(n)
	for t := range n {
		sa[t], sb[t] = a.outScale()*inv[t], b.outScale()*inv[t]
	}
	ja.start(a, dstA, xq, sa, n)
	kern.ternPrep(ja)
	// The activations' layout depends only on the type, the width and xq:
	// b shares a's.
	jb.start(b, dstB, xq, sb, n)
	jb.xp, jb.xStride, jb.bsum, jb.bStride, jb.grain = ja.xp, ja.xStride, ja.bsum, ja.bStride, ja.grain
	pj := &p.pair
	pj.a, pj.b, pj.then = ja, jb, then
	p.parallel(pairRun, pj, a.Rows, ja.grain)
	*pj = pairJob{}
	for _, j := range []*ternJob{ja, jb} {
		j.m, j.dst, j.xq, j.scale, j.xp, j.bsum = nil, nil, nil, nil, nil, nil
	}
	p.mu.Unlock()
}

// MatMulTernary3 is MatMulTernary of the same activations by three ternary
// matrices of one type and width, such as an attention's Q, K and V, in a
// single pass over the worker pool: the rows of a, then b, then c, are split
// as one range. The outputs equal three MatMulTernary calls bit for bit.
// It panics unless the matrices share the type and column count, len(xq) ==
// n*a.Cols, len(inv) == n and each dst holds n times its matrix's rows.
func MatMulTernary3(dstA []float32, a *Matrix, dstB []float32, b *Matrix, dstC []float32, c *Matrix, xq []int8, inv []float32, n int) {
	ms := [3]*Matrix{a, b, c}
	dsts := [3][]float32{dstA, dstB, dstC}
	for _, m := range ms {
		m.check("MatMulTernary3")
	}
	if !a.Type.Ternary() {
		ternaryPanic("MatMulTernary3", a, "not a ternary type")
	}
	for _, m := range ms[1:] {
		if m.Type != a.Type || m.Cols != a.Cols {
			ternaryPanic("MatMulTernary3", a, "another matrix is %v %d x %d", m.Type, m.Rows, m.Cols)
		}
	}
	if n < 0 || len(xq) != n*a.Cols || len(inv) != n || len(dstA) != n*a.Rows || len(dstB) != n*b.Rows || len(dstC) != n*c.Rows {
		ternaryPanic("MatMulTernary3", a, "n %d, len(xq) %d, len(inv) %d, len(dst) %d, %d, %d",
			n, len(xq), len(inv), len(dstA), len(dstB), len(dstC))
	}
	if n == 0 {
		return
	}
	if a.wholeRow() != b.wholeRow() || a.wholeRow() != c.wholeRow() {
		// TQ1_0 with one d and without need different activation sums.
		for i, m := range ms {
			MatMulTernary(dsts[i], m, xq, inv, n)
		}
		return
	}
	p := thePool
	p.mu.Lock()
	tj := &p.triple
	tj.j = [3]*ternJob{&p.tern, &p.tern2, &p.tern3}
	for i, j := range tj.j {
		s := j.scales(n)
		for t := range n {
			s[t] = ms[i].outScale() * inv[t]
		}
		j.start(ms[i], dsts[i], xq, s, n)
		if i == 0 {
			kern.ternPrep(j)
			continue
		}
		// The activations' layout depends only on the type, the width
		// and xq: every matrix shares a's.
		j0 := tj.j[0]
		j.xp, j.xStride, j.bsum, j.bStride, j.grain = j0.xp, j0.xStride, j0.bsum, j0.bStride, j0.grain
	}
	// Each matrix starts on a multiple of the grain, so that every chunk
	// of it does too.
	g := tj.j[0].grain
	for i, m := range ms {
		tj.off[i+1] = tj.off[i] + m.Rows
		if i < 2 {
			tj.off[i+1] = (tj.off[i+1] + g - 1) / g * g
		}
	}
	p.parallel(tripleRun, tj, tj.off[3], g)
	for _, j := range tj.j {
		j.m, j.dst, j.xq, j.scale, j.xp, j.bsum = nil, nil, nil, nil, nil, nil
	}
	*tj = tripleJob{}
	p.mu.Unlock()
}

// tripleJob is one MatMulTernary3 call: matrix i's rows are rows
// [off[i], off[i]+rows) of the job; off[3] is the job's end.
type tripleJob struct {
	j   [3]*ternJob
	off [4]int
}

func tripleRun(arg any, r0, r1 int) {
	tj := arg.(*tripleJob)
	for i, j := range tj.j {
		o := tj.off[i]
		if a, b := max(r0, o), min(r1, o+j.m.Rows); a < b {
			ternRun(j, a-o, b-o)
		}
	}
}

// pairJob is one MatMulTernaryPair call.
type pairJob struct {
	a, b *ternJob
	then func(r0, r1 int)
}

func pairRun(arg any, r0, r1 int) {
	j := arg.(*pairJob)
	ternRun(j.a, r0, r1)
	ternRun(j.b, r0, r1)
	if j.then != nil {
		j.then(r0, r1)
	}
}

// ternJob is one MatVecTernary or MatMulTernary call. It lives in the pool
// (one call at a time), with the scratch buffers it keeps between calls.
type ternJob struct {
	m     *Matrix
	n     int       // tokens
	xq    []int8    // n*m.Cols activations, token-major
	scale []float32 // n: m.outScale() * inv[t]
	dst   []float32 // n*m.Rows outputs, token-major

	// Set by kern.ternPrep in the layout of the level's ternRows: token t's
	// activations at xp[t*xStride:], its block sums at bsum[t*bStride:].
	xp      []int8
	xStride int
	bsum    []int32
	bStride int
	grain   int // ternRows likes row ranges that are multiples of grain

	scaleBuf []float32
	xpBuf    []int8
	bsumBuf  []int32
	blkBuf   []int8 // amd64: block-layout activations before streamTQ1
	lastBuf  []byte // amd64: a copy of the last row for the whole-row TQ1 kernels
}

func (j *ternJob) start(m *Matrix, dst []float32, xq []int8, scale []float32, n int) {
	j.m, j.dst, j.xq, j.scale, j.n = m, dst, xq, scale, n
	j.xp, j.xStride, j.bsum, j.bStride, j.grain = nil, 0, nil, 0, 1
}

// scales returns a buffer for n token scales, followed by 3 zeros that the
// kernels may read.
func (j *ternJob) scales(n int) []float32 {
	if cap(j.scaleBuf) < n+3 {
		j.scaleBuf = make([]float32, n+3)
	}
	s := j.scaleBuf[:n+3]
	clear(s[n:])
	return s[:n]
}

// scratch returns j's buffers resized to nx activation bytes and nb block
// sums (grown, never shrunk).
func (j *ternJob) scratch(nx, nb int) ([]int8, []int32) {
	if cap(j.xpBuf) < nx {
		j.xpBuf = make([]int8, nx)
	}
	if cap(j.bsumBuf) < nb {
		j.bsumBuf = make([]int32, nb)
	}
	return j.xpBuf[:nx], j.bsumBuf[:nb]
}

func (p *pool) runTern(j *ternJob) {
	kern.ternPrep(j)
	p.parallel(ternRun, j, j.m.Rows, j.grain)
	j.m, j.dst, j.xq, j.scale, j.xp, j.bsum = nil, nil, nil, nil, nil, nil
}

func ternRun(arg any, r0, r1 int) {
	j := arg.(*ternJob)
	if j.m.Type == TQ1_S || j.m.Type == TQ1_0 && j.m.blockD != 0 {
		kern.ternTQ1S(j, r0, r1)
		return
	}
	kern.ternRows(j, r0, r1)
}

// ternPrepGeneric: the Generic level reads j.xq as it is.
func ternPrepGeneric(j *ternJob) {}

// ternRowsGeneric is the reference of kernelSet.ternRows: for each token t
// and row r in [r0, r1),
//
//	dst[t*m.Rows+r] = scale[t] * dotTQ2Generic(row r, xq_t)         // TQ2_0
//	dst[t*m.Rows+r] = scale[t] * float32(dotTQ2WholeGeneric(row r, xq_t)) // TQ2_0 with one d
//	dst[t*m.Rows+r] = scale[t] * dotTQ1Generic(row r, xq_t)         // TQ1_0
//	dst[t*m.Rows+r] = scale[t] * float32(dotI2SGeneric(row r, xq_t)) // I2_S
//	dst[t*m.Rows+r] = scale[t] * float32(dotTQ1SGeneric(row r, xq_t, 52)) // TQ1_S
//	dst[t*m.Rows+r] = scale[t] * float32(dotTQ1SGeneric(row r, xq_t, 54)) // TQ1_0 with one d
func ternRowsGeneric(j *ternJob, r0, r1 int) {
	m := j.m
	rb := m.rowBytes()
	for t := 0; t < j.n; t++ {
		xq := j.xq[t*m.Cols : (t+1)*m.Cols]
		dst := j.dst[t*m.Rows : (t+1)*m.Rows]
		scale := j.scale[t]
		for r := r0; r < r1; r++ {
			w := m.Data[r*rb : (r+1)*rb]
			switch m.Type {
			case I2_S:
				dst[r] = scale * float32(dotI2SGeneric(w, xq))
			case TQ2_0:
				if m.blockD != 0 {
					dst[r] = scale * float32(dotTQ2WholeGeneric(w, xq))
				} else {
					dst[r] = scale * dotTQ2Generic(w, xq)
				}
			case TQ1_0:
				if m.blockD != 0 {
					dst[r] = scale * float32(dotTQ1SGeneric(w, xq, 54))
				} else {
					dst[r] = scale * dotTQ1Generic(w, xq)
				}
			case TQ1_S:
				dst[r] = scale * float32(dotTQ1SGeneric(w, xq, 52))
			}
		}
	}
}
