package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Float32s converts the tensor's elements to float32: F64 is rounded to nearest, F32 copied, and
// F16 and BF16 widened exactly (subnormals, infinities and NaN payloads included).
// Other dtypes, or Data whose length does not match Shape, give an error.
func (t Tensor) Float32s() ([]float32, error) {
	switch t.DType {
	case F64, F32, F16, BF16:
	default:
		return nil, fmt.Errorf("safetensors: tensor %q: cannot convert %v to float32", t.Name, t.DType)
	}
	size, err := byteSize(t.DType, t.Shape)
	if err != nil {
		return nil, fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
	}
	if size != int64(len(t.Data)) {
		return nil, fmt.Errorf("safetensors: tensor %q: %v shape %v needs %d bytes, have %d", t.Name, t.DType, t.Shape, size, len(t.Data))
	}
	b := t.Data
	out := make([]float32, len(b)/t.DType.Size())
	switch t.DType {
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = F16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BF16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	}
	return out, nil
}

// F16ToF32 widens an IEEE 754 binary16 value exactly.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // Inf or NaN: keep the payload
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero or subnormal: mant * 2^-24, exact in float32
		f := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(f))
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// BF16ToF32 widens a bfloat16 value exactly (bfloat16 is the top half of a float32).
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }
