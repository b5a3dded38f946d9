package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// q8Rows quantizes rows of w floats from src into a fresh buffer of rows
// stride bytes apart, starting off bytes in (an unaligned cache), the last
// row right before a guard page where the platform has them.
func q8Rows(t *testing.T, src []float32, rows, w, stride, off int) []byte {
	rb := Q8RowBytes(w)
	size := 0
	if rows > 0 {
		size = (rows-1)*stride + rb
	}
	m := make([]byte, size+off)[off:]
	for j := range rows {
		ToQ8_0(m[j*stride:j*stride+rb], src[j*w:(j+1)*w])
	}
	return readGuard(t, m)
}

// TestDotAxpyRowsQ8Levels checks DotRowsQ8_0 and AxpyRowsQ8_0 at every level
// against the Generic loops, bit for bit: strided rows as in a KV cache,
// unaligned, the last row right before a guard page, the outputs between
// guards; rows of 1 to 9 blocks and widths that are not whole blocks.
func TestDotAxpyRowsQ8Levels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(41, 42))
		for iter := range 300 {
			w := 32 * (1 + r.IntN(9))
			switch {
			case iter%4 == 0:
				w = []int{64, 128}[r.IntN(2)]
			case iter%9 == 0:
				w = 1 + r.IntN(140)
			}
			rows := r.IntN(70)
			rb := Q8RowBytes(w)
			stride := rb + r.IntN(3)*rb + r.IntN(9)
			src := randActivations(r, rows*w, iter%4)
			m := q8Rows(t, src, rows, w, stride, iter%3)
			x := unalignedFloats(randActivations(r, w, iter%3), iter%5)
			a := randActivations(r, rows, 0)
			scale := float32(r.Float64())

			xq := make([]byte, rb)
			ToQ8_0(xq, x)
			want := make([]float32, rows)
			dotRowsQ8Generic(want, xq, m, stride, scale)
			dst, check := guarded(t, rows, iter%4, float32(5))
			DotRowsQ8_0(dst, x, m, stride, scale)
			check()
			for j := range want {
				if math.Float32bits(dst[j]) != math.Float32bits(want[j]) {
					t.Fatalf("DotRowsQ8_0 %d rows of %d, stride %d: [%d] = %v, want %v", rows, w, stride, j, dst[j], want[j])
				}
			}

			start := randActivations(r, w, 0)
			wantAcc := append([]float32(nil), start...)
			axpyRowsQ8Generic(wantAcc, a, m, stride)
			acc, check := guarded(t, w, iter%3, float32(-3))
			copy(acc, start)
			AxpyRowsQ8_0(acc, a, m, stride)
			check()
			for i := range acc {
				if math.Float32bits(acc[i]) != math.Float32bits(wantAcc[i]) {
					t.Fatalf("AxpyRowsQ8_0 %d rows of %d, stride %d: [%d] = %v, want %v", rows, w, stride, i, acc[i], wantAcc[i])
				}
			}
		}
	})
}

// TestRowsQ8Reference checks the kernels against float64 arithmetic: the
// scores against the exact dot of the float rows within the error Q8_0 allows
// (each element off by at most 0.57 of its block's d: half a step plus the
// f16 rounding of d), and both kernels against float64 sums of the
// dequantized rows within float32 rounding (llama.cpp's arithmetic).
func TestRowsQ8Reference(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(43, 44))
		for iter := range 60 {
			w, rows := []int{64, 128, 96}[iter%3], 1+r.IntN(40)
			rb := Q8RowBytes(w)
			src := randActivations(r, rows*w, iter%2)
			m := q8Rows(t, src, rows, w, rb, 0)
			x := randActivations(r, w, iter%2)
			xq := make([]byte, rb)
			ToQ8_0(xq, x)
			xd, kd := make([]float32, w), make([]float32, w)
			FromQ8_0(xd, xq)
			got := make([]float32, rows)
			DotRowsQ8_0(got, x, m, rb, 1)
			for j := range rows {
				k := src[j*w : (j+1)*w]
				FromQ8_0(kd, m[j*rb:(j+1)*rb])
				var exact, deq, bound, mag float64
				for i := range w {
					ex := 0.57 * float64(getF16(xq[34*(i/32):]))
					ek := 0.57 * float64(getF16(m[j*rb+34*(i/32):]))
					exact += float64(x[i]) * float64(k[i])
					deq += float64(xd[i]) * float64(kd[i])
					bound += math.Abs(float64(x[i]))*ek + math.Abs(float64(k[i]))*ex + ex*ek
					mag += math.Abs(float64(xd[i]) * float64(kd[i]))
				}
				if d := math.Abs(float64(got[j]) - exact); d > bound+1e-6*mag {
					t.Fatalf("w %d row %d: score %v, exact %v: off by %g > bound %g", w, j, got[j], exact, d, bound)
				}
				if d := math.Abs(float64(got[j]) - deq); d > 1e-6*mag {
					t.Fatalf("w %d row %d: score %v, dequantized dot %v: off by %g", w, j, got[j], deq, d)
				}
			}

			a := randActivations(r, rows, 0)
			acc := make([]float32, w)
			AxpyRowsQ8_0(acc, a, m, rb)
			for i := range w {
				var want, mag float64
				for j := range rows {
					FromQ8_0(kd, m[j*rb:(j+1)*rb])
					want += float64(a[j]) * float64(kd[i])
					mag += math.Abs(float64(a[j]) * float64(kd[i]))
				}
				if d := math.Abs(float64(acc[i]) - want); d > 1e-6*mag*float64(rows) {
					t.Fatalf("w %d: AxpyRowsQ8_0 [%d] = %v, want %v", w, i, acc[i], want)
				}
			}
		}
	})
}

// TestToQ8_0 pins quantize_row_q8_0_ref's rounding on one block: d is
// max|x|/127 in f16, q rounds halves away from zero, and an all-zero block
// is all zeros; a short row is padded with zeros.
func TestToQ8_0(t *testing.T) {
	x := make([]float32, 40)
	x[0], x[1], x[2], x[3] = 127, -2.5, 0.5, -127
	x[32] = 3
	b := make([]byte, Q8RowBytes(len(x)))
	ToQ8_0(b, x)
	if d := getF16(b); d != 1 {
		t.Fatalf("d = %v, want 1", d)
	}
	if q := []int8{int8(b[2]), int8(b[3]), int8(b[4]), int8(b[5]), int8(b[6])}; q[0] != 127 || q[1] != -3 || q[2] != 1 || q[3] != -127 || q[4] != 0 {
		t.Fatalf("q = %v, want [127 -3 1 -127 0]", q)
	}
	if d, q := getF16(b[34:]), int8(b[36]); d != F16ToF32(F32ToF16(3.0/127)) || q != 127 {
		t.Fatalf("second block: d %v q %d", d, q)
	}
	back := make([]float32, len(x))
	FromQ8_0(back, b)
	if back[1] != -3 || back[39] != 0 {
		t.Fatalf("FromQ8_0: %v", back)
	}
}

func TestRowsQ8Shapes(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"stride below row", func() { DotRowsQ8_0(make([]float32, 2), make([]float32, 32), make([]byte, 68), 33, 1) }},
		{"m too short", func() { DotRowsQ8_0(make([]float32, 3), make([]float32, 32), make([]byte, 101), 34, 1) }},
		{"axpy m too short", func() { AxpyRowsQ8_0(make([]float32, 64), make([]float32, 2), make([]byte, 135), 68) }},
		{"ToQ8_0 lengths", func() { ToQ8_0(make([]byte, 34), make([]float32, 33)) }},
		{"FromQ8_0 lengths", func() { FromQ8_0(make([]float32, 33), make([]byte, 34)) }},
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
}

// BenchmarkAttendRows times one attention tile of a 128-wide head (64
// cached positions) for each cache type: the scores (DotRows*) and the
// mix of values (AxpyRows*).
func BenchmarkAttendRows(b *testing.B) {
	const w, rows = 128, 64
	r := rand.New(rand.NewPCG(45, 46))
	src := randActivations(r, rows*w, 0)
	x, a := randActivations(r, w, 0), randActivations(r, rows, 0)
	h := make([]uint16, rows*w)
	ToF16(h, src)
	q := make([]byte, rows*Q8RowBytes(w))
	for j := range rows {
		ToQ8_0(q[j*Q8RowBytes(w):(j+1)*Q8RowBytes(w)], src[j*w:(j+1)*w])
	}
	dst, acc := make([]float32, rows), make([]float32, w)
	b.Run("dot/f32", func(b *testing.B) {
		for b.Loop() {
			DotRows(dst, x, src, w, 1)
		}
	})
	b.Run("dot/f16", func(b *testing.B) {
		for b.Loop() {
			DotRowsF16(dst, x, h, w, 1)
		}
	})
	b.Run("dot/q8_0", func(b *testing.B) {
		for b.Loop() {
			DotRowsQ8_0(dst, x, q, Q8RowBytes(w), 1)
		}
	})
	b.Run("axpy/f32", func(b *testing.B) {
		for b.Loop() {
			AxpyRows(acc, a, src, w)
		}
	})
	b.Run("axpy/f16", func(b *testing.B) {
		for b.Loop() {
			AxpyRowsF16(acc, a, h, w)
		}
	})
	for _, l := range Levels() {
		b.Run("axpy/q8_0/"+l.String(), func(b *testing.B) {
			defer SetLevel(l)()
			for b.Loop() {
				AxpyRowsQ8_0(acc, a, q, Q8RowBytes(w))
			}
		})
		b.Run("dot/q8_0/"+l.String(), func(b *testing.B) {
			defer SetLevel(l)()
			for b.Loop() {
				DotRowsQ8_0(dst, x, q, Q8RowBytes(w), 1)
			}
		})
	}
	xq := make([]byte, Q8RowBytes(w))
	b.Run("quantize", func(b *testing.B) {
		for b.Loop() {
			ToQ8_0(xq, x)
		}
	})
}

// TestToQ8_0Levels checks ToQ8_0 at every level against
// quantize_row_q8_0_ref's loop (quantizeQ8_0), byte for byte: Gaussian,
// heavy-tailed, sparse and tiny rows (subnormal scales, 1/d = +Inf), exact halves (which
// round away from zero), and rows with a NaN or an infinity.
func TestToQ8_0Levels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(47, 48))
		for iter := range 200 {
			w := 32 * (1 + r.IntN(8))
			x := randActivations(r, w, iter%4)
			switch iter % 7 {
			case 4: // so tiny that 1/d overflows
				for i := range x {
					x[i] = float32(r.NormFloat64() * 1e-38)
				}
			case 5: // halves: d = 1 where a block holds ±127
				for i := range x {
					x[i] = float32(r.IntN(254)-127) + 0.5
				}
				x[0], x[w-1] = 127, -127
			case 6:
				x[r.IntN(w)] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[iter%3]
			}
			want := make([]byte, Q8RowBytes(w))
			for b := 0; b < w/32; b++ {
				quantizeQ8_0(want[34*b:], x[32*b:32*b+32])
			}
			got, check := guarded(t, Q8RowBytes(w), iter%3, byte(0xa5))
			ToQ8_0(got, unalignedFloats(x, iter%5))
			check()
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("iter %d, %d floats: byte %d = %#02x, want %#02x", iter, w, i, got[i], want[i])
				}
			}
		}
	})
}

// Attention calls the row kernels for every tile: they allocate nothing
// (the query is quantized on the stack) at any level.
func TestRowsQ8Allocs(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		const w, rows = 128, 64
		r := rand.New(rand.NewPCG(49, 50))
		m := q8Rows(t, randActivations(r, rows*w, 0), rows, w, Q8RowBytes(w), 0)
		x, dst, acc := randActivations(r, w, 0), make([]float32, rows), make([]float32, w)
		if n := testing.AllocsPerRun(10, func() { DotRowsQ8_0(dst, x, m, Q8RowBytes(w), 1); AxpyRowsQ8_0(acc, dst, m, Q8RowBytes(w)) }); n != 0 && !raceEnabled {
			t.Fatalf("%v allocations per call", n)
		}
	})
}
