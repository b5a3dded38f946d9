//go:build !noasm

package cpu

// Float-activation kernels for arm64 (ASIMD), used by the NEON and NEONDot
// levels: the LM head and embedding dots (floatRows; Q8_0, Q4_0 and Q6_K
// with x quantized to int8 per 32 elements, see act.go), QuantizeInt8 (bit
// for bit), Dot, AxpyTo and RMSNorm's loops. The assembly is in
// float_arm64.s and float_arm64.h.

func init() {
	for _, l := range []Level{NEON, NEONDot} {
		k := &levelKernels[l]
		k.floatRows = floatRowsNEON
		if l == NEONDot {
			k.floatRows = floatRowsNEONDot
		}
		k.actQ8 = 1<<Q8_0 | 1<<Q4_0 | 1<<Q6_K
		k.quantInt8 = quantizeInt8NEON
		k.dot = dotNEON
		k.axpy = axpyNEON
		k.sumSquares = sumSquaresNEON
		k.scaleMul = scaleMulNEON
		k.expSum = expSumNEON
	}
}

// rowsF32NEON and the other rows* kernels compute, for r < len(dst),
//
//	dst[r] = scale * Σ_j w_r[j]*x[j]    // w_r = w[r*rb:], dequantized
//
// with FMAs in 4x4 float32 lanes (float types) or, for Q8_0, Q4_0 and Q6_K
// with x quantized per 32 elements (q, d),
//
//	Σ_blocks d_w * Σ_{32-blocks b} d[b] * float32(Σ_{j in b} wq[j]*q[j])
//
// with exact integer sums (wq: Q8_0 q, Q4_0 q-8, Q6_K scale*(q-32)).
//
//go:noescape
func rowsF32NEON(dst []float32, w []byte, rb int, x []float32, scale float32)

//go:noescape
func rowsF16NEON(dst []float32, w []byte, rb int, x []float32, scale float32)

//go:noescape
func rowsBF16NEON(dst []float32, w []byte, rb int, x []float32, scale float32)

//go:noescape
func rowsQ8_0NEONDot(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

//go:noescape
func rowsQ4_0NEONDot(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

//go:noescape
func rowsQ6_KNEONDot(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

//go:noescape
func rowsQ8_0NEON(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

//go:noescape
func rowsQ4_0NEON(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

//go:noescape
func rowsQ6_KNEON(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

type rowsQFunc func(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

var (
	rowsQNEONDot = [numDTypes]rowsQFunc{Q8_0: rowsQ8_0NEONDot, Q4_0: rowsQ4_0NEONDot, Q6_K: rowsQ6_KNEONDot}
	rowsQNEON    = [numDTypes]rowsQFunc{Q8_0: rowsQ8_0NEON, Q4_0: rowsQ4_0NEON, Q6_K: rowsQ6_KNEON}
)

func floatRowsNEONDot(dst []float32, t DType, w []byte, rb int, a *floatAct, scale float32) {
	floatRowsARM64(&rowsQNEONDot, dst, t, w, rb, a, scale)
}

func floatRowsNEON(dst []float32, t DType, w []byte, rb int, a *floatAct, scale float32) {
	floatRowsARM64(&rowsQNEON, dst, t, w, rb, a, scale)
}

// floatRowsARM64 is kernelSet.floatRows at the NEON levels; the ternary
// types go to floatRowsGeneric.
func floatRowsARM64(q *[numDTypes]rowsQFunc, dst []float32, t DType, w []byte, rb int, a *floatAct, scale float32) {
	if len(dst) == 0 {
		return
	}
	if rb <= 0 || len(w) < len(dst)*rb || rb < t.BlockBytes()*len(a.x)/t.BlockSize() {
		panic("metal: floatRowsARM64: row bytes do not match the activations")
	}
	switch t {
	case F32:
		rowsF32NEON(dst, w, rb, a.x, scale)
		return
	case F16:
		rowsF16NEON(dst, w, rb, a.x, scale)
		return
	case BF16:
		rowsBF16NEON(dst, w, rb, a.x, scale)
		return
	case Q8_0, Q4_0, Q6_K:
		if a.quant && q[t] != nil {
			q[t](dst, w, rb, a.q, a.d, scale)
			return
		}
	}
	floatRowsGeneric(dst, t, w, rb, a, scale)
}

// absMaxNEON returns max(floor, max_i |x[i]|) over the first len(x)/16*16
// elements, NaN elements ignored (floor must not be NaN).
//
//go:noescape
func absMaxNEON(x []float32, floor float32) float32

// quantScaleNEON does, for the first len(x)/16*16 elements,
//
//	dst[i] = clamp(roundHalfEven(x[i]*s), -128, 127)   // NaN -> 0
//
// with x[i]*s rounded to float32 first (len(dst) >= len(x)).
//
//go:noescape
func quantScaleNEON(dst []int8, x []float32, s float32)

// quantizeInt8NEON is QuantizeInt8, bit for bit.
func quantizeInt8NEON(dst []int8, x []float32) float32 {
	n := len(x) &^ 15
	var amax float32 = 1e-5
	if n > 0 {
		amax = absMaxNEON(x[:n], amax)
	}
	for _, v := range x[n:] {
		if a := absf(v); a > amax {
			amax = a
		}
	}
	s := 127 / amax
	if n > 0 {
		quantScaleNEON(dst[:n], x[:n], s)
	}
	quantizeScaledGeneric(dst[n:], x[n:], s)
	return 1 / s
}

// dotNEON is Dot: Σ a[i]*b[i] with FMAs in 4x4 float32 lanes, the tail
// added last.
//
//go:noescape
func dotNEON(a, b []float32) float32

// axpyNEON is AxpyTo: dst[i] += alpha*x[i], the product rounded before the
// add (FMUL then FADD, never FMLA): bit for bit axpyGeneric.
//
//go:noescape
func axpyNEON(dst []float32, alpha float32, x []float32)

// sumSquaresNEON returns Σ float64(x[i])^2 in 4x2 float64 lanes.
//
//go:noescape
func sumSquaresNEON(x []float32) float64

// scaleMulNEON does dst[i] = (x[i]*s)*w[i], or x[i]*s when w is empty,
// each product rounded to float32 (bit for bit scaleMulGeneric).
//
//go:noescape
func scaleMulNEON(dst, x, w []float32, s float32)

// expSubSumNEON does x[i] = exp(x[i] - mx) for the first len(x)/4*4
// elements and returns their sum in float64 (Cephes' expf as
// expSubSumAVX2: within 2 ulp, 0 below exp(-87.3)).
//
//go:noescape
func expSubSumNEON(x []float32, mx float32) float64

// expSumNEON is kernelSet.expSum.
func expSumNEON(x []float32, mx float32) float64 {
	n := len(x) &^ 3
	var sum float64
	if n > 0 {
		sum = expSubSumNEON(x[:n], mx)
	}
	return sum + expSumGeneric(x[n:], mx)
}
