package cpu

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// refNonFinite is FirstNonFinite by definition: dequantize each row and look.
func refNonFinite(m *Matrix) (int, int, bool) {
	row := make([]float32, m.Cols)
	for r := range m.Rows {
		if m.Type == F32 || m.Type == F16 || m.Type == BF16 {
			m.Row(row, r)
			for c, v := range row {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return r, c, true
				}
			}
			continue
		}
		// block types: a block is non-finite when its f16 d is
		bs, bb := m.Type.BlockSize(), m.Type.BlockBytes()
		off := 0
		if m.Type == Q6_K || m.Type == TQ1_0 || m.Type == TQ2_0 {
			off = bb - 2
		}
		b := m.row(r)
		for i := 0; i < len(b); i += bb {
			d := F16ToF32(binary.LittleEndian.Uint16(b[i+off:]))
			if math.IsNaN(float64(d)) || math.IsInf(float64(d), 0) {
				return r, i / bb * bs, true
			}
		}
	}
	return 0, 0, false
}

func TestFirstNonFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// values that are finite but close to the edge, and the non-finite ones
	finite := map[DType][]uint64{
		F32:  {0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000000, 0x3f800000},
		F16:  {0x7bff, 0xfbff, 0x0001, 0x8000, 0x3c00, 0x03ff},
		BF16: {0x7f7f, 0xff7f, 0x0001, 0x8000, 0x3f80},
	}
	bad := map[DType][]uint64{
		F32:  {0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffffffff},
		F16:  {0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xffff},
		BF16: {0x7f80, 0xff80, 0x7fc0, 0x7f81, 0xffff},
	}
	size := map[DType]int{F32: 4, F16: 2, BF16: 2}
	for _, typ := range []DType{F32, F16, BF16} {
		for _, cols := range []int{1, 3, 4, 5, 8, 17, 64} {
			rows := 300
			data := make([]byte, rows*cols*size[typ])
			put := func(i int, v uint64) {
				for j := range size[typ] {
					data[i*size[typ]+j] = byte(v >> (8 * j))
				}
			}
			for i := range rows * cols {
				fs := finite[typ]
				put(i, fs[rng.IntN(len(fs))])
			}
			m, err := NewMatrix(typ, rows, cols, data)
			if err != nil {
				t.Fatal(err)
			}
			if r, c, ok := FirstNonFinite(m); ok {
				t.Fatalf("%v %dx%d all finite: found (%d, %d)", typ, rows, cols, r, c)
			}
			// one bad value anywhere, then a second one later
			for trial := range 40 {
				i := rng.IntN(rows * cols)
				if trial == 0 {
					i = rows*cols - 1
				}
				put(i, bad[typ][rng.IntN(len(bad[typ]))])
				if trial%2 == 1 {
					put(min(rows*cols-1, i+rng.IntN(5*cols+1)), bad[typ][0])
				}
				wr, wc, wok := refNonFinite(m)
				r, c, ok := FirstNonFinite(m)
				if r != wr || c != wc || ok != wok {
					t.Fatalf("%v %dx%d: FirstNonFinite = (%d, %d, %v), want (%d, %d, %v)", typ, rows, cols, r, c, ok, wr, wc, wok)
				}
				for j := range rows * cols { // back to all finite
					put(j, finite[typ][0])
				}
			}
		}
	}
	// block types: a NaN or infinite d
	for _, typ := range []DType{Q8_0, Q4_0, Q6_K, TQ1_0, TQ2_0} {
		rows, cols := 50, 3*typ.BlockSize()
		n, _ := MatrixBytes(typ, rows, cols)
		data := make([]byte, n)
		m, err := NewMatrix(typ, rows, cols, data)
		if err != nil {
			t.Fatal(err)
		}
		if r, c, ok := FirstNonFinite(m); ok {
			t.Fatalf("%v zero: found (%d, %d)", typ, r, c)
		}
		off := 0
		if typ == Q6_K || typ == TQ1_0 || typ == TQ2_0 {
			off = typ.BlockBytes() - 2
		}
		block := 2*3 + 2 // row 2, third block
		binary.LittleEndian.PutUint16(data[block*typ.BlockBytes()+off:], 0xfc00)
		if r, c, ok := FirstNonFinite(m); !ok || r != 2 || c != 2*typ.BlockSize() {
			t.Errorf("%v: FirstNonFinite = (%d, %d, %v), want (2, %d, true)", typ, r, c, ok, 2*typ.BlockSize())
		}
	}
}

func BenchmarkFirstNonFiniteF16(b *testing.B) {
	rows, cols := 128256, 2560 // the 2B-4T embedding
	data := make([]byte, rows*cols*2)
	m, err := NewMatrix(F16, rows, cols, data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, ok := FirstNonFinite(m); ok {
			b.Fatal("found")
		}
	}
}
