package cpu

import "math"

// F32ToF16 converts f to IEEE 754 binary16 bits, rounding to nearest even.
// Values beyond the f16 range become ±Inf; NaN stays NaN (quiet, sign and
// top payload bits kept, as x86 F16C's VCVTPS2PH does).
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(man>>13)
	}
	// Unbiased exponent; f16 normal exponents are -14..15.
	e := exp - 127
	if e > 15 {
		return sign | 0x7c00
	}
	if e >= -14 {
		// Normal f16: keep 10 mantissa bits, round the 13 dropped bits to
		// nearest even. A carry out of the mantissa bumps the exponent, which
		// is exactly right (and overflows to Inf at the top).
		h := uint32(e+15)<<10 | man>>13
		rest := man & 0x1fff
		if rest > 0x1000 || rest == 0x1000 && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	if e < -25 {
		// Below half the smallest subnormal (2^-25): rounds to zero. Exactly
		// 2^-25 is a tie between 0 and 2^-24 and goes to even (0) as well.
		return sign
	}
	// Subnormal f16: value = m * 2^-24 with m = full mantissa >> shift.
	full := man | 0x800000 // 24 significant bits, value = full * 2^(e-23)
	shift := uint(-e - 1)  // e-23 = -24 - shift... => shift = -1-e
	h := full >> shift
	rest := full & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rest > half || rest == half && h&1 == 1 {
		h++
	}
	return sign | uint16(h)
}

// F16ToF32 converts IEEE 754 binary16 bits to float32 (exact).
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
	case man == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: man * 2^-24, exact in float32.
	f := float32(man) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}

// F32ToBF16 converts f to bfloat16 bits, rounding to nearest even; NaN stays a
// quiet NaN (as ggml_compute_fp32_to_bf16). Subnormals are kept.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// BF16ToF32 converts bfloat16 bits to float32 (exact).
func BF16ToF32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}
