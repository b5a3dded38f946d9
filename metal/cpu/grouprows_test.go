package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// groupCase is one random shape of the group row kernels: n queries of
// width w over rows cached rows, outputs dstStride apart, weights aStride
// apart.
type groupCase struct {
	n, w, rows, dstStride, aStride int
}

func randGroupCase(r *rand.Rand, iter int) groupCase {
	c := groupCase{n: 1 + r.IntN(9), w: 1 + r.IntN(140), rows: r.IntN(70)}
	switch iter % 4 {
	case 0:
		c.w = []int{32, 64, 96, 128}[r.IntN(4)]
	case 1:
		c.n = []int{4, 32}[r.IntN(2)]
	}
	if iter%5 == 0 {
		c.rows = 64
	}
	c.dstStride = c.rows + r.IntN(3)*c.rows + r.IntN(5)
	c.aStride = c.rows + r.IntN(4)
	return c
}

// checkSame fails unless got and want are the same bits.
func checkSame(t *testing.T, what string, c groupCase, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s %+v: [%d] = %v (%#x), want %v (%#x)", what, c, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// groupDot runs dot (a group kernel) on c's shape into a guarded buffer
// filled with a guard value, and checks each query's outputs against one
// (the single-query kernel) and that the gaps between them kept the guard.
func groupDot(t *testing.T, what string, c groupCase, x []float32, one func(dst, x []float32), dot func(dst []float32)) {
	t.Helper()
	size := 0
	if c.n > 0 {
		size = (c.n-1)*c.dstStride + c.rows
	}
	const g = float32(7)
	dst, check := guarded(t, size, c.n%3, g)
	for i := range dst {
		dst[i] = g
	}
	dot(dst)
	check()
	for i := range c.n {
		want := make([]float32, c.rows)
		one(want, x[i*c.w:(i+1)*c.w])
		checkSame(t, what, c, dst[i*c.dstStride:][:c.rows], want)
		if i+1 < c.n {
			for k, v := range dst[i*c.dstStride+c.rows : (i+1)*c.dstStride] {
				if v != g {
					t.Fatalf("%s %+v: the gap after query %d written at %d", what, c, i, k)
				}
			}
		}
	}
}

// groupAxpy runs axpy (a group kernel) on c's shape from start and checks
// each query's row against one (the single-query kernel) from the same start.
func groupAxpy(t *testing.T, what string, c groupCase, start, a []float32, one func(dst, a []float32), axpy func(dst []float32)) {
	t.Helper()
	dst, check := guarded(t, c.n*c.w, c.rows%3, float32(-3))
	copy(dst, start)
	axpy(dst)
	check()
	for i := range c.n {
		want := append([]float32(nil), start[i*c.w:(i+1)*c.w]...)
		one(want, a[i*c.aStride:][:c.rows])
		checkSame(t, what, c, dst[i*c.w:(i+1)*c.w], want)
	}
}

// TestGroupRowsLevels checks every group row kernel at every level against
// its single-query kernel at the same level, query by query, bit for bit:
// 1 to 32 queries, head widths 32 to 128 and odd ones, strided rows (the
// last before a guard page), outputs with gaps that must stay untouched.
func TestGroupRowsLevels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(43, 44))
		for iter := range 300 {
			c := randGroupCase(r, iter)
			stride := c.w + r.IntN(3)*c.w + r.IntN(9)
			size := 0
			if c.rows > 0 {
				size = (c.rows-1)*stride + c.w
			}
			m := readGuardFloats(t, randActivations(r, size, 0))
			h := make([]uint16, size+iter%3)[iter%3:]
			ToF16(h, m[:size])
			h = readGuardHalves(t, h)
			x := unalignedFloats(randActivations(r, c.n*c.w, iter%2), iter%5)
			aSize := 0
			if c.n > 0 {
				aSize = (c.n-1)*c.aStride + c.rows
			}
			// Weights past the last query's are huge: a kernel that reads
			// them writes a guard.
			a := make([]float32, aSize+4*c.aStride+64)
			copy(a, randActivations(r, aSize, 0))
			for i := aSize; i < len(a); i++ {
				a[i] = 1e30
			}
			a = a[:aSize]
			start := randActivations(r, c.n*c.w, 0)
			scale := float32(r.Float64())

			groupDot(t, "DotRowsGroup", c, x,
				func(dst, x []float32) { DotRows(dst, x, m, stride, scale) },
				func(dst []float32) { DotRowsGroup(dst, c.rows, c.dstStride, x, c.w, m, stride, scale) })
			groupAxpy(t, "AxpyRowsGroup", c, start, a,
				func(dst, a []float32) { AxpyRows(dst, a, m, stride) },
				func(dst []float32) { AxpyRowsGroup(dst, c.w, a, c.rows, c.aStride, m, stride) })
			groupDot(t, "DotRowsF16Group", c, x,
				func(dst, x []float32) { DotRowsF16(dst, x, h, stride, scale) },
				func(dst []float32) { DotRowsF16Group(dst, c.rows, c.dstStride, x, c.w, h, stride, scale) })
			groupAxpy(t, "AxpyRowsF16Group", c, start, a,
				func(dst, a []float32) { AxpyRowsF16(dst, a, h, stride) },
				func(dst []float32) { AxpyRowsF16Group(dst, c.w, a, c.rows, c.aStride, h, stride) })

			rb := Q8RowBytes(c.w)
			qstride := rb + r.IntN(3)*rb + r.IntN(9)
			q := q8Rows(t, randActivations(r, c.rows*c.w, iter%4), c.rows, c.w, qstride, iter%3)
			groupDot(t, "DotRowsQ8_0Group", c, x,
				func(dst, x []float32) { DotRowsQ8_0(dst, x, q, qstride, scale) },
				func(dst []float32) { DotRowsQ8_0Group(dst, c.rows, c.dstStride, x, c.w, q, qstride, scale) })
			xq := quantQueries(x, c.n, c.w)
			groupDot(t, "DotRowsQ8_0GroupQ8", c, x,
				func(dst, x []float32) { DotRowsQ8_0(dst, x, q, qstride, scale) },
				func(dst []float32) { DotRowsQ8_0GroupQ8(dst, c.rows, c.dstStride, xq, c.w, q, qstride, scale) })
			groupAxpy(t, "AxpyRowsQ8_0Group", c, start, a,
				func(dst, a []float32) { AxpyRowsQ8_0(dst, a, q, qstride) },
				func(dst []float32) { AxpyRowsQ8_0Group(dst, c.w, a, c.rows, c.aStride, q, qstride) })
		}
	})
}

// TestGroupRowsSpecial checks the F16 group kernels on values that round
// or overflow differently when summed in another order: subnormal and
// infinite halves, and products that cancel.
func TestGroupRowsSpecial(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(45, 46))
		for _, c := range []groupCase{{n: 5, w: 128 + 9, rows: 40, dstStride: 41, aStride: 40}, {n: 8, w: 96, rows: 40, dstStride: 41, aStride: 41}} {
			specialGroup(t, r, c)
		}
	})
}

// specialGroup is TestGroupRowsSpecial on one shape.
func specialGroup(t *testing.T, r *rand.Rand, c groupCase) {
	t.Helper()
	h := make([]uint16, c.rows*c.w)
	for i := range h {
		h[i] = []uint16{0x0001, 0x7bff, 0xfbff, 0x3c00, 0x8400, uint16(r.Uint32())}[r.IntN(6)]
		if h[i]&0x7c00 == 0x7c00 && h[i]&0x3ff != 0 {
			h[i] = 0x7c00 // no NaN payloads to compare
		}
	}
	x := randActivations(r, c.n*c.w, 1)
	a := randActivations(r, c.n*c.aStride, 0)
	groupDot(t, "DotRowsF16Group", c, x,
		func(dst, x []float32) { DotRowsF16(dst, x, h, c.w, 1) },
		func(dst []float32) { DotRowsF16Group(dst, c.rows, c.dstStride, x, c.w, h, c.w, 1) })
	start := randActivations(r, c.n*c.w, 0)
	groupAxpy(t, "AxpyRowsF16Group", c, start, a,
		func(dst, a []float32) { AxpyRowsF16(dst, a, h, c.w) },
		func(dst []float32) { AxpyRowsF16Group(dst, c.w, a, c.rows, c.aStride, h, c.w) })
}

func TestGroupRowsShapes(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"width 0", func() { DotRowsF16Group(nil, 0, 0, nil, 0, nil, 1, 1) }},
		{"x not whole queries", func() { DotRowsF16Group(make([]float32, 8), 2, 4, make([]float32, 9), 4, make([]uint16, 8), 4, 1) }},
		{"dst too short", func() { DotRowsF16Group(make([]float32, 5), 2, 4, make([]float32, 8), 4, make([]uint16, 8), 4, 1) }},
		{"dst stride below rows", func() { DotRowsGroup(make([]float32, 8), 2, 1, make([]float32, 8), 4, make([]float32, 8), 4, 1) }},
		{"m too short", func() { DotRowsQ8_0Group(make([]float32, 8), 2, 4, make([]float32, 64), 32, make([]byte, 60), 34, 1) }},
		{"xq not whole queries", func() { DotRowsQ8_0GroupQ8(make([]float32, 8), 2, 4, make([]byte, 35), 32, make([]byte, 68), 34, 1) }},
		{"q8 dst too short", func() { DotRowsQ8_0GroupQ8(make([]float32, 5), 2, 4, make([]byte, 68), 32, make([]byte, 68), 34, 1) }},
		{"a too short", func() { AxpyRowsF16Group(make([]float32, 8), 4, make([]float32, 3), 2, 2, make([]uint16, 8), 4) }},
		{"axpy m too short", func() { AxpyRowsGroup(make([]float32, 8), 4, make([]float32, 6), 3, 3, make([]float32, 8), 4) }},
		{"axpy q8 m too short", func() { AxpyRowsQ8_0Group(make([]float32, 64), 32, make([]float32, 4), 2, 2, make([]byte, 40), 34) }},
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

// TestDotRowsQ8GroupExtreme checks DotRowsQ8_0Group at every level against
// DotRowsQ8_0 and against the Generic loop, bit for bit, on the integer and
// scale extremes of Q8_0: bytes of ±127 on both sides (the largest sums,
// and the largest unsigned bytes where a kernel offsets a query by 128),
// zero, subnormal and largest f16 scales, all-zero query blocks; 4 to 32
// queries (and leftovers), 16- and 8-row groups and ragged ends, the last
// row before a guard page.
func TestDotRowsQ8GroupExtreme(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(47, 48))
		for iter := range 60 {
			c := groupCase{
				n:    []int{4, 5, 8, 32, 12, 40}[iter%6],
				w:    []int{32, 128, 256, 96, 288}[iter%5],
				rows: []int{8, 9, 16, 23, 31, 40, 64, 67}[iter%8],
			}
			c.dstStride = c.rows + iter%3
			rb := Q8RowBytes(c.w)
			stride := rb + r.IntN(3)*rb + r.IntN(5)
			q := readGuard(t, extremeQ8Rows(r, c.rows, c.w, stride, iter))
			x := extremeQueries(r, c.n, c.w, iter)
			scale := []float32{1, 0.0625, float32(r.Float64())}[iter%3]
			groupDot(t, "DotRowsQ8_0Group", c, x,
				func(dst, x []float32) { DotRowsQ8_0(dst, x, q, stride, scale) },
				func(dst []float32) { DotRowsQ8_0Group(dst, c.rows, c.dstStride, x, c.w, q, stride, scale) })
			groupDot(t, "DotRowsQ8_0Group against Generic", c, x,
				func(dst, x []float32) {
					xq := make([]byte, rb)
					ToQ8_0(xq, x)
					dotRowsQ8Generic(dst, xq, q, stride, scale)
				},
				func(dst []float32) { DotRowsQ8_0Group(dst, c.rows, c.dstStride, x, c.w, q, stride, scale) })
			xq := quantQueries(x, c.n, c.w)
			groupDot(t, "DotRowsQ8_0GroupQ8", c, x,
				func(dst, x []float32) { DotRowsQ8_0(dst, x, q, stride, scale) },
				func(dst []float32) { DotRowsQ8_0GroupQ8(dst, c.rows, c.dstStride, xq, c.w, q, stride, scale) })
		}
	})
}

// TestAxpyRowsQ8GroupQueries checks AxpyRowsQ8_0Group at every level
// against AxpyRowsQ8_0 and the Generic loop, bit for bit, for 1 to 40
// queries (the assembly's groups of eight and four and their leftovers,
// which repeat a query), widths of 1 to 9 blocks and odd ones, 1 to 130
// rows (tiles of q8AxpyTile), the Q8_0 extremes (±127 bytes, zero, subnormal and largest f16
// scales) and random rows, the last row before a guard page, weights with
// huge values past the last query's.
func TestAxpyRowsQ8GroupQueries(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(49, 50))
		for iter := range 240 {
			c := groupCase{
				n:    1 + iter%40,
				w:    []int{32, 128, 64, 288, 96, 40, 256}[iter%7],
				rows: []int{1, 64, 2, 7, 8, 9, 63, 65, 130}[iter%9],
			}
			c.aStride = c.rows + iter%3
			rb := Q8RowBytes(c.w)
			stride := rb + r.IntN(3)*rb + r.IntN(5)
			var q []byte
			if iter%2 == 0 {
				q = readGuard(t, extremeQ8Rows(r, c.rows, c.w, stride, iter))
			} else {
				q = q8Rows(t, randActivations(r, c.rows*c.w, iter%4), c.rows, c.w, stride, iter%3)
			}
			aSize := (c.n-1)*c.aStride + c.rows
			a := make([]float32, aSize+8*c.aStride+64)
			copy(a, randActivations(r, aSize, iter%3))
			for i := aSize; i < len(a); i++ {
				a[i] = 1e30
			}
			a = a[:aSize]
			start := randActivations(r, c.n*c.w, 0)
			groupAxpy(t, "AxpyRowsQ8_0Group", c, start, a,
				func(dst, a []float32) { AxpyRowsQ8_0(dst, a, q, stride) },
				func(dst []float32) { AxpyRowsQ8_0Group(dst, c.w, a, c.rows, c.aStride, q, stride) })
			groupAxpy(t, "AxpyRowsQ8_0Group against Generic", c, start, a,
				func(dst, a []float32) { axpyRowsQ8Generic(dst, a, q, stride) },
				func(dst []float32) { AxpyRowsQ8_0Group(dst, c.w, a, c.rows, c.aStride, q, stride) })
		}
	})
}

// quantQueries returns the n queries of width w in x quantized by ToQ8_0,
// back to back.
func quantQueries(x []float32, n, w int) []byte {
	rb := Q8RowBytes(w)
	xq := make([]byte, n*rb)
	for i := range n {
		ToQ8_0(xq[i*rb:(i+1)*rb], x[i*w:(i+1)*w])
	}
	return xq
}

// extremeQ8Rows returns rows Q8_0 rows of width w, stride bytes apart,
// whose bytes are mostly ±127 and whose scales are mostly extreme.
func extremeQ8Rows(r *rand.Rand, rows, w, stride, iter int) []byte {
	rb := Q8RowBytes(w)
	m := make([]byte, (rows-1)*stride+rb)
	for j := range rows {
		for b := 0; b < rb; b += 34 {
			blk := m[j*stride+b:]
			d := []uint16{0, 0x0001, 0x7bff, 0x3c00, 0x2e66, uint16(r.IntN(0x7800))}[r.IntN(6)]
			blk[0], blk[1] = byte(d), byte(d>>8)
			sign := iter%2 == 0 // some blocks all +127 or all -127
			for i := 2; i < 34; i++ {
				v := []int8{127, -127, 127, -127, 0, int8(r.IntN(255) - 127)}[r.IntN(6)]
				if r.IntN(4) == 0 {
					v = 127
					if sign {
						v = -127
					}
				}
				blk[i] = byte(v)
			}
		}
	}
	return m
}

// extremeQueries returns n queries of width w whose Q8_0 blocks are mostly
// ±127 (one magnitude per block, both signs), some all zero (d = 0).
func extremeQueries(r *rand.Rand, n, w, iter int) []float32 {
	x := make([]float32, n*w)
	for b := 0; b < len(x); b += 32 {
		blk := x[b:min(b+32, len(x))]
		a := float32(r.NormFloat64())
		switch r.IntN(4) {
		case 0: // all zero
		case 1: // all +a or -a: every byte ±127
			for i := range blk {
				blk[i] = a
				if (i+iter)%3 == 0 {
					blk[i] = -a
				}
			}
		case 2: // all the same: 127 everywhere
			for i := range blk {
				blk[i] = a
			}
		default:
			for i := range blk {
				blk[i] = float32(r.NormFloat64())
			}
		}
	}
	return x
}
