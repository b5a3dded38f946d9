package cpu

import (
	"encoding/binary"
	"fmt"
)

// Row kernels over Q8_0 blocks, for attention over an 8-bit KV cache. A row
// of w floats is stored as w/32 blocks of ggml's block_q8_0 (34 bytes: the
// f16 scale d, then 32 int8 q; x[i] ≈ d*q[i]), quantized by
// quantize_row_q8_0_ref (ToQ8_0). A row whose width is not a multiple of 32
// ends in a block padded with zeros (ggml has no such rows; the amd64
// kernels leave them to the Generic loops).
//
// The keys are dotted as llama.cpp's vec_dot_q8_0_q8_0 does: the query is
// quantized to Q8_0 too, each block's integer sum is exact, and the blocks
// are summed in order in float32 (the same bits at every level). The values
// are dequantized and accumulated with one FMA per element, as ggml's
// dequantize_row_q8_0 then ggml_vec_mad_f32.

// Q8RowBytes is the size of a Q8_0 row of w floats.
func Q8RowBytes(w int) int { return (w + 31) / 32 * 34 }

// ToQ8_0 quantizes src into the Q8_0 row dst (Q8RowBytes(len(src)) bytes)
// as quantize_row_q8_0_ref does: per block, d = max|x|/127 rounded to f16
// and q[i] = round(x[i]/d) (halves away from zero). It panics when the
// lengths do not match.
func ToQ8_0(dst []byte, src []float32) {
	if len(dst) != Q8RowBytes(len(src)) {
		panic(fmt.Sprintf("metal: ToQ8_0: len(dst) %d for %d floats, want %d", len(dst), len(src), Q8RowBytes(len(src))))
	}
	if len(src)%32 == 0 && len(src) > 0 && quantQ8Native(dst, src) {
		return
	}
	for b := 0; 32*b < len(src); b++ {
		var blk [32]float32
		copy(blk[:], src[32*b:])
		quantizeQ8_0(dst[34*b:34*b+34], blk[:])
	}
}

// FromQ8_0 dequantizes the Q8_0 row src into dst: dst[i] = float32(q[i])*d
// (exact). It panics when the lengths do not match.
func FromQ8_0(dst []float32, src []byte) {
	if len(src) != Q8RowBytes(len(dst)) {
		panic(fmt.Sprintf("metal: FromQ8_0: len(src) %d for %d floats, want %d", len(src), len(dst), Q8RowBytes(len(dst))))
	}
	for i := range dst {
		blk := src[34*(i/32):]
		dst[i] = float32(int8(blk[2+i%32])) * getF16(blk)
	}
}

// q8Kernels names a set of assembly kernels for Q8_0 rows (q8None: the
// Generic loops).
type q8Kernels uint8

const (
	q8None q8Kernels = iota
	q8AVX2
	q8VNNI
)

// q8Stack is the widest query DotRowsQ8_0 quantizes on the stack.
const q8Stack = 256

// DotRowsQ8_0 computes, for every j < len(dst), with xq = x quantized by
// ToQ8_0 and k the Q8_0 row at m[j*stride:] (Q8RowBytes(len(x)) bytes):
//
//	acc := float32(0)
//	for each block b: acc += float32(isum_b) * (d_k[b]*d_x[b])  // isum_b = Σ k.q*xq.q, exact
//	dst[j] = acc * scale
//
// each product and sum rounded to float32 (d_k*d_x is exact), the same bits
// at every level. It panics unless stride >= Q8RowBytes(len(x)) and m holds
// every row.
func DotRowsQ8_0(dst, x []float32, m []byte, stride int, scale float32) {
	rb := Q8RowBytes(len(x))
	checkRows("DotRowsQ8_0", len(dst), rb, len(m), stride)
	var buf [q8Stack / 32 * 34]byte
	xq := buf[:0]
	if len(x) > q8Stack {
		xq = make([]byte, rb)
	}
	xq = xq[:rb]
	ToQ8_0(xq, x)
	if len(x)%32 == 0 && len(dst) > 0 && dotRowsQ8Native(dst, xq, m, stride, scale) {
		return
	}
	dotRowsQ8Generic(dst, xq, m, stride, scale)
}

// dotRowsQ8Generic is DotRowsQ8_0 after the quantization of x (xq, one
// Q8_0 row).
func dotRowsQ8Generic(dst []float32, xq, m []byte, stride int, scale float32) {
	for j := range dst {
		k := m[j*stride : j*stride+len(xq)]
		var acc float32
		for b := 0; b < len(xq); b += 34 {
			var s int32
			for i := 2; i < 34; i++ {
				s += int32(int8(k[b+i])) * int32(int8(xq[b+i]))
			}
			d := getF16(k[b:]) * getF16(xq[b:])
			acc += float32(float32(s) * d) // float32(): never fused
		}
		dst[j] = acc * scale
	}
}

// AxpyRowsQ8_0 adds a[j] times the dequantized Q8_0 row at m[j*stride:]
// (Q8RowBytes(len(dst)) bytes) to dst, for j = 0, 1, ..., len(a)-1 in that
// order, with one fused multiply-add per element:
//
//	dst[i] = fma(a[j], float32(q_j[i])*d_j, dst[i])
//
// the same bits at every level. It panics unless stride >=
// Q8RowBytes(len(dst)) and m holds every row.
func AxpyRowsQ8_0(dst, a []float32, m []byte, stride int) {
	rb := Q8RowBytes(len(dst))
	checkRows("AxpyRowsQ8_0", len(a), rb, len(m), stride)
	if kern.axpyRowsQ8 != nil && len(dst)%32 == 0 && len(dst) > 0 && len(a) > 0 {
		kern.axpyRowsQ8(dst, a, m, stride)
		return
	}
	axpyRowsQ8Generic(dst, a, m, stride)
}

func axpyRowsQ8Generic(dst, a []float32, m []byte, stride int) {
	for j, aj := range a {
		v := m[j*stride:]
		for i := range dst {
			blk := v[34*(i/32):]
			d := F16ToF32(binary.LittleEndian.Uint16(blk))
			dst[i] = fma32(aj, float32(int8(blk[2+i%32]))*d, dst[i])
		}
	}
}
