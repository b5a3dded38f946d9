//go:build !noasm

package cpu

// Ternary kernels for arm64 (tern_arm64.s, tern_arm64.h): the NEONDot
// level multiplies with SDOT, the NEON level with SMULL/SMLAL2/SADALP. Both
// read the file layouts as they are (no repacking) and give the Generic
// results bit for bit.

func init() {
	levelKernels[NEON].ternRows = ternRowsNEON
	levelKernels[NEONDot].ternRows = ternRowsNEONDot
	levelKernels[NEON].ternTQ1S = ternWholeNEON
	levelKernels[NEONDot].ternTQ1S = ternWholeNEONDot
}

// The row kernels compute, for r < rows and t < n, the unscaled output
//
//	dst[t*dstStride+r] = float32(dotI2SGeneric(w[r*rb:], x[t*cols:]))   // I2_S
//	dst[t*dstStride+r] = dotTQ2Generic(w[r*rb:], x[t*cols:])             // TQ2_0
//	dst[t*dstStride+r] = dotTQ1Generic(w[r*rb:], x[t*cols:])             // TQ1_0
//
// bit for bit, decoding each block once per group of 4 tokens.

//go:noescape
func tq2RowsNEONDot(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)

//go:noescape
func i2sRowsNEONDot(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)

//go:noescape
func tq1RowsNEONDot(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)

// tq2wRows* write dst[t*dstStride+r] = float32(dotTQ2WholeGeneric(w[r*rb:],
// x[t*cols:])): TQ2_0 with one d.
//
//go:noescape
func tq2wRowsNEONDot(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)

//go:noescape
func tq2wRowsNEON(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)

//go:noescape
func tq2RowsNEON(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)

//go:noescape
func i2sRowsNEON(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)

//go:noescape
func tq1RowsNEON(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)

// tq1wRows* write dst[t*dstStride+r] = float32(dotTQ1SGeneric(w[r*rb:],
// x[t*cols:], 52+skip)): TQ1_S (skip 0) and TQ1_0 with one d (skip 2).
//
//go:noescape
func tq1wRowsNEONDot(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int, skip int)

//go:noescape
func tq1wRowsNEON(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int, skip int)

func ternWholeNEONDot(j *ternJob, r0, r1 int) { ternWholeARM64(tq1wRowsNEONDot, j, r0, r1) }
func ternWholeNEON(j *ternJob, r0, r1 int)    { ternWholeARM64(tq1wRowsNEON, j, r0, r1) }

// ternWholeARM64 is kernelSet.ternTQ1S: TQ1_S, and TQ1_0 with one d
// (Matrix.UseUniformScale), summed over the whole row.
func ternWholeARM64(k func(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int, skip int), j *ternJob, r0, r1 int) {
	m := j.m
	if r1 <= r0 {
		return
	}
	rb := m.rowBytes()
	k(m.Data[r0*rb:r1*rb], r1-r0, rb, j.xq[:j.n*m.Cols], m.Cols, j.n, j.dst[r0:(j.n-1)*m.Rows+r1], m.Rows, m.Type.BlockBytes()-52)
	scaleRows(j, r0, r1)
}

// scaleRows multiplies the outputs of rows [r0, r1) by their token's scale.
func scaleRows(j *ternJob, r0, r1 int) {
	m := j.m
	for t := 0; t < j.n; t++ {
		d := j.dst[t*m.Rows+r0 : t*m.Rows+r1]
		s := j.scale[t]
		for i, v := range d {
			d[i] = s * v
		}
	}
}

type ternRowsFunc func(w []byte, rows, rb int, x []int8, cols, n int, dst []float32, dstStride int)

var (
	ternNEONDot = [numDTypes]ternRowsFunc{TQ2_0: tq2RowsNEONDot, I2_S: i2sRowsNEONDot, TQ1_0: tq1RowsNEONDot}
	ternNEON    = [numDTypes]ternRowsFunc{TQ2_0: tq2RowsNEON, I2_S: i2sRowsNEON, TQ1_0: tq1RowsNEON}
)

func ternRowsNEONDot(j *ternJob, r0, r1 int) {
	ternRowsARM64(&ternNEONDot, tq2wRowsNEONDot, j, r0, r1)
}
func ternRowsNEON(j *ternJob, r0, r1 int) { ternRowsARM64(&ternNEON, tq2wRowsNEON, j, r0, r1) }

// ternRowsARM64 is kernelSet.ternRows: the kernel writes the unscaled
// outputs of rows [r0, r1) for every token, then each is multiplied by its
// token's scale (the same product as ternRowsGeneric's); whole is the
// kernel of TQ2_0 with one d.
func ternRowsARM64(k *[numDTypes]ternRowsFunc, whole ternRowsFunc, j *ternJob, r0, r1 int) {
	m := j.m
	if r1 <= r0 {
		return
	}
	if k[m.Type] == nil { // a layout without an arm64 kernel
		ternRowsGeneric(j, r0, r1)
		return
	}
	rb := m.rowBytes()
	w := m.Data[r0*rb : r1*rb]
	x := j.xq[:j.n*m.Cols]
	dst := j.dst[r0 : (j.n-1)*m.Rows+r1]
	run := k[m.Type]
	if m.Type == TQ2_0 && m.blockD != 0 {
		run = whole
	}
	run(w, r1-r0, rb, x, m.Cols, j.n, dst, m.Rows)
	scaleRows(j, r0, r1)
}
