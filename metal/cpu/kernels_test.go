package cpu

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// guarded returns a slice of n elements inside a larger buffer whose
// margins hold the guard value g, and a function that fails the test if a
// margin changed.
func guarded[T comparable](t *testing.T, n, off int, g T) ([]T, func()) {
	t.Helper()
	const pad = 16
	buf := make([]T, n+2*pad+off)
	for i := range buf {
		buf[i] = g
	}
	s := buf[pad+off : pad+off+n : pad+off+n]
	return s, func() {
		t.Helper()
		for i := 0; i < pad+off; i++ {
			if buf[i] != g {
				t.Fatalf("guard before the slice overwritten at %d", i-pad-off)
			}
		}
		for i := pad + off + n; i < len(buf); i++ {
			if buf[i] != g {
				t.Fatalf("guard after the slice overwritten at +%d", i-pad-off-n)
			}
		}
	}
}

// naiveTernary is the reference loop of MatVecTernary on decoded codes and
// per-block d values (1 for I2_S).
func naiveTernary(typ DType, codes []int8, d []float32, rows, cols int, xq []int8, scale, inv float32) []float32 {
	bs := 256
	if typ == I2_S {
		bs = cols
	}
	out := make([]float32, rows)
	for r := 0; r < rows; r++ {
		var acc float32
		for b := 0; b < cols/bs; b++ {
			var s int
			for j := b * bs; j < (b+1)*bs; j++ {
				s += int(codes[r*cols+j]) * int(xq[j])
			}
			db := float32(1)
			if typ != I2_S {
				db = d[r*(cols/256)+b]
			}
			acc += float32(db * float32(s))
		}
		out[r] = scale * inv * acc
	}
	return out
}

// randTernaryMatrix builds a matrix of random codes with a random f16 d per
// TQ block (so that per-block d is exercised), and returns its codes and d.
func randTernaryMatrix(t *testing.T, r *rand.Rand, typ DType, rows, cols int) (*Matrix, []int8, []float32) {
	codes := randTernary(r, rows*cols)
	data, err := PackTernary(typ, codes, rows, cols, 1)
	if err != nil {
		t.Fatal(err)
	}
	var ds []float32
	if typ != I2_S {
		bb := typ.BlockBytes()
		for b := 0; b < rows*cols/256; b++ {
			h := F32ToF16(float32(r.Float64()*2 + 0.01))
			data[b*bb+bb-2], data[b*bb+bb-1] = byte(h), byte(h>>8)
			ds = append(ds, F16ToF32(h))
		}
	} else {
		// A trailer scale that is not 1.
		s := float32(r.Float64() + 0.5)
		b := math.Float32bits(s)
		off := rows * cols / 4
		data[off], data[off+1], data[off+2], data[off+3] = byte(b), byte(b>>8), byte(b>>16), byte(b>>24)
	}
	m, err := NewMatrix(typ, rows, cols, data)
	if err != nil {
		t.Fatal(err)
	}
	return m, codes, ds
}

func randInt8(r *rand.Rand, n int) []int8 {
	x := make([]int8, n)
	for i := range x {
		x[i] = int8(r.IntN(256) - 128)
	}
	return x
}

func forLevels(t *testing.T, f func(t *testing.T)) {
	for _, l := range Levels() {
		t.Run(l.String(), func(t *testing.T) {
			defer SetLevel(l)()
			f(t)
		})
	}
}

func TestMatVecTernary(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for iter := 0; iter < 40; iter++ {
			typ := []DType{TQ1_0, TQ2_0, I2_S}[iter%3]
			rows := 1 + r.IntN(9)
			cols := 256 * (1 + r.IntN(6))
			if typ == I2_S && iter%2 == 0 {
				cols -= 128
			}
			m, codes, ds := randTernaryMatrix(t, r, typ, rows, cols)
			xq := randInt8(r, cols)
			if iter%5 == 0 { // extreme activations
				for i := range xq {
					xq[i] = []int8{-128, 127}[i%2]
				}
			}
			inv := float32(r.Float64() * 0.1)
			want := naiveTernary(typ, codes, ds, rows, cols, xq, m.Scale, inv)
			dst2, check2 := guarded(t, rows, iter%3, float32(-7))
			MatVecTernary(dst2, m, xq, inv)
			check2()
			for i := range want {
				if math.Float32bits(dst2[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v %dx%d row %d: got %v, want %v", typ, rows, cols, i, dst2[i], want[i])
				}
			}
			// MatMulTernary gives the same bits per token.
			n := 1 + r.IntN(4)
			xs := randInt8(r, n*cols)
			copy(xs[cols:], xq) // token 1 (if any) equals xq
			invs := make([]float32, n)
			for i := range invs {
				invs[i] = float32(r.Float64())
			}
			out, checkOut := guarded(t, n*rows, 1, float32(-9))
			MatMulTernary(out, m, xs, invs, n)
			checkOut()
			one := make([]float32, rows)
			for tok := 0; tok < n; tok++ {
				MatVecTernary(one, m, xs[tok*cols:(tok+1)*cols], invs[tok])
				for i := range one {
					if math.Float32bits(out[tok*rows+i]) != math.Float32bits(one[i]) {
						t.Fatalf("%v MatMulTernary token %d row %d: %v != %v", typ, tok, i, out[tok*rows+i], one[i])
					}
				}
			}
		}
	})
}

func TestMatVecTernaryZeroActivations(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, typ := range []DType{TQ1_0, TQ2_0, I2_S} {
		m, _, _ := randTernaryMatrix(t, r, typ, 4, 512)
		x := make([]float32, 512)
		xq := make([]int8, 512)
		inv := QuantizeInt8(xq, x)
		if inv != 1e-5/float32(127) && inv != 1/(127/float32(1e-5)) {
			t.Fatalf("inv = %v", inv)
		}
		dst := []float32{1, 2, 3, 4}
		MatVecTernary(dst, m, xq, inv)
		for i, v := range dst {
			if v != 0 || math.Signbit(float64(v)) {
				t.Fatalf("%v: dst[%d] = %v, want +0", typ, i, v)
			}
		}
	}
}

// TestTernaryCode3 checks that the invalid code 3 reads as +2 everywhere.
func TestTernaryCode3(t *testing.T) {
	for _, typ := range []DType{TQ2_0, I2_S} {
		cols := 256
		data, _ := PackTernary(typ, make([]int8, cols), 1, cols, 1)
		data[0] = 0xff // four elements with code 3
		m, err := NewMatrix(typ, 1, cols, data)
		if err != nil {
			t.Fatal(err)
		}
		codes := make([]int8, cols)
		m.TernaryRow(codes, 0)
		n := 0
		for _, c := range codes {
			if c == 2 {
				n++
			} else if c != 0 {
				t.Fatalf("%v: code %d", typ, c)
			}
		}
		xq := make([]int8, cols)
		for i := range xq {
			xq[i] = 1
		}
		dst := make([]float32, 1)
		MatVecTernary(dst, m, xq, 1)
		if n != 4 || dst[0] != 8 {
			t.Fatalf("%v: %d codes of 2, dot %v", typ, n, dst[0])
		}
	}
}

func TestQuantizeInt8(t *testing.T) {
	cases := []struct {
		x    []float32
		want []int8
		inv  float32
	}{
		// s = 127/127 = 1: exact halves round to even.
		{[]float32{127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -126.5, 3.4999998}, []int8{127, 0, 2, 2, 0, -2, -2, 126, -126, 3}, 1},
		// s = 127/254 = 0.5: x*s = 0.5, 1.5, 2.5 exactly.
		{[]float32{254, 1, 3, 5, -1, -3, -254}, []int8{127, 0, 2, 2, 0, -2, -127}, 2},
		// All zero: the 1e-5 floor, no division by zero.
		{[]float32{0, 0, 0}, []int8{0, 0, 0}, 1 / (127 / float32(1e-5))},
		// Below the floor: scaled by 127/1e-5.
		{[]float32{1e-6, -5e-6}, []int8{13, -64}, 1 / (127 / float32(1e-5))},
		// Empty.
		{nil, nil, 1 / (127 / float32(1e-5))},
	}
	for _, c := range cases {
		dst, check := guarded(t, len(c.x), 1, int8(99))
		inv := QuantizeInt8(dst, c.x)
		check()
		if inv != c.inv {
			t.Errorf("QuantizeInt8(%v): inv = %v, want %v", c.x, inv, c.inv)
		}
		for i := range c.want {
			if dst[i] != c.want[i] {
				t.Errorf("QuantizeInt8(%v) = %v, want %v", c.x, dst, c.want)
				break
			}
		}
	}
	// -128 needs x*s <= -127.5, which the absmax scale never gives; clamping
	// is still exercised through NaN (ignored) and the bounds.
	x := []float32{float32(math.NaN()), 1, -1}
	dst := make([]int8, 3)
	if inv := QuantizeInt8(dst, x); inv != 1/float32(127) || dst[0] != 0 || dst[1] != 127 || dst[2] != -127 {
		t.Errorf("NaN case: inv %v dst %v", inv, dst)
	}
	// Random rows: |dst| <= 127 and dst*inv within half a step of x.
	r := rand.New(rand.NewPCG(11, 12))
	for iter := 0; iter < 100; iter++ {
		x := make([]float32, 1+r.IntN(300))
		for i := range x {
			x[i] = float32(r.NormFloat64() * math.Exp(r.NormFloat64()*2))
		}
		dst := make([]int8, len(x))
		inv := QuantizeInt8(dst, x)
		for i, v := range x {
			if math.Abs(float64(dst[i])*float64(inv)-float64(v)) > 0.5001*float64(inv) {
				t.Fatalf("x %v -> %d (inv %v)", v, dst[i], inv)
			}
		}
	}
}

// naiveMatVec dequantizes with Row and sums in float64.
func naiveMatVec(m *Matrix, x []float32) []float64 {
	out := make([]float64, m.Rows)
	row := make([]float32, m.Cols)
	for r := range out {
		m.Row(row, r)
		for j, w := range row {
			out[r] += float64(w) * float64(x[j])
		}
	}
	return out
}

func TestMatVecFloat(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, typ := range []DType{F32, F16, BF16, Q8_0, Q4_0, Q6_K, TQ1_0, TQ2_0, I2_S} {
			for _, shape := range [][2]int{{3, 256}, {5, 768}, {2, 1024}} {
				rows, cols := shape[0], shape[1]
				if typ.BlockSize() <= 32 {
					cols += 32 // not a multiple of the chunk
				}
				if typ.BlockSize() == 256 {
					cols += 0
				}
				src := make([]float32, rows*cols)
				for i := range src {
					src[i] = float32(r.NormFloat64())
				}
				data, err := Quantize(typ, rows, cols, src)
				if err != nil {
					t.Fatal(err)
				}
				m, err := NewMatrix(typ, rows, cols, data)
				if err != nil {
					t.Fatal(err)
				}
				x := make([]float32, cols)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				want := naiveMatVec(m, x)
				dst, check := guarded(t, rows, 2, float32(-3))
				MatVec(dst, m, x)
				check()
				for i := range want {
					// 1e-5 * Σ|w*x|, plus the int8 activation error at the
					// levels that quantize x (act.go).
					if math.Abs(float64(dst[i])-want[i]) > floatTolerance(m, x, i) {
						t.Fatalf("%v %dx%d row %d: %v, want %v", typ, rows, cols, i, dst[i], want[i])
					}
				}
				n := 3
				xs := make([]float32, n*cols)
				copy(xs[cols:], x)
				for i := range xs[:cols] {
					xs[i] = float32(r.NormFloat64())
				}
				out, checkOut := guarded(t, n*rows, 0, float32(-3))
				MatMul(out, m, xs, n)
				checkOut()
				for i := 0; i < rows; i++ {
					if math.Float32bits(out[rows+i]) != math.Float32bits(dst[i]) {
						t.Fatalf("%v: MatMul token 1 row %d = %v, MatVec %v", typ, i, out[rows+i], dst[i])
					}
				}
			}
		}
	})
}

func TestNewMatrix(t *testing.T) {
	cases := []struct {
		typ        DType
		rows, cols int
		n          int
		err        error
	}{
		{F32, 2, 3, 24, nil},
		{F32, 2, 3, 23, ErrShape},
		{F16, 1, 5, 10, nil},
		{Q8_0, 2, 64, 2 * 2 * 34, nil},
		{Q8_0, 2, 48, 0, ErrShape},
		{Q6_K, 1, 256, 210, nil},
		{TQ1_0, 3, 512, 3 * 2 * 54, nil},
		{TQ2_0, 1, 256, 66, nil},
		{TQ2_0, 1, 128, 33, ErrShape},
		{I2_S, 4, 128, 4*32 + 32, nil},
		{I2_S, 4, 128, 4 * 32, ErrShape}, // no trailer
		{I2_S, 4, 256, 4*64 + 33, ErrShape},
		{F32, 0, 4, 0, ErrShape},
		{F32, -1, 4, 0, ErrShape},
		{F32, 1, MaxCols + 1, 0, ErrShape},
		{F32, math.MaxInt / 2, 2, 0, ErrShape},
		{DType(42), 1, 1, 4, ErrShape},
	}
	for _, c := range cases {
		data := make([]byte, c.n)
		if c.typ == I2_S && c.err == nil {
			data[c.rows*c.cols/4+3] = 0x3f // 0.5
		}
		m, err := NewMatrix(c.typ, c.rows, c.cols, data)
		if !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
			t.Errorf("NewMatrix(%v, %d, %d, %d bytes): err %v, want %v", c.typ, c.rows, c.cols, c.n, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		want := float32(1)
		if c.typ == I2_S {
			want = 0.5
		}
		if m.Scale != want {
			t.Errorf("%v: Scale %v, want %v", c.typ, m.Scale, want)
		}
		if n, _ := MatrixBytes(c.typ, c.rows, c.cols); n != c.n {
			t.Errorf("MatrixBytes(%v, %d, %d) = %d, want %d", c.typ, c.rows, c.cols, n, c.n)
		}
	}
	// A NaN trailer scale is refused.
	data := make([]byte, 32+32)
	data[32], data[33], data[34], data[35] = 0x01, 0x00, 0xc0, 0x7f
	if _, err := NewMatrix(I2_S, 1, 128, data); !errors.Is(err, ErrValue) {
		t.Errorf("NaN scale: %v", err)
	}
}

func TestKernelPanics(t *testing.T) {
	m, _ := NewMatrix(Q8_0, 2, 32, make([]byte, 68))
	tm, _ := NewMatrix(TQ2_0, 2, 256, make([]byte, 132))
	cases := map[string]func(){
		"MatVec short x":      func() { MatVec(make([]float32, 2), m, make([]float32, 31)) },
		"MatVec short dst":    func() { MatVec(make([]float32, 1), m, make([]float32, 32)) },
		"MatVecTernary Q8_0":  func() { MatVecTernary(make([]float32, 2), m, make([]int8, 32), 1) },
		"MatVecTernary short": func() { MatVecTernary(make([]float32, 2), tm, make([]int8, 255), 1) },
		"MatMulTernary n":     func() { MatMulTernary(make([]float32, 4), tm, make([]int8, 512), []float32{1}, 2) },
		"TernaryRow Q8_0":     func() { m.TernaryRow(make([]int8, 32), 0) },
		"Row out of range":    func() { m.Row(make([]float32, 32), 2) },
		"Dot":                 func() { Dot(make([]float32, 2), make([]float32, 3)) },
		"AxpyTo":              func() { AxpyTo(make([]float32, 2), 1, make([]float32, 3)) },
		"RoPE odd":            func() { RoPE(make([]float32, 6), 2, 3, make([]float32, 1), make([]float32, 1)) },
		"RMSNorm weight":      func() { RMSNorm(make([]float32, 2), make([]float32, 2), make([]float32, 3), 1e-5) },
		"QuantizeInt8":        func() { QuantizeInt8(make([]int8, 2), make([]float32, 3)) },
		"inconsistent Matrix": func() {
			MatVec(make([]float32, 2), &Matrix{Type: Q8_0, Rows: 2, Cols: 32, Data: make([]byte, 67), Scale: 1}, make([]float32, 32))
		},
		"SetLevel unsupported": func() { SetLevel(Level(200)) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestRMSNorm(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	w := []float32{1, 0.5, 2, -1}
	dst := make([]float32, 4)
	RMSNorm(dst, x, w, 1e-5)
	s := 1 / math.Sqrt((1+4+9+16)/4.0+1e-5)
	for i := range x {
		if want := float64(x[i]) * s * float64(w[i]); math.Abs(float64(dst[i])-want) > 1e-6 {
			t.Errorf("RMSNorm[%d] = %v, want %v", i, dst[i], want)
		}
	}
	// In place and without weight.
	RMSNorm(x, x, nil, 1e-5)
	for i := range x {
		if want := float64(i+1) * s; math.Abs(float64(x[i])-want) > 1e-6 {
			t.Errorf("in place [%d] = %v, want %v", i, x[i], want)
		}
	}
	z := make([]float32, 8)
	RMSNorm(z, z, nil, 1e-5)
	for _, v := range z {
		if v != 0 {
			t.Fatalf("zero input gave %v", z)
		}
	}
}

func TestSoftmax(t *testing.T) {
	x := []float32{1000, 1000, float32(math.Inf(-1)), 999}
	Softmax(x)
	e := math.Exp(-1)
	want := []float64{1 / (2 + e), 1 / (2 + e), 0, e / (2 + e)}
	var sum float64
	for i := range x {
		sum += float64(x[i])
		if math.Abs(float64(x[i])-want[i]) > 1e-6 {
			t.Errorf("Softmax[%d] = %v, want %v", i, x[i], want[i])
		}
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("sum %v", sum)
	}
	inf := float32(math.Inf(-1))
	y := []float32{inf, inf}
	Softmax(y)
	if y[0] != 0.5 || y[1] != 0.5 {
		t.Errorf("all -Inf: %v", y)
	}
	Softmax(nil)
}

func TestRoPE(t *testing.T) {
	// Two heads of 4: pairs (0,2) and (1,3) rotate by angles a0, a1.
	a := []float64{0.3, -1.2}
	cos := []float32{float32(math.Cos(a[0])), float32(math.Cos(a[1]))}
	sin := []float32{float32(math.Sin(a[0])), float32(math.Sin(a[1]))}
	x := []float32{1, 2, 3, 4, -1, 0.5, 0, 2}
	orig := append([]float32(nil), x...)
	RoPE(x, 2, 4, cos, sin)
	for h := 0; h < 2; h++ {
		for i := 0; i < 2; i++ {
			p, q := float64(orig[h*4+i]), float64(orig[h*4+i+2])
			w0 := p*math.Cos(a[i]) - q*math.Sin(a[i])
			w1 := p*math.Sin(a[i]) + q*math.Cos(a[i])
			if math.Abs(float64(x[h*4+i])-w0) > 1e-6 || math.Abs(float64(x[h*4+i+2])-w1) > 1e-6 {
				t.Errorf("head %d pair %d: %v %v, want %v %v", h, i, x[h*4+i], x[h*4+i+2], w0, w1)
			}
		}
	}
}

// TestRoPELevels checks every level's RoPE against the Generic one bit for
// bit: head widths with and without a tail, unaligned, guard-padded.
func TestRoPELevels(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for iter := range 100 {
		headDim := 2 * (1 + r.IntN(80))
		if iter%4 == 0 {
			headDim = []int{64, 128}[r.IntN(2)]
		}
		heads := 1 + r.IntN(6)
		x := unalignedFloats(randActivations(r, heads*headDim, iter%2), iter%3)
		cos := make([]float32, headDim/2+r.IntN(3))
		sin := make([]float32, len(cos))
		for i := range cos {
			a := r.Float64() * 100
			cos[i], sin[i] = float32(math.Cos(a)), float32(math.Sin(a))
		}
		want := append([]float32(nil), x...)
		restore := SetLevel(Generic)
		RoPE(want, heads, headDim, cos, sin)
		restore()
		for _, l := range Levels()[1:] {
			func() {
				defer SetLevel(l)()
				got, check := guarded(t, len(x), iter%4, float32(9))
				copy(got, x)
				RoPE(got, heads, headDim, readGuardFloats(t, cos), readGuardFloats(t, sin))
				check()
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v: %d heads of %d: x[%d] = %v, want %v", l, heads, headDim, i, got[i], want[i])
					}
				}
			}()
		}
	}
}

func TestDotAxpy(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(15, 16))
		for n := 0; n < 70; n++ {
			a, b := make([]float32, n), make([]float32, n)
			var want float64
			for i := range a {
				a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
				want += float64(a[i]) * float64(b[i])
			}
			if got := Dot(a, b); math.Abs(float64(got)-want) > 1e-5*float64(n+1) {
				t.Fatalf("Dot n=%d: %v, want %v", n, got, want)
			}
			dst, check := guarded(t, n, n%3, float32(5))
			for i := range dst {
				dst[i] = float32(i)
			}
			AxpyTo(dst, 0.5, a)
			check()
			for i := range dst {
				if dst[i] != float32(i)+0.5*a[i] {
					t.Fatalf("AxpyTo[%d] = %v", i, dst[i])
				}
			}
		}
	})
}

func TestDTypeStrings(t *testing.T) {
	want := "F32 F16 BF16 Q8_0 Q4_0 Q6_K TQ1_0 TQ2_0 I2_S TQ1_S DType(10)"
	got := ""
	for i := DType(0); i <= numDTypes; i++ {
		if i > 0 {
			got += " "
		}
		got += i.String()
	}
	if got != want {
		t.Errorf("got %q", got)
	}
	for i := DType(0); i < numDTypes; i++ {
		if i.Ternary() != (i == TQ1_0 || i == TQ2_0 || i == I2_S || i == TQ1_S) {
			t.Errorf("%v.Ternary()", i)
		}
	}
	if l := Levels(); fmt.Sprint(Generic) != "generic" || l[0] != Generic || CurrentLevel() != l[len(l)-1] {
		t.Errorf("level %v", CurrentLevel())
	}
}

func TestNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, typ := range []DType{TQ1_0, TQ2_0, I2_S} {
		m, _, _ := randTernaryMatrix(t, r, typ, 8, 512)
		xq := randInt8(r, 512)
		dst := make([]float32, 8)
		if n := testing.AllocsPerRun(10, func() { MatVecTernary(dst, m, xq, 0.1) }); n != 0 {
			t.Errorf("MatVecTernary %v: %v allocations", typ, n)
		}
	}
	data, _ := Quantize(Q6_K, 4, 256, make([]float32, 1024))
	m, _ := NewMatrix(Q6_K, 4, 256, data)
	x := make([]float32, 256)
	dst := make([]float32, 4)
	xq := make([]int8, 256)
	if n := testing.AllocsPerRun(10, func() { MatVec(dst, m, x); QuantizeInt8(xq, x); Softmax(x); RMSNorm(x, x, nil, 1e-5) }); n != 0 && !raceEnabled {
		t.Errorf("float kernels: %v allocations", n)
	}
}
