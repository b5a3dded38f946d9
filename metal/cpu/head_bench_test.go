package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// The LM head of bitnet-b1.58-2B-4T (tied with the embedding): 128256 x
// 2560. Per token it streams 1.3 GB as F32, 657 MB as F16/BF16, 349 MB as
// Q8_0, 269 MB as Q6_K (llama-quantize's default) and 185 MB as Q4_0. Run
// with -benchtime=10x; compare the MB/s with BenchmarkReadBandwidth in the
// same run.
const headRows, headCols = 128256, 2560

// headMatrix returns a head-shaped matrix of type t: a quantized random
// 64-row tile repeated (the speed does not depend on the values).
func headMatrix(b *testing.B, t DType) *Matrix {
	const tile = 64
	r := rand.New(rand.NewPCG(41, uint64(t)))
	src := make([]float32, tile*headCols)
	for i := range src {
		src[i] = float32(r.NormFloat64()) * 0.02
	}
	q, err := Quantize(t, tile, headCols, src)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := MatrixBytes(t, headRows, headCols)
	data := make([]byte, n)
	for off := 0; off < n; off += len(q) {
		copy(data[off:], q)
	}
	m, err := NewMatrix(t, headRows, headCols, data)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkHead runs MatVec on the head per type, level and thread count.
func BenchmarkHead(b *testing.B) {
	r := rand.New(rand.NewPCG(42, 43))
	x := make([]float32, headCols)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	dst := make([]float32, headRows)
	for _, typ := range floatTypes {
		var m *Matrix
		b.Run(typ.String(), func(b *testing.B) {
			if m == nil {
				m = headMatrix(b, typ)
			}
			for _, l := range Levels() {
				for _, th := range []int{1, 2} {
					b.Run(fmt.Sprintf("%v/t%d", l, th), func(b *testing.B) {
						defer SetLevel(l)()
						defer SetThreads(SetThreads(th))
						b.SetBytes(int64(len(m.Data)))
						b.ReportAllocs()
						MatVec(dst, m, x)
						for b.Loop() {
							MatVec(dst, m, x)
						}
					})
				}
			}
		})
		m = nil
	}
}

// BenchmarkReadBandwidth sums a 1 GiB buffer with 1 and 2 threads (the
// worker pool, as the kernels use it): the memory read bandwidth to set the
// kernels' MB/s against (run both in the same go test invocation).
func BenchmarkReadBandwidth(b *testing.B) {
	p := NewBandwidthProbe(1 << 30)
	defer p.Close()
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("t%d", th), func(b *testing.B) {
			defer SetThreads(SetThreads(th))
			b.SetBytes(int64(p.Len()))
			for b.Loop() {
				p.Read()
			}
		})
	}
}

func TestReadBandwidth(t *testing.T) {
	if bw := readBandwidth(1<<20, 2, 2); !(bw > 1e6) {
		t.Errorf("readBandwidth: %v bytes/s", bw)
	}
	// A read sums every byte once, split over the pool's threads.
	for _, th := range []int{1, 2, 3} {
		func() {
			defer SetThreads(SetThreads(th))
			p := NewBandwidthProbe(1<<20 + 5000)
			defer p.Close()
			if p.Len() != 1<<20 {
				t.Fatalf("probe of %d bytes", p.Len())
			}
			p.Read()
			p.Read()
			if got, want := p.sum.Load(), 2*readSumGeneric(p.buf); got != want {
				t.Errorf("%d threads: two reads summed %#x, want %#x", th, got, want)
			}
		}()
	}
	b := make([]byte, 4096)
	for i := range b {
		b[i] = byte(i)
	}
	if g, a := readSumGeneric(b), readSum(b); g == 0 || a == 0 {
		t.Errorf("readSum %d %d", g, a)
	}
}

// BenchmarkRowsL2 runs the float-activation kernels on 256 head rows that
// stay in the L2 cache, one thread: their compute speed without the memory.
func BenchmarkRowsL2(b *testing.B) {
	const rows = 256
	r := rand.New(rand.NewPCG(44, 45))
	x := make([]float32, headCols)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	dst := make([]float32, rows)
	for _, typ := range floatTypes {
		src := make([]float32, rows*headCols)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		data, err := Quantize(typ, rows, headCols, src)
		if err != nil {
			b.Fatal(err)
		}
		m, _ := NewMatrix(typ, rows, headCols, data)
		for _, l := range Levels() {
			b.Run(fmt.Sprintf("%v/%v", typ, l), func(b *testing.B) {
				defer SetLevel(l)()
				defer SetThreads(SetThreads(1))
				b.SetBytes(int64(len(m.Data)))
				for b.Loop() {
					MatVec(dst, m, x)
				}
			})
		}
	}
}

// readBandwidth measures how fast this machine reads memory: it fills a
// buffer of size bytes (rounded down to 64 KiB, at least 64 KiB) once, then
// sums it reps times on threads threads of the pool, and returns the best
// rate in bytes per second. Token generation streams every weight once per
// token, so this is the ceiling the kernels are measured against. The buffer is in huge pages where the
// system offers them, as the model loader holds large weight files: 4 KiB
// pages cost TLB misses and read slower.
func readBandwidth(size, threads, reps int) float64 {
	p := NewBandwidthProbe(size)
	defer p.Close()
	defer SetThreads(SetThreads(threads))
	best := 0.0
	for range max(reps, 1) {
		best = max(best, p.Read())
	}
	return best
}

// BenchmarkHeadBound is BenchmarkTernaryBound for the LM head: each round
// reads the bandwidth probe and times MatVec on the head hot (rows that stay
// in the two threads' L2 caches) and cold (the whole 2B-4T head in huge
// pages, as a loaded model holds it), on the pool's threads; it reports the
// medians of the per-round ratios hot/probe and cold/probe, for Q6_K
// (llama-quantize's head) and F16 (the head of I2_S files). Run with
// -benchtime=15x.
func BenchmarkHeadBound(b *testing.B) {
	for _, typ := range []DType{Q6_K, F16} {
		b.Run(typ.String(), func(b *testing.B) {
			headBound(b, typ, []string{""}, []func(){func() {}})
		})
	}
}

// headBound runs BenchmarkHeadBound's rounds on a head of type typ with
// each setup in turn (the order swapped every round), and reports, for
// setup k named names[k], hot/probe, cold/probe and, for k > 0, the medians
// of its per-round speed ratios against setup 0.
func headBound(b *testing.B, typ DType, names []string, setups []func()) {
	head := headMatrix(b, typ)
	buf, free, err := HugePageBytes(len(head.Data))
	if err != nil {
		b.Skip(err)
	}
	defer free()
	copy(buf, head.Data)
	cold, _ := NewMatrix(typ, headRows, headCols, buf)
	hotRows := (768 << 10) / cold.rowBytes() * 2 // 768 KiB a thread
	hot, _ := NewMatrix(typ, hotRows, headCols, buf[:hotRows*cold.rowBytes()])
	probe := NewBandwidthProbe(256 << 20)
	defer probe.Close()
	r := rand.New(rand.NewPCG(42, 43))
	x := make([]float32, headCols)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	dst := make([]float32, headRows)

	n := len(setups)
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
			setups[v]()
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
	for v, name := range names {
		if name != "" {
			name += "-"
		}
		b.ReportMetric(medianOf(hots[v]), name+"hot/probe")
		b.ReportMetric(medianOf(colds[v]), name+"cold/probe")
		if v > 0 {
			b.ReportMetric(medianOf(hotRel[v]), name+"hot/"+names[0])
			b.ReportMetric(medianOf(coldRel[v]), name+"cold/"+names[0])
		}
	}
}
