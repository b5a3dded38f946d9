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
}

// prepare lays out the tokens of acts for kernelSet.mm4 when the level has
// it for type t, there are at least 4 tokens, all quantized, and cols is a
// multiple of 256; it sets a.n to 0 otherwise.
func (a *mmActs) prepare(t DType, acts []*floatAct) {
	a.n = 0
	if kern.mm4 == nil || kern.mmTypes&(1<<t) == 0 || len(acts) < 4 {
		return
	}
	cols := len(acts[0].x)
	if cols%256 != 0 {
		return
	}
	for _, x := range acts {
		if !x.quant {
			return
		}
	}
	c := int32(128)
	if t == Q4_0 {
		c = 8
	}
	n := len(acts)
	if cap(a.q) < n*cols {
		a.q = make([]int8, n*cols)
		a.d8 = make([]float32, n*cols/4)
		a.corr = make([]int32, n*cols/4)
	}
	a.n, a.cols = n, cols
	a.q, a.d8, a.corr = a.q[:n*cols], a.d8[:n*cols/4], a.corr[:n*cols/4]
	for tok, x := range acts {
		q := a.q[tok*cols : (tok+1)*cols]
		copy(q, x.q)
		copy(a.d8[tok*cols/4:(tok+1)*cols/4], x.d8)
		corr := a.corr[tok*cols/4 : (tok+1)*cols/4]
		for i := range corr {
			v := q[4*i : 4*i+4]
			corr[i] = -c * (int32(v[0]) + int32(v[1]) + int32(v[2]) + int32(v[3]))
		}
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
