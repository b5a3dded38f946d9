package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Shapes of bitnet-b1.58-2B-4T: attention projections (2560 x 2560), FFN
// gate/up (6912 x 2560) and down (2560 x 6912). Bytes are weight bytes.
var benchShapes = [][2]int{{2560, 2560}, {6912, 2560}, {2560, 6912}}

func benchTernaryMatrix(b *testing.B, typ DType, rows, cols int) *Matrix {
	r := rand.New(rand.NewPCG(1, uint64(rows)))
	data, err := PackTernary(typ, randTernary(r, rows*cols), rows, cols, 0.5)
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewMatrix(typ, rows, cols, data)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkMatVecTernary(b *testing.B) {
	for _, typ := range []DType{TQ1_0, TQ2_0, I2_S} {
		for _, s := range benchShapes {
			b.Run(fmt.Sprintf("%v/%dx%d", typ, s[0], s[1]), func(b *testing.B) {
				m := benchTernaryMatrix(b, typ, s[0], s[1])
				r := rand.New(rand.NewPCG(2, 3))
				xq := randInt8(r, s[1])
				dst := make([]float32, s[0])
				b.SetBytes(int64(len(m.Data)))
				for b.Loop() {
					MatVecTernary(dst, m, xq, 0.01)
				}
			})
		}
	}
}

// BenchmarkMatVecTernaryNaive is the decode-then-multiply loop MatVecTernary
// is measured against.
func BenchmarkMatVecTernaryNaive(b *testing.B) {
	s := benchShapes[0]
	m := benchTernaryMatrix(b, TQ2_0, s[0], s[1])
	xq := randInt8(rand.New(rand.NewPCG(2, 3)), s[1])
	dst := make([]float32, s[0])
	codes := make([]int8, s[1])
	b.SetBytes(int64(len(m.Data)))
	for b.Loop() {
		for r := range dst {
			m.TernaryRow(codes, r)
			var acc int32
			for j, c := range codes {
				acc += int32(c) * int32(xq[j])
			}
			dst[r] = float32(acc)
		}
	}
}

func BenchmarkMatVec(b *testing.B) {
	s := benchShapes[0]
	r := rand.New(rand.NewPCG(4, 5))
	src := make([]float32, s[0]*s[1])
	for i := range src {
		src[i] = float32(r.NormFloat64())
	}
	x := src[:s[1]]
	dst := make([]float32, s[0])
	for _, typ := range []DType{F32, F16, BF16, Q8_0, Q4_0, Q6_K} {
		b.Run(fmt.Sprintf("%v/%dx%d", typ, s[0], s[1]), func(b *testing.B) {
			data, err := Quantize(typ, s[0], s[1], src)
			if err != nil {
				b.Fatal(err)
			}
			m, _ := NewMatrix(typ, s[0], s[1], data)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				MatVec(dst, m, x)
			}
		})
	}
}

func BenchmarkQuantizeInt8(b *testing.B) {
	r := rand.New(rand.NewPCG(6, 7))
	x := make([]float32, 6912)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	dst := make([]int8, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		QuantizeInt8(dst, x)
	}
}
