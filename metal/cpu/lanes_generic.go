package cpu

import "math"

// This file holds the Generic level's Dot and Softmax exp in the operation
// order of the amd64 assembly (AVX2 and AVX512 give the same bits), so that
// a build without assembly (-tags noasm, or a GOARCH without kernels)
// computes what the assembly computes, bit for bit. The vector lanes become
// arrays and each fused multiply-add becomes fma32.

// fma32 returns a*b + c rounded once to float32, as VFMADD does. The product
// of two float32 is exact in float64, so s = a*b + c is rounded once there
// and e is its exact error; rounding s to float32 could round a second time
// only when s lies exactly halfway between two float32, and then e tells
// which way the exact sum lies.
func fma32(a, b, c float32) float32 {
	p, cc := float64(a)*float64(b), float64(c)
	s := p + cc
	// TwoSum: s + e == p + cc exactly.
	bb := s - p
	e := (p - (s - bb)) + (cc - bb)
	r := float32(s)
	if e == 0 || float64(r) == s || math.IsInf(s, 0) {
		return r
	}
	other := math.Nextafter32(r, float32(math.Inf(1)))
	if float64(r) > s {
		other = math.Nextafter32(r, float32(math.Inf(-1)))
	}
	if (float64(r)+float64(other))/2 != s {
		return r // not a tie: the second rounding agrees
	}
	if e > 0 == (other > r) {
		return other
	}
	return r
}

// dotGeneric returns Σ a[i]*b[i] as dotRowsAVX2 computes it: fused
// multiply-adds into 4x8 float32 lanes (element i of each 32 in lane i%32),
// then 8 elements at a time into the first 8 lanes, the lanes added as
// ((l0+l1)+(l2+l3)) per lane and then pairwise across the 8 (l, l+4),
// (l, l+2), (l, l+1), and the last len(a)%8 elements fused into that sum in
// order.
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var acc [4][8]float32
	i := 0
	for ; i+32 <= len(a); i += 32 {
		for k := range 4 {
			for l := range 8 {
				acc[k][l] = fma32(a[i+8*k+l], b[i+8*k+l], acc[k][l])
			}
		}
	}
	for ; i+8 <= len(a); i += 8 {
		for l := range 8 {
			acc[0][l] = fma32(a[i+l], b[i+l], acc[0][l])
		}
	}
	var v [8]float32
	for l := range 8 {
		v[l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l])
	}
	var h [4]float32
	for l := range 4 {
		h[l] = v[l] + v[l+4]
	}
	s := (h[0] + h[2]) + (h[1] + h[3])
	for ; i < len(a); i++ {
		s = fma32(a[i], b[i], s)
	}
	return s
}

// Cephes' expf, the constants of expSubSumAVX2.
const (
	expLog2e = float32(1.44269504088896341)
	expLn2Hi = float32(0.693359375)
	expLn2Lo = float32(-2.12194440e-4)
	expMin   = float32(-87.33654475) // ln(2^-126): below it the result is 0
)

var expPoly = [...]float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}

// expSumLanes is kernelSet.expSum at the Generic level: expSubSumAVX2's
// Cephes expf and its sum in 8 float64 lanes for the first len(x)/8*8
// elements, expSumGeneric for the rest.
func expSumLanes(x []float32, mx float32) float64 {
	n := len(x) &^ 7
	var lanes [8]float64
	for i := 0; i < n; i += 8 {
		for l := range 8 {
			e := expCephes(x[i+l] - mx)
			x[i+l] = e
			lanes[l] += float64(e)
		}
	}
	var h [4]float64
	for l := range 4 {
		h[l] = lanes[l] + lanes[l+4]
	}
	sum := (h[0] + h[2]) + (h[1] + h[3])
	return sum + expSumGeneric(x[n:], mx)
}

// expCephes is one lane of expSubSumAVX2 (t <= 0, not NaN).
func expCephes(t float32) float32 {
	small := t < expMin
	t = max(t, expMin)
	n := float32(math.RoundToEven(float64(t * expLog2e))) // VCVTPS2DQ rounds to nearest even
	r := fma32(-n, expLn2Hi, t)
	r = fma32(-n, expLn2Lo, r)
	y := expPoly[0]
	for _, c := range expPoly[1:] {
		y = fma32(y, r, c)
	}
	y = fma32(y, r*r, r)
	y += 1
	y *= math.Float32frombits(uint32(int32(n)+127) << 23)
	if small {
		return 0
	}
	return y
}
