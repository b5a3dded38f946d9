package cpu

import (
	"math"
	"sync"
)

// This file prepares one token's float activations for the float-activation
// matrix kernels (MatVec, MatMul; the LM head). At every level (Generic
// included, so that a build without assembly computes the same integer
// sums) the rows of Q8_0, Q4_0 and Q6_K are dotted with x quantized to int8
// per block of 32 (as llama.cpp's vec_dot does with its Q8_0/Q8_K
// activations), so that the inner loop is an integer multiply-add; the
// float types (F32, F16, BF16) use x as it is.
//
// Tolerance of the int8 path. With d_b = max|x[32b:32b+32]|/127 and
// q[j] = roundHalfEven(x[j]/d_b), |x[j] - d_b*q[j]| <= d_b/2 (plus float32
// rounding of d_b), and the weights dot q exactly in integers. So for a row
// w (dequantized as by Row, m.Scale included):
//
//	|MatVec - Σ w[j]*x[j]| <= Σ_j |w[j]| * (d_b(j)/2)*(1+2^-20) + 1e-5 * Σ_j |w[j]*x[j]|
//
// (the second term is the float32 summation; TestFloatRowsLevels checks it).
// Measured on 512 x 2560 rows of N(0, 0.02) weights: for a Gaussian x the
// error has an rms of 0.5% of sqrt(Σ(w*x)^2) (1.6e-4 of Σ|w*x|), the same
// as the error of quantizing the weights to Q8_0, 0.3 times that of Q6_K,
// 0.06 times that of Q4_0; for a heavy-tailed x (N(0,1)*exp(N(0,2))) 0.9%
// (1.2e-3 of Σ|w*x|), 1.7, 0.5 and 0.1 times those. Per-32 blocks keep an
// outlier from coarsening more than its 31 neighbours (llama.cpp's Q8_K
// for Q6_K uses 256). A non-finite x falls back to the float path (NaN and
// Inf propagate as in the reference).

// floatAct is one token's activations prepared for kernelSet.floatRows.
type floatAct struct {
	x []float32 // the activations

	// quant reports whether the fields below hold x quantized per block of
	// 32 (only when the level asks for it for this type and x is finite).
	quant bool
	q     []int8    // len(x): q[j] = roundHalfEven(x[j] / d[j/32]) in [-127, 127]
	d     []float32 // len(x)/32: d[b] = max|x[32b:32b+32]| / 127 (0 for an all-zero block)
	d8    []float32 // 8*len(x)/32: d8[8b+i] = d[b], i < 8 (vector operands)
	bs    []int16   // len(x)/16: bs[k] = Σ q[16k:16k+16]
}

// rowPool holds the widened rows of floatRowsGeneric (*[]float32; the
// threads of one MatMul share its floatAct).
var rowPool = sync.Pool{New: func() any { return new([]float32) }}

var actPool = sync.Pool{New: func() any { return new(floatAct) }}

// getAct prepares x for the rows of a matrix of type t at the current level;
// release the result with putAct.
func getAct(t DType, x []float32) *floatAct {
	a := actPool.Get().(*floatAct)
	a.prepare(t, x)
	return a
}

// prepare is getAct's work on a.
func (a *floatAct) prepare(t DType, x []float32) {
	a.x = x
	a.quant = false
	if kern.actQ8&(1<<t) != 0 && len(x)%32 == 0 {
		a.quant = quantizeAct(a, x)
	}
}

func putAct(a *floatAct) {
	a.x = nil
	actPool.Put(a)
}

// quantizeAct fills a.q, a.d, a.d8 and a.bs from x (len(x) a multiple of 32)
// and reports false when x holds a NaN or an infinity.
func quantizeAct(a *floatAct, x []float32) bool {
	n := len(x)
	if cap(a.q) < n {
		a.q = make([]int8, n)
		a.d = make([]float32, n/32)
		a.d8 = make([]float32, n/4)
		a.bs = make([]int16, n/16)
	}
	a.q, a.d, a.d8, a.bs = a.q[:n], a.d[:n/32], a.d8[:n/4], a.bs[:n/16]
	return kern.quantAct(a.q, a.d, a.d8, a.bs, x)
}

// quantActGeneric is the reference of kernelSet.quantAct: for each block b of
// 32 elements of x (len(x) a multiple of 32),
//
//	amax := max_j |x[32b+j]|; d[b] = amax/127; id := 127/amax (0 when amax == 0)
//	q[32b+j] = roundHalfEven(x[32b+j]*id)   // x*id rounded to float32 first
//	d8[8b:8b+8] = d[b]; bs[k] = Σ q[16k:16k+16]
//
// It returns false (and leaves the outputs undefined) when x holds a NaN or
// an infinity.
func quantActGeneric(q []int8, d, d8 []float32, bs []int16, x []float32) bool {
	for b := 0; b < len(x)/32; b++ {
		xb := x[32*b : 32*b+32]
		var amax float32
		for _, v := range xb {
			if !(absf(v) <= math.MaxFloat32) {
				return false
			}
			amax = max(amax, absf(v))
		}
		db := amax / 127
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		d[b] = db
		for i := range 8 {
			d8[8*b+i] = db
		}
		var s0, s1 int16
		for j, v := range xb {
			y := int8(math.RoundToEven(float64(v * id)))
			q[32*b+j] = y
			if j < 16 {
				s0 += int16(y)
			} else {
				s1 += int16(y)
			}
		}
		bs[2*b], bs[2*b+1] = s0, s1
	}
	return true
}

// floatRowsGeneric is the reference of kernelSet.floatRows: for each of the
// len(dst) rows of type t stored back to back in w (rb bytes each),
//
//	dst[r] = scale * rowDot(t, w[r*rb:(r+1)*rb], a.x)
//
// or, when a.quant (Q8_0, Q4_0, Q6_K with finite x), scale *
// rowDotQ8Generic: the same integer sums as the SIMD levels. F32, F16 and
// BF16 rows are dotGeneric of the widened row, the bits of the AVX2 row
// kernels.
func floatRowsGeneric(dst []float32, t DType, w []byte, rb int, a *floatAct, scale float32) {
	w = w[:len(dst)*rb]
	if t == F32 || t == F16 || t == BF16 {
		buf := rowPool.Get().(*[]float32)
		if cap(*buf) < len(a.x) {
			*buf = make([]float32, len(a.x))
		}
		row := (*buf)[:len(a.x)]
		for r := range dst {
			dequantize(t, row, w[r*rb:r*rb+len(row)*t.BlockBytes()])
			dst[r] = scale * dotGeneric(row, a.x)
		}
		rowPool.Put(buf)
		return
	}
	for r := range dst {
		if a.quant {
			dst[r] = scale * rowDotQ8Generic(t, w[r*rb:(r+1)*rb], a)
			continue
		}
		dst[r] = scale * rowDotGeneric(t, w[r*rb:(r+1)*rb], a.x)
	}
}

// rowDotQ8Generic returns the int8-activation dot of one Q8_0, Q4_0 or Q6_K
// row with a (a.quant set), as the SIMD levels compute it up to the float
// summation order:
//
//	Σ_blocks d_w * Σ_{32-blocks b} d[b] * float32(Σ_{j in b} wq[j]*q[j])
//
// where wq is the integer weight (Q8_0 q, Q4_0 q-8, Q6_K scale*(q-32)) and
// d_w the f16 block scale. It is used by the tests and as the fallback of
// the SIMD levels for types they do not handle.
func rowDotQ8Generic(t DType, w []byte, a *floatAct) float32 {
	var acc float32
	switch t {
	case Q8_0:
		for b := range a.d {
			blk := w[34*b : 34*b+34]
			var s int32
			for j := range 32 {
				s += int32(int8(blk[2+j])) * int32(a.q[32*b+j])
			}
			acc += float32(getF16(blk) * float32(a.d[b]*float32(s))) // float32(): never fused
		}
	case Q4_0:
		for b := range a.d {
			blk := w[18*b : 18*b+18]
			var s int32
			for j := range 16 {
				s += (int32(blk[2+j]&0xf) - 8) * int32(a.q[32*b+j])
				s += (int32(blk[2+j]>>4) - 8) * int32(a.q[32*b+16+j])
			}
			acc += float32(getF16(blk) * float32(a.d[b]*float32(s))) // float32(): never fused
		}
	case Q6_K:
		var c [256]int8
		for k := 0; k < len(a.x)/256; k++ {
			blk := w[210*k : 210*k+210]
			q6Codes(&c, blk)
			var bacc float32
			for b := range 8 {
				var s int32
				for h := range 2 {
					sc := int32(int8(blk[192+2*b+h]))
					var ss int32
					for j := 16 * h; j < 16*h+16; j++ {
						ss += int32(c[32*b+j]) * int32(a.q[256*k+32*b+j])
					}
					s += sc * ss
				}
				bacc += float32(a.d[8*k+b] * float32(s))
			}
			acc += float32(getF16(blk[208:]) * bacc)
		}
	default:
		panic("metal: rowDotQ8Generic: type " + t.String())
	}
	return acc
}

// q6Codes writes the 256 signed 6-bit codes (q - 32) of one Q6_K block in
// element order.
func q6Codes(c *[256]int8, blk []byte) {
	ql, qh := blk[0:128], blk[128:192]
	for n := 0; n < 256; n += 128 {
		for l := range 32 {
			c[n+l] = int8(ql[l]&0xf|(qh[l]&3)<<4) - 32
			c[n+l+32] = int8(ql[l+32]&0xf|(qh[l]>>2&3)<<4) - 32
			c[n+l+64] = int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
			c[n+l+96] = int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
		}
		ql, qh = ql[64:], qh[32:]
	}
}
