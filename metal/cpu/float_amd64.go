//go:build !noasm

package cpu

import (
	"unsafe"

	xcpu "golang.org/x/sys/cpu"
)

// Float-activation kernels for amd64 (AVX2 + FMA + F16C), used by the AVX2
// and AVX512 levels: the LM head and embedding dots (floatRows), the int8
// quantization of activations, Dot, AxpyTo and RMSNorm's loops. The
// assembly is in float_amd64.s.

func init() {
	if len(cpuLevels) > 1 { // AVX2 at least
		readSum = readSumAVX2
	}
	// The row kernels convert f16 with F16C, which every AVX2 CPU has but
	// a hypervisor may hide; without it the rows stay Generic.
	f16c := hasF16C()
	for _, l := range []Level{AVX2, AVX512} {
		k := &levelKernels[l]
		if f16c {
			k.floatRows = floatRowsAVX2
			k.actQ8 = 1<<Q8_0 | 1<<Q4_0 | 1<<Q6_K
			k.dotRowsF16 = dotRowsF16AVX2
			k.axpyRowsF16 = axpyRowsF16AVX2
			k.dotRowsF16Group = dotRowsF16GroupAVX2
			k.axpyRowsF16Group = axpyRowsF16GroupAVX2
		}
		k.quantInt8 = quantizeInt8AVX2
		k.dot = dotAVX2
		k.axpy = axpyAVX2
		k.dotRows = dotRowsAVX2
		k.ropeHalf = ropeHalfAVX2
		k.axpyRows = axpyRowsAVX2
		k.sumSquares = sumSquaresAVX2
		k.scaleMul = scaleMulAVX2
		k.expSum = expSumAVX2
	}
	if f16c {
		levelKernels[AVX512].floatRows = floatRowsAVX512
		levelKernels[AVX512].dotRowsF16Group = dotRowsF16GroupAVX512
		levelKernels[AVX512].axpyRowsF16Group = axpyRowsF16GroupAVX512
	}
	levelKernels[AVX512].dotRows = dotRowsAVX512
	levelKernels[AVX512].axpyRows = axpyRowsAVX512
	levelKernels[AVX512].expSum = expSumAVX512 // expsum_amd64.go
}

// rowsF32AVX2 and the other rows* kernels compute, for r < len(dst),
//
//	dst[r] = scale * Σ_j w_r[j]*x[j]    // w_r = w[r*rb:], dequantized
//
// summing in float32 with FMAs in 8 lanes (4 accumulators for the float
// types, 2 for Q8_0/Q4_0, 1 per Q6_K block), lanes added at the end. The
// Q8_0, Q4_0 and Q6_K kernels take x quantized per 32 elements (q, d; for
// Q6_K also d8 and the 16-element sums bs, see floatAct) and compute
//
//	Σ_blocks d_w * Σ_{32-blocks b} d[b] * float32(Σ_{j in b} wq[j]*q[j])
//
// with wq the integer weight (Q8_0 q, Q4_0 q-8, Q6_K scale*(q-32)); the
// integer sums are exact.
//
//go:noescape
func rowsF32AVX2(dst []float32, w []byte, rb int, x []float32, scale float32)

//go:noescape
func rowsF16AVX2(dst []float32, w []byte, rb int, x []float32, scale float32)

//go:noescape
func rowsBF16AVX2(dst []float32, w []byte, rb int, x []float32, scale float32)

//go:noescape
func rowsQ8_0AVX2(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

//go:noescape
func rowsQ4_0AVX2(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

//go:noescape
func rowsQ6_KAVX2(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32)

// dotRowsAVX2 and axpyRowsAVX2 are kernelSet.dotRows and axpyRows: one
// call for every row, each row computed as Dot and AxpyTo compute it.
//
//go:noescape
func dotRowsAVX2(dst, x, m []float32, stride int, scale float32)

//go:noescape
func axpyRowsAVX2(dst, a, m []float32, stride int)

// dotRowsF16AVX2 and axpyRowsF16AVX2 are kernelSet.dotRowsF16 and
// axpyRowsF16: dotRowsAVX2 and axpyRowsAVX2 with each row widened from f16
// by VCVTPH2PS as it is loaded (they need F16C). The AVX512 level uses them
// too: its dotRows and axpyRows give the same bits as the AVX2 ones.
//
//go:noescape
func dotRowsF16AVX2(dst, x []float32, m []uint16, stride int, scale float32)

//go:noescape
func axpyRowsF16AVX2(dst, a []float32, m []uint16, stride int)

// ropeHalfAVX2 is kernelSet.ropeHalf: RoPE's loop, 8 pairs at a time.
//
//go:noescape
func ropeHalfAVX2(lo, hi, cos, sin []float32)

// dotRowsAVX512 and axpyRowsAVX512 are the same on zmm registers, bit for
// bit.
//
//go:noescape
func dotRowsAVX512(dst, x, m []float32, stride int, scale float32)

//go:noescape
func axpyRowsAVX512(dst, a, m []float32, stride int)

// floatRowsAVX2 is kernelSet.floatRows at the AVX2 level; types without a
// kernel here (the ternary ones) go to floatRowsGeneric.
func floatRowsAVX2(dst []float32, t DType, w []byte, rb int, a *floatAct, scale float32) {
	if len(dst) == 0 {
		return
	}
	if rb <= 0 || len(w) < len(dst)*rb || rb < t.BlockBytes()*len(a.x)/t.BlockSize() {
		panic("metal: floatRowsAVX2: row bytes do not match the activations")
	}
	switch t {
	case F32:
		rowsF32AVX2(dst, w, rb, a.x, scale)
		return
	case F16:
		rowsF16AVX2(dst, w, rb, a.x, scale)
		return
	case BF16:
		rowsBF16AVX2(dst, w, rb, a.x, scale)
		return
	case Q8_0:
		if a.quant {
			rowsQ8_0AVX2(dst, w, rb, a.q, a.d, scale)
			return
		}
	case Q4_0:
		if a.quant {
			rowsQ4_0AVX2(dst, w, rb, a.q, a.d, scale)
			return
		}
	case Q6_K:
		if a.quant {
			rowsQ6_KAVX2(dst, w, rb, a.q, a.d, a.d8, a.bs, scale)
			return
		}
	}
	floatRowsGeneric(dst, t, w, rb, a, scale)
}

// absMaxAVX2 returns max(floor, max_i |x[i]|) over the first len(x)/32*32
// elements, NaN elements ignored (floor must not be NaN).
//
//go:noescape
func absMaxAVX2(x []float32, floor float32) float32

// quantScaleAVX2 does, for the first len(x)/32*32 elements,
//
//	dst[i] = clamp(roundHalfEven(x[i]*s), -128, 127)   // NaN -> 0
//
// with x[i]*s rounded to float32 first (len(dst) >= len(x)).
//
//go:noescape
func quantScaleAVX2(dst []int8, x []float32, s float32)

// quantizeInt8AVX2 is QuantizeInt8, bit for bit.
func quantizeInt8AVX2(dst []int8, x []float32) float32 {
	n := len(x) &^ 31
	var amax float32 = 1e-5
	if n > 0 {
		amax = absMaxAVX2(x[:n], amax)
	}
	for _, v := range x[n:] {
		if a := absf(v); a > amax {
			amax = a
		}
	}
	s := 127 / amax
	if n > 0 {
		quantScaleAVX2(dst[:n], x[:n], s)
	}
	quantizeScaledGeneric(dst[n:], x[n:], s)
	return 1 / s
}

// dotAVX2 is Dot: Σ a[i]*b[i] with FMAs in 4x8 float32 lanes, the tail in
// lane 0 (dotRowsAVX2 of one row; the scale 1 changes no bit).
func dotAVX2(a, b []float32) float32 {
	var d [1]float32
	dotRowsAVX2(d[:], a, b, len(a), 1)
	return d[0]
}

// axpyAVX2 is AxpyTo: dst[i] += alpha*x[i], the product rounded before the
// add (bit for bit axpyGeneric; axpyRowsAVX2 of one row).
func axpyAVX2(dst []float32, alpha float32, x []float32) {
	a := [1]float32{alpha}
	axpyRowsAVX2(dst, a[:], x, len(x))
}

// sumSquaresAVX2 returns Σ float64(x[i])^2 in 4x4 float64 lanes.
//
//go:noescape
func sumSquaresAVX2(x []float32) float64

// scaleMulAVX2 does dst[i] = (x[i]*s)*w[i], or x[i]*s when w is empty;
// each product rounded to float32 (bit for bit scaleMulGeneric).
//
//go:noescape
func scaleMulAVX2(dst, x, w []float32, s float32)

// readSumAVX2 is readSumGeneric with 4x4 uint64 lanes (a different
// checksum, the same reads).
//
//go:noescape
func readSumAVX2(b []byte) uint64

// rowsQ6_KAVX512 is rowsQ6_KAVX2 with 64-element vectors (VPERMW spreads
// the sub-block scales, VPTERNLOGD merges the 6-bit codes).
//
//go:noescape
func rowsQ6_KAVX512(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32)

// rowsQ6_KAVX512GFNI is rowsQ6_KAVX512 with the 6-bit codes put together
// by GF2P8AFFINEQB (fewer instructions; 1.05-1.1x as fast in the L2 cache)
// and the prefetch 4 KiB ahead, bit for bit. Where the CPU has GFNI,
// floatRowsAVX512 takes rowsQ6_KGFNI.
//
//go:noescape
func rowsQ6_KAVX512GFNI(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32)

// rowsQ6_KPairsAVX512GFNI is rowsQ6_KAVX512GFNI on two streams of rows at
// once, bit for bit: with h = len(dst)/2 (len(dst) even), it computes rows r
// and h+r together for r < h, each block's activations loaded once for
// both. Two streams a thread keep more of the memory's reads in flight
// (the head from huge pages 1.12-1.21x as fast, BenchmarkQ6_KHeadBound);
// two adjacent rows as a pair made the hardware prefetchers give up (0.5-0.6x).
//
//go:noescape
func rowsQ6_KPairsAVX512GFNI(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32)

// rowsQ6_KGFNI is rowsQ6_KPairsAVX512GFNI for an even number of rows and
// rowsQ6_KAVX512GFNI for the last odd one.
func rowsQ6_KGFNI(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32) {
	n := len(dst) &^ 1
	if n > 0 {
		rowsQ6_KPairsAVX512GFNI(dst[:n], w, rb, q, d, d8, bs, scale)
	}
	if n < len(dst) {
		rowsQ6_KAVX512GFNI(dst[n:], w[n*rb:], rb, q, d, d8, bs, scale)
	}
}

// rowsQ6_K512 is the Q6_K kernel of floatRowsAVX512.
var rowsQ6_K512 = rowsQ6_KAVX512

func init() {
	if xcpu.X86.HasAVX512GFNI {
		rowsQ6_K512 = rowsQ6_KGFNI
	}
}

// rowsF16AVX512 is rowsF16AVX2 with 16-lane accumulators.
//
//go:noescape
func rowsF16AVX512(dst []float32, w []byte, rb int, x []float32, scale float32)

// floatRowsAVX512 is kernelSet.floatRows at the AVX512 level: the AVX-512
// kernels where they pay (Q6_K, F16; Q8_0 and Q4_0 when a row has a
// multiple of 8 blocks), the AVX2 ones otherwise.
func floatRowsAVX512(dst []float32, t DType, w []byte, rb int, a *floatAct, scale float32) {
	if len(dst) == 0 {
		return
	}
	if rb <= 0 || len(w) < len(dst)*rb || rb < t.BlockBytes()*len(a.x)/t.BlockSize() {
		panic("metal: floatRowsAVX512: row bytes do not match the activations")
	}
	switch {
	case t == F16:
		rowsF16AVX512(dst, w, rb, a.x, scale)
	case t == Q6_K && a.quant:
		rowsQ6_K512(dst, w, rb, a.q, a.d, a.d8, a.bs, scale)
	case t == Q8_0 && a.quant && len(a.d)%8 == 0:
		rowsQ8_0AVX512(dst, w, rb, a.q, a.d, scale)
	case t == Q4_0 && a.quant && len(a.d)%8 == 0:
		rowsQ4_0AVX512(dst, w, rb, a.q, a.d, scale)
	default:
		floatRowsAVX2(dst, t, w, rb, a, scale)
	}
}

// hasF16C reports CPUID.1:ECX.F16C[bit 29] (x/sys/cpu does not).
func hasF16C() bool { return cpuid1ECX()&(1<<29) != 0 }

func cpuid1ECX() uint32

// expSubSumAVX2 does x[i] = exp(x[i] - mx) for the first len(x)/8*8
// elements and returns their sum in float64. exp is Cephes' expf (range
// reduction by ln 2 in two parts, degree-6 polynomial, FMA): within 2 ulp
// of the correctly rounded value for arguments in [ln 2^-126, 0], 0 below
// (the reference gives subnormals there, all under 1.2e-38).
//
//go:noescape
func expSubSumAVX2(x []float32, mx float32) float64

// expSumAVX2 is kernelSet.expSum.
func expSumAVX2(x []float32, mx float32) float64 {
	n := len(x) &^ 7
	var sum float64
	if n > 0 {
		sum = expSubSumAVX2(x[:n], mx)
	}
	return sum + expSumGeneric(x[n:], mx)
}

// rowsQ8_0AVX512 and rowsQ4_0AVX512 are the AVX2 kernels with VPDPBUSD on
// two blocks per vector and the block scales of 8 blocks gathered at once;
// len(d) must be a multiple of 8.
//
//go:noescape
func rowsQ8_0AVX512(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

//go:noescape
func rowsQ4_0AVX512(dst []float32, w []byte, rb int, q []int8, d []float32, scale float32)

// dotRowsF16GroupAVX2 and axpyRowsF16GroupAVX2 are kernelSet's
// dotRowsF16Group and axpyRowsF16Group: dotRowsF16AVX2 and axpyRowsF16AVX2
// for two queries at a time, each row widened once for both, bit for bit
// (grouprows_amd64.s).
//
//go:noescape
func dotRowsF16GroupAVX2(dst *float32, dstStride int, x *float32, n, w int, m *uint16, rows, stride int, scale float32)

//go:noescape
func axpyRowsF16GroupAVX2(dst *float32, n, w int, a *float32, aStride int, m *uint16, rows, stride int)

// dotRowsF16GroupAVX512 is kernelSet.dotRowsF16Group at the AVX512 level:
// dotRowsF16QuadAVX512 for whole fours of queries (grouprows_amd64.s),
// dotRowsF16GroupAVX2 for the rest.
func dotRowsF16GroupAVX512(dst *float32, dstStride int, x *float32, n, w int, m *uint16, rows, stride int, scale float32) {
	q := n / 4 * 4
	if q > 0 {
		dotRowsF16QuadAVX512(dst, dstStride, x, q, w, m, rows, stride, scale)
		if q == n {
			return
		}
		dst = (*float32)(unsafe.Add(unsafe.Pointer(dst), 4*q*dstStride))
		x = (*float32)(unsafe.Add(unsafe.Pointer(x), 4*q*w))
	}
	dotRowsF16GroupAVX2(dst, dstStride, x, n-q, w, m, rows, stride, scale)
}

//go:noescape
func dotRowsF16QuadAVX512(dst *float32, dstStride int, x *float32, n, w int, m *uint16, rows, stride int, scale float32)

// axpyRowsF16GroupAVX512 is kernelSet.axpyRowsF16Group at the AVX512 level:
// axpyRowsF16QuadAVX512 for whole fours of queries when w is a multiple of
// 32 (grouprows_amd64.s), axpyRowsF16GroupAVX2 for the rest.
func axpyRowsF16GroupAVX512(dst *float32, n, w int, a *float32, aStride int, m *uint16, rows, stride int) {
	if q := n / 4 * 4; q > 0 && w%32 == 0 {
		axpyRowsF16QuadAVX512(dst, q, w, a, aStride, m, rows, stride)
		if q == n {
			return
		}
		dst = (*float32)(unsafe.Add(unsafe.Pointer(dst), 4*q*w))
		a = (*float32)(unsafe.Add(unsafe.Pointer(a), 4*q*aStride))
		n -= q
	}
	axpyRowsF16GroupAVX2(dst, n, w, a, aStride, m, rows, stride)
}

//go:noescape
func axpyRowsF16QuadAVX512(dst *float32, n, w int, a *float32, aStride int, m *uint16, rows, stride int)
