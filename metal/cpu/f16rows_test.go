package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// readGuardHalves places x right before an unreadable page (where the
// platform has them), as readGuardFloats does.
func readGuardHalves(t *testing.T, x []uint16) []uint16 {
	if len(x) == 0 {
		return x
	}
	b := readGuard(t, unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 2*len(x)))
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(x))
}

// TestDotAxpyRowsF16Levels checks DotRowsF16 and AxpyRowsF16 against
// DotRows and AxpyRows of the widened rows at the same level, bit for bit:
// strided rows as in a KV cache, unaligned, the last row right before a
// guard page, the outputs between guards.
func TestDotAxpyRowsF16Levels(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(37, 38))
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
			src := randActivations(r, size, 0)
			h := make([]uint16, size+iter%3)[iter%3:]
			ToF16(h, src)
			if iter%7 == 0 && size > 0 {
				h[r.IntN(size)] = 0x0001 // a subnormal
			}
			m := make([]float32, size)
			FromF16(m, h)
			h = readGuardHalves(t, h)
			x := unalignedFloats(randActivations(r, w, iter%2), iter%5)
			a := randActivations(r, rows, 0)
			scale := float32(r.Float64())

			want := make([]float32, rows)
			DotRows(want, x, m, stride, scale)
			dst, check := guarded(t, rows, iter%4, float32(5))
			DotRowsF16(dst, x, h, stride, scale)
			check()
			for j := range want {
				if math.Float32bits(dst[j]) != math.Float32bits(want[j]) {
					t.Fatalf("DotRowsF16 %d rows of %d, stride %d: [%d] = %v, want %v", rows, w, stride, j, dst[j], want[j])
				}
			}

			start := randActivations(r, w, 0)
			wantAcc := append([]float32(nil), start...)
			AxpyRows(wantAcc, a, m, stride)
			acc, check := guarded(t, w, iter%3, float32(-3))
			copy(acc, start)
			AxpyRowsF16(acc, a, h, stride)
			check()
			for i := range acc {
				if math.Float32bits(acc[i]) != math.Float32bits(wantAcc[i]) {
					t.Fatalf("AxpyRowsF16 %d rows of %d, stride %d: [%d] = %v, want %v", rows, w, stride, i, acc[i], wantAcc[i])
				}
			}
		}
	})
}

// Rows wider than the portable kernels' stack buffer take the same path.
func TestDotRowsF16Wide(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(39, 40))
		const w, rows = 300, 3
		m := randActivations(r, w*rows, 0)
		h := make([]uint16, len(m))
		ToF16(h, m)
		FromF16(m, h)
		x := randActivations(r, w, 0)
		got, want := make([]float32, rows), make([]float32, rows)
		DotRowsF16(got, x, h, w, 0.5)
		DotRows(want, x, m, w, 0.5)
		acc, wantAcc := make([]float32, w), make([]float32, w)
		AxpyRowsF16(acc, want, h, w)
		AxpyRows(wantAcc, want, m, w)
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("DotRowsF16 [%d] = %v, want %v", j, got[j], want[j])
			}
		}
		for i := range acc {
			if acc[i] != wantAcc[i] {
				t.Fatalf("AxpyRowsF16 [%d] = %v, want %v", i, acc[i], wantAcc[i])
			}
		}
	})
}

func TestDotAxpyRowsF16Shapes(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"stride below width", func() { DotRowsF16(make([]float32, 2), make([]float32, 8), make([]uint16, 16), 4, 1) }},
		{"m too short", func() { DotRowsF16(make([]float32, 3), make([]float32, 8), make([]uint16, 23), 8, 1) }},
		{"axpy m too short", func() { AxpyRowsF16(make([]float32, 8), make([]float32, 3), make([]uint16, 23), 8) }},
		{"ToF16 lengths", func() { ToF16(make([]uint16, 2), make([]float32, 3)) }},
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

// TestToF16 checks ToF16 against F32ToF16 on every level, bit for bit, at
// many lengths and alignments: the rounding cases (ties, carries, overflow
// to Inf, subnormals, underflow to zero) and NaNs with payloads among
// random bits.
func TestToF16(t *testing.T) {
	special := []uint32{0, 0x80000000, 0x3f800000, 0x477fe000, 0x477ff000, 0x477fefff, 0x47800000, 0x33000000,
		0x33000001, 0x387fc000, 0x387fe000, 0x38800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001,
		0xffbfe001, 0x7fffffff, 0x00000001, 0x3f801000, 0x3f803000, 0xc7ffffff}
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(39, 40))
		for iter := range 300 {
			n := r.IntN(70)
			src := make([]float32, n+iter%3)[iter%3:]
			for i := range src {
				b := r.Uint32()
				switch r.IntN(3) {
				case 0:
					b = special[r.IntN(len(special))]
				case 1: // within or near the f16 range
					b = b&0x80ffffff | uint32(100+r.IntN(50))<<23
				}
				src[i] = math.Float32frombits(b)
			}
			dst, check := guarded(t, n, iter%5, uint16(0xbeef))
			ToF16(dst, src)
			check()
			for i, f := range src {
				if want := F32ToF16(f); dst[i] != want {
					t.Fatalf("n %d: ToF16 of %#08x = %#04x, want %#04x", n, math.Float32bits(f), dst[i], want)
				}
			}
		}
	})
}
