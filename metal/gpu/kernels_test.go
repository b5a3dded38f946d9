package gpu

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// The kernel tests run every kernel of kernels.metal on each available
// device (the C++ emulation on any machine with g++ or clang++, and Metal on
// a Mac) over its whole grid, against the Go reference kernels of package
// metal: bit-exact for the integer part, within float32 rounding after it.

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && emuDev != nil && flag.Lookup("test.run").Value.String() == "" && !testing.Short() {
		// Every kernel must have run on the emulator in the tests above.
		st, err := emuDev.b.(*emuBackend).stats()
		if err != nil {
			fmt.Fprintln(os.Stderr, "kernel coverage:", err)
			code = 1
		}
		for _, name := range kernelNames {
			if st[name] == 0 {
				fmt.Fprintf(os.Stderr, "kernel %s never ran in the tests\n", name)
				code = 1
			}
		}
	}
	if emuDev != nil {
		emuDev.Close()
	}
	os.Exit(code)
}

// devices returns the devices to test on, skipping t when there is none.
func devices(t *testing.T) []*Device {
	t.Helper()
	var ds []*Device
	var why []string
	harnessOnce.Do(func() { harnessPath, harnessErr = buildHarness() })
	switch {
	case harnessErr != nil:
		t.Fatal(harnessErr)
	case harnessSkip != "":
		why = append(why, harnessSkip)
	default:
		ds = append(ds, emulated(t))
	}
	if d, err := Default(); err == nil {
		ds = append(ds, d)
	} else if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("opening Metal: %v", err)
	} else {
		why = append(why, err.Error())
	}
	if len(ds) == 0 {
		t.Skip(why)
	}
	return ds
}

// forDevices runs f as a subtest on every device.
func forDevices(t *testing.T, f func(t *testing.T, k *kt)) {
	for _, d := range devices(t) {
		t.Run(d.Name(), func(t *testing.T) { f(t, newKT(t, d)) })
	}
}

// kt builds and runs one command buffer on a device.
type kt struct {
	t *testing.T
	d *Device
	g graph
}

func newKT(t *testing.T, d *Device) *kt {
	return &kt{t: t, d: d}
}

func (k *kt) buf(b []byte) ref {
	k.t.Helper()
	id, err := k.d.b.newBuffer(max(len(b), 16))
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() { k.d.b.free(id) })
	if len(b) > 0 {
		if err := k.d.b.write(id, 0, b); err != nil {
			k.t.Fatal(err)
		}
	}
	return ref{buf: id}
}

func (k *kt) f32(v []float32) ref { return k.buf(asBytes(v)) }
func (k *kt) zeros(n int) ref     { return k.buf(make([]byte, n)) }

func (k *kt) run() {
	k.t.Helper()
	if err := k.d.b.run(&k.g); err != nil {
		k.t.Fatal(err)
	}
	k.g.reset()
}

func (k *kt) readF32(r ref, n int) []float32 {
	k.t.Helper()
	out := make([]float32, n)
	if err := k.d.b.read(r.buf, r.off, asBytes(out)); err != nil {
		k.t.Fatal(err)
	}
	return out
}

func (k *kt) readI8(r ref, n int) []int8 {
	k.t.Helper()
	out := make([]int8, n)
	if err := k.d.b.read(r.buf, r.off, int8Bytes(out)); err != nil {
		k.t.Fatal(err)
	}
	return out
}

// generic forces the Generic level of package metal/cpu for the references.
func generic(t *testing.T) {
	t.Cleanup(cpu.SetLevel(cpu.Generic))
}

func randFloats(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// close reports whether got is within tol*scale + 1e-30 of want, NaN
// matching NaN.
func closeTo(got, want, tol, scale float32) bool {
	if want != want {
		return got != got
	}
	return float32(math.Abs(float64(got-want))) <= tol*scale+1e-30
}

func absf(v float32) float32 { return float32(math.Abs(float64(v))) }

func maxAbs(v []float32) float32 {
	var m float32
	for _, x := range v {
		m = max(m, float32(math.Abs(float64(x))))
	}
	return m
}

// ---- norm_quant -------------------------------------------------------------------

// quantRows builds rows that exercise QuantizeInt8: random scales over many
// decades (each row's division is a new case for the correction), exact
// ties at .5, all zeros, values under the 1e-5 floor, NaN, ±Inf.
func quantRows(rng *rand.Rand, rows, w int) []float32 {
	x := make([]float32, rows*w)
	for r := range rows {
		row := x[r*w : (r+1)*w]
		switch r {
		case 0: // ties: with amax 127 the scale is 1 and x*s = x
			for i := range row {
				row[i] = float32(i%64) + 0.5 - 32
			}
			row[0] = 127
		case 1: // zeros
		case 2: // under the floor
			for i := range row {
				row[i] = float32(rng.NormFloat64() * 1e-7)
			}
		case 3:
			copy(row, randFloats(rng, w, 1))
			row[5] = float32(math.NaN())
		case 4:
			copy(row, randFloats(rng, w, 1))
			row[7] = float32(math.Inf(-1))
		default:
			copy(row, randFloats(rng, w, math.Pow(10, rng.Float64()*12-6)))
		}
	}
	return x
}

func TestQuantizeInt8(t *testing.T) {
	forDevices(t, func(t *testing.T, k *kt) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, sh := range []struct{ rows, w, stride int }{{40, 300, 384}, {300, 8, 8}, {3, 2560, 2560}} {
			x := quantRows(rng, sh.rows, sh.w)
			xb, xq, inv := k.f32(x), k.buf(slices.Repeat([]byte{0x7f}, sh.rows*sh.stride)), k.zeros(4*sh.rows)
			k.g.add(kNormQuant, grid1(sh.rows), grid1(normThreads), 4*normThreads/simdWidth,
				bufArg(xb), bufArg(xb), bufArg(xq), bufArg(inv), bufArg(xb),
				paramArg(&k.g, normArgs{Width: u32(sh.w), Stride: u32(sh.stride), Flags: normInt8}))
			k.run()
			gq, gi := k.readI8(xq, sh.rows*sh.stride), k.readF32(inv, sh.rows)
			want := make([]int8, sh.w)
			for r := range sh.rows {
				wi := cpu.QuantizeInt8(want, x[r*sh.w:(r+1)*sh.w])
				row := gq[r*sh.stride : (r+1)*sh.stride]
				if math.Float32bits(gi[r]) != math.Float32bits(wi) {
					t.Fatalf("%dx%d row %d: inv %v (%#x), want %v (%#x)", sh.rows, sh.w, r, gi[r], math.Float32bits(gi[r]), wi, math.Float32bits(wi))
				}
				if i := firstDiff(row[:sh.w], want); i >= 0 {
					t.Fatalf("%dx%d row %d: xq[%d] = %d, want %d (x %v, inv %v)", sh.rows, sh.w, r, i, row[i], want[i], x[r*sh.w+i], wi)
				}
				for i := sh.w; i < sh.stride; i++ {
					if row[i] != 0 {
						t.Fatalf("row %d: pad xq[%d] = %d, want 0", r, i, row[i])
					}
				}
			}
		}
	})
}

func firstDiff[T comparable](a, b []T) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

func TestNormQuant(t *testing.T) {
	generic(t)
	forDevices(t, func(t *testing.T, k *kt) {
		rng := rand.New(rand.NewPCG(3, 4))
		const rows, w, stride, eps = 5, 640, 768, 1e-5
		x := randFloats(rng, rows*w, 3)
		weight := randFloats(rng, w, 1)
		for _, flags := range []uint32{normRMS | normWeight | normFloat | normInt8, normRMS | normFloat | normInt8, normRMS | normWeight | normFloat} {
			xb, wb := k.f32(x), k.f32(weight)
			xq, inv, y := k.zeros(rows*stride), k.zeros(4*rows), k.zeros(4*rows*w)
			k.g.add(kNormQuant, grid1(rows), grid1(normThreads), 4*normThreads/simdWidth,
				bufArg(xb), bufArg(wb), bufArg(xq), bufArg(inv), bufArg(y),
				paramArg(&k.g, normArgs{Width: w, Stride: stride, Flags: flags, Eps: eps}))
			k.run()
			gy, gq, gi := k.readF32(y, rows*w), k.readI8(xq, rows*stride), k.readF32(inv, rows)
			ref := make([]float32, w)
			q := make([]int8, w)
			for r := range rows {
				var wt []float32
				if flags&normWeight != 0 {
					wt = weight
				}
				cpu.RMSNorm(ref, x[r*w:(r+1)*w], wt, eps)
				yr := gy[r*w : (r+1)*w]
				for i := range ref {
					if !closeTo(yr[i], ref[i], 1e-5, maxAbs(ref)) {
						t.Fatalf("flags %d row %d: y[%d] = %v, want %v", flags, r, i, yr[i], ref[i])
					}
				}
				if flags&normInt8 == 0 {
					continue
				}
				// The integer part is exact given the GPU's own floats.
				wi := cpu.QuantizeInt8(q, yr)
				if gi[r] != wi {
					t.Fatalf("flags %d row %d: inv %v, want %v", flags, r, gi[r], wi)
				}
				if i := firstDiff(gq[r*stride:r*stride+w], q); i >= 0 {
					t.Fatalf("flags %d row %d: xq[%d] = %d, want %d", flags, r, i, gq[r*stride+i], q[i])
				}
			}
		}
	})
}

// ---- ternary matrices ---------------------------------------------------------------

// ternaryCase runs the ternary kernel of mt's type on n tokens and compares
// with cpu.MatMulTernary on src (bit for bit), with and without
// accumulation.
func ternaryCase(t *testing.T, k *kt, src *cpu.Matrix, data []byte, typ cpu.DType, n int, rng *rand.Rand) {
	t.Helper()
	// Odd tokens are all 127: large block sums, whose products with the
	// f16 block scales round in float32 (so the order of operations shows).
	xq := make([]int8, n*src.Cols)
	for i := range xq {
		xq[i] = int8(rng.Uint32())
		if i/src.Cols%2 == 1 {
			xq[i] = 127
		}
	}
	inv := randFloats(rng, n, 0.01)
	want := make([]float32, n*src.Rows)
	cpu.MatMulTernary(want, src, xq, inv, n)
	vec, mat, perSG := kI2SVec, kI2SMat, i2sRows
	if typ == cpu.TQ2_0 {
		vec, mat, perSG = kTQ2Vec, kTQ2Mat, tq2Rows
	}
	for _, accumulate := range []bool{false, true} {
		init := randFloats(rng, n*src.Rows, 1)
		w, xb, ib, dst := k.buf(data), k.buf(int8Bytes(xq)), k.f32(inv), k.f32(init)
		groups := [3]int{ceilDiv(src.Rows, ternSG*perSG), 1, 1}
		kern := vec
		if n > 1 {
			kern, groups[1] = mat, ceilDiv(n, ternTokens)
		}
		acc := uint32(0)
		if accumulate {
			acc = 1
		}
		k.g.add(kern, groups, grid1(ternSG*simdWidth), 0, bufArg(w), bufArg(xb), bufArg(ib), bufArg(dst),
			paramArg(&k.g, ternaryArgs{Rows: u32(src.Rows), Cols: u32(src.Cols), N: u32(n), Accumulate: acc, Scale: src.Scale}))
		k.run()
		got := k.readF32(dst, n*src.Rows)
		for i := range got {
			exp := want[i]
			if accumulate {
				exp = init[i] + want[i]
				// Metal may fuse the residual add with the scaling into an
				// FMA (one rounding instead of two); the emulator may not.
				if _, emu := k.d.b.(*emuBackend); !emu && closeTo(got[i], exp, 0x1p-23, absf(init[i])+absf(want[i])) {
					continue
				}
			}
			if math.Float32bits(got[i]) != math.Float32bits(exp) {
				t.Fatalf("%v %dx%d, %d tokens, accumulate %v: out[token %d][row %d] = %v, want %v",
					src.Type, src.Rows, src.Cols, n, accumulate, i/src.Rows, i%src.Rows, got[i], exp)
			}
		}
	}
}

func TestTernaryI2S(t *testing.T) {
	generic(t)
	forDevices(t, func(t *testing.T, k *kt) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, sh := range []struct{ rows, cols int }{{37, 128}, {13, 384}, {64, 1024}} {
			// Random bytes: every code, the invalid 3 (+2) included.
			data := randBytes(rng, sh.rows*sh.cols/4+cpu.I2STrailer)
			scale := float32(0.37)
			copy(data[sh.rows*sh.cols/4:], asBytes([]float32{scale}))
			m, err := cpu.NewMatrix(cpu.I2_S, sh.rows, sh.cols, data)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 3, 8, 13} {
				ternaryCase(t, k, m, data[:sh.rows*sh.cols/4], cpu.I2_S, n, rng)
			}
		}
	})
}

func TestTernaryTQ(t *testing.T) {
	generic(t)
	forDevices(t, func(t *testing.T, k *kt) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, sh := range []struct{ rows, cols int }{{11, 256}, {20, 768}} {
			// TQ2_0 from random bytes (every code) with random f16 scales.
			data := randBytes(rng, sh.rows*sh.cols/256*66)
			for b := 0; b < len(data)/66; b++ {
				copy(data[66*b+64:], f16Bytes(float32(rng.Float64()*2-1)))
			}
			m, err := cpu.NewMatrix(cpu.TQ2_0, sh.rows, sh.cols, data)
			if err != nil {
				t.Fatal(err)
			}
			m.Scale = 1.25
			for _, n := range []int{1, 2, 9} {
				ternaryCase(t, k, m, data, cpu.TQ2_0, n, rng)
			}
			// TQ1_0 (valid encodings only), repacked to TQ2_0 at upload.
			q1, err := cpu.Quantize(cpu.TQ1_0, sh.rows, sh.cols, randFloats(rng, sh.rows*sh.cols, 1))
			if err != nil {
				t.Fatal(err)
			}
			m1, err := cpu.NewMatrix(cpu.TQ1_0, sh.rows, sh.cols, q1)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 4} {
				ternaryCase(t, k, m1, repackTQ1(m1), cpu.TQ2_0, n, rng)
			}
		}
	})
}

func f16Bytes(v float32) []byte {
	h := cpu.F32ToF16(v)
	return []byte{byte(h), byte(h >> 8)}
}

func TestRepackTQ1(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const rows, cols = 3, 512
	q1, err := cpu.Quantize(cpu.TQ1_0, rows, cols, randFloats(rng, rows*cols, 1))
	if err != nil {
		t.Fatal(err)
	}
	m1, _ := cpu.NewMatrix(cpu.TQ1_0, rows, cols, q1)
	m2, err := cpu.NewMatrix(cpu.TQ2_0, rows, cols, repackTQ1(m1))
	if err != nil {
		t.Fatal(err)
	}
	a, b := make([]float32, cols), make([]float32, cols)
	for r := range rows {
		m1.Row(a, r)
		m2.Row(b, r)
		if i := firstDiff(a, b); i >= 0 {
			t.Fatalf("row %d col %d: TQ1_0 %v, repacked TQ2_0 %v", r, i, a[i], b[i])
		}
	}
}

// ---- float-weight matrices -------------------------------------------------------------

func TestFloatMatmul(t *testing.T) {
	generic(t)
	forDevices(t, func(t *testing.T, k *kt) {
		rng := rand.New(rand.NewPCG(11, 12))
		const rows, cols = 19, 512
		for typ, kern := range map[cpu.DType]kernelID{cpu.F32: kMatF32, cpu.F16: kMatF16, cpu.BF16: kMatBF16,
			cpu.Q8_0: kMatQ8_0, cpu.Q4_0: kMatQ4_0, cpu.Q6_K: kMatQ6K} {
			data, err := cpu.Quantize(typ, rows, cols, randFloats(rng, rows*cols, 0.5))
			if err != nil {
				t.Fatal(err)
			}
			m, _ := cpu.NewMatrix(typ, rows, cols, data)
			m.Scale = 0.75
			rb, _ := cpu.RowBytes(typ, cols)
			for _, n := range []int{1, 6} {
				x := randFloats(rng, n*cols, 1)
				// The reference in float64 with float activations, as the
				// GPU computes it (the CPU levels quantize the activations
				// of Q8_0, Q4_0 and Q6_K to int8), and the bound of the
				// float32 sums: Σ|w||x| per output.
				want := make([]float32, n*rows)
				bound := make([]float32, n*rows)
				wr := make([]float32, cols)
				for r := range rows {
					m.Row(wr, r)
					for tk := range n {
						var s float32
						var ref float64
						for j, w := range wr {
							s += float32(math.Abs(float64(w * x[tk*cols+j])))
							ref += float64(w) * float64(x[tk*cols+j])
						}
						want[tk*rows+r] = float32(ref)
						bound[tk*rows+r] = s
					}
				}
				for _, accumulate := range []uint32{0, 1} {
					init := randFloats(rng, n*rows, 1)
					w, xb, dst := k.buf(data), k.f32(x), k.f32(init)
					k.g.add(kern, [3]int{ceilDiv(rows, floatSG*floatRows), ceilDiv(n, floatTokens), 1}, grid1(floatSG*simdWidth), 0,
						bufArg(w), bufArg(xb), bufArg(dst),
						paramArg(&k.g, floatArgs{Rows: rows, Cols: cols, N: u32(n), Accumulate: accumulate, RowBytes: u32(rb), Scale: m.Scale}))
					k.run()
					got := k.readF32(dst, n*rows)
					for i := range got {
						exp := want[i]
						if accumulate == 1 {
							exp += init[i]
						}
						if !closeTo(got[i], exp, 2e-6, bound[i]+1) {
							t.Fatalf("%v n %d accumulate %d: out[%d] = %v, want %v", typ, n, accumulate, i, got[i], exp)
						}
					}
				}
			}
		}
	})
}

// ---- RoPE, attention, elementwise ------------------------------------------------------

// ropeInterleaved is the session's RoPE over adjacent pairs.
func ropeInterleaved(x []float32, nHeads, headDim int, cos, sin []float32) {
	for h := range nHeads {
		v := x[h*headDim : (h+1)*headDim]
		for i := range headDim / 2 {
			a, b := v[2*i], v[2*i+1]
			v[2*i] = float32(a*cos[i]) - float32(b*sin[i])
			v[2*i+1] = float32(b*cos[i]) + float32(a*sin[i])
		}
	}
}

func TestRoPE(t *testing.T) {
	forDevices(t, func(t *testing.T, k *kt) {
		rng := rand.New(rand.NewPCG(13, 14))
		const heads, hd, n, pos0, ctx = 3, 64, 4, 5, 16
		cos, sin := make([]float32, ctx*hd/2), make([]float32, ctx*hd/2)
		for i := range cos {
			s, c := math.Sincos(rng.Float64() * 6)
			cos[i], sin[i] = float32(c), float32(s)
		}
		for _, il := range []uint32{0, 1} {
			x := randFloats(rng, n*heads*hd, 1)
			xb, cb, sb := k.f32(x), k.f32(cos), k.f32(sin)
			total := n * heads * hd / 2
			k.g.add(kRope, grid1(ceilDiv(total, elemThreads)), grid1(elemThreads), 0, bufArg(xb), bufArg(cb), bufArg(sb),
				paramArg(&k.g, ropeArgs{Heads: heads, HeadDim: hd, N: n, Pos0: pos0, Stride: heads * hd, Interleaved: il}))
			k.run()
			got := k.readF32(xb, len(x))
			for tk := range n {
				p := pos0 + tk
				row := x[tk*heads*hd : (tk+1)*heads*hd]
				c, s := cos[p*hd/2:(p+1)*hd/2], sin[p*hd/2:(p+1)*hd/2]
				if il == 1 {
					ropeInterleaved(row, heads, hd, c, s)
				} else {
					cpu.RoPE(row, heads, hd, c, s)
				}
			}
			for i := range got {
				if !closeTo(got[i], x[i], 1e-6, 1) {
					t.Fatalf("interleaved %d: x[%d] = %v, want %v", il, i, got[i], x[i])
				}
			}
		}
	})
}

// attendRef is the session's attention for one token at position p.
func attendRef(out, q, keys, vals []float32, heads, kvHeads, hd, p int) {
	kvd, n := kvHeads*hd, p+1
	group := heads / kvHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	a := make([]float32, n)
	for h := range heads {
		qh := q[h*hd : (h+1)*hd]
		kv := (h / group) * hd
		for j := range n {
			a[j] = cpu.Dot(qh, keys[j*kvd+kv:j*kvd+kv+hd]) * scale
		}
		cpu.Softmax(a)
		oh := out[h*hd : (h+1)*hd]
		clear(oh)
		for j := range n {
			cpu.AxpyTo(oh, a[j], vals[j*kvd+kv:j*kvd+kv+hd])
		}
	}
}

func TestAttention(t *testing.T) {
	generic(t)
	forDevices(t, func(t *testing.T, k *kt) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, sh := range []struct{ heads, kvHeads, hd, pos0, n int }{{4, 2, 64, 290, 3}, {2, 2, 256, 0, 2}, {6, 3, 80, 40, 5}} {
			qd, kvd, npos := sh.heads*sh.hd, sh.kvHeads*sh.hd, sh.pos0+sh.n
			q := randFloats(rng, sh.n*qd, 1)
			keys, vals := randFloats(rng, npos*kvd, 1), randFloats(rng, npos*kvd, 1)
			qb, kb, vb, out := k.f32(q), k.f32(keys), k.f32(vals), k.zeros(4*sh.n*qd)
			k.g.add(kAttention, [3]int{sh.heads, sh.n, 1}, grid1(attThreads), 4*attChunk,
				bufArg(qb), bufArg(kb), bufArg(vb), bufArg(out),
				paramArg(&k.g, attnArgs{Heads: u32(sh.heads), KVHeads: u32(sh.kvHeads), HeadDim: u32(sh.hd), Pos0: u32(sh.pos0),
					QStride: u32(qd), KVStride: u32(kvd), Scale: float32(1 / math.Sqrt(float64(sh.hd)))}))
			k.run()
			got := k.readF32(out, sh.n*qd)
			want := make([]float32, qd)
			for tk := range sh.n {
				p := sh.pos0 + tk
				attendRef(want, q[tk*qd:(tk+1)*qd], keys, vals, sh.heads, sh.kvHeads, sh.hd, p)
				for i, w := range want {
					if g := got[tk*qd+i]; !closeTo(g, w, 1e-5, 1) {
						t.Fatalf("%+v token %d: out[%d] = %v, want %v", sh, tk, i, g, w)
					}
				}
			}
		}
	})
}

func TestActMul(t *testing.T) {
	forDevices(t, func(t *testing.T, k *kt) {
		rng := rand.New(rand.NewPCG(17, 18))
		const count = 1000
		for _, relu := range []uint32{0, 1} {
			gate, up := randFloats(rng, count, 3), randFloats(rng, count, 1)
			gb, ub := k.f32(gate), k.f32(up)
			k.g.add(kActMul, grid1(ceilDiv(count, elemThreads)), grid1(elemThreads), 0, bufArg(gb), bufArg(ub),
				paramArg(&k.g, actArgs{Count: count, ReLU2: relu}))
			k.run()
			got := k.readF32(gb, count)
			for i, g := range gate {
				var want float32
				if relu == 1 {
					g = max(g, 0)
					want = g * g * up[i]
				} else {
					want = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
				}
				tol := float32(2e-7)
				if relu == 1 {
					tol = 0
				}
				if !closeTo(got[i], want, tol, float32(math.Abs(float64(want)))) {
					t.Fatalf("relu2 %d: gate[%d] = %v, want %v", relu, i, got[i], want)
				}
			}
		}
	})
}

func TestDequantInt8(t *testing.T) {
	forDevices(t, func(t *testing.T, k *kt) {
		rng := rand.New(rand.NewPCG(19, 20))
		const n, cols = 3, 384
		xq := make([]int8, n*cols)
		for i := range xq {
			xq[i] = int8(rng.Uint32())
		}
		inv := randFloats(rng, n, 0.1)
		qb, ib, out := k.buf(int8Bytes(xq)), k.f32(inv), k.zeros(4*n*cols)
		k.g.add(kDequantInt8, grid1(ceilDiv(n*cols, elemThreads)), grid1(elemThreads), 0, bufArg(qb), bufArg(ib), bufArg(out),
			paramArg(&k.g, dequantArgs{Cols: cols, Count: n * cols}))
		k.run()
		got := k.readF32(out, n*cols)
		for i, q := range xq {
			if want := float32(q) * inv[i/cols]; got[i] != want {
				t.Fatalf("xf[%d] = %v, want %v", i, got[i], want)
			}
		}
	})
}
