//go:build !noasm

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	xcpu "golang.org/x/sys/cpu"
)

// TestRowsQ6_KGFNI checks the AVX512 level's Q6_K rows on a CPU with GFNI
// (rowsQ6_KAVX512GFNI) against rowsQ6_KAVX512 on each row alone, bit for
// bit: every row count from 1 to 9 and some larger odd and even ones, 1 to
// 11 blocks a row, random block bytes (any code, scale and d), every kind
// of activations, the weights ending at a guard page and dst guarded.
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
		dst, check := guarded(t, rows, iter%3, float32(-5))
		floatRowsAVX512(dst, Q6_K, w, rb, a, scale)
		check()
		for i := range rows {
			if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%d rows x %d cols (x kind %d) row %d: %v, one row at a time %v", rows, cols, iter%4, i, dst[i], want[i])
			}
		}
		putAct(a)
	}
}

// BenchmarkQ6_KHeadBound is BenchmarkTernaryBound for the Q6_K LM head at
// the AVX512 level, its two kernels (rowsQ6_KAVX512, rowsQ6_KAVX512GFNI)
// side by side: each round reads the
// bandwidth probe, then times each variant (in turns, the order swapped
// every round) hot (768 head rows, which stay in the two threads' L2
// caches) and cold (the whole 2B-4T head, 269 MB in huge pages), on the
// pool's threads. It reports the medians of the per-round ratios hot/probe,
// cold/probe and each variant's against the first. Run with
// -benchtime=15x.
func BenchmarkQ6_KHeadBound(b *testing.B) {
	if len(cpuLevels) < 3 || cpuLevels[2] != AVX512 || !hasF16C() || !xcpu.X86.HasAVX512GFNI {
		b.Skip("no AVX512 level with GFNI on this CPU")
	}
	defer SetLevel(AVX512)()
	type rowsFunc = func(dst []float32, w []byte, rb int, q []int8, d []float32, d8 []float32, bs []int16, scale float32)
	variants := []struct {
		name string
		rows rowsFunc
	}{{"avx512", rowsQ6_KAVX512}, {"gfni", rowsQ6_KAVX512GFNI}}
	saved := levelKernels[AVX512].floatRows
	defer func() { levelKernels[AVX512].floatRows = saved }()
	use := func(f rowsFunc) {
		levelKernels[AVX512].floatRows = func(dst []float32, t DType, w []byte, rb int, a *floatAct, scale float32) {
			f(dst, w, rb, a.q, a.d, a.d8, a.bs, scale)
		}
	}

	head := headMatrix(b, Q6_K)
	buf, free, err := HugePageBytes(len(head.Data))
	if err != nil {
		b.Skip(err)
	}
	defer free()
	copy(buf, head.Data)
	cold, _ := NewMatrix(Q6_K, headRows, headCols, buf)
	const hotRows = 768
	hot, _ := NewMatrix(Q6_K, hotRows, headCols, buf[:hotRows*cold.rowBytes()])
	probe := NewBandwidthProbe(256 << 20)
	defer probe.Close()
	r := rand.New(rand.NewPCG(42, 43))
	x := make([]float32, headCols)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	dst := make([]float32, headRows)

	n := len(variants)
	hots, colds := make([][]float64, n), make([][]float64, n)
	hotRel, coldRel := make([][]float64, n), make([][]float64, n)
	round := 0
	for b.Loop() {
		p := probe.Read()
		h, c := make([]float64, n), make([]float64, n)
		for k := range n {
			v := k
			if round%2 == 1 {
				v = n - 1 - k
			}
			use(variants[v].rows)
			MatVec(dst[:hotRows], hot, x) // into the caches again
			start := time.Now()
			for range 20 {
				MatVec(dst[:hotRows], hot, x)
			}
			h[v] = 20 * float64(len(hot.Data)) / time.Since(start).Seconds()
			start = time.Now()
			MatVec(dst, cold, x)
			c[v] = float64(len(cold.Data)) / time.Since(start).Seconds()
		}
		p = (p + probe.Read()) / 2
		for v := range n {
			hots[v], colds[v] = append(hots[v], h[v]/p), append(colds[v], c[v]/p)
			hotRel[v], coldRel[v] = append(hotRel[v], h[v]/h[0]), append(coldRel[v], c[v]/c[0])
		}
		round++
	}
	for v, vr := range variants {
		b.ReportMetric(medianOf(hots[v]), vr.name+"-hot/probe")
		b.ReportMetric(medianOf(colds[v]), vr.name+"-cold/probe")
		if v > 0 {
			b.ReportMetric(medianOf(hotRel[v]), vr.name+"-hot/"+variants[0].name)
			b.ReportMetric(medianOf(coldRel[v]), vr.name+"-cold/"+variants[0].name)
		}
	}
}
