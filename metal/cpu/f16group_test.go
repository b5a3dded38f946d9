package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotRowsF16GroupNaN checks DotRowsF16Group against DotRowsF16 query by
// query, bit for bit, at every level, on values whose sums depend on the
// order and the operands of each add: NaNs with payloads (an add of two
// NaNs keeps its first operand's), in the queries or in the rows but not
// both (the group kernels multiply a row by a query with the operands the
// other way round, so a NaN in both at one place may keep the other
// payload), ±Inf (Inf-Inf gives a NaN), subnormal halves. Row
// counts cover whole eights and the rows after them, widths with and
// without a tail after the lanes; the rows and the queries end at a guard
// page.
func TestDotRowsF16GroupNaN(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(49, 50))
		for iter := range 200 {
			c := groupCase{n: []int{2, 3, 4, 5, 8, 9}[r.IntN(6)], w: []int{8, 16, 24, 32, 40, 128, 136, 9, 131}[r.IntN(9)], rows: r.IntN(42)}
			c.dstStride = c.rows + r.IntN(9)
			stride := c.w + r.IntN(5)
			size := 0
			if c.rows > 0 {
				size = (c.rows-1)*stride + c.w
			}
			h := make([]uint16, size)
			for i := range h {
				switch r.IntN(12) {
				case 0:
					h[i] = 0x7c00 | uint16(r.IntN(2))<<15 // ±Inf
					if iter%2 == 1 {
						h[i] |= uint16(r.IntN(0x400)) // NaN with a payload
					}
				case 1:
					h[i] = 0x0001
				default:
					h[i] = uint16(r.Uint32()) &^ 0x4000 // |value| < 2
				}
			}
			h = readGuardHalves(t, h)
			x := randActivations(r, c.n*c.w, 0)
			for range (1 - iter%2) * (1 + r.IntN(3)) {
				x[r.IntN(len(x))] = math.Float32frombits(0x7f800001 + r.Uint32()%0x7fffff | r.Uint32()&0x80000000)
			}
			if iter%4 == 0 {
				x[r.IntN(len(x))] = float32(math.Inf(1 - 2*r.IntN(2)))
			}
			x = readGuardFloats(t, x)
			scale := float32(r.Float64())
			groupDot(t, "DotRowsF16Group", c, x,
				func(dst, x []float32) { DotRowsF16(dst, x, h, stride, scale) },
				func(dst []float32) { DotRowsF16Group(dst, c.rows, c.dstStride, x, c.w, h, stride, scale) })
		}
	})
}
