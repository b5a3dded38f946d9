package cpu

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// The ternary benchmarks stream their weights from a buffer of streamBytes
// (several times the L3 cache): each operation uses the next window of it,
// as a decode step uses the next layer's weights, so that they measure
// memory-bound speed. BenchmarkMemRead reads the same buffer with the same
// worker pool: its GB/s is the bound the kernels' GB/s (weight bytes per
// second, b.SetBytes) is to be compared with, in the same run.

const streamBytes = 128 << 20

var (
	streamOnce sync.Once
	streamBuf  []byte
)

func stream() []byte {
	streamOnce.Do(func() {
		streamBuf = make([]byte, streamBytes)
		r := rand.New(rand.NewPCG(31, 32))
		for i := 0; i < len(streamBuf); i += 8 {
			binary.LittleEndian.PutUint64(streamBuf[i:], r.Uint64())
		}
	})
	return streamBuf
}

func readMemGo(b []byte) uint64 {
	var s uint64
	for i := 0; i+8 <= len(b); i += 8 {
		s ^= *(*uint64)(unsafe.Pointer(&b[i]))
	}
	return s
}

type readJob struct {
	buf  []byte
	sink atomic.Uint64
}

const readPiece = 64 << 10

func readRun(arg any, r0, r1 int) {
	j := arg.(*readJob)
	var s uint64
	for r := r0; r < r1; r++ {
		s ^= readMem(j.buf[r*readPiece : (r+1)*readPiece])
	}
	j.sink.Add(s)
}

// BenchmarkMemRead measures the read bandwidth of the machine with 1 thread
// and with the default number of threads (the pool's).
func BenchmarkMemRead(b *testing.B) {
	buf := stream()
	// The first passes over new memory run slower (page faults, the
	// kernel's page merging): warm up as the other benchmarks have.
	for range 3 {
		readRun(&readJob{buf: buf}, 0, len(buf)/readPiece)
	}
	for _, th := range benchThreads() {
		b.Run(fmt.Sprintf("threads%d", th), func(b *testing.B) {
			defer SetThreads(SetThreads(th))
			j := &readJob{buf: buf}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				p := thePool
				p.mu.Lock()
				p.parallel(readRun, j, len(buf)/readPiece, 1)
				p.mu.Unlock()
			}
		})
	}
}

func benchThreads() []int {
	d := defaultThreads()
	if d == 1 {
		return []int{1}
	}
	return []int{1, d}
}

// streamMatrices returns views of the stream buffer as rows x cols
// matrices of type typ, one after the other, with sane block scales.
func streamMatrices(typ DType, rows, cols int) []*Matrix {
	return matricesIn(stream(), typ, rows, cols)
}

// matricesIn is streamMatrices on buf.
func matricesIn(buf []byte, typ DType, rows, cols int) []*Matrix {
	rb, _ := RowBytes(typ, cols)
	size := rows * rb
	var ms []*Matrix
	for off := 0; off+size <= len(buf); off += size {
		data := buf[off : off+size]
		if typ != I2_S {
			bb := typ.BlockBytes()
			for i := bb - 2; i < len(data); i += bb {
				binary.LittleEndian.PutUint16(data[i:], 0x3800) // 0.5
			}
		}
		ms = append(ms, &Matrix{Type: typ, Rows: rows, Cols: cols, Data: data, Scale: 0.5})
	}
	return ms
}

// benchTypes are the benchmarked layouts: "TQ1_0" and "TQ2_0" keep the
// per-block sums, "TQ1_0-oneD" and "TQ2_0-oneD" are summed per row
// (Matrix.UseUniformScale, as a loaded model with one d does).
var benchTypes = []struct {
	name string
	typ  DType
}{{"I2_S", I2_S}, {"TQ2_0", TQ2_0}, {"TQ1_0", TQ1_0}, {"TQ1_0-oneD", TQ1_0}, {"TQ2_0-oneD", TQ2_0}, {"TQ1_S", TQ1_S}}

// benchMatrices is streamMatrices for a benchType.
func benchMatrices(name string, typ DType, rows, cols int) []*Matrix {
	return benchMatricesIn(stream(), name, typ, rows, cols)
}

// benchMatricesIn is benchMatrices on buf.
func benchMatricesIn(buf []byte, name string, typ DType, rows, cols int) []*Matrix {
	ms := matricesIn(buf, typ, rows, cols)
	for _, m := range ms {
		if strings.HasSuffix(name, "-oneD") && !m.UseUniformScale() {
			panic("benchMatricesIn: " + name + " has mixed block scales")
		}
	}
	return ms
}

var ternaryShapes = [][2]int{{2560, 2560}, {640, 2560}, {6912, 2560}, {2560, 6912}}

// BenchmarkTernaryMatVec: one token (decode) at every level and thread
// count, weights streamed from memory; GB/s is weight bytes per second.
func BenchmarkTernaryMatVec(b *testing.B) {
	for _, bt := range benchTypes {
		for _, s := range ternaryShapes {
			ms := benchMatrices(bt.name, bt.typ, s[0], s[1])
			r := rand.New(rand.NewPCG(2, 3))
			xq := randInt8(r, s[1])
			dst := make([]float32, s[0])
			for _, l := range Levels() {
				for _, th := range benchThreads() {
					b.Run(fmt.Sprintf("%s/%dx%d/%v/threads%d", bt.name, s[0], s[1], l, th), func(b *testing.B) {
						defer SetLevel(l)()
						defer SetThreads(SetThreads(th))
						b.SetBytes(int64(len(ms[0].Data)))
						b.ReportAllocs()
						i := 0
						for b.Loop() {
							MatVecTernary(dst, ms[i%len(ms)], xq, 0.01)
							i++
						}
					})
				}
			}
		}
	}
}

// BenchmarkTernaryMatMul: a prompt of n tokens; GB/s is weight bytes per
// second (each weight is read once per operation), ns/tok the time per
// token.
func BenchmarkTernaryMatMul(b *testing.B) {
	for _, bt := range benchTypes {
		for _, s := range ternaryShapes {
			ms := benchMatrices(bt.name, bt.typ, s[0], s[1])
			for _, l := range Levels() {
				for _, n := range []int{8, 64} {
					if l == Generic && n > 8 {
						continue
					}
					r := rand.New(rand.NewPCG(4, 5))
					xq := randInt8(r, n*s[1])
					inv := make([]float32, n)
					dst := make([]float32, n*s[0])
					b.Run(fmt.Sprintf("%s/%dx%d/%v/n%d", bt.name, s[0], s[1], l, n), func(b *testing.B) {
						defer SetLevel(l)()
						b.SetBytes(int64(len(ms[0].Data)))
						b.ReportAllocs()
						i := 0
						for b.Loop() {
							MatMulTernary(dst, ms[i%len(ms)], xq, inv, n)
							i++
						}
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/tok")
					})
				}
			}
		}
	}
}

// BenchmarkTernaryHot measures the kernels' compute speed on one thread:
// a 640 x 2560 matrix (the K/V projection) that stays in the L2 cache.
func BenchmarkTernaryHot(b *testing.B) {
	for _, bt := range benchTypes {
		m := benchMatrices(bt.name, bt.typ, 640, 2560)[0]
		r := rand.New(rand.NewPCG(6, 7))
		for _, n := range []int{1, 4} {
			xq := randInt8(r, n*2560)
			inv := make([]float32, n)
			dst := make([]float32, n*640)
			for _, l := range Levels() {
				b.Run(fmt.Sprintf("%s/n%d/%v", bt.name, n, l), func(b *testing.B) {
					defer SetLevel(l)()
					defer SetThreads(SetThreads(1))
					b.SetBytes(int64(len(m.Data)))
					for b.Loop() {
						MatMulTernary(dst, m, xq, inv, n)
					}
				})
			}
		}
	}
}

// BenchmarkTernaryBound tells, per type, whether the decode kernel is
// compute-bound or memory-bound on this machine: each round times the
// kernel hot (a 1280 x 2560 matrix, which stays in the threads' L2 caches),
// cold (6912 x 2560 matrices streamed from 128 MiB in huge pages, as a
// loaded model holds them) and the bandwidth probe (as bitrepl bench), all
// on the pool's threads, one right after the other; it reports the medians
// of the per-round ratios hot/probe and cold/probe. A hot/probe near or
// below 1 is a compute-bound kernel. Run with -benchtime=15x.
func BenchmarkTernaryBound(b *testing.B) {
	buf, free, err := HugePageBytes(streamBytes)
	if err != nil {
		b.Skip(err)
	}
	defer free()
	copy(buf, stream())
	probe := NewBandwidthProbe(256 << 20)
	defer probe.Close()
	r := rand.New(rand.NewPCG(2, 3))
	xq := randInt8(r, 2560)
	dst := make([]float32, 6912)
	for _, bt := range benchTypes {
		cold := benchMatricesIn(buf, bt.name, bt.typ, 6912, 2560)
		hot := benchMatricesIn(buf, bt.name, bt.typ, 1280, 2560)[0]
		b.Run(bt.name, func(b *testing.B) {
			var hots, colds []float64
			c := 0
			for b.Loop() {
				p := probe.Read()
				MatVecTernary(dst[:1280], hot, xq, 0.01) // into the caches again
				start := time.Now()
				for range 20 {
					MatVecTernary(dst[:1280], hot, xq, 0.01)
				}
				h := 20 * float64(len(hot.Data)) / time.Since(start).Seconds()
				start = time.Now()
				n := 0
				for range len(cold) {
					MatVecTernary(dst, cold[c%len(cold)], xq, 0.01)
					n += len(cold[c%len(cold)].Data)
					c++
				}
				cd := float64(n) / time.Since(start).Seconds()
				p = (p + probe.Read()) / 2
				hots, colds = append(hots, h/p), append(colds, cd/p)
			}
			b.ReportMetric(medianOf(hots), "hot/probe")
			b.ReportMetric(medianOf(colds), "cold/probe")
		})
	}
}

func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
