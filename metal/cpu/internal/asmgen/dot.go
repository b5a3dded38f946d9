package main

import (
	"flag"
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// prefetch is how far ahead of its loads a kernel prefetches the weights.
var (
	prefetchFlag = flag.Int("prefetch", 1024, "prefetch distance in bytes (0: none)")
	prefetch     int
)

// prefetches reports whether the kernel prefetches its weights: all but
// the AVX512 I2_S decode kernels, whose 8 instructions per 64 weight bytes
// a prefetch per load made one eighth more. Without it the 2B-4T I2_S file
// decoded 1-9% faster (median ratios of four sets of rounds interleaved in
// one process, from huge pages and from 4 KiB ones); TQ2_0, TQ1_0 and
// TQ1_S were as fast either way, or faster with it.
func (k *kernel) prefetches() bool {
	return prefetch > 0 && !(k.ty == i2s && k.lv.avx512 && k.T == 1)
}

// units describes what a dot function works on: units u < n, each with
// its own weight bytes; a row of a tile, or one block of a group of blocks
// of a single row.
type units struct {
	n       int
	w       func(u, disp int) Mem    // byte disp of unit u's weights
	x       func(u, t, disp int) Mem // byte disp of token t's activations for unit u
	sharedX bool                     // x does not depend on u (load it once for all units)
	acc     func(u, t, f int) reg.VecVirtual
	// scaled makes dot2 leave each 2-bit code in place (field f as 4^f
	// times its code, at most 192: a mask and no shift); acc(u, t, f) must
	// then be a separate accumulator per field, to be shifted right by 2f
	// (exactly) at the end.
	scaled bool
	// accB, when set, makes dot1 use the difference form (see dot1): acc
	// gets Σ y_n*x_n, accB gets Σ y_{n+1}*x_n; combine them with diffSum.
	accB func(u, t int) reg.VecVirtual
	// full makes dot1 read 64 whole bytes of codes (a chunk of a
	// whole-row TQ1 row) instead of a block's 52.
	full bool
}

// rowUnits are the R rows of the tile, accumulating into acc[r][t].
func (k *kernel) rowUnits(acc [][]reg.VecVirtual) units {
	return units{
		n:       k.R,
		w:       k.row,
		x:       func(u, t, disp int) Mem { return k.xa(t, disp) },
		sharedX: true,
		acc:     func(u, t, f int) reg.VecVirtual { return acc[u][t] },
	}
}

// dot2 adds the integer products of one 2-bit chunk (I2_S: 64 bytes, two
// 128-element blocks; TQ2_0: the 64 code bytes of a block; tail: the 32
// bytes of a final I2_S block) of each unit to its accumulators.
//
// Byte m of a 32-byte half holds four 2-bit codes, field f at bits 2f..2f+1.
// In TQ2_0 field f is element 32f+m of the half, in I2_S element 32(3-f)+m.
// The prepared activations of a 256-element chunk put, for each j < 4, the
// 32 activations of half 0 that field j of the first half meets, then those
// of half 1: xp[64j+32h+m] = x[128h+32j+m]. So field f of a full 64-byte
// load meets the 64 bytes at xp[64j] (j = f for TQ2_0, 3-f for I2_S), and a
// tail block (natural order) the 32 bytes at xp[32j].
func (k *kernel) dot2(us units, tail bool) {
	field := func(f int) int {
		if k.ty == i2s {
			return 3 - f
		}
		return f
	}
	if !k.lv.avx512 {
		k.dot2AVX2(us, tail, field)
		return
	}
	mask := ZMM()
	VPBROADCASTD(c03(), mask)
	w := make([]reg.VecVirtual, us.n)
	var km reg.OpmaskVirtual
	if tail {
		km = K()
		KMOVQ(qword("low32bytes", 1<<32-1), km)
	}
	for u := range w {
		w[u] = ZMM()
		if !tail && k.prefetches() {
			PREFETCHT0(us.w(u, prefetch))
		}
		if tail {
			VMOVDQU8_Z(us.w(u, 0), km, w[u])
		} else {
			VMOVDQU64(us.w(u, 0), w[u])
		}
	}
	for f := 0; f < 4; f++ {
		off := 64 * field(f)
		if tail {
			// Lanes 32-63 read the padding after the activations; their
			// codes are zero.
			off = 32 * field(f)
		}
		xs := k.loadX(us, off)
		for u := 0; u < us.n; u++ {
			d := ZMM()
			if us.scaled {
				VPANDD_BCST(dwords(fmt.Sprintf("field%d", f), 0x03030303<<(2*f)), w[u], d)
			} else if f == 0 {
				VPANDD(mask, w[u], d)
			} else {
				VPSRLW(U8(2*f), w[u], d)
				VPANDD(mask, d, d)
			}
			for t := 0; t < k.T; t++ {
				VPDPBUSD(xs(u, t), d, us.acc(u, t, f))
			}
		}
	}
}

// loadX returns the activation operands at byte off of every unit and
// token: registers loaded once when they are shared by several units,
// memory operands otherwise.
func (k *kernel) loadX(us units, off int) func(u, t int) Op {
	if !us.sharedX || us.n == 1 {
		return func(u, t int) Op { return us.x(u, t, off) }
	}
	xs := make([]Op, k.T)
	for t := range xs {
		x := k.vec()
		VMOVDQU32orU(k, us.x(0, t, off), x)
		xs[t] = x
	}
	return func(u, t int) Op { return xs[t] }
}

// dot2AVX2 is dot2 with VPMADDUBSW (unsigned codes times signed
// activations, pairs added in 16 bits: at most 2*3*128 = 768 per product,
// 8 of them per lane per chunk) and VPMADDWD to widen to 32 bits.
func (k *kernel) dot2AVX2(us units, tail bool, field func(int) int) {
	halves := 2
	if tail {
		halves = 1
	}
	for u := 0; u < us.n; u++ {
		w := make([]reg.VecVirtual, halves)
		for h := range w {
			w[h] = YMM()
			if h == 0 && !tail && k.prefetches() {
				PREFETCHT0(us.w(u, prefetch))
			}
			VMOVDQU(us.w(u, 32*h), w[h])
		}
		s := make([]reg.VecVirtual, k.T)
		for f := 0; f < 4; f++ {
			for h := 0; h < halves; h++ {
				d := YMM()
				if f == 0 {
					VPAND(c03(), w[h], d)
				} else {
					VPSRLW(U8(2*f), w[h], d)
					VPAND(c03(), d, d)
				}
				off := 64*field(f) + 32*h
				if tail {
					off = 32 * field(f)
				}
				for t := 0; t < k.T; t++ {
					k.maddAdd(&s[t], us.x(u, t, off), d)
				}
			}
		}
		for t := range s {
			k.widenAdd(us.acc(u, t, 0), s[t])
		}
	}
}

// maddAdd adds VPMADDUBSW(d, x) (unsigned d times signed x, pairs summed in
// 16 bits) to *s, allocating *s on first use.
func (k *kernel) maddAdd(s *reg.VecVirtual, x Mem, d reg.VecVirtual) {
	if *s == nil {
		*s = k.vec()
		VPMADDUBSW(x, d, *s)
		return
	}
	p := k.vec()
	VPMADDUBSW(x, d, p)
	VPADDW(p, *s, *s)
}

// widenAdd adds the 16-bit sums s, widened to 32 bits in pairs, to acc.
func (k *kernel) widenAdd(acc, s reg.VecVirtual) {
	p := k.vec()
	VPMADDWD(ones16(), s, p)
	VPADDD(p, acc, acc)
}

// dot1 adds the integer products of a TQ1_0 block (54 bytes: 48 bytes of 5
// trits, 4 bytes of 4 trits, f16 d) of each unit to its accumulators.
//
// Trit n (0 the most significant) of a byte q is ((q*3^n mod 256) * 3) >> 8,
// which is also the unsigned code u = w+1. With y = q*3^n mod 256 kept per
// byte (y := 3y each step), VPMADDUBSW by (3, 0) and (0, 3) gives 3y of
// the even and odd bytes in 16 bits, whose high bytes are the trits.
//
// The 52 code bytes load as one 64-byte vector (the rest masked to zero):
// bytes 0-31 hold elements 32n+m, bytes 32-47 elements 160+16n+m, bytes
// 48-51 elements 240+4n+m (n < 4). The prepared activations hold, for each
// trit n, the 64 activations these lanes meet (zero where none), so the
// 256-element block takes 320 bytes. AVX2 uses the two 32-byte halves.
func (k *kernel) dot1(us units) {
	if !k.lv.avx512 {
		k.dot1AVX2(us)
		return
	}
	km := k.mask52
	y := make([]reg.VecVirtual, us.n)
	for u := range y {
		y[u] = ZMM()
		if k.prefetches() {
			PREFETCHT0(us.w(u, prefetch))
		}
		if us.full {
			VMOVDQU64(us.w(u, 0), y[u])
		} else {
			VMOVDQU8_Z(us.w(u, 0), km, y[u])
		}
	}
	for n := 0; n < 5; n++ {
		xs := k.loadX(us, 64*n)
		for u := 0; u < us.n; u++ {
			if us.accB != nil {
				for t := 0; t < k.T; t++ {
					VPDPBUSD(xs(u, t), y[u], us.acc(u, t, n))
				}
				k.triple(y[u])
				for t := 0; t < k.T; t++ {
					VPDPBUSD(xs(u, t), y[u], us.accB(u, t))
				}
				continue
			}
			d := k.trits(y[u], n < 4)
			for t := 0; t < k.T; t++ {
				VPDPBUSD(xs(u, t), d, us.acc(u, t, n))
			}
		}
	}
}

// triple sets y = 3y mod 256 per byte.
func (k *kernel) triple(y reg.VecVirtual) {
	t := k.vec()
	VPADDB(y, y, t)
	VPADDB(t, y, y)
}

// diffSum sets a = 3a - b. In the difference form of dot1, each byte's
// 3*y_n - y_{n+1} is 256 times its trit, so the lanes of 3a - b, and their
// sum, are 256 times the integer products: shift the reduced sums right by
// 8 (exactly).
func (k *kernel) diffSum(a, b reg.VecVirtual) {
	t := k.vec()
	VPADDD(a, a, t)
	VPADDD(t, a, a)
	VPSUBD(b, a, a)
}

// trits returns the current trit of every byte y holds, and steps y to the
// next trit (y = 3y mod 256 per byte) when next is set.
//
// The difference form (AVX512, units.accB set) skips this decoding: with
// y_{n+1} = 3y_n mod 256, the trit is (3y_n - y_{n+1}) / 256 exactly, so
// Σ trit_n*x = (3 Σ y_n*x - Σ y_{n+1}*x) / 256, two VPDPBUSD on the bytes y
// (0-255, which VPDPBUSD multiplies as unsigned) instead of four decoding
// instructions and one VPDPBUSD.
func (k *kernel) trits(y reg.VecVirtual, next bool) reg.VecVirtual {
	e, o := k.vec(), k.vec()
	VPMADDUBSW(c30(), y, e)    // 3*even bytes, 16 bits
	VPMADDUBSW(c03odd(), y, o) // 3*odd bytes
	VPSRLW(U8(8), e, e)        // even trits in the low bytes
	if k.lv.avx512 {
		VPTERNLOGD(U8(0xf8), cFF00(), o, e) // e |= o & 0xff00
	} else {
		VPAND(cFF00(), o, o)
		VPOR(o, e, e)
	}
	if next {
		t := k.vec()
		VPADDB(y, y, t)
		VPADDB(t, y, y)
	}
	return e
}

func (k *kernel) dot1AVX2(us units) {
	for u := 0; u < us.n; u++ {
		y0, y1 := YMM(), YMM()
		if k.prefetches() {
			PREFETCHT0(us.w(u, prefetch))
		}
		VMOVDQU(us.w(u, 0), y0)
		if us.full {
			VMOVDQU(us.w(u, 32), y1)
		} else {
			VMOVDQU(us.w(u, 32), y1.AsX())
			q := XMM()
			VMOVD(us.w(u, 48), q)
			VINSERTI128(U8(1), q, y1, y1)
		}
		s := make([]reg.VecVirtual, k.T)
		for n := 0; n < 5; n++ {
			for h, y := range []reg.VecVirtual{y0, y1} {
				d := k.trits(y, n < 4)
				for t := 0; t < k.T; t++ {
					k.maddAdd(&s[t], us.x(u, t, 64*n+32*h), d)
				}
			}
		}
		for t := range s {
			k.widenAdd(us.acc(u, t, 0), s[t])
		}
	}
}

// reduce returns a vector whose lane i holds the sum of the lanes of
// accs[i], by a transposing tree of shuffles and adds.
func (k *kernel) reduce(accs []reg.VecVirtual) reg.VecVirtual {
	if len(accs) == 1 {
		return k.hsum(accs[0])
	}
	L := k.lanes()
	type sv struct {
		v     reg.VecVirtual
		lanes []int // the accumulator whose partial sum each lane holds; -1: zero
	}
	vs := make([]sv, len(accs))
	for i, a := range accs {
		lanes := make([]int, L)
		for j := range lanes {
			lanes[j] = i
		}
		vs[i] = sv{a, lanes}
	}
	var zero *sv
	steps := []string{"A", "B", "C", "D"}
	if !k.lv.avx512 {
		steps = []string{"A2", "C", "D"}
	}
	for _, st := range steps {
		var next []sv
		for i := 0; i < len(vs); i += 2 {
			a := vs[i]
			var b sv
			if i+1 < len(vs) {
				b = vs[i+1]
			} else {
				if zero == nil {
					z := k.vec()
					k.zero(z)
					zl := make([]int, L)
					for j := range zl {
						zl[j] = -1
					}
					zero = &sv{z, zl}
				}
				b = *zero
			}
			t1, t2 := k.vec(), k.vec()
			var p1, p2 func(j int) int // source lane of t1/t2 lane j: < L from a, >= L from b
			switch st {
			case "A":
				VSHUFI64X2(U8(0x44), b.v, a.v, t1)
				VSHUFI64X2(U8(0xee), b.v, a.v, t2)
				p1 = func(j int) int { return j%8 + L*(j/8) }
				p2 = func(j int) int { return 8 + j%8 + L*(j/8) }
			case "B":
				VSHUFI64X2(U8(0x88), b.v, a.v, t1)
				VSHUFI64X2(U8(0xdd), b.v, a.v, t2)
				p1 = func(j int) int { return j%4 + 8*(j/4%2) + L*(j/8) }
				p2 = func(j int) int { return 4 + j%4 + 8*(j/4%2) + L*(j/8) }
			case "A2":
				VPERM2I128(U8(0x20), b.v, a.v, t1)
				VPERM2I128(U8(0x31), b.v, a.v, t2)
				p1 = func(j int) int { return j%4 + L*(j/4) }
				p2 = func(j int) int { return 4 + j%4 + L*(j/4) }
			case "C":
				VPUNPCKLQDQ(b.v, a.v, t1)
				VPUNPCKHQDQ(b.v, a.v, t2)
				p1 = func(j int) int { return j/4*4 + j%2 + L*(j%4/2) }
				p2 = func(j int) int { return j/4*4 + 2 + j%2 + L*(j%4/2) }
			case "D":
				VSHUFPS(U8(0x88), b.v, a.v, t1)
				VSHUFPS(U8(0xdd), b.v, a.v, t2)
				p1 = func(j int) int { return j/4*4 + 2*(j%2) + L*(j%4/2) }
				p2 = func(j int) int { return j/4*4 + 2*(j%2) + 1 + L*(j%4/2) }
			}
			VPADDD(t2, t1, t1)
			src := func(p int) int {
				if p < L {
					return a.lanes[p]
				}
				return b.lanes[p-L]
			}
			lanes := make([]int, L)
			for j := range lanes {
				l1, l2 := src(p1(j)), src(p2(j))
				switch {
				case l1 == -1:
					lanes[j] = l2
				case l2 == -1 || l1 == l2:
					lanes[j] = l1
				default:
					panic(fmt.Sprintf("reduce: step %s adds accumulators %d and %d", st, l1, l2))
				}
			}
			next = append(next, sv{t1, lanes})
		}
		vs = next
	}
	if len(vs) != 1 {
		panic("reduce: more than one vector left")
	}
	pos := make([]int, len(accs))
	for i := range pos {
		pos[i] = -1
	}
	for j, l := range vs[0].lanes {
		if l >= 0 {
			if pos[l] >= 0 {
				panic(fmt.Sprintf("reduce: accumulator %d left in two lanes", l))
			}
			pos[l] = j
		}
	}
	identity := true
	for i, p := range pos {
		if p < 0 {
			panic(fmt.Sprintf("reduce: accumulator %d lost", i))
		}
		identity = identity && p == i
	}
	if identity {
		return vs[0].v
	}
	name := "reduce"
	for _, p := range pos {
		name += fmt.Sprintf("_%d", p)
	}
	iv := k.vec()
	VMOVDQU32orU(k, index(name, pos), iv)
	VPERMD(vs[0].v, iv, vs[0].v)
	return vs[0].v
}

// hsum returns a vector whose lane 0 holds the sum of the lanes of a.
func (k *kernel) hsum(a reg.VecVirtual) reg.VecVirtual {
	var y reg.Register = a.AsY()
	if k.lv.avx512 {
		hi, sum := YMM(), YMM()
		VEXTRACTI64X4(U8(1), a, hi)
		VPADDD(hi, a.AsY(), sum)
		y = sum
	}
	hi, x := XMM(), XMM()
	if k.lv.avx512 {
		VEXTRACTI32X4(U8(1), y, hi)
	} else {
		VEXTRACTI128(U8(1), y, hi)
	}
	VPADDD(hi, y.(reg.Vec).AsX(), x)
	t := XMM()
	VPSHUFD(U8(0x4e), x, t)
	VPADDD(t, x, x)
	VPSHUFD(U8(0xb1), x, t)
	VPADDD(t, x, x)
	return x
}
