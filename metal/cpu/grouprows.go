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
	checkGroup("DotRowsQ8_0Group", "outputs", n, rows, dstStride, len(dst))
	checkRows("DotRowsQ8_0Group", rows, Q8RowBytes(w), len(m), stride)
	done := 0
	if rows > 0 {
		done = dotRowsQ8GroupNative(dst, rows, dstStride, x, w, m, stride, scale)
	}
	for i := done; i < n; i++ {
		DotRowsQ8_0(dst[i*dstStride:][:rows], x[i*w:(i+1)*w], m, stride, scale)
	}
}

// AxpyRowsQ8_0Group is AxpyRowsGroup over Q8_0 rows: for every query
// i < len(dst)/w,
//
//	AxpyRowsQ8_0(dst[i*w:(i+1)*w], a[i*aStride:i*aStride+rows], m, stride)
func AxpyRowsQ8_0Group(dst []float32, w int, a []float32, rows, aStride int, m []byte, stride int) {
	n := queries("AxpyRowsQ8_0Group", dst, w)
	checkGroup("AxpyRowsQ8_0Group", "weights", n, rows, aStride, len(a))
	checkRows("AxpyRowsQ8_0Group", rows, Q8RowBytes(w), len(m), stride)
	if kern.axpyRowsQ8Group != nil && n > 1 && rows > 0 && w%32 == 0 {
		kern.axpyRowsQ8Group(&dst[0], n, w, &a[0], aStride, &m[0], rows, stride)
		return
	}
	for i := range n {
		AxpyRowsQ8_0(dst[i*w:(i+1)*w], a[i*aStride:][:rows], m, stride)
	}
}
