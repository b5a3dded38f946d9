package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSoftmaxMaxLevels checks Softmax's maximum at every level against
// maxGeneric bit for bit, and Softmax against the same steps with
// maxGeneric: ragged lengths (vector bodies and tails), unaligned, the last
// entry before a guard page, NaNs with payloads, ±Inf, all -Inf, and ties of
// +0 and -0.
func TestSoftmaxMaxLevels(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := func(payload uint32) float32 {
		return math.Float32frombits(0x7fc00000 | payload&0x3fffff | payload>>31<<31)
	}
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(47, 48))
		for iter := range 2000 {
			n := r.IntN(200)
			if iter%50 == 0 {
				n = 4096 + r.IntN(64)
			}
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 8)
			}
			if n > 0 {
				switch iter % 9 {
				case 1: // one NaN anywhere, or several with payloads
					for k := range 1 + r.IntN(3) {
						x[r.IntN(n)] = nan(r.Uint32() + uint32(k))
					}
				case 2: // +Inf, and -Inf
					x[r.IntN(n)] = inf
					x[r.IntN(n)] = -inf
				case 3: // all -Inf
					for i := range x {
						x[i] = -inf
					}
				case 4: // all -Inf but a NaN
					for i := range x {
						x[i] = -inf
					}
					x[r.IntN(n)] = nan(r.Uint32())
				case 5: // a zero maximum: +0 and -0 ties among negatives
					for i := range x {
						x[i] = -absf(x[i]) - 1
					}
					for range 1 + r.IntN(4) {
						x[r.IntN(n)] = []float32{0, float32(math.Copysign(0, -1))}[r.IntN(2)]
					}
				case 6: // all negative, equal maxima
					for i := range x {
						x[i] = -float32(1 + r.IntN(3))
					}
				case 7: // the maximum in the tail
					x[n-1] = 1000
				}
			}
			want := maxGeneric(x)
			y := readGuardFloats(t, unalignedFloats(x, iter%8))
			if got := kern.max(y); math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("case %d n %d: max %v (%#x), want %v (%#x)", iter%9, n, got, math.Float32bits(got), want, math.Float32bits(want))
			}

			ref := append([]float32(nil), x...)
			softmaxWith(ref, maxGeneric)
			Softmax(y)
			for i := range y {
				if math.Float32bits(y[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("case %d n %d: Softmax[%d] = %v, want %v", iter%9, n, i, y[i], ref[i])
				}
			}
		}
	})
}

// softmaxWith is Softmax's steps with the maximum taken by max.
func softmaxWith(x []float32, max func([]float32) float32) {
	if len(x) == 0 {
		return
	}
	mx := max(x)
	if math.IsInf(float64(mx), -1) {
		for i := range x {
			x[i] = 1 / float32(len(x))
		}
		return
	}
	f := kern.expSum
	if mx != mx || mx > math.MaxFloat32 {
		f = expSumGeneric
	}
	inv := float32(1 / f(x, mx))
	kern.scaleMul(x, x, nil, inv)
}
