package cpu

import "fmt"

// Group row kernels: one of the row kernels (DotRows, AxpyRows and their
// F16 and Q8_0 twins) for several queries over the same cached rows, such as
// the query heads that share a KV head, times the tokens of a batch. Each
// query's result is bit for bit the single-query kernel's; where a level has
// assembly for a group kernel, it loads and widens each row once for all the
// queries instead of once per query.

// checkGroup panics unless n vectors of width w, the i-th at i*step in a
// slice of length l, fit in it (step >= w).
func checkGroup(op, what string, n, w, step, l int) {
	if step < w || n > 0 && (n-1)*step+w > l {
		panic(fmt.Sprintf("metal: %s: %d %s of %d at step %d need more than %d", op, n, what, w, step, l))
	}
}

// queries returns how many queries of width w x holds, panicking unless it
// holds whole ones.
func queries(op string, x []float32, w int) int {
	if w <= 0 || len(x)%w != 0 {
		panic(fmt.Sprintf("metal: %s: len(x) %d is not a multiple of the width %d", op, len(x), w))
	}
	return len(x) / w
}

// DotRowsGroup computes, for every query i < len(x)/w,
//
//	DotRows(dst[i*dstStride:i*dstStride+rows], x[i*w:(i+1)*w], m, stride, scale)
//
// It panics unless w > 0 divides len(x), dstStride >= rows, dst holds every
// query's outputs and m every row.
func DotRowsGroup(dst []float32, rows, dstStride int, x []float32, w int, m []float32, stride int, scale float32) {
	n := queries("DotRowsGroup", x, w)
	checkGroup("DotRowsGroup", "outputs", n, rows, dstStride, len(dst))
	checkRows("DotRowsGroup", rows, w, len(m), stride)
	for i := range n {
		DotRows(dst[i*dstStride:][:rows], x[i*w:(i+1)*w], m, stride, scale)
	}
}

// AxpyRowsGroup does, for every query i < len(dst)/w,
//
//	AxpyRows(dst[i*w:(i+1)*w], a[i*aStride:i*aStride+rows], m, stride)
//
// It panics unless w > 0 divides len(dst), aStride >= rows, a holds every
// query's weights and m every row.
func AxpyRowsGroup(dst []float32, w int, a []float32, rows, aStride int, m []float32, stride int) {
	n := queries("AxpyRowsGroup", dst, w)
	checkGroup("AxpyRowsGroup", "weights", n, rows, aStride, len(a))
	checkRows("AxpyRowsGroup", rows, w, len(m), stride)
	for i := range n {
		AxpyRows(dst[i*w:(i+1)*w], a[i*aStride:][:rows], m, stride)
	}
}

// DotRowsF16Group is DotRowsGroup over half-float rows: for every query
// i < len(x)/w,
//
//	DotRowsF16(dst[i*dstStride:i*dstStride+rows], x[i*w:(i+1)*w], m, stride, scale)
func DotRowsF16Group(dst []float32, rows, dstStride int, x []float32, w int, m []uint16, stride int, scale float32) {
	n := queries("DotRowsF16Group", x, w)
	checkGroup("DotRowsF16Group", "outputs", n, rows, dstStride, len(dst))
	checkRows("DotRowsF16Group", rows, w, len(m), stride)
	if kern.dotRowsF16Group != nil && n > 1 && rows > 0 {
		kern.dotRowsF16Group(&dst[0], dstStride, &x[0], n, w, &m[0], rows, stride, scale)
		return
	}
	for i := range n {
		DotRowsF16(dst[i*dstStride:][:rows], x[i*w:(i+1)*w], m, stride, scale)
	}
}

// AxpyRowsF16Group is AxpyRowsGroup over half-float rows: for every query
// i < len(dst)/w,
//
//	AxpyRowsF16(dst[i*w:(i+1)*w], a[i*aStride:i*aStride+rows], m, stride)
func AxpyRowsF16Group(dst []float32, w int, a []float32, rows, aStride int, m []uint16, stride int) {
	n := queries("AxpyRowsF16Group", dst, w)
	checkGroup("AxpyRowsF16Group", "weights", n, rows, aStride, len(a))
	checkRows("AxpyRowsF16Group", rows, w, len(m), stride)
	if kern.axpyRowsF16Group != nil && n > 1 && rows > 0 {
		kern.axpyRowsF16Group(&dst[0], n, w, &a[0], aStride, &m[0], rows, stride)
		return
	}
	for i := range n {
		AxpyRowsF16(dst[i*w:(i+1)*w], a[i*aStride:][:rows], m, stride)
	}
}

// DotRowsQ8_0Group is DotRowsGroup over Q8_0 rows: for every query
// i < len(x)/w,
//
//	DotRowsQ8_0(dst[i*dstStride:i*dstStride+rows], x[i*w:(i+1)*w], m, stride, scale)
func DotRowsQ8_0Group(dst []float32, rows, dstStride int, x []float32, w int, m []byte, stride int, scale float32) {
	n := queries("DotRowsQ8_0Group", x, w)
	rb := Q8RowBytes(w)
	checkGroup("DotRowsQ8_0Group", "outputs", n, rows, dstStride, len(dst))
	checkRows("DotRowsQ8_0Group", rows, rb, len(m), stride)
	var buf [4 * q8Stack / 32 * 34]byte // four queries quantized at a time
	xq := buf[:0]
	if w > q8Stack {
		xq = make([]byte, 4*rb)
	}
	xq = xq[:4*rb]
	for q := 0; q < n; q += 4 {
		k := min(4, n-q)
		for i := range k {
			ToQ8_0(xq[i*rb:(i+1)*rb], x[(q+i)*w:(q+i+1)*w])
		}
		dotRowsQ8Group(dst[q*dstStride:], rows, dstStride, xq[:k*rb], w, m, stride, scale)
	}
}

// DotRowsQ8_0GroupQ8 is DotRowsQ8_0Group for queries already quantized by
// ToQ8_0: xq holds len(xq)/Q8RowBytes(w) of them back to back, query i
// scored into dst[i*dstStride:i*dstStride+rows], the same bits. A caller
// that scores the same queries against many tiles of rows quantizes them
// once. It panics unless w > 0 and xq holds whole queries, dstStride >=
// rows, dst holds every query's outputs and m every row.
func DotRowsQ8_0GroupQ8(dst []float32, rows, dstStride int, xq []byte, w int, m []byte, stride int, scale float32) {
	if w <= 0 || len(xq)%Q8RowBytes(w) != 0 {
		panic(fmt.Sprintf("metal: DotRowsQ8_0GroupQ8: len(xq) %d is not a multiple of the row size of width %d", len(xq), w))
	}
	rb := Q8RowBytes(w)
	checkGroup("DotRowsQ8_0GroupQ8", "outputs", len(xq)/rb, rows, dstStride, len(dst))
	checkRows("DotRowsQ8_0GroupQ8", rows, rb, len(m), stride)
	dotRowsQ8Group(dst, rows, dstStride, xq, w, m, stride, scale)
}

// dotRowsQ8Group is DotRowsQ8_0GroupQ8 after its checks.
func dotRowsQ8Group(dst []float32, rows, dstStride int, xq []byte, w int, m []byte, stride int, scale float32) {
	if rows == 0 {
		return
	}
	rb := Q8RowBytes(w)
	for i := dotRowsQ8GroupNative(dst, rows, dstStride, xq, w, m, stride, scale); i < len(xq)/rb; i++ {
		d, q := dst[i*dstStride:][:rows], xq[i*rb:(i+1)*rb]
		if w%32 != 0 || !dotRowsQ8Native(d, q, m, stride, scale) {
			dotRowsQ8Generic(d, q, m, stride, scale)
		}
	}
}

// AxpyRowsQ8_0Group is AxpyRowsGroup over Q8_0 rows: for every query
// i < len(dst)/w,
//
//	AxpyRowsQ8_0(dst[i*w:(i+1)*w], a[i*aStride:i*aStride+rows], m, stride)
//
// It takes the rows q8AxpyTile at a time, all the queries over each tile
// (the same bits: each lane still adds the rows in order), so that a
// caller can pass thousands of rows in one call and each tile is read from
// memory once, then from the L1 cache.
func AxpyRowsQ8_0Group(dst []float32, w int, a []float32, rows, aStride int, m []byte, stride int) {
	n := queries("AxpyRowsQ8_0Group", dst, w)
	checkGroup("AxpyRowsQ8_0Group", "weights", n, rows, aStride, len(a))
	checkRows("AxpyRowsQ8_0Group", rows, Q8RowBytes(w), len(m), stride)
	for r0 := 0; r0 < rows; r0 += q8AxpyTile {
		k, mt := min(q8AxpyTile, rows-r0), m[r0*stride:]
		if kern.axpyRowsQ8Group != nil && n > 1 && w%32 == 0 {
			kern.axpyRowsQ8Group(&dst[0], n, w, &a[r0], aStride, &mt[0], k, stride)
			continue
		}
		for i := range n {
			AxpyRowsQ8_0(dst[i*w:(i+1)*w], a[i*aStride+r0:][:k], mt, stride)
		}
	}
}

// q8AxpyTile is how many rows AxpyRowsQ8_0Group takes at a time: the
// kernels walk them one block column after another, and 64 rows of a
// 128-wide head (8.5 KiB) stay in the L1 cache from the first column to
// the last.
const q8AxpyTile = 64
