package cpu

// MatMul of Q8_0 and Q4_0 rows (the plain layer weights in prefill), 4
// tokens at a time. floatRows dots a row with one token; a level with
// kernelSet.mm4 unpacks each pair of row blocks once and dots it with 4
// tokens in registers, giving the same bits: the integer lane sums are
// exact whichever way they are formed, and every token keeps the float
// accumulators and summation order of floatRows. The kernel forms the lane
// sums from unsigned weights (Q8_0 w+128, Q4_0 the raw nibble) and removes
// the offset with a per-token correction (mmActs.corr) that seeds each sum,
// so that a block's weights need no sign work per token.

// mmActs holds the n tokens of a MatMul laid out for kernelSet.mm4; token t
// of each array starts at element t*cols (q) or t*cols/4 (d8, corr), that is
// at byte t*cols in all three.
type mmActs struct {
	n, cols int
	q       []int8    // q of every token (floatAct.q)
	d8      []float32 // d8 of every token (floatAct.d8)
	// corr[t*cols/4+8b+l] = -c * Σ_{i<4} q[t*cols+32b+4l+i] with c = 128
	// (Q8_0) or 8 (Q4_0): the offset of the unsigned weights.
	corr []int32
	c    int32
}

// begin readies a for n tokens of a matrix of type t, cols wide, when the
// level has kernelSet.mm4 for t, n >= 4 and cols is a multiple of 256 (a.n
// is 0 otherwise); token then lays out each token and end checks that all
// were quantized.
func (a *mmActs) begin(t DType, n, cols int) {
	a.n = 0
	if kern.mm4 == nil || kern.mmTypes&(1<<t) == 0 || n < 4 || cols%256 != 0 {
		return
	}
	if cap(a.q) < n*cols {
		a.q = make([]int8, n*cols)
		a.d8 = make([]float32, n*cols/4)
		a.corr = make([]int32, n*cols/4)
	}
	a.n, a.cols, a.c = n, cols, 128
	if t == Q4_0 {
		a.c = 8
	}
	a.q, a.d8, a.corr = a.q[:n*cols], a.d8[:n*cols/4], a.corr[:n*cols/4]
}

// token lays out token tok (x, prepared for the matrix); tokens may be
// laid out concurrently.
func (a *mmActs) token(tok int, x *floatAct) {
	if a.n == 0 || !x.quant {
		return
	}
	cols := a.cols
	q := a.q[tok*cols : (tok+1)*cols]
	copy(q, x.q)
	copy(a.d8[tok*cols/4:(tok+1)*cols/4], x.d8)
	corr := a.corr[tok*cols/4 : (tok+1)*cols/4]
	for i := range corr {
		v := q[4*i : 4*i+4]
		corr[i] = -a.c * (int32(v[0]) + int32(v[1]) + int32(v[2]) + int32(v[3]))
	}
}

func (a *mmActs) end(acts []*floatAct) {
	for _, x := range acts {
		if !x.quant {
			a.n = 0
		}
	}
}

// actRun prepares tokens [t0, t1) of a MatMul (floatRowsParallelN): the
// quantization of each token and its layout for kern.mm4.
func actRun(arg any, t0, t1 int) {
	j := arg.(*floatJob)
	cols := j.m.Cols
	for t := t0; t < t1; t++ {
		j.acts[t].prepare(j.m.Type, j.x[t*cols:(t+1)*cols])
		j.mm.token(t, j.acts[t])
	}
}

// mmRun computes rows [c0, c1) of j for the tokens in whole groups of 4
// (kern.mm4 on an even number of rows, floatRows for an odd last row) and
// returns how many tokens it did: 0 unless j.mm was prepared.
func (j *floatJob) mmRun(c0, c1 int) int {
	a := &j.mm
	if a.n == 0 {
		return 0
	}
	m := j.m
	rows, rb := m.Rows, m.rowBytes()
	e := c0 + (c1-c0)&^1
	n4 := a.n &^ 3
	for t := 0; t < n4; t += 4 {
		if e > c0 {
			kern.mm4(j.dst[t*rows+c0:], rows, e-c0, m.Type, m.Data[c0*rb:e*rb], rb, a, t, m.Scale)
		}
		for u := t; u < t+4 && e < c1; u++ {
			kern.floatRows(j.dst[u*rows+e:u*rows+c1], m.Type, m.Data[e*rb:c1*rb], rb, j.acts[u], m.Scale)
		}
	}
	return n4
}
