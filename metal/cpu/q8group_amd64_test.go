//go:build !noasm

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotRowsQ8GroupT16 checks dotRowsQ8_0GroupT16VNNI for every number
// of quads (TestGroupRowsLevels's 1 to 9 queries give it only two), 1 to 8
// blocks and 16 to 64 rows, against dotRowsQ8_0Group16VNNI quad by quad,
// bit for bit: any int8 in keys and queries (-128 and 127 too), strided
// unaligned rows with the last one right before a guard page, the last
// query's last block too, outputs strided between guards and the floats
// between them untouched.
func TestDotRowsQ8GroupT16(t *testing.T) {
	if kern.q8 != q8VNNI {
		t.Skip("no AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(17, 3))
	for iter := range 200 {
		quads := 1 + iter%q8Quads
		blocks := 1 + r.IntN(q8Stack/32)
		rows := 16 * (1 + r.IntN(4))
		rb := 34 * blocks
		stride := rb + r.IntN(3)*17
		dstStride := rows + r.IntN(3)*rows + r.IntN(5)
		m := make([]byte, (rows-1)*stride+rb+iter%3)[iter%3:]
		xq := make([]byte, 4*quads*rb)
		for _, b := range [][]byte{m, xq} {
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			if iter%5 == 0 { // extremes: every byte -128 or 127
				for i := range b {
					b[i] = []byte{0x80, 0x7f}[r.IntN(2)]
				}
			}
		}
		// Finite, normal f16 scales (bits 0x0400-0x7bff, either sign).
		for _, s := range []struct {
			b      []byte
			n, off int
		}{{m, rows, stride}, {xq, 4 * quads, rb}} {
			for j := range s.n {
				for k := range blocks {
					h := uint16(0x0400+r.IntN(0x3000)) | uint16(r.IntN(2))<<15
					if iter%7 == 0 {
						h = 0x7bff // the largest: d_k*d_x near 2^32
					}
					s.b[j*s.off+34*k], s.b[j*s.off+34*k+1] = byte(h), byte(h>>8)
				}
			}
		}
		m, xq = readGuard(t, m), readGuard(t, xq)
		scale := float32(0.088)
		n := (4*quads-1)*dstStride + rows
		want := make([]float32, n)
		for i := range want {
			want[i] = -3
		}
		var sums [q8Stack / 32 * 8]int32
		for q := range quads {
			dotRowsQ8_0Group16VNNI(&want[4*q*dstStride], dstStride, &xq[4*q*rb], rows, blocks, &m[0], stride, scale, &sums[0])
		}
		dst, check := guarded(t, n, iter%4, float32(-3))
		dotRowsQ8_0GroupT16VNNI(&dst[0], dstStride, &xq[0], quads, rows, blocks, &m[0], stride, scale)
		check()
		for i := range dst {
			if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
				t.Fatalf("quads %d blocks %d rows %d stride %d dstStride %d: [%d] = %g, want %g",
					quads, blocks, rows, stride, dstStride, i, dst[i], want[i])
			}
		}
	}
}
