package cpu

import (
	"fmt"
	"runtime"
	"sync"

	xcpu "golang.org/x/sys/cpu"
)

// Level names an implementation level of the kernels. Generic (pure Go) is
// always there; the SIMD levels are checked against it by the tests, which
// force every level this CPU supports in turn (SetLevel).
type Level uint8

// Implementation levels.
const (
	Generic Level = iota // portable Go reference kernels
	AVX2                 // amd64: AVX2 and FMA (VPMADDUBSW-style integer kernels)
	AVX512               // amd64: AVX-512 F, BW, DQ, VL and VNNI (VPDPBUSD)
	NEON                 // arm64: ASIMD (widening multiplies, SMULL/SADALP)
	NEONDot              // arm64: ASIMD with the dot-product extension (SDOT)
	numLevels
)

// String returns the level name ("generic", "avx2", "avx512", "neon",
// "neondot").
func (l Level) String() string {
	switch l {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	case NEON:
		return "neon"
	case NEONDot:
		return "neondot"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// kernelSet is the dispatch table: one function value per hot kernel. The
// public kernels check shapes and call through the current set.
type kernelSet struct {
	// ternPrep lays out the activations of j (j.xq) as ternRows wants them
	// (j.xp, j.bsum; see ternary.go); ternRows computes the outputs of rows
	// [r0, r1) of j.m for every token of j, bit for bit as ternRowsGeneric.
	// ternRows is called concurrently on disjoint row ranges.
	ternPrep func(j *ternJob)
	ternRows func(j *ternJob, r0, r1 int)
	// ternTQ1S is ternRows for TQ1_S, bitrepl's own layout (Generic's
	// unless a level has kernels for it).
	ternTQ1S func(j *ternJob, r0, r1 int)
	// rowDot returns Σ_j w[j]*x[j] for one row w of type t (any DType,
	// dequantized as by Row without the matrix scale), len(x) elements.
	rowDot func(t DType, w []byte, x []float32) float32
	// floatRows computes dst[r] = scale * Σ_j w_r[j]*x[j] for the len(dst)
	// rows of type t stored back to back in w (rb bytes each), x = a.x
	// prepared by getAct (see act.go; a.q etc. when a.quant).
	floatRows func(dst []float32, t DType, w []byte, rb int, a *floatAct, scale float32)
	// mm4, where set, is floatRows for rows rows of the types in mmTypes
	// (rows even, cols a multiple of 256) and the tokens t0..t0+3 of a:
	// token t's row r to dst[(t-t0)*ds+r], bit for bit (plainmm.go).
	mm4     func(dst []float32, ds, rows int, t DType, w []byte, rb int, a *mmActs, t0 int, scale float32)
	mmTypes uint32
	// actQ8 has bit t set when floatRows wants the activations of type t
	// quantized per 32 elements (see act.go), quantAct computes them.
	actQ8    uint32
	quantAct func(q []int8, d, d8 []float32, bs []int16, x []float32) bool
	// quantInt8 is QuantizeInt8 (equal lengths).
	quantInt8 func(dst []int8, x []float32) float32
	// dot returns Σ a[i]*b[i] (equal lengths).
	dot func(a, b []float32) float32
	// axpy does dst[i] += alpha*x[i] (equal lengths).
	axpy func(dst []float32, alpha float32, x []float32)
	// dotRows and axpyRows, where set, are DotRows and AxpyRows in one
	// call, bit for bit as the loops over dot and axpy that stand in for
	// them elsewhere (shapes checked by the callers).
	dotRows  func(dst, x, m []float32, stride int, scale float32)
	axpyRows func(dst, a, m []float32, stride int)
	// dotRowsF16 and axpyRowsF16, where set, are DotRowsF16 and
	// AxpyRowsF16: dotRows and axpyRows of the rows widened from f16, bit
	// for bit (shapes checked by the callers).
	dotRowsF16  func(dst, x []float32, m []uint16, stride int, scale float32)
	axpyRowsF16 func(dst, a []float32, m []uint16, stride int)
	// dotRowsF16Group and axpyRowsF16Group, where set, are
	// DotRowsF16Group and AxpyRowsF16Group for n >= 2 queries and rows >= 1
	// (shapes checked by the callers, slices as their first elements).
	dotRowsF16Group  func(dst *float32, dstStride int, x *float32, n, w int, m *uint16, rows, stride int, scale float32)
	axpyRowsF16Group func(dst *float32, n, w int, a *float32, aStride int, m *uint16, rows, stride int)
	// q8 names the assembly of ToQ8_0 and DotRowsQ8_0 (see q8Native: a
	// switch, not function values, so that the query quantized on the
	// stack does not escape); axpyRowsQ8, where set, is AxpyRowsQ8_0 for
	// rows of whole blocks. Both bit for bit as the Generic loops.
	q8         q8Kernels
	axpyRowsQ8 func(dst, a []float32, m []byte, stride int)
	// axpyRowsQ8Group, where set, is AxpyRowsQ8_0Group for n >= 2 queries,
	// rows >= 1 and w a multiple of 32 (as dotRowsF16Group takes them).
	axpyRowsQ8Group func(dst *float32, n, w int, a *float32, aStride int, m *byte, rows, stride int)
	// ropeHalf, where set, rotates one head's halves as RoPE's loop does,
	// bit for bit (len(lo) == len(hi) == len(cos) <= len(sin)).
	ropeHalf func(lo, hi, cos, sin []float32)
	// sumSquares returns Σ float64(x[i])^2 (RMSNorm; the order is the
	// level's). scaleMul does dst[i] = (x[i]*s)*w[i], each product rounded
	// to float32, or x[i]*s when w is nil (RMSNorm; bit for bit at every
	// level). dst may alias x.
	sumSquares func(x []float32) float64
	scaleMul   func(dst, x, w []float32, s float32)
	// expSum does x[i] = exp(x[i] - mx) and returns Σ float64(x[i])
	// (Softmax; mx finite and >= every x[i]; exp within 2 ulp).
	expSum func(x []float32, mx float32) float64
	// max is Softmax's maximum, bit for bit maxGeneric.
	max func(x []float32) float32
	// toF16, where set, is ToF16's loop, bit for bit (equal lengths).
	toF16 func(dst []uint16, src []float32)
	// siluMul and relu2Mul are SiLUMul and ReLU2Mul (equal lengths), bit
	// for bit at every level (gatedact.go).
	siluMul  func(gate, up []float32)
	relu2Mul func(gate, up []float32)
}

var genericKernels = kernelSet{
	ternPrep:   ternPrepGeneric,
	ternRows:   ternRowsGeneric,
	ternTQ1S:   ternRowsGeneric,
	rowDot:     rowDotGeneric,
	floatRows:  floatRowsGeneric,
	actQ8:      1<<Q8_0 | 1<<Q4_0 | 1<<Q6_K,
	quantAct:   quantActGeneric,
	quantInt8:  quantizeInt8Generic,
	dot:        dotGeneric,
	axpy:       axpyGeneric,
	sumSquares: sumSquaresGeneric,
	scaleMul:   scaleMulGeneric,
	expSum:     expSumLanes,
	max:        maxGeneric,
	siluMul:    siluMulGeneric,
	relu2Mul:   relu2MulGeneric,
}

// levelKernels holds one table per level. Every level starts as a copy of
// Generic's table, so a level need not implement every kernel: the SIMD
// files patch their own entries in an init function
// (levelKernels[AVX2].ternRows = ternRowsAVX2). kern points into it, so the
// order of those init functions does not matter.
var levelKernels = func() (t [numLevels]kernelSet) {
	for i := range t {
		t[i] = genericKernels
	}
	return t
}()

var (
	levelMu  sync.Mutex
	curLevel Level
	kern     = &levelKernels[Generic]
)

func init() {
	// Pick the best level this CPU supports.
	setLevel(cpuLevels[len(cpuLevels)-1])
}

// cpuLevels are the levels this CPU supports, best last. The SIMD levels
// need their assembly, which the noasm build tag leaves out (asmEnabled).
var cpuLevels = func() []Level {
	l := []Level{Generic}
	if !asmEnabled {
		return l
	}
	switch runtime.GOARCH {
	case "amd64":
		if xcpu.X86.HasAVX2 && xcpu.X86.HasFMA {
			l = append(l, AVX2)
			if xcpu.X86.HasAVX512F && xcpu.X86.HasAVX512BW && xcpu.X86.HasAVX512DQ && xcpu.X86.HasAVX512VL && xcpu.X86.HasAVX512VNNI {
				l = append(l, AVX512)
			}
		}
	case "arm64":
		if xcpu.ARM64.HasASIMD {
			l = append(l, NEON)
			if xcpu.ARM64.HasASIMDDP {
				l = append(l, NEONDot)
			}
		}
	}
	return l
}()

// Levels returns the levels this CPU supports, best last. Generic is always
// first.
func Levels() []Level {
	return append([]Level(nil), cpuLevels...)
}

// CurrentLevel returns the level the kernels use now.
func CurrentLevel() Level {
	levelMu.Lock()
	defer levelMu.Unlock()
	return curLevel
}

func setLevel(l Level) {
	curLevel = l
	kern = &levelKernels[l]
}

// SetLevel switches every kernel to level l and returns a function that
// restores the previous level. It is meant for tests and benchmarks and must
// not be called while kernels run on other goroutines. It panics when l is
// not in Levels().
func SetLevel(l Level) (restore func()) {
	ok := false
	for _, s := range cpuLevels {
		ok = ok || s == l
	}
	if !ok {
		panic("metal: SetLevel: level " + l.String() + " not supported on this CPU")
	}
	levelMu.Lock()
	defer levelMu.Unlock()
	prev := curLevel
	setLevel(l)
	return func() {
		levelMu.Lock()
		defer levelMu.Unlock()
		setLevel(prev)
	}
}
