package cpu

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// The model's loops before SiLUMul and ReLU2Mul existed: every level must
// give their bits.
func siluMulRef(gate, up []float32) {
	for i, g := range gate {
		gate[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}

func relu2MulRef(gate, up []float32) {
	for i, g := range gate {
		g = max(g, 0)
		gate[i] = g * g * up[i]
	}
}

var gatedActs = []struct {
	name        string
	kernel, ref func(gate, up []float32)
}{
	{"SiLUMul", SiLUMul, siluMulRef},
	{"ReLU2Mul", ReLU2Mul, relu2MulRef},
}

// checkGatedAct runs each activation on gate and up (guard-padded, the
// inputs behind an unreadable page) and compares the bits with the
// reference loop's.
func checkGatedAct(t *testing.T, gate, up []float32, off int) {
	t.Helper()
	for _, a := range gatedActs {
		want := append([]float32(nil), gate...)
		a.ref(want, up)
		got, check := guarded(t, len(gate), off, float32(5))
		copy(got, gate)
		upG := readGuardFloats(t, up)
		a.kernel(got, upG)
		check()
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s n=%d [%d]: gate %v (%#x) up %v: got %v (%#x), want %v (%#x)", a.name, len(gate), i,
					gate[i], math.Float32bits(gate[i]), up[i], got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
		for i := range up {
			if math.Float32bits(upG[i]) != math.Float32bits(up[i]) {
				t.Fatalf("%s changed up[%d]", a.name, i)
			}
		}
	}
}

func TestGatedActLevels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(71, 72))
		lengths := []int{0, 6912, 1152, 1153, 4000}
		for n := 1; n <= 40; n++ {
			lengths = append(lengths, n)
		}
		for iter, n := range lengths {
			for kind := range 4 {
				gate := randActivations(r, n, kind)
				if kind == 1 { // |g| up to ~1e4: exp over- and underflows
					for i := range gate {
						gate[i] *= 8
					}
				}
				up := randActivations(r, n, (kind+1)%4)
				checkGatedAct(t, gate, up, (iter+kind)%4)
			}
		}
	})
}

func TestGatedActSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	f := math.Float32frombits
	gates := []float32{0, f(0x80000000), inf, -inf, nan, -nan, f(0x7fc12345), f(0xffa00001), f(0x7f800001), // NaNs: payloads, signalling
		f(1), f(0x80000001), f(0x007fffff), f(0x807fffff), f(0x00800000), f(0x80800000), // subnormals, smallest normals
		math.MaxFloat32, -math.MaxFloat32, 1e30, -1e30, 1, -1, 0.5, -0.5, 1e-8, -1e-8,
		// exp(-g) near float32 overflow (g ≈ -88.72) and below the smallest
		// subnormal (g ≈ 103.97), at the kernels' clamp (-g in [-120, 100])
		// and near math.Exp's own limits (|g| ≈ 708-746).
		-88.7, -88.72, -88.7228, -88.73, -89, -99.99, -100, f(0xc2c80001), -100.5, -709, -710, -1000,
		87.3, 88.7, 103, 103.9, 103.97, 103.973, 104, 119.99, 120, f(0x42f00001), 120.5, 708, 745, 746, 1000,
		16, -16, 17.3, -17.3, 0.34657359, -0.34657359}
	for i := f(0x42cf0000); i < 105; i = f(math.Float32bits(i) + 97) { // around 103.97
		gates = append(gates, i)
	}
	for i := f(0xc2b00000); i > -89; i = f(math.Float32bits(i) + 13) { // around -88.72
		gates = append(gates, i)
	}
	ups := []float32{1, -1, 0, f(0x80000000), inf, -inf, nan, 3.5, 1e-40, 1e38}
	var gate, up []float32
	for _, g := range gates {
		for _, u := range ups {
			gate, up = append(gate, g), append(up, u)
		}
	}
	forLevels(t, func(t *testing.T) {
		for off := range 3 {
			checkGatedAct(t, gate[off:], up[off:], off)
		}
	})
}

// TestGatedActSweep runs the activations on every 256th float32 bit pattern
// (the low bits varied) and every 61st with 1 <= |g| < 120, with up = 1 and
// with up random, at every level.
// Elsewhere than amd64 (arm64 runs under qemu in CI) every 4096th: there
// only ReLU2Mul has SIMD kernels.
func TestGatedActSweep(t *testing.T) {
	step := 1 << 8
	if runtime.GOARCH != "amd64" {
		step = 1 << 12
	}
	gate := make([]float32, 1<<32/step)
	for i := range gate {
		gate[i] = math.Float32frombits(uint32(i*step + i*37%step))
	}
	// Denser where exp is neither 1 nor saturated: 1 <= |g| < 120.
	for b := uint32(0x3f800000); b < 0x42f00000; b += 61 {
		gate = append(gate, math.Float32frombits(b), math.Float32frombits(b|1<<31))
	}
	ones := make([]float32, len(gate))
	for i := range ones {
		ones[i] = 1
	}
	r := rand.New(rand.NewPCG(73, 74))
	ups := [][]float32{ones, randActivations(r, len(gate), 0)}
	forLevels(t, func(t *testing.T) {
		for _, up := range ups {
			for _, a := range gatedActs {
				want := append([]float32(nil), gate...)
				a.ref(want, up)
				got := append([]float32(nil), gate...)
				a.kernel(got, up)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s [%d]: gate %v (%#x) up %v: got %v (%#x), want %v (%#x)", a.name, i,
							gate[i], math.Float32bits(gate[i]), up[i], got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
	})
}

// BenchmarkGatedAct times the activations at every level on one thread's
// share of a 2B-4T FFN row (6912/6) and a whole row; ns/element reported.
func BenchmarkGatedAct(b *testing.B) {
	r := rand.New(rand.NewPCG(75, 76))
	for _, n := range []int{1152, 6912} {
		src := randActivations(r, n, 0)
		up := randActivations(r, n, 0)
		gate := make([]float32, n)
		for _, a := range gatedActs {
			for _, l := range Levels() {
				b.Run(a.name+"/"+l.String()+"/"+strconv.Itoa(n), func(b *testing.B) {
					defer SetLevel(l)()
					for b.Loop() {
						copy(gate, src)
						a.kernel(gate, up)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
				})
			}
		}
	}
}

// BenchmarkGatedActAB times the activations at every level interleaved:
// each round runs 16 calls per level in turn on one thread's share of a
// 2B-4T FFN row (1152 elements, reset by a copy before each call); it
// reports each level's median ns/element and its median per-round speed-up
// over Generic.
func BenchmarkGatedActAB(b *testing.B) {
	const n, calls = 1152, 16
	r := rand.New(rand.NewPCG(77, 78))
	src, up := randActivations(r, n, 0), randActivations(r, n, 0)
	gate := make([]float32, n)
	levels := Levels()
	for _, a := range gatedActs {
		b.Run(a.name, func(b *testing.B) {
			ns := make([][]float64, len(levels))
			for b.Loop() {
				for li, l := range levels {
					restore := SetLevel(l)
					t0 := time.Now()
					for range calls {
						copy(gate, src)
						a.kernel(gate, up)
					}
					ns[li] = append(ns[li], float64(time.Since(t0).Nanoseconds())/(calls*n))
					restore()
				}
			}
			for li, l := range levels {
				ratios := make([]float64, len(ns[li]))
				for i := range ratios {
					ratios[i] = ns[0][i] / ns[li][i]
				}
				b.ReportMetric(medianOf(ns[li]), l.String()+"-ns/elem")
				if li > 0 {
					b.ReportMetric(medianOf(ratios), l.String()+"-speedup")
				}
			}
		})
	}
}
