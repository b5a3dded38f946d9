package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randTernaryBytes returns a rows x cols ternary matrix of random bytes:
// every 2-bit code value including the invalid 3, every TQ1_0 byte value
// (not only valid base-3 encodings), a random finite f16 d per TQ block and
// a random I2_S scale. data is placed at byte offset off of a larger
// buffer, and, when fenced, right before an unreadable page (see
// fencedBytes), so that reading past the matrix faults.
func randTernaryBytes(t testing.TB, r *rand.Rand, typ DType, rows, cols, off int, fenced bool) *Matrix {
	size, err := MatrixBytes(typ, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	if fenced {
		data = fencedBytes(t, size)
	}
	if data == nil {
		data = make([]byte, size+off)[off:]
	}
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	switch {
	case typ.tensorScale():
		binary.LittleEndian.PutUint32(data[size-I2STrailer:], math.Float32bits(float32(r.Float64()+0.5)))
	default:
		bb := typ.BlockBytes()
		for b := 0; b < rows*cols/256; b++ {
			h := F32ToF16(float32((r.Float64() - 0.3) * math.Exp(r.NormFloat64()*3)))
			binary.LittleEndian.PutUint16(data[b*bb+bb-2:], h)
		}
	}
	m, err := NewMatrix(typ, rows, cols, data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// uniformScale gives every block of the TQ1_0 or TQ2_0 matrix m one random
// d and marks it for the whole-row sums (Matrix.UseUniformScale).
func uniformScale(t testing.TB, r *rand.Rand, m *Matrix) {
	h := F32ToF16(float32((r.Float64() + 0.1) * math.Exp(r.NormFloat64()*3)))
	bb := m.Type.BlockBytes()
	for b := 0; b < m.Rows*m.Cols/256; b++ {
		binary.LittleEndian.PutUint16(m.Data[bb*b+bb-2:], h)
	}
	if !m.UseUniformScale() {
		t.Fatalf("UseUniformScale refused d %v", F16ToF32(h))
	}
}

// ternaryWant computes MatMulTernary at the Generic level.
func ternaryWant(m *Matrix, xq []int8, inv []float32, n int) []float32 {
	defer SetLevel(Generic)()
	want := make([]float32, n*m.Rows)
	MatMulTernary(want, m, xq, inv, n)
	return want
}

func randXQ(r *rand.Rand, n int) []int8 {
	x := randInt8(r, n)
	switch r.IntN(4) {
	case 0: // extremes
		for i := range x {
			x[i] = []int8{-128, 127}[r.IntN(2)]
		}
	case 1: // mostly zero
		for i := range x {
			if r.IntN(8) != 0 {
				x[i] = 0
			}
		}
	}
	return x
}

// TestTernaryLevels checks every level against the Generic one bit for bit
// on random matrices (random bytes, random per-block d, or TQ1_0 and TQ2_0
// with one d summed whole), 1 to 9 tokens, unaligned and fenced weights, guard-padded
// outputs, 1 to 3 threads.
func TestTernaryLevels(t *testing.T) {
	defer SetThreads(SetThreads(2))
	r := rand.New(rand.NewPCG(21, 22))
	iters := 150
	if testing.Short() {
		iters = 40
	}
	for iter := 0; iter < iters; iter++ {
		typ := []DType{TQ1_0, TQ2_0, I2_S, TQ1_S, TQ1_0, TQ2_0}[iter%6]
		rows := 1 + r.IntN(41)
		if iter%10 == 9 {
			rows = 200 + r.IntN(100) // several chunks per thread
		}
		cols := 256 * (1 + r.IntN(8))
		if typ == I2_S && r.IntN(2) == 0 {
			cols -= 128
		}
		n := 1 + iter%9
		m := randTernaryBytes(t, r, typ, rows, cols, r.IntN(64), iter%4 == 0)
		uniform := iter%6 >= 4
		if uniform {
			uniformScale(t, r, m)
		}
		off := r.IntN(4) // unaligned activations too
		xq := randXQ(r, n*cols+off)[off:]
		inv := make([]float32, n)
		for i := range inv {
			inv[i] = float32(r.Float64() * 0.1)
		}
		want := ternaryWant(m, xq, inv, n)
		SetThreads(1 + iter%3)
		for _, l := range Levels()[1:] {
			func() {
				defer SetLevel(l)()
				name := fmt.Sprintf("%v %v (one d: %v) %dx%d n=%d threads=%d", l, typ, uniform, rows, cols, n, Threads())
				dst, check := guarded(t, n*rows, iter%5, float32(-7))
				MatMulTernary(dst, m, xq, inv, n)
				check()
				compareBits(t, name+" MatMulTernary", dst, want)
				one, check1 := guarded(t, rows, iter%3, float32(-5))
				for tok := 0; tok < n; tok++ {
					MatVecTernary(one, m, xq[tok*cols:(tok+1)*cols], inv[tok])
					check1()
					compareBits(t, fmt.Sprintf("%s MatVecTernary token %d", name, tok), one, want[tok*rows:(tok+1)*rows])
				}
			}()
		}
	}
}

func compareBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: output %d = %v (%#x), want %v (%#x)", name, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestTernaryGenericReference checks ternRowsGeneric (through
// MatMulTernary at the Generic level) against the decode-then-multiply
// loop, on random bytes.
func TestTernaryGenericReference(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for iter := 0; iter < 30; iter++ {
		typ := []DType{TQ1_0, TQ2_0, I2_S, TQ1_S}[iter%4]
		rows, cols := 1+r.IntN(5), 256*(1+r.IntN(3))
		m := randTernaryBytes(t, r, typ, rows, cols, 0, false)
		xq := randXQ(r, cols)
		codes := make([]int8, rows*cols)
		var ds []float32
		for i := 0; i < rows; i++ {
			m.TernaryRow(codes[i*cols:(i+1)*cols], i)
		}
		naiveType := typ
		if typ.tensorScale() {
			naiveType = I2_S // one integer sum per row
		} else {
			bb := typ.BlockBytes()
			for b := 0; b < rows*cols/256; b++ {
				ds = append(ds, getF16(m.Data[b*bb+bb-2:]))
			}
		}
		want := naiveTernary(naiveType, codes, ds, rows, cols, xq, m.Scale, 0.25)
		got := ternaryWant(m, xq, []float32{0.25}, 1)
		compareBits(t, fmt.Sprintf("%v %dx%d", typ, rows, cols), got, want)
	}
}

func TestThreadsAndAllocs(t *testing.T) {
	defer SetThreads(SetThreads(0))
	if Threads() < 1 {
		t.Fatalf("default threads %d", Threads())
	}
	r := rand.New(rand.NewPCG(25, 26))
	for _, typ := range []DType{TQ1_0, TQ2_0, I2_S} {
		m := randTernaryBytes(t, r, typ, 512, 1024, 0, false)
		xq := randXQ(r, 3*1024)
		inv := []float32{0.1, 0.2, 0.3}
		dst := make([]float32, 3*512)
		for _, th := range []int{1, 2, 4} {
			SetThreads(th)
			MatMulTernary(dst, m, xq, inv, 3) // warm the scratch buffers
			if a := testing.AllocsPerRun(20, func() {
				if raceEnabled {
					return
				}
				MatVecTernary(dst[:512], m, xq[:1024], 0.1)
				MatMulTernary(dst, m, xq, inv, 3)
			}); a != 0 {
				t.Errorf("%v threads %d: %v allocations", typ, th, a)
			}
		}
	}
	// The float kernels split their rows too.
	src := make([]float32, 300*256)
	for i := range src {
		src[i] = float32(r.NormFloat64())
	}
	data, _ := Quantize(Q8_0, 300, 256, src)
	m, _ := NewMatrix(Q8_0, 300, 256, data)
	want := make([]float32, 300)
	SetThreads(1)
	MatVec(want, m, src[:256])
	SetThreads(3)
	got := make([]float32, 300)
	MatVec(got, m, src[:256])
	compareBits(t, "MatVec over 3 threads", got, want)
	if a := testing.AllocsPerRun(20, func() { MatVec(got, m, src[:256]) }); a != 0 && !raceEnabled {
		t.Errorf("MatVec: %v allocations", a)
	}
}

// TestPoolConcurrent calls the kernels from several goroutines at once
// while the thread count changes: calls are serialized and every result
// is right.
func TestPoolConcurrent(t *testing.T) {
	defer SetThreads(SetThreads(2))
	r := rand.New(rand.NewPCG(27, 28))
	m := randTernaryBytes(t, r, TQ2_0, 300, 512, 0, false)
	xq := randXQ(r, 2*512)
	inv := []float32{0.5, 0.25}
	want := ternaryWant(m, xq, inv, 2)
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func(g int) {
			dst := make([]float32, 2*300)
			for i := 0; i < 50; i++ {
				if g == 0 && i%10 == 0 {
					SetThreads(1 + i/10%3)
				}
				MatMulTernary(dst, m, xq, inv, 2)
				for k := range want {
					if math.Float32bits(dst[k]) != math.Float32bits(want[k]) {
						done <- fmt.Errorf("goroutine %d call %d: output %d = %v, want %v", g, i, k, dst[k], want[k])
						return
					}
				}
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestTernaryLongRows checks rows of 435200 columns (1700 blocks: the TQ1_S
// difference-form accumulators would overflow without folding) with
// extreme bytes and activations, at every level.
func TestTernaryLongRows(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	const cols = 256 * 1700
	for _, typ := range []DType{TQ1_0, TQ2_0, I2_S, TQ1_S} {
		m := randTernaryBytes(t, r, typ, 5, cols, 0, false)
		// Bytes whose trits or codes are all high (0xff: TQ1 bytes y with
		// large 3^n multiples, 2-bit code 3), keeping the TQ block scales.
		bb := typ.BlockBytes()
		for i := range m.Data[:5*cols/typ.BlockSize()*bb] {
			if typ.tensorScale() || i%bb < bb-2 {
				m.Data[i] = 0xff
			}
		}
		n := 5
		xq := make([]int8, n*cols)
		for i := range xq {
			xq[i] = []int8{-128, 127, -128, -128, 127}[i/cols]
		}
		inv := []float32{1, 0.5, 0.25, 2, 1}
		want := ternaryWant(m, xq, inv, n)
		for _, l := range Levels()[1:] {
			func() {
				defer SetLevel(l)()
				got := make([]float32, n*5)
				MatMulTernary(got, m, xq, inv, n)
				compareBits(t, fmt.Sprintf("%v %v MatMulTernary", l, typ), got, want)
				MatVecTernary(got[:5], m, xq[:cols], 1)
				compareBits(t, fmt.Sprintf("%v %v MatVecTernary", l, typ), got[:5], want[:5])
			}()
		}
	}
}

// FuzzTernaryLevels runs MatMulTernary on fuzzed weight bytes (any codes,
// any block scales) and activations at every level, against Generic.
func FuzzTernaryLevels(f *testing.F) {
	f.Add(uint8(0), uint8(3), uint8(2), uint8(1), []byte{0x55, 0xff, 0x00, 0x3c, 0x80}, []byte{0x80, 0x7f, 0x01})
	f.Add(uint8(1), uint8(7), uint8(5), uint8(2), []byte{0xaa, 0x13, 0xf2}, []byte{0xff, 0x00, 0x80, 0x80})
	f.Add(uint8(3), uint8(1), uint8(9), uint8(3), []byte{0xf3}, []byte{0x7f})
	f.Fuzz(func(t *testing.T, ti, rows, nTok, blocks uint8, w, x []byte) {
		if len(w) == 0 || len(x) == 0 {
			return
		}
		typ := []DType{TQ1_0, TQ2_0, I2_S, TQ1_S}[ti%4]
		nr, n, cols := 1+int(rows%9), 1+int(nTok%9), 256*(1+int(blocks%3))
		size, _ := MatrixBytes(typ, nr, cols)
		data := make([]byte, size)
		for i := range data {
			data[i] = w[i%len(w)] + byte(i/len(w))
		}
		if typ.tensorScale() {
			binary.LittleEndian.PutUint32(data[size-I2STrailer:], math.Float32bits(0.75))
		}
		m, err := NewMatrix(typ, nr, cols, data)
		if err != nil {
			t.Fatal(err)
		}
		xq := make([]int8, n*cols)
		for i := range xq {
			xq[i] = int8(x[i%len(x)] ^ byte(i/len(x)))
		}
		inv := make([]float32, n)
		for i := range inv {
			inv[i] = 1 / float32(i+1)
		}
		want := ternaryWant(m, xq, inv, n)
		for _, l := range Levels()[1:] {
			func() {
				defer SetLevel(l)()
				got := make([]float32, n*nr)
				MatMulTernary(got, m, xq, inv, n)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
						t.Fatalf("%v %v %dx%d n=%d: output %d = %v, want %v", l, typ, nr, cols, n, i, got[i], want[i])
					}
				}
			}()
		}
	})
}

// TestTernaryBlockCounts checks one-token tiles of 4 rows against the
// reference for every block count from 1 to 6: the AVX512 kernels take a
// row's blocks two at a time and the odd last one alone.
func TestTernaryBlockCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, typ := range []DType{TQ2_0, TQ1_0} {
		for nb := 1; nb <= 6; nb++ {
			rows, cols := 8, 256*nb
			m := randTernaryBytes(t, r, typ, rows, cols, 0, false)
			xq := randXQ(r, cols)
			want := ternaryWant(m, xq, []float32{0.03}, 1)
			for _, l := range Levels() {
				func() {
					defer SetLevel(l)()
					got := make([]float32, rows)
					MatVecTernary(got, m, xq, 0.03)
					compareBits(t, fmt.Sprintf("%v %v %d blocks", l, typ, nb), got, want)
				}()
			}
		}
	}
}
