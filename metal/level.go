package metal

import (
	"fmt"
	"sync"
)

// Level names an implementation level of the kernels. Only Generic (pure Go)
// exists for now; SIMD levels (AVX2, AVX-512 VNNI, NEON) will be added beside
// it, each checked against Generic.
type Level uint8

// Implementation levels.
const (
	Generic Level = iota // portable Go reference kernels
	numLevels
)

// String returns the level name ("generic").
func (l Level) String() string {
	switch l {
	case Generic:
		return "generic"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// kernelSet is the dispatch table: one function value per hot kernel. The
// public kernels check shapes and call through the current set.
type kernelSet struct {
	// dotTQ1, dotTQ2 return Σ_b d_b * (Σ_j w[b,j]*x[b*256+j]) for one row
	// (len(x) a multiple of 256, w the row's blocks); integer sum per block,
	// then accumulated in float32 in block order, each product d_b*sum
	// rounded to float32 before the add (no FMA), so that every level gives
	// the same bits.
	dotTQ1, dotTQ2 func(w []byte, x []int8) float32
	// dotI2S returns Σ_j w[j]*x[j] for one I2_S row (len(x) a multiple of 128).
	dotI2S func(w []byte, x []int8) int32
	// rowDot returns Σ_j w[j]*x[j] for one row w of type t (any DType,
	// dequantized as by Row without the matrix scale), len(x) elements.
	rowDot func(t DType, w []byte, x []float32) float32
	// floatRows computes dst[r] = scale * Σ_j w_r[j]*x[j] for the len(dst)
	// rows of type t stored back to back in w (rb bytes each), x = a.x
	// prepared by getAct (see act.go; a.q etc. when a.quant).
	floatRows func(dst []float32, t DType, w []byte, rb int, a *floatAct, scale float32)
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
}

var levelKernels = [numLevels]kernelSet{
	Generic: {
		dotTQ1:    dotTQ1Generic,
		dotTQ2:    dotTQ2Generic,
		dotI2S:    dotI2SGeneric,
		rowDot:    rowDotGeneric,
		floatRows: floatRowsGeneric,
		quantAct:  quantActGeneric,
		quantInt8: quantizeInt8Generic,
		dot:       dotGeneric,
		axpy:      axpyGeneric,
	},
}

var (
	levelMu  sync.Mutex
	curLevel Level
	kern     = levelKernels[Generic]
)

func init() {
	// Pick the best level this CPU supports (only Generic so far).
	l := Levels()
	setLevel(l[len(l)-1])
}

// Levels returns the levels this CPU supports, best last. Generic is always
// first.
func Levels() []Level {
	return []Level{Generic}
}

// CurrentLevel returns the level the kernels use now.
func CurrentLevel() Level {
	levelMu.Lock()
	defer levelMu.Unlock()
	return curLevel
}

func setLevel(l Level) {
	curLevel = l
	kern = levelKernels[l]
}

// SetLevel switches every kernel to level l and returns a function that
// restores the previous level. It is meant for tests and benchmarks and must
// not be called while kernels run on other goroutines. It panics when l is
// not in Levels().
func SetLevel(l Level) (restore func()) {
	ok := false
	for _, s := range Levels() {
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
