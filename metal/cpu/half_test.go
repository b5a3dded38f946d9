package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// f16Value is an independent decoding of f16 bits (NaN excluded).
func f16Value(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>10) & 0x1f
	m := float64(h & 0x3ff)
	switch e {
	case 0x1f:
		return sign * math.Inf(1)
	case 0:
		return sign * math.Ldexp(m, -24)
	}
	return sign * math.Ldexp(1024+m, e-25)
}

func TestF16ToF32Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := F16ToF32(h)
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			if f == f {
				t.Fatalf("F16ToF32(%#04x) = %v, want NaN", h, f)
			}
			if got := F32ToF16(f); got != h|0x200 {
				t.Fatalf("NaN %#04x round trip = %#04x, want %#04x", h, got, h|0x200)
			}
			continue
		}
		if want := f16Value(h); float64(f) != want || math.Signbit(float64(f)) != (h&0x8000 != 0) {
			t.Fatalf("F16ToF32(%#04x) = %v, want %v", h, f, want)
		}
		if got := F32ToF16(f); got != h {
			t.Fatalf("F32ToF16(F16ToF32(%#04x)) = %#04x", h, got)
		}
	}
}

// refF32ToF16 rounds f to the nearest f16 (ties to even) by searching the
// sorted list of non-negative f16 values.
func refF32ToF16(f float32) uint16 {
	if f != f {
		panic("NaN")
	}
	a := math.Abs(float64(f))
	var sign uint16
	if math.Signbit(float64(f)) {
		sign = 0x8000
	}
	// Binary search over 0x0000..0x7c00 (monotonic in value).
	lo, hi := 0, 0x7c00
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if f16Value(uint16(mid)) <= a {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0x7c00 {
		return sign | 0x7c00
	}
	below, above := f16Value(uint16(lo)), f16Value(uint16(lo+1))
	if lo+1 == 0x7c00 {
		above = 65536 // the next step beyond 65504 for rounding purposes
	}
	switch d1, d2 := a-below, above-a; {
	case d1 < d2:
		return sign | uint16(lo)
	case d1 > d2:
		return sign | uint16(lo+1)
	case lo&1 == 0:
		return sign | uint16(lo)
	}
	return sign | uint16(lo+1)
}

func TestF32ToF16(t *testing.T) {
	cases := []float32{0, 1, -1, 65504, 65519.99, 65520, 65536, 1e10, float32(math.Inf(1)), float32(math.Inf(-1)),
		5.960464477539063e-08,  // smallest subnormal 2^-24
		2.9802322387695312e-08, // 2^-25: tie, to zero
		2.9802326e-08,          // just above 2^-25: to 2^-24
		8.940696716308594e-08,  // 1.5 * 2^-24: tie, to 2^-23 (even)
		6.097555160522461e-05,  // largest subnormal
		6.1035156e-05,          // smallest normal
		1 + 1.0/2048, 1 + 3.0/2048, 0.1, -0.3333, math.MaxFloat32, math.SmallestNonzeroFloat32}
	for _, f := range cases {
		if got, want := F32ToF16(f), refF32ToF16(f); got != want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", f, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		var f float32
		switch i % 3 {
		case 0: // anything but NaN
			f = math.Float32frombits(r.Uint32())
			if f != f {
				continue
			}
		case 1: // f16 range
			f = float32(r.NormFloat64() * math.Exp2(float64(r.IntN(40)-26)))
		case 2: // exact halfway points between neighbouring f16 values
			h := uint16(r.IntN(0x7bff))
			f = float32((f16Value(h) + f16Value(h+1)) / 2)
		}
		if got, want := F32ToF16(f), refF32ToF16(f); got != want {
			t.Fatalf("F32ToF16(%v = %#08x) = %#04x, want %#04x", f, math.Float32bits(f), got, want)
		}
	}
	if h := F32ToF16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("F32ToF16(NaN) = %#04x", h)
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80},
		{0x3f808000, 0x3f80}, // tie, even stays
		{0x3f818000, 0x3f82}, // tie, odd rounds up
		{0x3f808001, 0x3f81},
		{0xbf80ffff, 0xbf81},
		{0x7f7fffff, 0x7f80}, // max float32 rounds to Inf
		{0x7f800000, 0x7f80},
		{0xff800000, 0xff80},
		{0x7f800001, 0x7fc0}, // signalling NaN made quiet
		{0xffc00000, 0xffc0},
		{0x00000001, 0x0000}, // subnormals kept and rounded
		{0x00018000, 0x0002},
	}
	for _, c := range cases {
		if got := F32ToBF16(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BF16ToF32(h)
		if math.Float32bits(f) != uint32(h)<<16 {
			t.Fatalf("BF16ToF32(%#04x)", h)
		}
		if f == f && F32ToBF16(f) != h {
			t.Fatalf("bf16 round trip %#04x", h)
		}
	}
}
