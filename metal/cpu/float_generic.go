package cpu

import "math"

// quantizeInt8Generic is QuantizeInt8's reference loop.
func quantizeInt8Generic(dst []int8, x []float32) float32 {
	var amax float32 = 1e-5
	for _, v := range x {
		if a := absf(v); a > amax {
			amax = a
		}
	}
	s := 127 / amax
	quantizeScaledGeneric(dst, x, s)
	return 1 / s
}

// quantizeScaledGeneric does dst[i] = clamp(roundHalfEven(x[i]*s), -128,
// 127), x[i]*s rounded to float32 first, NaN giving 0.
func quantizeScaledGeneric(dst []int8, x []float32, s float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		y := v * s
		switch {
		case y >= 127:
			dst[i] = 127
		case y <= -128:
			dst[i] = -128
		case y == y:
			dst[i] = int8(math.RoundToEven(float64(y)))
		default: // NaN
			dst[i] = 0
		}
	}
}

// sumSquaresGeneric returns Σ float64(x[i])^2 as sumSquaresAVX2 sums it:
// 4x4 float64 lanes (element i of each 16 in lane i%16), then 4 elements at
// a time into the first 4 lanes, the lanes added as ((l0+l1)+(l2+l3)) per
// lane and then (l0+l2)+(l1+l3), and the last len(x)%4 squares added in
// order. A float32 squared is exact in float64, so fused or not the bits
// are the same.
func sumSquaresGeneric(x []float32) float64 {
	var acc [4][4]float64
	sq := func(v float32) float64 { return float64(v) * float64(v) }
	i := 0
	for ; i+16 <= len(x); i += 16 {
		for k := range 4 {
			for l := range 4 {
				acc[k][l] += sq(x[i+4*k+l])
			}
		}
	}
	for ; i+4 <= len(x); i += 4 {
		for l := range 4 {
			acc[0][l] += sq(x[i+l])
		}
	}
	var v [4]float64
	for l := range 4 {
		v[l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l])
	}
	sum := (v[0] + v[2]) + (v[1] + v[3])
	for ; i < len(x); i++ {
		sum += sq(x[i])
	}
	return sum
}

// scaleMulGeneric does dst[i] = (x[i]*s)*w[i], or x[i]*s when w is nil.
func scaleMulGeneric(dst, x, w []float32, s float32) {
	dst = dst[:len(x)]
	if w == nil {
		for i, v := range x {
			dst[i] = v * s
		}
		return
	}
	w = w[:len(x)]
	for i, v := range x {
		dst[i] = float32(v*s) * w[i]
	}
}

// axpyGeneric does dst[i] += alpha*x[i], the product rounded before the add
// (never fused; every level does the same).
func axpyGeneric(dst []float32, alpha float32, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] += float32(alpha * v)
	}
}

// chunk is the number of elements rowDotGeneric dequantizes at a time (a
// multiple of every block size).
const chunk = 256

// rowDotGeneric returns Σ_j w[j]*x[j] for one row of type t: a float32 sum,
// in order, of dotGeneric over chunks of 256 dequantized elements (the last
// chunk may be shorter).
func rowDotGeneric(t DType, w []byte, x []float32) float32 {
	var buf [chunk]float32
	bs, bb := t.BlockSize(), t.BlockBytes()
	var acc float32
	for j := 0; j < len(x); j += chunk {
		n := min(chunk, len(x)-j)
		c := buf[:n]
		dequantize(t, c, w[j/bs*bb:(j+n)/bs*bb])
		acc += dotGeneric(c, x[j:j+n])
	}
	return acc
}

// expSumGeneric does x[i] = float32(exp(x[i] - mx)) (the difference in
// float32) and returns Σ float64(x[i]) in order.
func expSumGeneric(x []float32, mx float32) float64 {
	var sum float64
	for i, v := range x {
		e := float32(math.Exp(float64(v - mx)))
		x[i] = e
		sum += float64(e)
	}
	return sum
}
