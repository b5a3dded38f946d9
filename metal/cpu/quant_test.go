package cpu

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func readF32s(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}

// TestGGMLGolden compares Quantize and Row with the output of llama.cpp's
// reference quantizers and dequantizers (testdata/ggml/README.md).
func TestGGMLGolden(t *testing.T) {
	const rows, cols = 8, 512
	in := readF32s(t, "testdata/ggml/in.f32")
	if len(in) != rows*cols {
		t.Fatalf("in.f32 has %d values", len(in))
	}
	for _, typ := range []DType{F16, BF16, Q8_0, Q4_0, Q6_K, TQ1_0, TQ2_0} {
		t.Run(typ.String(), func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata/ggml", typ.String()+".bin"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Quantize(typ, rows, cols, in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				bb, bs := typ.BlockBytes(), typ.BlockSize()
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("byte %d (block %d, element %d..): got %#02x, want %#02x", i, i/bb, i/bb*bs, got[i], want[i])
					}
				}
				t.Fatalf("length %d, want %d", len(got), len(want))
			}
			m, err := NewMatrix(typ, rows, cols, want)
			if err != nil {
				t.Fatal(err)
			}
			var deq []float32
			if typ == F16 || typ == BF16 {
				deq = make([]float32, rows*cols)
				for i := range deq {
					h := binary.LittleEndian.Uint16(want[2*i:])
					if typ == F16 {
						deq[i] = F16ToF32(h)
					} else {
						deq[i] = BF16ToF32(h)
					}
				}
			} else {
				deq = readF32s(t, filepath.Join("testdata/ggml", typ.String()+".f32"))
			}
			row := make([]float32, cols)
			for r := 0; r < rows; r++ {
				m.Row(row, r)
				for j, v := range row {
					if w := deq[r*cols+j]; math.Float32bits(v) != math.Float32bits(w) {
						t.Fatalf("Row(%d)[%d] = %v, want %v", r, j, v, w)
					}
				}
			}
		})
	}
}

func randTernary(r *rand.Rand, n int) []int8 {
	c := make([]int8, n)
	for i := range c {
		c[i] = int8(r.IntN(3)) - 1
	}
	return c
}

// TestTernaryRoundTrip: packing ternary codes and reading them back is
// lossless for every ternary type, through PackTernary and through Quantize.
func TestTernaryRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, typ := range []DType{TQ1_0, TQ2_0, I2_S} {
		for _, shape := range [][2]int{{1, 256}, {3, 512}, {5, 1280}} {
			rows, cols := shape[0], shape[1]
			codes := randTernary(r, rows*cols)
			const scale = 0.04296875 // 11/256, exact in f16
			data, err := PackTernary(typ, codes, rows, cols, scale)
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewMatrix(typ, rows, cols, data)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]int8, cols)
			row := make([]float32, cols)
			x := make([]float32, rows*cols)
			for i := 0; i < rows; i++ {
				m.TernaryRow(got, i)
				m.Row(row, i)
				for j := range got {
					c := codes[i*cols+j]
					if got[j] != c {
						t.Fatalf("%v %dx%d: TernaryRow(%d)[%d] = %d, want %d", typ, rows, cols, i, j, got[j], c)
					}
					if want := float32(c) * scale; row[j] != want {
						t.Fatalf("%v: Row(%d)[%d] = %v, want %v", typ, i, j, row[j], want)
					}
					x[i*cols+j] = float32(c) * scale
				}
			}
			// The ggml quantizers give the same bytes for ternary input, except
			// that a TQ block of zeros gets d = 0 (none here at these sizes).
			q, err := Quantize(typ, rows, cols, x)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(q, data) {
				t.Fatalf("%v %dx%d: Quantize of ternary values differs from PackTernary", typ, rows, cols)
			}
		}
	}
}

func TestI2SLayout(t *testing.T) {
	codes := make([]int8, 128)
	data, err := PackTernary(I2_S, codes, 1, 128, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 32+32 {
		t.Fatalf("len = %d", len(data))
	}
	for j := 0; j < 32; j++ {
		if data[j] != 0x55 {
			t.Fatalf("zero packs as %#02x at byte %d, want 0x55", data[j], j)
		}
	}
	if s := math.Float32frombits(binary.LittleEndian.Uint32(data[32:])); s != 0.5 {
		t.Fatalf("trailer scale %v", s)
	}
	if !bytes.Equal(data[36:], make([]byte, 28)) {
		t.Fatalf("trailer padding not zero: % x", data[36:])
	}
	// Hand-computed bytes: x[0] = +1 -> bits 7-6 = 2; x[96] = -1 -> bits 1-0 = 0;
	// x[33] = +1 -> byte 1 bits 5-4; x[66] = -1 -> byte 2 bits 3-2; x[127] = +1.
	codes[0], codes[96], codes[33], codes[66], codes[127] = 1, -1, 1, -1, 1
	data, err = PackTernary(I2_S, codes, 1, 128, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte{0x55}, 32)
	want[0] = 0x94  // 10 01 01 00
	want[1] = 0x65  // 01 10 01 01
	want[2] = 0x51  // 01 01 00 01
	want[31] = 0x56 // 01 01 01 10
	if !bytes.Equal(data[:32], want) {
		t.Fatalf("I2_S bytes\n got % x\nwant % x", data[:32], want)
	}
	// A known 128-element pattern: x[k] = (k%3)-1.
	for k := range codes {
		codes[k] = int8(k%3) - 1
	}
	data, _ = PackTernary(I2_S, codes, 1, 128, 1)
	// byte 0: x0=-1 (0), x32=+1 (2), x64=0 (1), x96=-1 (0): 00 10 01 00 = 0x24
	// byte 1: x1=0 (1), x33=-1 (0), x65=+1 (2), x97=0 (1): 01 00 10 01 = 0x49
	// byte 2: x2=+1 (2), x34=0 (1), x66=-1 (0), x98=+1 (2): 10 01 00 10 = 0x92
	if data[0] != 0x24 || data[1] != 0x49 || data[2] != 0x92 || data[3] != 0x24 {
		t.Fatalf("pattern bytes % x", data[:4])
	}
	// bitnet.cpp's quantize_i2_s: sign of non-tiny values, scale = absmax.
	x := make([]float32, 128)
	x[0], x[1], x[2], x[3] = 0.7, -2.5, 5e-7, -1e-7
	q, err := Quantize(I2_S, 1, 128, x)
	if err != nil {
		t.Fatal(err)
	}
	// byte 0: x0 +1, x32..96 0 -> 0x95; byte 1: x1 -1 -> 0x15; bytes 2, 3: zero -> 0x55.
	if q[0] != 0x95 || q[1] != 0x15 || q[2] != 0x55 || q[3] != 0x55 {
		t.Fatalf("Quantize(I2_S) bytes % x", q[:4])
	}
	if s := math.Float32frombits(binary.LittleEndian.Uint32(q[32:])); s != 2.5 {
		t.Fatalf("Quantize(I2_S) scale %v", s)
	}
}

func TestTQLayout(t *testing.T) {
	codes := make([]int8, 256)
	data, err := PackTernary(TQ2_0, codes, 1, 256, 1)
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 64; j++ {
		if data[j] != 0x55 {
			t.Fatalf("TQ2_0 zero packs as %#02x at %d", data[j], j)
		}
	}
	if data[64] != 0x00 || data[65] != 0x3c { // f16 1.0 = 0x3c00
		t.Fatalf("TQ2_0 d bytes % x", data[64:])
	}
	// x[0] = +1: qs[0] bits 1-0 = 2; x[32] = +1: qs[0] bits 3-2; x[128] = -1:
	// qs[32] bits 1-0 = 0; x[255] = -1: qs[63] bits 7-6 = 0.
	codes[0], codes[32], codes[128], codes[255] = 1, 1, -1, -1
	data, _ = PackTernary(TQ2_0, codes, 1, 256, 1)
	if data[0] != 0x5a || data[32] != 0x54 || data[63] != 0x15 || data[1] != 0x55 {
		t.Fatalf("TQ2_0 bytes: qs[0] %#02x qs[32] %#02x qs[63] %#02x", data[0], data[32], data[63])
	}

	// TQ1_0: all zero trits are 11111 in base 3 = 121 -> ceil(121*256/243) = 128;
	// qh: 1111 = 40, times 3 = 120 -> ceil(120*256/243) = 127.
	clear(codes)
	data, _ = PackTernary(TQ1_0, codes, 1, 256, 1)
	for j := 0; j < 48; j++ {
		if data[j] != 128 {
			t.Fatalf("TQ1_0 zero qs[%d] = %d", j, data[j])
		}
	}
	for j := 48; j < 52; j++ {
		if data[j] != 127 {
			t.Fatalf("TQ1_0 zero qh[%d] = %d", j-48, data[j])
		}
	}
	for k := range codes {
		codes[k] = 1
	}
	data, _ = PackTernary(TQ1_0, codes, 1, 256, 1)
	if data[0] != 255 || data[47] != 255 || data[48] != 253 { // 22222 = 242 -> 255; 2222*3 = 240 -> 253
		t.Fatalf("TQ1_0 all +1: % x", data[:52])
	}
	// x[0] = -1, rest 0: qs[0] = 01111 (base 3) = 40 -> ceil(40*256/243) = 43.
	// x[160] = +1: qs[32] = 21111 = 202 -> ceil(202*256/243) = 213.
	// x[255] = -1: qh[3] holds x[243], x[247], x[251], x[255]: 1110 = 39, *3 = 117 -> 124.
	clear(codes)
	codes[0], codes[160], codes[255] = -1, 1, -1
	data, _ = PackTernary(TQ1_0, codes, 1, 256, 1)
	if data[0] != 43 || data[32] != 213 || data[51] != 124 || data[1] != 128 {
		t.Fatalf("TQ1_0 bytes: qs[0] %d qs[32] %d qh[3] %d", data[0], data[32], data[51])
	}
}

func TestPackTernaryScale(t *testing.T) {
	codes := []int8{1}
	codes = append(codes, make([]int8, 255)...)
	// 0.1 is not exact in f16: the stored d is the f16 rounding.
	data, err := PackTernary(TQ2_0, codes, 1, 256, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := NewMatrix(TQ2_0, 1, 256, data)
	row := make([]float32, 256)
	m.Row(row, 0)
	if want := F16ToF32(F32ToF16(0.1)); row[0] != want || want == 0.1 {
		t.Fatalf("Row[0] = %v, want f16(0.1) = %v", row[0], want)
	}
	for _, bad := range []float32{float32(math.Inf(1)), float32(math.NaN()), 70000, 1e-9} {
		if _, err := PackTernary(TQ1_0, codes, 1, 256, bad); !errors.Is(err, ErrValue) {
			t.Errorf("scale %v: err = %v, want ErrValue", bad, err)
		}
	}
	if _, err := PackTernary(I2_S, codes[:128], 1, 128, 1e-9); err != nil {
		t.Errorf("I2_S keeps any finite f32 scale: %v", err)
	}
	codes[7] = 2
	if _, err := PackTernary(TQ2_0, codes, 1, 256, 1); !errors.Is(err, ErrValue) {
		t.Errorf("code 2: err = %v", err)
	}
	if _, err := PackTernary(Q8_0, make([]int8, 32), 1, 32, 1); !errors.Is(err, ErrShape) {
		t.Errorf("Q8_0: err = %v", err)
	}
	if _, err := PackTernary(I2_S, make([]int8, 64), 1, 64, 1); !errors.Is(err, ErrShape) {
		t.Errorf("64 columns: err = %v", err)
	}
}

// TestQuantizeErrorBounds checks the block quantizers on random data against
// bounds that follow from their definitions.
func TestQuantizeErrorBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const rows, cols = 4, 1024
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(r.NormFloat64() * math.Exp(r.NormFloat64()))
	}
	row := make([]float32, cols)
	for _, typ := range []DType{F32, F16, BF16, Q8_0, Q4_0, Q6_K} {
		data, err := Quantize(typ, rows, cols, x)
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewMatrix(typ, rows, cols, data)
		if err != nil {
			t.Fatal(err)
		}
		bs := max(typ.BlockSize(), 1)
		for i := 0; i < rows; i++ {
			m.Row(row, i)
			for b := 0; b < cols; b += bs {
				var amax float64
				for _, v := range x[i*cols+b : i*cols+b+bs] {
					amax = max(amax, math.Abs(float64(v)))
				}
				for j := b; j < b+bs; j++ {
					v, w := float64(x[i*cols+j]), float64(row[j])
					var tol float64
					switch typ {
					case F32:
						tol = 0
					case F16:
						tol = math.Abs(v) * 0x1p-11
					case BF16:
						tol = math.Abs(v) * 0x1p-8
					case Q8_0: // half a step of d = amax/127, plus the f16 rounding of d
						tol = amax/127*0.5 + amax*0x1p-11 + 1e-7
					case Q4_0: // a full step of amax/8 (the +8 end is clamped), plus f16
						tol = amax/8 + amax*0x1p-10 + 1e-7
					case Q6_K: // 6-bit with 8-bit sub-scales: well within amax/32
						tol = amax / 32
					}
					if math.Abs(v-w) > tol {
						t.Fatalf("%v: row %d element %d: %v -> %v (|err| %g > %g)", typ, i, j, v, w, math.Abs(v-w), tol)
					}
				}
			}
		}
	}
}

func TestQuantizeErrors(t *testing.T) {
	if _, err := Quantize(Q8_0, 1, 33, make([]float32, 33)); !errors.Is(err, ErrShape) {
		t.Errorf("33 columns: %v", err)
	}
	if _, err := Quantize(Q8_0, 2, 32, make([]float32, 32)); !errors.Is(err, ErrShape) {
		t.Errorf("short src: %v", err)
	}
	x := make([]float32, 256)
	x[9] = float32(math.NaN())
	if _, err := Quantize(TQ2_0, 1, 256, x); !errors.Is(err, ErrValue) {
		t.Errorf("NaN: %v", err)
	}
	if _, err := Quantize(F16, 1, 256, x); err != nil {
		t.Errorf("F16 keeps NaN: %v", err)
	}
	if _, err := Quantize(DType(99), 1, 256, x); !errors.Is(err, ErrShape) {
		t.Errorf("bad type: %v", err)
	}
}

// TestGGMLDequantizeRandom compares Row with llama.cpp's dequantizers on
// random block bytes (arbitrary d values, invalid codes included).
func TestGGMLDequantizeRandom(t *testing.T) {
	for _, typ := range []DType{Q8_0, Q4_0, Q6_K, TQ1_0, TQ2_0} {
		data, err := os.ReadFile(filepath.Join("testdata/ggml", "rand_"+typ.String()+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		want := readF32s(t, filepath.Join("testdata/ggml", "rand_"+typ.String()+".f32"))
		m, err := NewMatrix(typ, 1, len(want), data)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(want))
		m.Row(got, 0)
		for j := range got {
			g, w := got[j], want[j]
			if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
				t.Fatalf("%v: element %d: %v, want %v", typ, j, g, w)
			}
		}
	}
}
