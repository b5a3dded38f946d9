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

// TestAxpyRowsF16GroupNaN checks AxpyRowsF16Group against AxpyRowsF16
// query by query, bit for bit, at every level, on sums that depend on the
// operands of each add: NaNs with payloads in the outputs it adds to, and
// in the rows or in the weights but not both (a product of two NaNs may
// keep either payload), so that an add of two NaNs must keep the
// accumulator's as the single-query kernel's VADDPS does; ±Inf (Inf-Inf
// and 0*Inf give NaNs), subnormal halves. Four queries and more, widths of
// whole and half 64-lane passes.
func TestAxpyRowsF16GroupNaN(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(51, 52))
		for iter := range 200 {
			c := groupCase{n: []int{4, 5, 8}[r.IntN(3)], w: []int{32, 64, 96, 128, 160}[r.IntN(5)], rows: 1 + r.IntN(70)}
			c.aStride = c.rows + r.IntN(5)
			h := make([]uint16, c.rows*c.w)
			for i := range h {
				switch r.IntN(12) {
				case 0:
					h[i] = 0x7c00 | uint16(r.IntN(2))<<15 // ±Inf
					if iter%2 == 1 {
						h[i] |= uint16(r.IntN(0x400)) // NaN with a payload
					}
				case 1:
					h[i] = 0x0001
				case 2:
					h[i] = 0
				default:
					h[i] = uint16(r.Uint32()) &^ 0x4000 // |value| < 2
				}
			}
			nan := func() float32 {
				return math.Float32frombits(0x7f800001 + r.Uint32()%0x7fffff | r.Uint32()&0x80000000)
			}
			a := randActivations(r, c.n*c.aStride, 0)
			for i := range a {
				if iter%2 == 0 && r.IntN(20) == 0 {
					a[i] = nan()
				} else if r.IntN(20) == 0 {
					a[i] = 0
				}
			}
			start := randActivations(r, c.n*c.w, 0)
			for i := range start {
				if r.IntN(4) == 0 {
					start[i] = nan()
				}
			}
			groupAxpy(t, "AxpyRowsF16Group", c, start, a,
				func(dst, a []float32) { AxpyRowsF16(dst, a, h, c.w) },
				func(dst []float32) { AxpyRowsF16Group(dst, c.w, a, c.rows, c.aStride, h, c.w) })
		}
	})
}
