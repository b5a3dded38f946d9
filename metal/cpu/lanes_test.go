package cpu

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestFma32: fma32 rounds a*b + c once, checked against math.FMA where the
// float64 result is exact in float32 neighbourhoods (ties built on purpose).
func TestFma32(t *testing.T) {
	// 1 + 2^-24 is a tie between 1 and 1+2^-23; the smallest extra bit
	// (from the product) decides it.
	one := float32(1)
	tiny := float32(math.Ldexp(1, -24))
	if got := fma32(tiny, 1+float32(math.Ldexp(1, -23)), one); got != 1+float32(math.Ldexp(1, -23)) {
		t.Errorf("tie broken upward by the product: %v", got)
	}
	if got := fma32(tiny, 1-float32(math.Ldexp(1, -24)), one); got != one {
		t.Errorf("just below the tie: %v", got)
	}
	if got := fma32(tiny, one, one); got != one {
		t.Errorf("exact tie, to even: %v", got)
	}
	r := rand.New(rand.NewPCG(41, 42))
	for range 100000 {
		a, b, c := float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
		// Exact in big arithmetic: a*b is exact in float64, and the
		// correctly rounded float32 of a*b+c equals rounding the exact sum.
		want := roundExact32(float64(a)*float64(b), float64(c))
		if got := fma32(a, b, c); got != want {
			t.Fatalf("fma32(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
	}
}

// roundExact32 rounds p + c (float64s) to float32 with one rounding, by
// big.Float.
func roundExact32(p, c float64) float32 {
	x, y := new(big.Float).SetPrec(200), new(big.Float).SetPrec(200)
	x.SetFloat64(p)
	y.SetFloat64(c)
	x.Add(x, y)
	f, _ := x.Float32()
	return f
}

// TestLanesMatchAssembly: the Generic Dot, DotRows, RMSNorm's sum and
// Softmax's exp give the
// bits of the amd64 assembly (every amd64 level), on random and adversarial
// inputs at sizes around the vector widths.
func TestLanesMatchAssembly(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the Generic level follows the amd64 assembly's order")
	}
	r := rand.New(rand.NewPCG(43, 44))
	sizes := []int{0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 95, 127, 128, 129, 255, 256, 257, 1000}
	forLevels(t, func(t *testing.T) {
		for iter := range 300 {
			n := sizes[iter%len(sizes)]
			a := unalignedFloats(randActivations(r, n, iter%4), iter%3)
			b := unalignedFloats(randActivations(r, n, (iter/4)%4), iter%5)
			if iter%7 == 0 {
				for i := range a { // products that cancel: sums at ties and zeros
					a[i], b[i] = float32(1+i%3), float32(1-2*(i%2))
				}
			}
			want := dotGeneric(a, b)
			if got := Dot(readGuardFloats(t, a), readGuardFloats(t, b)); math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("Dot n=%d: %v, Generic %v", n, got, want)
			}
			d, check := guarded(t, 1, iter%4, float32(3))
			DotRows(d, a, b, n, 0.125)
			check()
			if math.Float32bits(d[0]) != math.Float32bits(want*0.125) {
				t.Fatalf("DotRows n=%d: %v, Generic %v", n, d[0], want*0.125)
			}
			if got, want := kern.sumSquares(a), sumSquaresGeneric(a); math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("sumSquares n=%d: %v, Generic %v", n, got, want)
			}
			x := randActivations(r, n, iter%4)
			if iter%5 == 0 && n > 0 {
				x[r.IntN(n)] = float32(math.Inf(-1))
				x[r.IntN(n)] = -200 // below exp's range: 0
			}
			mx := float32(math.Inf(-1))
			for _, v := range x {
				mx = max(mx, v)
			}
			if math.IsInf(float64(mx), -1) {
				continue
			}
			x0 := append([]float32(nil), x...)
			sum := kern.expSum(x, mx)
			wantSum := expSumLanes(x0, mx)
			if math.Float64bits(sum) != math.Float64bits(wantSum) {
				t.Fatalf("expSum n=%d: sum %v, Generic %v", n, sum, wantSum)
			}
			for i := range x {
				if math.Float32bits(x[i]) != math.Float32bits(x0[i]) {
					t.Fatalf("expSum n=%d [%d]: %v, Generic %v", n, i, x[i], x0[i])
				}
			}
		}
	})
}

// TestGenericSameBitsEverywhere: the Generic Dot, AxpyTo and Softmax exp
// give the same bits on every GOARCH (the compiler must not fuse their
// products; CI runs this under qemu on arm64): a hash of their outputs on
// fixed inputs, recorded on amd64.
func TestGenericSameBitsEverywhere(t *testing.T) {
	defer SetLevel(Generic)()
	r := rand.New(rand.NewPCG(45, 46))
	h := fnv.New64a()
	put := func(v uint64) { binary.Write(h, binary.LittleEndian, v) }
	for iter := range 200 {
		n := iter % 70
		a, b := randActivations(r, n, iter%4), randActivations(r, n, 0)
		put(uint64(math.Float32bits(Dot(a, b))))
		AxpyTo(b, float32(r.NormFloat64()), a)
		for _, v := range b {
			put(uint64(math.Float32bits(v)))
		}
		if n > 0 {
			Softmax(a)
			for _, v := range a {
				put(uint64(math.Float32bits(v)))
			}
		}
	}
	const want uint64 = 0x802ea7c3ad7f90ed
	if got := h.Sum64(); got != want {
		t.Errorf("hash of the Generic outputs %#x, want %#x (recorded on amd64)", got, want)
	}
}

// TestFloatRowsMatchAVX2: the Generic rows of F32, F16 and BF16 give the
// bits of the AVX2 row kernels (AVX512 too for F32 and BF16; its F16 kernel
// sums in 16 lanes).
func TestFloatRowsMatchAVX2(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the Generic level follows the amd64 assembly's order")
	}
	r := rand.New(rand.NewPCG(47, 48))
	forLevels(t, func(t *testing.T) {
		for iter := range 60 {
			typ := []DType{F32, F16, BF16}[iter%3]
			if CurrentLevel() == AVX512 && typ == F16 {
				continue
			}
			cols := []int{1, 7, 8, 31, 32, 33, 64, 100, 256, 257, 1000}[iter%11]
			m := randFloatMatrix(t, r, typ, 5, cols, iter%7)
			x := randActivations(r, cols, iter%4)
			got := make([]float32, 5)
			MatVec(got, m, x)
			func() {
				defer SetLevel(Generic)()
				want := make([]float32, 5)
				MatVec(want, m, x)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v %d cols row %d: %v, Generic %v", typ, cols, i, got[i], want[i])
					}
				}
			}()
		}
	})
}
