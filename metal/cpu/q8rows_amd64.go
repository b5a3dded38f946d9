//go:build !noasm

package cpu

import "unsafe"

func init() {
	if !hasF16C() { // the kernels convert the f16 scales with F16C
		return
	}
	for _, l := range []Level{AVX2, AVX512} {
		levelKernels[l].q8 = q8AVX2
		levelKernels[l].axpyRowsQ8 = axpyRowsQ8_0AVX2
	}
	levelKernels[AVX512].q8 = q8VNNI
	levelKernels[AVX512].axpyRowsQ8 = axpyRowsQ8_0AVX512
	levelKernels[AVX512].axpyRowsQ8Group = axpyRowsQ8GroupAVX512
}

// quantQ8Native is ToQ8_0 for a row of whole blocks in assembly, when the
// level has it, x is finite and no block is so tiny that 1/d overflows; it
// reports false otherwise (dst undefined).
func quantQ8Native(dst []byte, x []float32) bool {
	return kern.q8 != q8None && quantQ8_0AVX2(dst, x)
}

// dotRowsQ8Native is DotRowsQ8_0 after the quantization of x (rows of whole
// blocks, len(dst) > 0) in assembly, if the level has it.
func dotRowsQ8Native(dst []float32, xq, m []byte, stride int, scale float32) bool {
	switch kern.q8 {
	case q8AVX2:
		dotRowsQ8_0AVX2(dst, xq, m, stride, scale)
	case q8VNNI:
		dotRowsQ8_0VNNI(dst, xq, m, stride, scale)
	default:
		return false
	}
	return true
}

// dotRowsQ8GroupNative is dotRowsQ8Group for all n >= 4 quantized queries
// at xq, four at a time, at the AVX512 level (w a multiple of 32 up to
// q8Stack, rows >= 8); the last four end at the last query (the queries
// they share with the previous four get the same bits again); a multiple
// of four above four takes each block of 16 rows transposed once for up
// to q8Quads quads. It returns how many queries it did (0 or n).
func dotRowsQ8GroupNative(dst []float32, rows, dstStride int, xq []byte, w int, m []byte, stride int, scale float32) int {
	rb := Q8RowBytes(w)
	n := len(xq) / rb
	if kern.q8 != q8VNNI || n < 4 || w%32 != 0 || w > q8Stack || rows < 8 {
		return 0
	}
	r16, r8 := rows/16*16, rows/8*8
	if n%4 == 0 && n > 4 && r16 > 0 {
		// Whole quads: each block of 16 rows transposed once for up to
		// q8Quads of them.
		for q := 0; q < n; q += 4 * q8Quads {
			k := min(q8Quads, (n-q)/4)
			dotRowsQ8_0GroupT16VNNI(&dst[q*dstStride], dstStride, &xq[q*rb], k, r16, w/32, &m[0], stride, scale)
		}
	}
	var sums [q8Stack / 32 * 8]int32
	for q0 := 0; q0 < n; q0 += 4 {
		q := min(q0, n-4)
		d, x := dst[q*dstStride:], xq[q*rb:]
		if r16 > 0 && (n%4 != 0 || n == 4) {
			dotRowsQ8_0Group16VNNI(&d[0], dstStride, &x[0], r16, w/32, &m[0], stride, scale, &sums[0])
		}
		if r16 < r8 {
			dotRowsQ8_0GroupVNNI(&d[r16], dstStride, &x[0], 8, w/32, &m[r16*stride], stride, scale, &sums[0])
		}
		if r8 < rows { // the last rows%8, one at a time
			for i := range 4 {
				dotRowsQ8_0VNNI(d[i*dstStride+r8:i*dstStride+rows], x[i*rb:(i+1)*rb], m[r8*stride:], stride, scale)
			}
		}
	}
	return n
}

// q8Quads is how many quads of queries dotRowsQ8_0GroupT16VNNI takes at
// a time: a batch block's 8 tokens times a KV group's 4 heads.
const q8Quads = 8

// dotRowsQ8_0GroupT16VNNI is dotRowsQ8_0Group16VNNI for quads <= q8Quads
// quads of queries at once (blocks <= q8Stack/32), each block of 16 rows
// transposed once into its frame for all of them, bit for bit
// (q8group_amd64.s).
//
//go:noescape
func dotRowsQ8_0GroupT16VNNI(dst *float32, dstStride int, xq *byte, quads, rows, blocks int, m *byte, stride int, scale float32)

// dotRowsQ8_0GroupVNNI is dotRowsQ8_0VNNI's groups of 8 rows for four
// queries at a time, each block of 8 rows transposed once for the four,
// bit for bit (q8group_amd64.s).
//
//go:noescape
func dotRowsQ8_0GroupVNNI(dst *float32, dstStride int, xq *byte, rows, blocks int, m *byte, stride int, scale float32, sums *int32)

// dotRowsQ8_0Group16VNNI is dotRowsQ8_0GroupVNNI on zmm registers, 16
// rows at a time, bit for bit (q8group_amd64.s).
//
//go:noescape
func dotRowsQ8_0Group16VNNI(dst *float32, dstStride int, xq *byte, rows, blocks int, m *byte, stride int, scale float32, sums *int32)

// dotRowsQ8_0AVX2 and dotRowsQ8_0VNNI are dotRowsQ8Native's kernels,
// axpyRowsQ8_0AVX2 is kernelSet.axpyRowsQ8
// (len(dst) a positive multiple of 32, len(a) > 0); VNNI needs the AVX512
// level's AVX-512 VL and VNNI. The assembly is in q8rows_amd64.s.
//
//go:noescape
func dotRowsQ8_0AVX2(dst []float32, xq, m []byte, stride int, scale float32)

//go:noescape
func dotRowsQ8_0VNNI(dst []float32, xq, m []byte, stride int, scale float32)

//go:noescape
func axpyRowsQ8_0AVX2(dst, a []float32, m []byte, stride int)

// quantQ8_0AVX2 is quantQ8Native's kernel (len(x) a positive multiple of 32).
//
//go:noescape
func quantQ8_0AVX2(dst []byte, x []float32) bool

// axpyRowsQ8_0AVX512 is axpyRowsQ8_0AVX2 on zmm registers, bit for bit.
//
//go:noescape
func axpyRowsQ8_0AVX512(dst, a []float32, m []byte, stride int)

// axpyRowsQ8GroupAVX512 is kernelSet.axpyRowsQ8Group at the AVX512 level:
// axpyRowsQ8_0AVX512 for eight queries at a time, then four, each block of
// a row dequantized once for them, bit for bit (q8axpy_amd64.s); 16 or more
// dequantize each block once for all their groups of eight (a batch's 32
// queries per KV group: once, not 4 times).
func axpyRowsQ8GroupAVX512(dst *float32, n, w int, a *float32, aStride int, m *byte, rows, stride int) {
	q := 0
	if n >= 16 {
		// Two groups of eight or more: each column of a row dequantized
		// once into v for all of them.
		q = n / 8 * 8
		axpyRowsQ8_0DeqAVX512(dst, q/8, w, a, aStride, m, rows, stride)
	}
	for ; n-q >= 8; q += 8 {
		axpyRowsQ8_0OctAVX512((*float32)(unsafe.Add(unsafe.Pointer(dst), 4*q*w)), w,
			(*float32)(unsafe.Add(unsafe.Pointer(a), 4*q*aStride)), aStride, m, rows, stride)
	}
	if q < n {
		axpyRowsQ8_0QuadAVX512((*float32)(unsafe.Add(unsafe.Pointer(dst), 4*q*w)), n-q, w,
			(*float32)(unsafe.Add(unsafe.Pointer(a), 4*q*aStride)), aStride, m, rows, stride)
	}
}

// axpyRowsQ8_0DeqAVX512 is axpyRowsQ8_0OctAVX512 for octs groups of eight
// queries (rows <= q8AxpyTile = 64), each block column of the rows
// dequantized once into 32*rows floats of its frame for all of them (the
// next column while the first eight take the current one), bit
// for bit (q8axpy_amd64.s).
//
//go:noescape
func axpyRowsQ8_0DeqAVX512(dst *float32, octs, w int, a *float32, aStride int, m *byte, rows, stride int)

// axpyRowsQ8_0QuadAVX512 is axpyRowsQ8GroupAVX512 four queries at a time
// (n >= 1: a last group of fewer repeats its last query).
//
//go:noescape
func axpyRowsQ8_0QuadAVX512(dst *float32, n, w int, a *float32, aStride int, m *byte, rows, stride int)

// axpyRowsQ8_0OctAVX512 is axpyRowsQ8GroupAVX512 for exactly eight queries.
//
//go:noescape
func axpyRowsQ8_0OctAVX512(dst *float32, w int, a *float32, aStride int, m *byte, rows, stride int)
