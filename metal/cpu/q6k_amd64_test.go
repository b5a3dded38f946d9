//go:build !noasm

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	xcpu "golang.org/x/sys/cpu"
)

// TestRowsQ6_KGFNI checks the AVX512 level's Q6_K rows on a CPU with GFNI
// (rowsQ6_KPairsAVX512GFNI for two streams of rows, rowsQ6_KAVX512GFNI for
// an odd last row) and rowsQ6_KAVX512GFNI on all the rows against
// rowsQ6_KAVX512 on each row alone, bit for bit: every row count from 1 to
// 9 and some larger odd and even ones, 1 to 11 blocks a row, random block
// bytes (any code, scale and d), every kind of activations, the weights
// ending at a guard page and dst guarded.
func TestRowsQ6_KGFNI(t *testing.T) {
	if len(cpuLevels) < 3 || cpuLevels[2] != AVX512 || !hasF16C() || !xcpu.X86.HasAVX512GFNI {
		t.Skip("no AVX512 level with GFNI on this CPU")
	}
	defer SetLevel(AVX512)()
	r := rand.New(rand.NewPCG(61, 62))
	rowCounts := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 31, 64, 65}
	for iter := range 200 {
		rows := rowCounts[iter%len(rowCounts)]
		if iter >= 2*len(rowCounts) {
			rows = 1 + r.IntN(40)
		}
		cols := 256 * (1 + r.IntN(11))
		rb := cols / 256 * 210
		data := make([]byte, rows*rb)
		for i := range data {
			data[i] = byte(r.IntN(256))
		}
		for b := 0; b < len(data)/210; b++ {
			h := F32ToF16(float32(r.NormFloat64() * math.Ldexp(1, r.IntN(9)-4)))
			data[210*b+208], data[210*b+209] = byte(h), byte(h>>8)
		}
		w := readGuard(t, unalignedBytes(data, iter%5))
		a := getAct(Q6_K, randActivations(r, cols, iter%4))
		if !a.quant {
			t.Fatal("activations not quantized")
		}
		scale := float32(1)
		if iter%3 == 1 {
			scale = float32(r.NormFloat64())
		}
		want := make([]float32, rows)
		for i := range rows {
			rowsQ6_KAVX512(want[i:i+1], w[i*rb:(i+1)*rb], rb, a.q, a.d, a.d8, a.bs, scale)
		}
		for _, k := range []struct {
			name string
			rows func(dst []float32, w []byte, rb int, a *floatAct, scale float32)
		}{
			{"floatRowsAVX512", func(dst []float32, w []byte, rb int, a *floatAct, scale float32) {
				floatRowsAVX512(dst, Q6_K, w, rb, a, scale)
			}},
			{"rowsQ6_KAVX512GFNI", func(dst []float32, w []byte, rb int, a *floatAct, scale float32) {
				rowsQ6_KAVX512GFNI(dst, w, rb, a.q, a.d, a.d8, a.bs, scale)
			}},
		} {
			dst, check := guarded(t, rows, iter%3, float32(-5))
			k.rows(dst, w, rb, a, scale)
			check()
			for i := range rows {
				if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s, %d rows x %d cols (x kind %d) row %d: %v, one row at a time %v", k.name, rows, cols, iter%4, i, dst[i], want[i])
				}
			}
		}
		putAct(a)
	}
}

// BenchmarkQ6_KHeadBound is BenchmarkHeadBound for Q6_K at the AVX512
// level with its kernels side by side (in turns, the order swapped every
// round): rowsQ6_KAVX512, rowsQ6_KAVX512GFNI on one stream of rows a thread
// and rowsQ6_KGFNI on two; it also reports the medians of the per-round
// ratios against rowsQ6_KAVX512. Run with -benchtime=15x.
func BenchmarkQ6_KHeadBound(b *testing.B) {
	if len(cpuLevels) < 3 || cpuLevels[2] != AVX512 || !hasF16C() || !xcpu.X86.HasAVX512GFNI {
		b.Skip("no AVX512 level with GFNI on this CPU")
	}
	defer SetLevel(AVX512)()
	type rowsFunc = func(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32)
	saved := levelKernels[AVX512].floatRows
	defer func() { levelKernels[AVX512].floatRows = saved }()
	use := func(f rowsFunc) func() {
		return func() {
			levelKernels[AVX512].floatRows = func(dst []float32, t DType, w []byte, rb int, a *floatAct, scale float32) {
				f(dst, w, rb, a.q, a.d, a.d8, a.bs, scale)
			}
		}
	}
	headBound(b, Q6_K, []string{"avx512", "gfni", "pairs"}, []func(){use(rowsQ6_KAVX512), use(rowsQ6_KAVX512GFNI), use(rowsQ6_KGFNI)})
}
