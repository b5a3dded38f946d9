package cpu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestTQ1SLayout packs random codes as TQ1_S and reads them back: sizes,
// trailer scale, TernaryRow, Row, and the byte layout (a TQ1_0 block
// without its d).
func TestTQ1SLayout(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, shape := range [][2]int{{1, 256}, {3, 512}, {7, 2560}} {
		rows, cols := shape[0], shape[1]
		codes := randTernary(r, rows*cols)
		data, err := PackTernary(TQ1_S, codes, rows, cols, 0.75)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := MatrixBytes(TQ1_S, rows, cols); len(data) != n || n != rows*cols/256*52+32 {
			t.Fatalf("%dx%d: %d bytes, MatrixBytes %d", rows, cols, len(data), n)
		}
		m, err := NewMatrix(TQ1_S, rows, cols, data)
		if err != nil {
			t.Fatal(err)
		}
		if m.Scale != 0.75 {
			t.Fatalf("scale %v", m.Scale)
		}
		got := make([]int8, cols)
		row := make([]float32, cols)
		for i := 0; i < rows; i++ {
			m.TernaryRow(got, i)
			m.Row(row, i)
			for j := range got {
				if c := codes[i*cols+j]; got[j] != c || row[j] != 0.75*float32(c) {
					t.Fatalf("%dx%d row %d col %d: code %d, Row %v, want %d", rows, cols, i, j, got[j], row[j], c)
				}
			}
		}
		// The same blocks as TQ1_0 without d.
		tq1, _ := PackTernary(TQ1_0, codes, rows, cols, 1)
		for b := 0; b < rows*cols/256; b++ {
			if string(tq1[54*b:54*b+52]) != string(data[52*b:52*b+52]) {
				t.Fatalf("block %d differs from TQ1_0's", b)
			}
		}
	}
	// A non-finite trailer scale is refused.
	data, _ := PackTernary(TQ1_S, make([]int8, 256), 1, 256, 1)
	binary.LittleEndian.PutUint32(data[52:], math.Float32bits(float32(math.Inf(1))))
	if _, err := NewMatrix(TQ1_S, 1, 256, data); !errors.Is(err, ErrValue) {
		t.Errorf("Inf scale: %v", err)
	}
	if _, err := NewMatrix(TQ1_S, 1, 256, data[:52]); !errors.Is(err, ErrShape) {
		t.Errorf("no trailer: %v", err)
	}
}

// TestTQ1SQuantize checks Quantize(TQ1_S): scale = tensor absmax, code =
// round(x/scale) half away from zero.
func TestTQ1SQuantize(t *testing.T) {
	x := make([]float32, 512)
	x[0], x[1], x[2], x[3], x[300] = -4, 2, 1.99, -2, 0.5
	data, err := Quantize(TQ1_S, 2, 256, x)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := NewMatrix(TQ1_S, 2, 256, data)
	row := make([]float32, 256)
	m.Row(row, 0)
	if m.Scale != 4 || row[0] != -4 || row[1] != 4 || row[2] != 0 || row[3] != -4 {
		t.Errorf("scale %v, row %v", m.Scale, row[:4])
	}
	m.Row(row, 1)
	if row[44] != 0 {
		t.Errorf("0.5/4 rounds to 0, got %v", row[44])
	}
}

// TestRepack converts between the ternary layouts: I2_S <-> TQ1_S exactly
// (same bytes back, same MatVecTernary bits), TQ2_0/TQ1_0 with one common d
// (and zero-d blocks), and the refusals.
func TestRepack(t *testing.T) {
	defer SetThreads(SetThreads(2))
	r := rand.New(rand.NewPCG(53, 54))
	rows, cols := 37, 1024
	codes := randTernary(r, rows*cols)
	i2s, _ := PackTernary(I2_S, codes, rows, cols, 0.3)
	mi, _ := NewMatrix(I2_S, rows, cols, i2s)
	ms, err := Repack(mi, TQ1_S)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Repack(ms, I2_S)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Data) != string(mi.Data) {
		t.Fatal("I2_S -> TQ1_S -> I2_S changed the bytes")
	}
	xq := randXQ(r, 3*cols)
	inv := []float32{0.01, 0.02, 0.03}
	for _, l := range Levels() {
		func() {
			defer SetLevel(l)()
			want := make([]float32, 3*rows)
			got := make([]float32, 3*rows)
			MatMulTernary(want, mi, xq, inv, 3)
			MatMulTernary(got, ms, xq, inv, 3)
			compareBits(t, fmt.Sprintf("%v TQ1_S from I2_S", l), got, want)
		}()
	}

	// TQ2_0 and TQ1_0 with d = 0.5 everywhere, except one block with d = 0
	// (its codes are not zero: its weights are).
	for _, typ := range []DType{TQ2_0, TQ1_0} {
		data, _ := PackTernary(typ, codes, rows, cols, 0.5)
		bb := typ.BlockBytes()
		binary.LittleEndian.PutUint16(data[5*bb+bb-2:], 0)
		m, _ := NewMatrix(typ, rows, cols, data)
		s, err := Repack(m, TQ1_S)
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		if s.Scale != 0.5 {
			t.Errorf("%v: scale %v", typ, s.Scale)
		}
		a, b := make([]float32, cols), make([]float32, cols)
		for i := 0; i < rows; i++ {
			m.Row(a, i)
			s.Row(b, i)
			for j := range a {
				if a[j] != b[j] {
					t.Fatalf("%v row %d col %d: %v, repacked %v", typ, i, j, a[j], b[j])
				}
			}
		}
		// A block with another d cannot be repacked.
		binary.LittleEndian.PutUint16(data[7*bb+bb-2:], F32ToF16(0.25))
		if _, err := Repack(m, TQ1_S); !errors.Is(err, ErrValue) {
			t.Errorf("%v with two block scales: %v", typ, err)
		}
	}

	// The invalid 2-bit code 3 (weight +2) has no trit.
	bad := append([]byte(nil), i2s...)
	bad[100] = 0xff
	mb, _ := NewMatrix(I2_S, rows, cols, bad)
	if _, err := Repack(mb, TQ1_S); !errors.Is(err, ErrValue) {
		t.Errorf("code 3: %v", err)
	}
	if _, err := Repack(mi, TQ2_0); !errors.Is(err, ErrShape) {
		t.Errorf("to TQ2_0: %v", err)
	}
	odd, _ := PackTernary(I2_S, make([]int8, 384), 1, 384, 1)
	mo, _ := NewMatrix(I2_S, 1, 384, odd)
	if _, err := Repack(mo, TQ1_S); !errors.Is(err, ErrShape) {
		t.Errorf("384 columns to TQ1_S: %v", err)
	}
}

// TestUniformScale checks TQ1_0 with one d everywhere: UseUniformScale
// accepts it, and every level then gives the bits of the same weights
// repacked as TQ1_S (one integer sum per row, scaled once). A single block
// with another d, a zero d or a non-TQ1_0 type is refused and keeps the
// per-block sums exactly.
func TestUniformScale(t *testing.T) {
	defer SetThreads(SetThreads(2))
	r := rand.New(rand.NewPCG(55, 56))
	rows, cols, n := 70, 2560, 3
	codes := randTernary(r, rows*cols)
	data, _ := PackTernary(TQ1_0, codes, rows, cols, 0.0213)
	xq := randXQ(r, n*cols)
	inv := []float32{0.011, 0.027, 0.0031}
	perBlock, _ := NewMatrix(TQ1_0, rows, cols, data) // never marked
	m, _ := NewMatrix(TQ1_0, rows, cols, data)
	m.Scale = 1.7
	perBlock.Scale = 1.7
	if !m.UseUniformScale() {
		t.Fatal("one d everywhere: refused")
	}
	s, err := Repack(m, TQ1_S)
	if err != nil {
		t.Fatal(err)
	}
	wantS := ternaryWant(s, xq, inv, n)
	wantBlock := ternaryWant(perBlock, xq, inv, n)
	differ := false
	for i := range wantS {
		differ = differ || wantS[i] != wantBlock[i]
	}
	if !differ {
		t.Log("whole-row and per-block sums agree on every output (rounding unlucky)")
	}
	for _, l := range Levels() {
		func() {
			defer SetLevel(l)()
			got := make([]float32, n*rows)
			MatMulTernary(got, m, xq, inv, n)
			compareBits(t, fmt.Sprintf("%v one d", l), got, wantS)
			one := make([]float32, rows)
			MatVecTernary(one, m, xq[:cols], inv[0])
			compareBits(t, fmt.Sprintf("%v one d MatVec", l), one, wantS[:rows])
		}()
	}

	// FirstNonFinite's pass (the model's load) marks it too.
	viaScan, _ := NewMatrix(TQ1_0, rows, cols, data)
	viaScan.Scale = 1.7
	if _, _, found := FirstNonFinite(viaScan); found || viaScan.blockD != m.blockD {
		t.Fatalf("FirstNonFinite: found %v, d %v, want %v", found, viaScan.blockD, m.blockD)
	}

	refuse := func(name string, m *Matrix) {
		t.Helper()
		if m.UseUniformScale() {
			t.Fatalf("%s: accepted", name)
		}
		if FirstNonFinite(m); m.blockD != 0 {
			t.Fatalf("%s: FirstNonFinite accepted", name)
		}
		want := make([]float32, n*rows)
		plain := *m
		plain.blockD = 0
		func() {
			defer SetLevel(Generic)()
			MatMulTernary(want, &plain, xq, inv, n)
		}()
		for _, l := range Levels() {
			func() {
				defer SetLevel(l)()
				got := make([]float32, n*rows)
				MatMulTernary(got, m, xq, inv, n)
				compareBits(t, fmt.Sprintf("%v %s", l, name), got, want)
			}()
		}
	}
	// The marked matrix, then one block changed: refused, per block again.
	mixed := append([]byte(nil), data...)
	binary.LittleEndian.PutUint16(mixed[54*(rows*cols/256-1)+52:], F32ToF16(0.5))
	m.Data = mixed
	refuse("last block's d differs", m)
	zero := append([]byte(nil), data...)
	binary.LittleEndian.PutUint16(zero[54*7+52:], 0)
	mz, _ := NewMatrix(TQ1_0, rows, cols, zero)
	refuse("a zero d", mz)
	allZero := append([]byte(nil), data...)
	for b := 0; b < rows*cols/256; b++ {
		binary.LittleEndian.PutUint16(allZero[54*b+52:], 0)
	}
	ma, _ := NewMatrix(TQ1_0, rows, cols, allZero)
	refuse("d = 0 everywhere", ma)
	i2s, _ := PackTernary(I2_S, codes, rows, cols, 0.5)
	mi, _ := NewMatrix(I2_S, rows, cols, i2s)
	if mi.UseUniformScale() {
		t.Fatal("I2_S: accepted")
	}
}

// TestUniformScaleTQ2 checks TQ2_0 with one d in every block, summed whole,
// against I2_S (whose rows are always summed whole) packed from the same
// codes with the per-tensor scale Scale*d: the same integer sums times the
// same factor, so the same bits, at every level, 1-5 tokens, with a
// row count that leaves rows to the one-row kernels.
func TestUniformScaleTQ2(t *testing.T) {
	defer SetThreads(SetThreads(2))
	r := rand.New(rand.NewPCG(57, 58))
	for _, cols := range []int{256, 2560, 6912} {
		rows := 37
		codes := randTernary(r, rows*cols)
		data, _ := PackTernary(TQ2_0, codes, rows, cols, 0.0213)
		m, _ := NewMatrix(TQ2_0, rows, cols, data)
		m.Scale = 1.7
		if !m.UseUniformScale() {
			t.Fatal("one d everywhere: refused")
		}
		i2s, _ := PackTernary(I2_S, codes, rows, cols, m.outScale())
		ref, _ := NewMatrix(I2_S, rows, cols, i2s)
		for n := 1; n <= 5; n++ {
			xq := randXQ(r, n*cols)
			inv := make([]float32, n)
			for i := range inv {
				inv[i] = float32(r.Float64() * 0.05)
			}
			want := ternaryWant(ref, xq, inv, n)
			for _, l := range Levels() {
				func() {
					defer SetLevel(l)()
					got := make([]float32, n*rows)
					MatMulTernary(got, m, xq, inv, n)
					compareBits(t, fmt.Sprintf("%v cols %d n %d", l, cols, n), got, want)
				}()
			}
		}
		// A block with another d: per block again, as a matrix never marked.
		mixed := append([]byte(nil), data...)
		binary.LittleEndian.PutUint16(mixed[66*5+64:], F32ToF16(0.5))
		mm, _ := NewMatrix(TQ2_0, rows, cols, mixed)
		if _, _, found := FirstNonFinite(mm); found || mm.blockD != 0 || mm.UseUniformScale() {
			t.Fatalf("cols %d: mixed d accepted", cols)
		}
	}
}
