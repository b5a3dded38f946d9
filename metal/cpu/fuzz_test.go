package cpu

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzNewMatrix feeds arbitrary bytes and shapes to NewMatrix: it must either
// fail with ErrShape/ErrValue or give a matrix every kernel can read without
// panicking. Seeded from testdata/ggml.
func FuzzNewMatrix(f *testing.F) {
	for _, typ := range []DType{F16, BF16, Q8_0, Q4_0, Q6_K, TQ1_0, TQ2_0} {
		data, err := os.ReadFile(filepath.Join("testdata/ggml", typ.String()+".bin"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(typ), uint16(2), uint16(256), data[:2*typ.BlockBytes()*256/typ.BlockSize()])
	}
	i2s, _ := PackTernary(I2_S, make([]int8, 256), 2, 128, 0.5)
	f.Add(uint8(I2_S), uint16(2), uint16(128), i2s)
	f.Add(uint8(F32), uint16(1), uint16(3), []byte{0, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f, 1, 2, 3, 4})
	f.Add(uint8(200), uint16(1), uint16(1), []byte{1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, typ uint8, rows, cols uint16, data []byte) {
		m, err := NewMatrix(DType(typ), int(rows), int(cols), data)
		if err != nil {
			if !errors.Is(err, ErrShape) && !errors.Is(err, ErrValue) {
				t.Fatalf("error %v wraps neither ErrShape nor ErrValue", err)
			}
			return
		}
		if m.Rows != int(rows) || m.Cols != int(cols) || len(m.Data) != len(data) {
			t.Fatalf("matrix %+v", m)
		}
		row := make([]float32, m.Cols)
		for i := 0; i < m.Rows; i++ {
			m.Row(row, i)
		}
		x := make([]float32, m.Cols)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		dst := make([]float32, m.Rows)
		MatVec(dst, m, x)
		if !m.Type.Ternary() {
			return
		}
		codes := make([]int8, m.Cols)
		xq := make([]int8, m.Cols)
		inv := QuantizeInt8(xq, x)
		for i := 0; i < m.Rows; i++ {
			m.TernaryRow(codes, i)
			for _, c := range codes {
				if c < -1 || c > 2 {
					t.Fatalf("code %d", c)
				}
			}
		}
		MatVecTernary(dst, m, xq, inv)
	})
}

// FuzzF32ToF16 compares F32ToF16 with the search-based reference on any bits.
func FuzzF32ToF16(f *testing.F) {
	for _, b := range []uint32{0, 0x3f800000, 0x477fe000, 0x477ff000, 0x33000000, 0x33000001, 0x387fc000, 0x7f800000} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b uint32) {
		x := math.Float32frombits(b)
		// ToF16 (in SIMD where the level has it) rounds as F32ToF16.
		var h [9]uint16
		xs := [9]float32{x, x, x, x, x, x, x, x, x}
		ToF16(h[:], xs[:])
		for i, g := range h {
			if want := F32ToF16(x); g != want {
				t.Fatalf("ToF16 [%d] of %#08x = %#04x, F32ToF16 %#04x", i, b, g, want)
			}
		}
		if x != x {
			if h := F32ToF16(x); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
				t.Fatalf("NaN %#08x -> %#04x", b, h)
			}
			return
		}
		if got, want := F32ToF16(x), refF32ToF16(x); got != want {
			t.Fatalf("F32ToF16(%#08x) = %#04x, want %#04x", b, got, want)
		}
	})
}
