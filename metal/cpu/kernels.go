package cpu

import (
	"fmt"
	"math"
)

// QuantizeInt8 quantizes one token's activations per BitNet b1.58 (absmax,
// exact integer rounding) and returns the inverse scale:
//
//	s := 127 / max(max_i |x[i]|, 1e-5)
//	dst[i] = clamp(roundHalfEven(x[i]*s), -128, 127)  // x[i]*s rounded to float32 first
//	return 1 / s
//
// An all-zero x gives all-zero dst and inv = 1e-5/127 (the floor avoids the
// division by zero). NaN elements are ignored by the max and quantize to 0;
// ±Inf makes the scale 0 and every finite element 0. It panics when
// len(dst) != len(x).
func QuantizeInt8(dst []int8, x []float32) (inv float32) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("metal: QuantizeInt8: len(dst) %d != len(x) %d", len(dst), len(x)))
	}
	return kern.quantInt8(dst, x)
}

// MatVec multiplies m (any DType, dequantized as Row does) by float
// activations x:
//
//	for r < m.Rows: dst[r] = m.Scale * Σ_j w[r,j]*x[j]
//
// where w is the ggml dequantization of row r (without m.Scale) and the sum
// is in float32 (F32, BF16 and F16 rows: Dot's order at the Generic, AVX2
// and AVX512 levels, bit for bit except AVX512's F16; the NEON levels and
// the other types' float sums in their own order). Every level dots Q8_0,
// Q4_0 and Q6_K rows with x quantized to int8 per 32 elements, as llama.cpp
// does (the integer sums are the same at every level); the bound and measured errors are in act.go (rms about 0.5% of
// sqrt(Σ(w*x)^2), a third to a half of the Q6_K weights' own quantization
// error). It allocates nothing in the steady
// state. It panics unless len(x) == m.Cols and len(dst) == m.Rows.
func MatVec(dst []float32, m *Matrix, x []float32) {
	m.check("MatVec")
	if len(x) != m.Cols || len(dst) != m.Rows {
		panic(fmt.Sprintf("metal: MatVec on %v %d x %d matrix: len(x) %d, len(dst) %d", m.Type, m.Rows, m.Cols, len(x), len(dst)))
	}
	matVec(dst, m, x)
}

func matVec(dst []float32, m *Matrix, x []float32) {
	a := getAct(m.Type, x)
	floatRowsParallel(dst, m, a)
	putAct(a)
}

// MatMul is MatVec for n tokens: x is n x m.Cols, dst is n x m.Rows (token
// major), and every output equals MatVec's bit for bit. The tokens share
// each load of the weights. It panics unless
// len(x) == n*m.Cols and len(dst) == n*m.Rows.
func MatMul(dst []float32, m *Matrix, x []float32, n int) {
	m.check("MatMul")
	if n < 0 || len(x) != n*m.Cols || len(dst) != n*m.Rows {
		panic(fmt.Sprintf("metal: MatMul on %v %d x %d matrix: n %d, len(x) %d, len(dst) %d", m.Type, m.Rows, m.Cols, n, len(x), len(dst)))
	}
	switch {
	case n == 1:
		matVec(dst, m, x)
	case n > 1:
		// The tokens share each tile of rows while it is in the cache:
		// about one pass over the matrix for all of them.
		floatRowsParallelN(dst, m, x, n)
	}
}

// RMSNorm normalizes x by its root mean square and multiplies by weight
// (as ggml rms_norm then mul):
//
//	ms := float32(Σ float64(x[i])^2 / len(x))  // float64 sum, in the level's order
//	s := 1 / sqrt(ms + eps)                     // in float32
//	dst[i] = (x[i] * s) * weight[i]
//
// dst may alias x; a nil weight means all ones. It panics unless len(dst)
// == len(x) and weight is nil or has len(x) entries.
func RMSNorm(dst, x, weight []float32, eps float32) {
	if len(dst) != len(x) || weight != nil && len(weight) != len(x) {
		panic(fmt.Sprintf("metal: RMSNorm: len(dst) %d, len(x) %d, len(weight) %d", len(dst), len(x), len(weight)))
	}
	if len(x) == 0 {
		return
	}
	sum := kern.sumSquares(x)
	mean := float32(sum / float64(len(x)))
	s := 1 / float32(math.Sqrt(float64(mean+eps)))
	kern.scaleMul(dst, x, weight, s)
}

// Softmax replaces x by its softmax, subtracting the maximum first:
//
//	mx := max_i x[i]
//	e[i] = float32(exp(x[i] - mx)); sum = Σ float64(e[i])
//	x[i] = e[i] * float32(1/sum)
//
// Every level computes exp within 2 ulp (and 0 instead of the subnormals
// below exp(-87.3)); the Generic level gives the amd64 assembly's bits, the
// NEON levels sum in their own order.
//
// -Inf entries get 0. If every entry is -Inf the result is uniform. NaN
// entries make the whole result NaN.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := kern.max(x)
	if math.IsInf(float64(mx), -1) {
		u := 1 / float32(len(x))
		for i := range x {
			x[i] = u
		}
		return
	}
	f := kern.expSum
	if mx != mx || mx > math.MaxFloat32 { // NaN or +Inf: NaN results
		f = expSumGeneric
	}
	sum := f(x, mx)
	inv := float32(1 / sum)
	kern.scaleMul(x, x, nil, inv)
}

// maxGeneric is Softmax's maximum: the first of the largest entries (+0
// or -0 for a zero maximum), -Inf for an empty x or all -Inf, the last NaN if
// x holds NaNs.
func maxGeneric(x []float32) float32 {
	mx := float32(math.Inf(-1))
	for _, v := range x {
		if v > mx || v != v {
			mx = v
		}
	}
	return mx
}

// RoPE rotates x (nHeads heads of headDim values, one position) in place with
// rotate-half (NEOX) pairs (i, i+headDim/2):
//
//	for each head h, i < headDim/2, with a = x[h*headDim+i], b = x[h*headDim+i+headDim/2]:
//		x[h*headDim+i]           = a*cos[i] - b*sin[i]
//		x[h*headDim+i+headDim/2] = a*sin[i] + b*cos[i]
//
// It panics unless headDim is even and positive, len(x) == nHeads*headDim
// and cos and sin have at least headDim/2 entries.
func RoPE(x []float32, nHeads, headDim int, cos, sin []float32) {
	half := headDim / 2
	if headDim <= 0 || headDim%2 != 0 || nHeads < 0 || len(x) != nHeads*headDim || len(cos) < half || len(sin) < half {
		panic(fmt.Sprintf("metal: RoPE: len(x) %d, nHeads %d, headDim %d, len(cos) %d, len(sin) %d", len(x), nHeads, headDim, len(cos), len(sin)))
	}
	cos, sin = cos[:half], sin[:half]
	for h := 0; h < nHeads; h++ {
		lo := x[h*headDim : h*headDim+half]
		hi := x[h*headDim+half : (h+1)*headDim]
		if kern.ropeHalf != nil {
			kern.ropeHalf(lo, hi, cos, sin)
			continue
		}
		for i, c := range cos {
			a, b, s := lo[i], hi[i], sin[i]
			lo[i] = float32(a*c) - float32(b*s)
			hi[i] = float32(a*s) + float32(b*c)
		}
	}
}

// Dot returns Σ a[i]*b[i] in float32 (the summation order is the current
// level's; the Generic level follows the amd64 assembly bit for bit, see
// dotGeneric). It panics when the lengths differ.
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("metal: Dot: len(a) %d != len(b) %d", len(a), len(b)))
	}
	return kern.dot(a, b)
}

// DotRows computes dst[j] = scale * Dot(x, m[j*stride:j*stride+len(x)]) for
// every j < len(dst): the attention scores of one query over cached keys
// laid out with a row stride. Each equals that Dot times scale bit for bit.
// It panics unless stride >= len(x) and m holds every row.
func DotRows(dst, x, m []float32, stride int, scale float32) {
	checkRows("DotRows", len(dst), len(x), len(m), stride)
	if kern.dotRows != nil {
		kern.dotRows(dst, x, m, stride, scale)
		return
	}
	for j := range dst {
		dst[j] = kern.dot(x, m[j*stride:j*stride+len(x)]) * scale
	}
}

// AxpyRows adds a[j] * m[j*stride:j*stride+len(dst)] to dst for j = 0, 1,
// ..., len(a)-1 in that order: the attention output of one head over the
// cached values. The result equals those AxpyTo calls bit for bit. It panics
// unless stride >= len(dst) and m holds every row.
func AxpyRows(dst, a, m []float32, stride int) {
	checkRows("AxpyRows", len(a), len(dst), len(m), stride)
	if kern.axpyRows != nil {
		kern.axpyRows(dst, a, m, stride)
		return
	}
	for j, aj := range a {
		kern.axpy(dst, aj, m[j*stride:j*stride+len(dst)])
	}
}

// checkRows panics unless m holds rows rows of width w at the stride.
func checkRows(op string, rows, w, lenM, stride int) {
	if stride < w || rows > 0 && (rows-1)*stride+w > lenM {
		panic(fmt.Sprintf("metal: %s: %d rows of %d at stride %d need more than len(m) %d", op, rows, w, stride, lenM))
	}
}

// AxpyTo adds alpha*x to dst: dst[i] += alpha*x[i]. It panics when the
// lengths differ.
func AxpyTo(dst []float32, alpha float32, x []float32) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("metal: AxpyTo: len(dst) %d != len(x) %d", len(dst), len(x)))
	}
	kern.axpy(dst, alpha, x)
}
