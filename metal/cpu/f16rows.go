package cpu

import "fmt"

// Row kernels over IEEE half floats, for attention over an F16 KV cache.
// Each is its float32 twin (DotRows, AxpyRows) applied to the rows widened
// to float32, bit for bit at every level: widening is exact, so only the
// rounding of the cache itself separates an F16 cache from an F32 one.

// ToF16 rounds src to half floats (to nearest even) into dst. It panics when
// the lengths differ.
func ToF16(dst []uint16, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("metal: ToF16: len(dst) %d != len(src) %d", len(dst), len(src)))
	}
	if kern.toF16 != nil {
		kern.toF16(dst, src)
		return
	}
	for i, f := range src {
		dst[i] = F32ToF16(f)
	}
}

// FromF16 widens the half floats of src into dst (exact). It panics when the
// lengths differ.
func FromF16(dst []float32, src []uint16) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("metal: FromF16: len(dst) %d != len(src) %d", len(dst), len(src)))
	}
	for i, h := range src {
		dst[i] = F16ToF32(h)
	}
}

// f16Chunk is the widest row the portable row kernels widen on the stack
// (a head is 64 or 128 wide); wider rows take a heap buffer.
const f16Chunk = 256

// DotRowsF16 computes dst[j] = scale * Dot(x, widen(m[j*stride:j*stride+len(x)]))
// for every j < len(dst): DotRows over half-float keys, the same bits as
// DotRows on the widened rows. It panics unless stride >= len(x) and m
// holds every row.
func DotRowsF16(dst, x []float32, m []uint16, stride int, scale float32) {
	checkRows("DotRowsF16", len(dst), len(x), len(m), stride)
	if kern.dotRowsF16 != nil {
		kern.dotRowsF16(dst, x, m, stride, scale)
		return
	}
	var buf [f16Chunk]float32
	row := buf[:0]
	if len(x) > f16Chunk {
		row = make([]float32, len(x))
	}
	row = row[:len(x)]
	for j := range dst {
		FromF16(row, m[j*stride:j*stride+len(x)])
		// dotGeneric computes kern.dot's bits at every level; called
		// directly, it keeps row on the stack (a call through kern would
		// move it to the heap, an allocation per call).
		dst[j] = dotGeneric(x, row) * scale
	}
}

// AxpyRowsF16 adds a[j] * widen(m[j*stride:j*stride+len(dst)]) to dst for
// j = 0, 1, ..., len(a)-1 in that order: AxpyRows over half-float values,
// the same bits as AxpyRows on the widened rows. It panics unless stride >=
// len(dst) and m holds every row.
func AxpyRowsF16(dst, a []float32, m []uint16, stride int) {
	checkRows("AxpyRowsF16", len(a), len(dst), len(m), stride)
	if kern.axpyRowsF16 != nil {
		kern.axpyRowsF16(dst, a, m, stride)
		return
	}
	var buf [f16Chunk]float32
	row := buf[:0]
	if len(dst) > f16Chunk {
		row = make([]float32, len(dst))
	}
	row = row[:len(dst)]
	for j, aj := range a {
		FromF16(row, m[j*stride:j*stride+len(dst)])
		axpyGeneric(dst, aj, row) // kern.axpy's bits, row kept on the stack (see DotRowsF16)
	}
}
