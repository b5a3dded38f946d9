package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Quantize converts a rows x cols row-major float32 matrix to the storage
// layout of t with the ggml reference quantizers (quantize_row_*_ref in
// llama.cpp ggml-quants.c, compiled without floating-point contraction):
//
//   - F32, F16, BF16: element-wise (F16 and BF16 round to nearest even).
//   - Q8_0: d = absmax/127, q = round(x/d) (half away from zero).
//   - Q4_0: d = -m/8 for the element m of largest magnitude, q = min(15, trunc(x/d + 8.5)).
//   - Q6_K: quantize_row_q6_K_ref (make_qx_quants with rmse_type 1 per 16 elements).
//   - TQ1_0, TQ2_0: d = block absmax, q = round(x/d) (half away from zero), codes in {-1, 0, 1}.
//   - I2_S: microsoft/BitNet quantize_i2_s (x86): scale = tensor absmax,
//     code = 0 when |x| < 1e-6, else sign(x); the scale is stored in the trailer.
//   - TQ1_S: as TQ1_0 with one d for the whole tensor: scale = tensor absmax,
//     code = round(x/scale) (half away from zero); the scale is stored in the trailer.
//
// The per-block d of every block type is stored as f16. Quantize fails when
// the shape is bad, len(src) != rows*cols, or (for the block types) src holds
// a NaN or an infinity.
func Quantize(t DType, rows, cols int, src []float32) ([]byte, error) {
	size, err := MatrixBytes(t, rows, cols)
	if err != nil {
		return nil, err
	}
	if len(src) != rows*cols {
		return nil, fmt.Errorf("metal: quantize %v %d x %d: %d values, want %d: %w", t, rows, cols, len(src), rows*cols, ErrShape)
	}
	dst := make([]byte, size)
	switch t {
	case F32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
		return dst, nil
	case F16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(v))
		}
		return dst, nil
	case BF16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], F32ToBF16(v))
		}
		return dst, nil
	}
	for i, v := range src {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("metal: quantize %v: element %d (row %d, column %d) is %v: %w", t, i, i/cols, i%cols, v, ErrValue)
		}
	}
	if t == I2_S {
		quantizeI2S(dst, src)
		return dst, nil
	}
	if t == TQ1_S {
		quantizeTQ1S(dst, src)
		return dst, nil
	}
	bs, bb := t.BlockSize(), t.BlockBytes()
	q := quantizers[t]
	for b := 0; b < len(src)/bs; b++ {
		q(dst[b*bb:(b+1)*bb], src[b*bs:(b+1)*bs])
	}
	return dst, nil
}

var quantizers = [numDTypes]func(y []byte, x []float32){
	Q8_0:  quantizeQ8_0,
	Q4_0:  quantizeQ4_0,
	Q6_K:  quantizeQ6K,
	TQ1_0: quantizeTQ1,
	TQ2_0: quantizeTQ2,
}

func putF16(b []byte, f float32) { binary.LittleEndian.PutUint16(b, F32ToF16(f)) }
func getF16(b []byte) float32    { return F16ToF32(binary.LittleEndian.Uint16(b)) }

func absf(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// roundAway rounds half away from zero (C roundf/lroundf).
func roundAway(x float32) float32 { return float32(math.Round(float64(x))) }

// nearestInt rounds half to even, as ggml's nearest_int (|x| <= 4194303).
func nearestInt(x float32) int { return int(math.RoundToEven(float64(x))) }

// quantizeQ8_0 is quantize_row_q8_0_ref for one 32-element block.
func quantizeQ8_0(y []byte, x []float32) {
	var amax float32
	for _, v := range x[:32] {
		amax = max(amax, absf(v))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	putF16(y[0:2], d)
	for j, v := range x[:32] {
		y[2+j] = byte(int8(roundAway(v * id)))
	}
}

// quantizeQ4_0 is quantize_row_q4_0_ref for one 32-element block.
func quantizeQ4_0(y []byte, x []float32) {
	var amax, mx float32
	for _, v := range x[:32] {
		if amax < absf(v) {
			amax = absf(v)
			mx = v
		}
	}
	d := mx / -8
	var id float32
	if d != 0 {
		id = 1 / d
	}
	putF16(y[0:2], d)
	for j := 0; j < 16; j++ {
		x0 := float32(x[j] * id) // float32(): never fused with the + 8.5 below
		x1 := float32(x[16+j] * id)
		xi0 := min(15, uint8(int8(x0+8.5)))
		xi1 := min(15, uint8(int8(x1+8.5)))
		y[2+j] = xi0 | xi1<<4
	}
}

const groupMaxEps = 1e-15

// makeQXQuants is ggml's make_qx_quants with rmse_type 1 and no weights,
// for n = 16 and nmax = 32. Products are wrapped in float32() so that Go
// never fuses them into FMAs.
func makeQXQuants(x []float32, L []int8) float32 {
	const nmax = 32
	var mx, amax float32
	for _, v := range x {
		if ax := absf(v); ax > amax {
			amax = ax
			mx = v
		}
	}
	if amax < groupMaxEps {
		for i := range L {
			L[i] = 0
		}
		return 0
	}
	clamp := func(l int) int { return max(-nmax, min(nmax-1, l)) }
	iscale := -nmax / mx
	var sumlx, suml2 float32
	for i, v := range x {
		l := clamp(nearestInt(float32(iscale * v)))
		L[i] = int8(l + nmax)
		w := float32(v * v)
		sumlx += float32(float32(w*v) * float32(l))
		suml2 += float32(float32(w*float32(l)) * float32(l))
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := float32(scale * sumlx)
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(nmax + float32(float32(0.1)*float32(is))) / mx
		sumlx, suml2 = 0, 0
		for _, v := range x {
			l := float32(clamp(nearestInt(float32(iscale * v))))
			w := float32(v * v)
			sumlx += float32(float32(w*v) * l)
			suml2 += float32(float32(w*l) * l)
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i, v := range x {
				L[i] = int8(nmax + clamp(nearestInt(float32(iscale*v))))
			}
			scale = sumlx / suml2
			best = float32(scale * sumlx)
		}
	}
	return scale
}

// quantizeQ6K is quantize_row_q6_K_ref for one 256-element block
// (ql[128], qh[64], scales[16], f16 d).
func quantizeQ6K(y []byte, x []float32) {
	var L [256]int8
	var scales [16]float32
	var maxScale, maxAbsScale float32
	for ib := 0; ib < 16; ib++ {
		s := makeQXQuants(x[16*ib:16*ib+16], L[16*ib:16*ib+16])
		scales[ib] = s
		if a := absf(s); a > maxAbsScale {
			maxAbsScale = a
			maxScale = s
		}
	}
	if maxAbsScale < groupMaxEps {
		clear(y[:210])
		return
	}
	iscale := -128 / maxScale
	putF16(y[208:210], 1/iscale)
	sc := y[192:208]
	for ib := 0; ib < 16; ib++ {
		sc[ib] = byte(int8(min(127, nearestInt(float32(iscale*scales[ib])))))
	}
	dd := getF16(y[208:210])
	for j := 0; j < 16; j++ {
		d := float32(dd * float32(int8(sc[j])))
		if d == 0 {
			continue
		}
		for ii := 0; ii < 16; ii++ {
			l := max(-32, min(31, nearestInt(x[16*j+ii]/d)))
			L[16*j+ii] = int8(l + 32)
		}
	}
	ql, qh := y[0:128], y[128:192]
	for j := 0; j < 256; j += 128 {
		for l := 0; l < 32; l++ {
			q1 := uint8(L[j+l]) & 0xf
			q2 := uint8(L[j+l+32]) & 0xf
			q3 := uint8(L[j+l+64]) & 0xf
			q4 := uint8(L[j+l+96]) & 0xf
			ql[l] = q1 | q3<<4
			ql[l+32] = q2 | q4<<4
			qh[l] = uint8(L[j+l])>>4 | uint8(L[j+l+32])>>4<<2 | uint8(L[j+l+64])>>4<<4 | uint8(L[j+l+96])>>4<<6
		}
		ql = ql[64:]
		qh = qh[32:]
	}
}

// ternaryCodes computes the TQ reference codes of one 256-element block:
// d = absmax, code = lroundf(x/d) in {-1, 0, 1}. It returns d.
func ternaryCodes(codes *[256]int8, x []float32) float32 {
	var amax float32
	for _, v := range x[:256] {
		amax = max(amax, absf(v))
	}
	d := amax
	var id float32
	if d != 0 {
		id = 1 / d
	}
	for j, v := range x[:256] {
		codes[j] = int8(roundAway(v * id))
	}
	return d
}

func quantizeTQ1(y []byte, x []float32) {
	var c [256]int8
	d := ternaryCodes(&c, x)
	packTQ1(y, &c, F32ToF16(d))
}

func quantizeTQ2(y []byte, x []float32) {
	var c [256]int8
	d := ternaryCodes(&c, x)
	packTQ2(y, &c, F32ToF16(d))
}

// tq1Fixed gives the ceil(q*256/243) fixed-point base-3 encoding used by TQ1_0.
func tq1Fixed(q uint16) byte { return byte((q*256 + 242) / 243) }

// packTQ1 writes one TQ1_0 block (qs[48], qh[4], f16 d) from codes in {-1,0,1}:
// qs[m] (m < 32) holds x[m + 32n], qs[32+m] (m < 16) holds x[160 + m + 16n],
// qh[j] holds x[240 + j + 4n], n = 0 the most significant trit, as
// ceil(base3 * 256 / 243). qh holds 4 trits shifted up by one.
func packTQ1(y []byte, c *[256]int8, d uint16) {
	packTQ1Codes(y, c)
	binary.LittleEndian.PutUint16(y[52:54], d)
}

// packTQ1Codes writes the 52 code bytes of a TQ1_0 block (a TQ1_S block).
func packTQ1Codes(y []byte, c *[256]int8) {
	for m := 0; m < 32; m++ {
		var q uint16
		for n := 0; n < 5; n++ {
			q = q*3 + uint16(c[m+32*n]+1)
		}
		y[m] = tq1Fixed(q)
	}
	for m := 0; m < 16; m++ {
		var q uint16
		for n := 0; n < 5; n++ {
			q = q*3 + uint16(c[160+m+16*n]+1)
		}
		y[32+m] = tq1Fixed(q)
	}
	for j := 0; j < 4; j++ {
		var q uint16
		for n := 0; n < 4; n++ {
			q = q*3 + uint16(c[240+j+4*n]+1)
		}
		y[48+j] = tq1Fixed(q * 3)
	}
}

// quantizeTQ1S quantizes a whole tensor to TQ1_S; dst has room for the
// trailer.
func quantizeTQ1S(dst []byte, x []float32) {
	var amax float32
	for _, v := range x {
		amax = max(amax, absf(v))
	}
	var id float32
	if amax != 0 {
		id = 1 / amax
	}
	var c [256]int8
	for b := 0; b < len(x)/256; b++ {
		for j, v := range x[256*b : 256*b+256] {
			c[j] = int8(roundAway(v * id))
		}
		packTQ1Codes(dst[52*b:], &c)
	}
	binary.LittleEndian.PutUint32(dst[len(x)/256*52:], math.Float32bits(amax))
}

// packTQ2 writes one TQ2_0 block (qs[64], f16 d): in each 128-element half h,
// byte qs[32h+m] holds x[128h + m + 32n] at bits 2n..2n+1 as code+1.
func packTQ2(y []byte, c *[256]int8, d uint16) {
	for h := 0; h < 2; h++ {
		for m := 0; m < 32; m++ {
			var q byte
			for n := 0; n < 4; n++ {
				q |= byte(c[128*h+m+32*n]+1) & 3 << (2 * n)
			}
			y[32*h+m] = q
		}
	}
	binary.LittleEndian.PutUint16(y[64:66], d)
}

// packI2S writes one 128-element I2_S block (32 bytes): byte j holds x[j] at
// bits 7-6, x[j+32] at 5-4, x[j+64] at 3-2, x[j+96] at 1-0, as code+1.
func packI2S(y []byte, c []int8) {
	for j := 0; j < 32; j++ {
		y[j] = byte(c[j]+1)<<6 | byte(c[j+32]+1)<<4 | byte(c[j+64]+1)<<2 | byte(c[j+96]+1)
	}
}

// quantizeI2S is microsoft/BitNet's quantize_i2_s (x86, ACT_PARALLEL layout)
// for a whole tensor; dst has room for the trailer.
func quantizeI2S(dst []byte, x []float32) {
	var mx float64
	for _, v := range x {
		if a := math.Abs(float64(v)); a > mx {
			mx = a
		}
	}
	var c [128]int8
	for b := 0; b < len(x)/128; b++ {
		for j, v := range x[b*128 : b*128+128] {
			switch {
			case math.Abs(float64(v)) < 1e-6:
				c[j] = 0
			case float64(v)*mx > 0:
				c[j] = 1
			default:
				c[j] = -1
			}
		}
		packI2S(dst[b*32:], c[:])
	}
	n := len(x) / 4
	binary.LittleEndian.PutUint32(dst[n:], math.Float32bits(float32(mx)))
}

// PackTernary packs ternary codes (each -1, 0 or 1; rows x cols, row-major)
// into the layout of t (TQ1_0, TQ2_0, I2_S or TQ1_S) with a per-tensor scale.
//
// For TQ1_0 and TQ2_0 every block gets d = F32ToF16(scale), so the stored
// (and effective) scale is scale rounded to f16 (relative error up to 2^-11).
// To keep a scale exactly, pack with scale 1 and set Matrix.Scale after
// NewMatrix. For I2_S and TQ1_S the f32 scale goes to the trailer unchanged.
//
// PackTernary fails when t is not ternary, the shape is bad, a code is not in
// {-1, 0, 1}, or the scale is not finite (for TQ: does not fit f16, or is
// non-zero and rounds to zero in f16).
func PackTernary(t DType, codes []int8, rows, cols int, scale float32) ([]byte, error) {
	if !t.Ternary() {
		return nil, fmt.Errorf("metal: pack ternary: %v is not a ternary type: %w", t, ErrShape)
	}
	size, err := MatrixBytes(t, rows, cols)
	if err != nil {
		return nil, err
	}
	if len(codes) != rows*cols {
		return nil, fmt.Errorf("metal: pack ternary %v %d x %d: %d codes, want %d: %w", t, rows, cols, len(codes), rows*cols, ErrShape)
	}
	for i, c := range codes {
		if c < -1 || c > 1 {
			return nil, fmt.Errorf("metal: pack ternary %v: code %d at element %d (row %d, column %d) is not -1, 0 or 1: %w", t, c, i, i/cols, i%cols, ErrValue)
		}
	}
	if math.IsNaN(float64(scale)) || math.IsInf(float64(scale), 0) {
		return nil, fmt.Errorf("metal: pack ternary %v: scale %v is not finite: %w", t, scale, ErrValue)
	}
	dst := make([]byte, size)
	if t == I2_S {
		for b := 0; b < len(codes)/128; b++ {
			packI2S(dst[b*32:], codes[b*128:b*128+128])
		}
		binary.LittleEndian.PutUint32(dst[len(codes)/4:], math.Float32bits(scale))
		return dst, nil
	}
	if t == TQ1_S {
		var c [256]int8
		for b := 0; b < len(codes)/256; b++ {
			copy(c[:], codes[b*256:])
			packTQ1Codes(dst[52*b:], &c)
		}
		binary.LittleEndian.PutUint32(dst[size-I2STrailer:], math.Float32bits(scale))
		return dst, nil
	}
	d := F32ToF16(scale)
	if df := F16ToF32(d); math.IsInf(float64(df), 0) || df == 0 && scale != 0 {
		return nil, fmt.Errorf("metal: pack ternary %v: scale %v does not fit f16: %w", t, scale, ErrValue)
	}
	bb := t.BlockBytes()
	var c [256]int8
	for b := 0; b < len(codes)/256; b++ {
		copy(c[:], codes[b*256:])
		if t == TQ1_0 {
			packTQ1(dst[b*bb:], &c, d)
		} else {
			packTQ2(dst[b*bb:], &c, d)
		}
	}
	return dst, nil
}
