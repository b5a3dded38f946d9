package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Tests of the float-activation kernels (floatRows, quantAct, QuantizeInt8,
// Dot, AxpyTo, RMSNorm) at every level against the Generic ones, with
// randomized sizes, unaligned data, guard-padded outputs and inputs that
// end at an unreadable page (readGuard).

// floatTolerance returns the documented bound (act.go) on |MatVec - exact|
// for row r of m at the current level, given the exact float64 dot over
// the dequantized row (m.Scale included): 1e-5 * Σ|w*x| for float
// activations, plus Σ|w| * d_b/2 * (1+2^-20) where the level quantizes x.
func floatTolerance(m *Matrix, x []float32, r int) float64 {
	row := make([]float32, m.Cols)
	m.Row(row, r)
	var norm, qerr float64
	quant := kern.actQ8&(1<<m.Type) != 0 && m.Cols%32 == 0 && finite(x)
	for b := 0; b < m.Cols; b += 32 {
		var amax float64
		for j := b; j < min(b+32, m.Cols); j++ {
			amax = max(amax, math.Abs(float64(x[j])))
		}
		for j := b; j < min(b+32, m.Cols); j++ {
			norm += math.Abs(float64(row[j]) * float64(x[j]))
			if quant {
				qerr += math.Abs(float64(row[j])) * amax / 127 / 2 * (1 + 1.0/(1<<20))
			}
		}
	}
	return 1e-5*norm + qerr + 1e-6
}

func finite(x []float32) bool {
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// unalignedBytes copies b to a fresh buffer at byte offset off (mod 64).
func unalignedBytes(b []byte, off int) []byte {
	buf := make([]byte, len(b)+64)
	return append(buf[off:off], b...)
}

// unalignedFloats copies x to a fresh slice starting off floats past a
// 64-byte boundary (Go's allocator aligns large slices to at least 8).
func unalignedFloats(x []float32, off int) []float32 {
	buf := make([]float32, len(x)+16)
	s := buf[off : off+len(x)]
	copy(s, x)
	return s
}

var floatTypes = []DType{F32, F16, BF16, Q8_0, Q4_0, Q6_K}

// randFloatMatrix quantizes a random rows x cols matrix (some rows scaled
// up or down by 2^±10, so that block scales vary) into type t; the data
// sits at byte offset off of its buffer.
func randFloatMatrix(t *testing.T, r *rand.Rand, typ DType, rows, cols, off int) *Matrix {
	t.Helper()
	src := make([]float32, rows*cols)
	for i := range src {
		src[i] = float32(r.NormFloat64())
	}
	for i := 0; i < rows; i += 3 {
		s := float32(math.Ldexp(1, r.IntN(21)-10))
		for j := range cols {
			src[i*cols+j] *= s
		}
	}
	data, err := Quantize(typ, rows, cols, src)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMatrix(typ, rows, cols, readGuard(t, unalignedBytes(data, off)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randActivations(r *rand.Rand, n int, kind int) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch kind {
		case 0: // Gaussian
			x[i] = float32(r.NormFloat64())
		case 1: // heavy tails and outliers
			x[i] = float32(r.NormFloat64() * math.Exp(2*r.NormFloat64()))
		case 2: // sparse, with all-zero blocks
			if r.IntN(8) == 0 && i%64 < 32 {
				x[i] = float32(r.NormFloat64())
			}
		case 3: // tiny values
			x[i] = float32(r.NormFloat64() * 1e-30)
		}
	}
	return x
}

func TestFloatRowsLevels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		for iter := 0; iter < 120; iter++ {
			typ := floatTypes[iter%len(floatTypes)]
			bs := typ.BlockSize()
			var cols int
			switch {
			case bs == 1:
				cols = 1 + r.IntN(300)
				if iter%4 == 0 {
					cols = 8 * (1 + r.IntN(64))
				}
			default:
				cols = bs * (1 + r.IntN(max(1, 1024/bs)))
			}
			rows := 1 + r.IntN(40)
			m := randFloatMatrix(t, r, typ, rows, cols, iter%7)
			x := unalignedFloats(randActivations(r, cols, iter%4), iter%5)
			x = readGuardFloats(t, x)
			dst, check := guarded(t, rows, iter%3, float32(-7))
			MatVec(dst, m, x)
			check()
			want := naiveMatVec(m, x)
			for i := range want {
				if tol := floatTolerance(m, x, i); math.Abs(float64(dst[i])-want[i]) > tol {
					t.Fatalf("%v %dx%d (x kind %d) row %d: %v, want %v (tolerance %.3g)", typ, rows, cols, iter%4, i, dst[i], want[i], tol)
				}
			}
			// MatMul: every token equals MatVec bit for bit.
			n := 1 + r.IntN(3)
			xs := make([]float32, n*cols)
			for tok := range n {
				copy(xs[tok*cols:], randActivations(r, cols, (iter+tok)%4))
			}
			out, checkOut := guarded(t, n*rows, 1, float32(-9))
			MatMul(out, m, xs, n)
			checkOut()
			one := make([]float32, rows)
			for tok := range n {
				MatVec(one, m, xs[tok*cols:(tok+1)*cols])
				for i := range one {
					if math.Float32bits(out[tok*rows+i]) != math.Float32bits(one[i]) {
						t.Fatalf("%v MatMul token %d row %d: %v != MatVec %v", typ, tok, i, out[tok*rows+i], one[i])
					}
				}
			}
		}
	})
}

// TestFloatRowsQ8Exact checks the integer part of the int8-activation
// kernels at every level, Generic included (every level dots Q8_0, Q4_0 and
// Q6_K rows with the same int8 activations): their result must match
// rowDotQ8Generic (the same integer sums) up to the float32 summation of
// the per-block terms.
func TestFloatRowsQ8Exact(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(23, 24))
		for iter := 0; iter < 60; iter++ {
			typ := []DType{Q8_0, Q4_0, Q6_K}[iter%3]
			cols := 256 * (1 + r.IntN(6))
			rows := 1 + r.IntN(20)
			m := randFloatMatrix(t, r, typ, rows, cols, iter%5)
			if iter%6 == 0 {
				// Random block bytes: extreme codes (Q8_0 -128), any scale.
				for i := range m.Data {
					m.Data[i] = byte(r.IntN(256))
				}
				bb := typ.BlockBytes()
				for b := 0; b < len(m.Data)/bb; b++ {
					off := b * bb // d first (Q8_0, Q4_0)
					if typ == Q6_K {
						off = b*bb + 208
					}
					h := F32ToF16(float32(r.Float64()*2 - 1))
					m.Data[off], m.Data[off+1] = byte(h), byte(h>>8)
				}
			}
			x := randActivations(r, cols, iter%4)
			a := getAct(typ, x)
			if !a.quant {
				t.Fatalf("%v: activations not quantized", typ)
			}
			dst := make([]float32, rows)
			kern.floatRows(dst, typ, m.Data, m.rowBytes(), a, 1)
			rb := m.rowBytes()
			for i := range dst {
				w := m.Data[i*rb : (i+1)*rb]
				want := rowDotQ8Generic(typ, w, a)
				// Bound the float summation error by the sum of magnitudes.
				var mag float64
				row := make([]float32, cols)
				m.Row(row, i)
				for j := range cols {
					mag += math.Abs(float64(row[j]) * float64(a.q[j]) * float64(a.d[j/32]))
				}
				if math.Abs(float64(dst[i])-float64(want)) > 2e-6*mag+1e-30 {
					t.Fatalf("%v %dx%d row %d: %v, reference %v (magnitude %v)", typ, rows, cols, i, dst[i], want, mag)
				}
			}
			putAct(a)
		}
	})
}

// TestFloatRowsNonFinite: NaN and Inf in x or in the weights propagate as in
// the reference (the int8 path falls back to floats for a non-finite x).
func TestFloatRowsNonFinite(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(25, 26))
		for _, typ := range floatTypes {
			cols := 512
			m := randFloatMatrix(t, r, typ, 4, cols, 0)
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
				x := randActivations(r, cols, 0)
				x[77] = bad
				dst := make([]float32, 4)
				MatVec(dst, m, x)
				for i, v := range dst {
					if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
						t.Errorf("%v x[77]=%v row %d: %v, want NaN or Inf", typ, bad, i, v)
					}
				}
			}
		}
	})
}

func TestQuantActLevels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(27, 28))
		for iter := 0; iter < 50; iter++ {
			n := 32 * (1 + r.IntN(100))
			x := randActivations(r, n, iter%4)
			if iter%7 == 0 {
				x[r.IntN(n)] = 127 * 3 // a block whose amax maps to exactly 127
			}
			q0, d0, d80, bs0 := make([]int8, n), make([]float32, n/32), make([]float32, n/4), make([]int16, n/16)
			if !quantActGeneric(q0, d0, d80, bs0, x) {
				t.Fatal("finite x refused")
			}
			for b := 0; b < n/32; b++ {
				for j := 32 * b; j < 32*b+32; j++ {
					if e := math.Abs(float64(x[j]) - float64(d0[b])*float64(q0[j])); e > float64(d0[b])/2*(1+1.0/(1<<20)) {
						t.Fatalf("x[%d] = %v: q %d d %v, error %v", j, x[j], q0[j], d0[b], e)
					}
					if q0[j] == -128 {
						t.Fatalf("q = -128")
					}
				}
			}
			q, d, d8, bs := make([]int8, n), make([]float32, n/32), make([]float32, n/4), make([]int16, n/16)
			if !kern.quantAct(q, d, d8, bs, x) {
				t.Fatal("finite x refused")
			}
			for i := range q {
				if q[i] != q0[i] {
					t.Fatalf("q[%d] = %d, want %d", i, q[i], q0[i])
				}
			}
			for i := range d {
				if d[i] != d0[i] {
					t.Fatalf("d[%d] = %v, want %v", i, d[i], d0[i])
				}
			}
			for i := range d8 {
				if d8[i] != d80[i] {
					t.Fatalf("d8[%d] = %v, want %v", i, d8[i], d80[i])
				}
			}
			for i := range bs {
				if bs[i] != bs0[i] {
					t.Fatalf("bs[%d] = %d, want %d", i, bs[i], bs0[i])
				}
			}
			x[n/2] = float32(math.Inf(-1))
			if kern.quantAct(q, d, d8, bs, x) {
				t.Fatal("-Inf accepted")
			}
			x[n/2] = float32(math.NaN())
			if kern.quantAct(q, d, d8, bs, x) {
				t.Fatal("NaN accepted")
			}
		}
	})
}

// TestQuantizeInt8Levels: every level is bit-exact with the reference,
// specials included.
func TestQuantizeInt8Levels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
			math.MaxFloat32, -math.MaxFloat32, 1e-45, 1e-6, 0.5, 1.5, 2.5, -2.5, 126.5, 127.5, -127.5, -128.5}
		r := rand.New(rand.NewPCG(29, 30))
		for iter := 0; iter < 300; iter++ {
			n := r.IntN(200)
			if iter%10 == 0 {
				n = 32 * r.IntN(300)
			}
			x := randActivations(r, n, iter%4)
			if iter%3 == 0 && n > 0 {
				// Values that land on exact halves after scaling by s = 1.
				for i := range x {
					x[i] = float32(r.IntN(510)-255) / 2
				}
				x[r.IntN(n)] = 127
			}
			if iter%5 == 0 {
				for k := 0; k < 3 && n > 0; k++ {
					x[r.IntN(n)] = specials[r.IntN(len(specials))]
				}
			}
			x = unalignedFloats(x, iter%8)
			want := make([]int8, n)
			winv := quantizeInt8Generic(want, x)
			dst, check := guarded(t, n, iter%5, int8(99))
			inv := QuantizeInt8(dst, readGuardFloats(t, x))
			check()
			if math.Float32bits(inv) != math.Float32bits(winv) {
				t.Fatalf("n %d: inv %v, want %v", n, inv, winv)
			}
			for i := range want {
				if dst[i] != want[i] {
					t.Fatalf("n %d: dst[%d] = %d, want %d (x %v)", n, i, dst[i], want[i], x[i])
				}
			}
		}
	})
}

func TestDotAxpyLevels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(31, 32))
		for iter := 0; iter < 200; iter++ {
			n := r.IntN(300)
			a := unalignedFloats(randActivations(r, n, iter%2), iter%3)
			b := unalignedFloats(randActivations(r, n, 0), iter%5)
			var want, mag float64
			for i := range a {
				want += float64(a[i]) * float64(b[i])
				mag += math.Abs(float64(a[i]) * float64(b[i]))
			}
			alpha := float32(r.NormFloat64())
			ref := randActivations(r, n, 0)
			// The reference computed in float64, each step rounded to
			// float32 as the kernels must (no FMA on any GOARCH): the sum
			// and the product of two float32 are exact in float64.
			wantAxpy := make([]float32, n)
			for i := range wantAxpy {
				wantAxpy[i] = float32(float64(ref[i]) + float64(float32(float64(alpha)*float64(a[i]))))
			}
			if got := Dot(readGuardFloats(t, a), readGuardFloats(t, b)); math.Abs(float64(got)-want) > 2e-6*mag*math.Sqrt(float64(n+1))+1e-30 {
				t.Fatalf("Dot n=%d: %v, want %v", n, got, want)
			}
			dst, check := guarded(t, n, iter%4, float32(5))
			copy(dst, ref)
			AxpyTo(dst, alpha, readGuardFloats(t, a))
			check()
			for i := range dst {
				if math.Float32bits(dst[i]) != math.Float32bits(wantAxpy[i]) {
					t.Fatalf("AxpyTo n=%d [%d] = %v, want %v", n, i, dst[i], wantAxpy[i])
				}
			}
		}
	})
}

func TestRMSNormLevels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(33, 34))
		for iter := 0; iter < 100; iter++ {
			n := 1 + r.IntN(300)
			x := unalignedFloats(randActivations(r, n, iter%2), iter%3)
			var w []float32
			if iter%4 != 0 {
				w = unalignedFloats(randActivations(r, n, 0), iter%5)
			}
			want := make([]float32, n)
			restore := SetLevel(Generic)
			RMSNorm(want, x, w, 1e-5)
			restore()
			dst, check := guarded(t, n, iter%4, float32(5))
			RMSNorm(dst, readGuardFloats(t, x), w, 1e-5)
			check()
			for i := range dst {
				// The float64 sum of squares may differ in its last bits,
				// which can move the float32 scale by an ulp.
				if d := math.Abs(float64(dst[i]) - float64(want[i])); d > 3e-7*math.Abs(float64(want[i])) {
					t.Fatalf("n %d [%d] = %v, want %v", n, i, dst[i], want[i])
				}
			}
			// In place.
			y := append([]float32(nil), x...)
			RMSNorm(y, y, w, 1e-5)
			for i := range y {
				if y[i] != dst[i] {
					t.Fatalf("in place [%d] = %v, want %v", i, y[i], dst[i])
				}
			}
		}
	})
}

func TestFloatLevelsNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(35, 36))
		for _, typ := range floatTypes {
			m := randFloatMatrix(t, r, typ, 64, 512, 0)
			x := randActivations(r, 512, 0)
			dst := make([]float32, 64)
			MatVec(dst, m, x) // warm the scratch
			if n := testing.AllocsPerRun(20, func() { MatVec(dst, m, x) }); n != 0 {
				t.Errorf("MatVec %v: %v allocations", typ, n)
			}
		}
	})
}

func TestSoftmaxLevels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(37, 38))
		inf := float32(math.Inf(1))
		for iter := 0; iter < 300; iter++ {
			n := 1 + r.IntN(300)
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * math.Exp(r.NormFloat64()*2))
			}
			switch iter % 6 {
			case 1: // -Inf entries (masked attention)
				for k := 0; k < 3; k++ {
					x[r.IntN(n)] = -inf
				}
			case 2: // a huge spread: most entries underflow
				for i := range x {
					x[i] *= 100
				}
			case 3: // exact ties with the maximum
				for i := range x {
					x[i] = float32(r.IntN(5))
				}
			case 4: // NaN or +Inf
				x[r.IntN(n)] = []float32{float32(math.NaN()), inf}[r.IntN(2)]
			case 5: // all -Inf
				for i := range x {
					x[i] = -inf
				}
			}
			want := append([]float32(nil), x...)
			restore := SetLevel(Generic)
			Softmax(want)
			restore()
			y := readGuardFloats(t, unalignedFloats(x, iter%8))
			Softmax(y)
			for i := range y {
				g, w := float64(y[i]), float64(want[i])
				if math.IsNaN(w) != math.IsNaN(g) || math.Abs(g-w) > 5e-7*w+1e-37 {
					t.Fatalf("case %d n %d [%d] (x %v): %v, want %v", iter%6, n, i, x[i], g, w)
				}
			}
		}
	})
}

// TestDotAxpyRowsLevels checks DotRows and AxpyRows against loops of Dot and
// AxpyTo at the same level, bit for bit: strided rows as in a KV cache,
// unaligned, the last row right before a guard page.
func TestDotAxpyRowsLevels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(35, 36))
		for iter := 0; iter < 200; iter++ {
			w := r.IntN(140)
			if iter%4 == 0 {
				w = []int{64, 128}[r.IntN(2)]
			}
			rows := r.IntN(70)
			stride := w + r.IntN(3)*w + r.IntN(9)
			size := 0
			if rows > 0 {
				size = (rows-1)*stride + w
			}
			m := readGuardFloats(t, unalignedFloats(randActivations(r, size, 0), iter%3))
			x := unalignedFloats(randActivations(r, w, iter%2), iter%5)
			a := randActivations(r, rows, 0)
			scale := float32(r.Float64())

			want := make([]float32, rows)
			for j := range want {
				want[j] = Dot(x, m[j*stride:j*stride+w]) * scale
			}
			dst, check := guarded(t, rows, iter%4, float32(5))
			DotRows(dst, x, m, stride, scale)
			check()
			for j := range want {
				if math.Float32bits(dst[j]) != math.Float32bits(want[j]) {
					t.Fatalf("DotRows %d rows of %d, stride %d: [%d] = %v, want %v", rows, w, stride, j, dst[j], want[j])
				}
			}

			start := randActivations(r, w, 0)
			wantAcc := append([]float32(nil), start...)
			for j := range a {
				AxpyTo(wantAcc, a[j], m[j*stride:j*stride+w])
			}
			acc, check := guarded(t, w, iter%3, float32(-3))
			copy(acc, start)
			AxpyRows(acc, a, m, stride)
			check()
			for i := range acc {
				if math.Float32bits(acc[i]) != math.Float32bits(wantAcc[i]) {
					t.Fatalf("AxpyRows %d rows of %d, stride %d: [%d] = %v, want %v", rows, w, stride, i, acc[i], wantAcc[i])
				}
			}
		}
	})
}

func TestDotAxpyRowsShapes(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"stride below width", func() { DotRows(make([]float32, 2), make([]float32, 8), make([]float32, 16), 4, 1) }},
		{"m too short", func() { DotRows(make([]float32, 3), make([]float32, 8), make([]float32, 23), 8, 1) }},
		{"axpy m too short", func() { AxpyRows(make([]float32, 8), make([]float32, 3), make([]float32, 23), 8) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
	DotRows(nil, make([]float32, 8), nil, 8, 1) // no rows, nothing to read
}

// MatMul of a tall matrix, split over the pool and taken a tile of rows at a
// time for all tokens, equals MatVec token by token bit for bit.
func TestMatMulTallMatchesMatVec(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(31, 32))
		for _, typ := range floatTypes {
			rows, cols, n := 1000+r.IntN(50), 256, 8
			m := randFloatMatrix(t, r, typ, rows, cols, 0)
			xs := make([]float32, n*cols)
			for tok := range n {
				copy(xs[tok*cols:], randActivations(r, cols, tok%3))
			}
			out := make([]float32, n*rows)
			MatMul(out, m, xs, n)
			one := make([]float32, rows)
			for tok := range n {
				MatVec(one, m, xs[tok*cols:(tok+1)*cols])
				for i := range one {
					if math.Float32bits(out[tok*rows+i]) != math.Float32bits(one[i]) {
						t.Fatalf("%v %dx%d token %d row %d: MatMul %v, MatVec %v", typ, rows, cols, tok, i, out[tok*rows+i], one[i])
					}
				}
			}
		}
	})
}
