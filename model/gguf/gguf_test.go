package gguf

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// allValues has one value of every kind, scalar and array, with edge values.
func allValues() []KV {
	return []KV{
		{"general.architecture", String("bitnet-b1.58")},
		{"test.empty_string", String("")},
		{"test.utf8", String("héllo ▁world\x00nul")},
		{"test.u8", Uint8(255)},
		{"test.i8", Int8(-128)},
		{"test.u16", Uint16(65535)},
		{"test.i16", Int16(-32768)},
		{"test.u32", Uint32(math.MaxUint32)},
		{"test.i32", Int32(math.MinInt32)},
		{"test.u64", Uint64(math.MaxUint64)},
		{"test.i64", Int64(math.MinInt64)},
		{"test.f32", Float32(-1.5e-7)},
		{"test.f64", Float64(math.Pi)},
		{"test.f32_nan", Float32(float32(math.NaN()))},
		{"test.true", Bool(true)},
		{"test.false", Bool(false)},
		{"test.strings", Strings([]string{"<s>", "", "▁the", "\xff\xfe"})},
		{"test.empty_strings", Strings(nil)},
		{"test.u8s", Uint8s([]uint8{0, 1, 255})},
		{"test.i8s", Int8s([]int8{-128, 0, 127})},
		{"test.u16s", Uint16s([]uint16{0, 65535})},
		{"test.i16s", Int16s([]int16{-32768, 32767})},
		{"test.u32s", Uint32s([]uint32{0, math.MaxUint32})},
		{"test.i32s", Int32s([]int32{math.MinInt32, -1, 0, 1, math.MaxInt32})},
		{"test.u64s", Uint64s([]uint64{0, math.MaxUint64})},
		{"test.i64s", Int64s([]int64{math.MinInt64, math.MaxInt64})},
		{"test.f32s", Float32s([]float32{0, -1, float32(math.Inf(1)), 3.25})},
		{"test.f64s", Float64s([]float64{math.SmallestNonzeroFloat64, -2})},
		{"test.bools", Bools([]bool{true, false, true})},
		{"test.empty_f32s", Float32s([]float32{})},
	}
}

type testTensor struct {
	name string
	typ  Type
	dims []uint64
}

var testTensors = []testTensor{
	{"token_embd.weight", F16, []uint64{64, 10}},
	{"output_norm.weight", F32, []uint64{64}},
	{"blk.0.attn_q.weight", TQ2_0, []uint64{256, 3}},
	{"blk.0.attn_k.weight", TQ1_0, []uint64{512, 2}},
	{"blk.0.ffn_up.weight", I2_S, []uint64{128, 4}},
	{"blk.0.ffn_down.weight", Q8_0, []uint64{64, 5, 1}},
	{"blk.0.ffn_gate.weight", Q4_K, []uint64{256, 2, 1, 2}},
	{"blk.0.attn_v.weight", BF16, []uint64{3, 7}},
	{"blk.0.attn_output.weight", Q6_K, []uint64{256, 1}},
}

func randBytes(r *rand.Rand, n uint64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// buildFile writes a file with allValues and testTensors (plus extra keys) and returns it and the tensor data.
func buildFile(t testing.TB, extra ...KV) ([]byte, map[string][]byte) {
	t.Helper()
	w := NewWriter()
	for _, kv := range append(allValues(), extra...) {
		w.Set(kv.Key, kv.Value)
	}
	r := rand.New(rand.NewPCG(1, 2))
	data := map[string][]byte{}
	for _, tt := range testTensors {
		size, err := TensorBytes(tt.typ, tt.dims)
		if err != nil {
			t.Fatal(err)
		}
		data[tt.name] = randBytes(r, size)
		if err := w.AddTensor(tt.name, tt.typ, tt.dims, data[tt.name]); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d", n, buf.Len())
	}
	return buf.Bytes(), data
}

func checkFile(t *testing.T, f *File, align uint64, extra []KV, data map[string][]byte) {
	t.Helper()
	want := append(allValues(), extra...)
	if len(f.KV) != len(want) {
		t.Fatalf("got %d keys, want %d", len(f.KV), len(want))
	}
	for i, kv := range want {
		if f.KV[i].Key != kv.Key || !f.KV[i].Value.Equal(kv.Value) {
			t.Errorf("KV[%d] = %s %v, want %s %v", i, f.KV[i].Key, f.KV[i].Value, kv.Key, kv.Value)
		}
		if v, ok := f.Get(kv.Key); !ok || !v.Equal(kv.Value) {
			t.Errorf("Get(%s) = %v, %v", kv.Key, v, ok)
		}
	}
	if f.Version != 3 || f.Alignment != align || f.DataOffset%align != 0 {
		t.Errorf("version %d alignment %d data offset %d, want 3, %d, aligned", f.Version, f.Alignment, f.DataOffset, align)
	}
	if len(f.Tensors) != len(testTensors) {
		t.Fatalf("got %d tensors, want %d", len(f.Tensors), len(testTensors))
	}
	var off uint64
	for i, tt := range testTensors {
		ti := &f.Tensors[i]
		if ti.Name != tt.name || ti.Type != tt.typ || !slices.Equal(ti.Dims, tt.dims) {
			t.Errorf("tensor %d = %s %s %v, want %s %s %v", i, ti.Name, ti.Type, ti.Dims, tt.name, tt.typ, tt.dims)
		}
		if ti.Offset != off {
			t.Errorf("tensor %s offset %d, want %d (consecutive, padded)", ti.Name, ti.Offset, off)
		}
		off += (ti.Size + align - 1) / align * align
		got, ok := f.Tensor(tt.name)
		if !ok || got != ti {
			t.Errorf("Tensor(%s) = %v, %v", tt.name, got, ok)
		}
		if !bytes.Equal(f.TensorData(ti), data[tt.name]) {
			t.Errorf("tensor %s data differs", tt.name)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, align := range []uint64{0, 1, 8, 64, 4096} {
		var extra []KV
		want := uint64(DefaultAlignment)
		if align != 0 {
			extra = []KV{{KeyAlignment, Uint32(uint32(align))}}
			want = align
		}
		file, data := buildFile(t, extra...)
		f, err := Parse(file, "mem.gguf")
		if err != nil {
			t.Fatalf("align %d: %v", align, err)
		}
		checkFile(t, f, want, extra, data)
		// Files end with the padding of the last tensor, as gguf-py and gguf.cpp write them.
		if len(file)%int(want) != 0 {
			t.Errorf("align %d: file size %d is not padded", align, len(file))
		}

		path := filepath.Join(t.TempDir(), "x.gguf")
		w := NewWriter()
		for _, kv := range f.KV {
			w.Set(kv.Key, kv.Value)
		}
		for i := range f.Tensors {
			ti := &f.Tensors[i]
			if err := w.AddTensor(ti.Name, ti.Type, ti.Dims, f.TensorData(ti)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []Mode{Mapped, HugePages} {
			g, err := OpenMode(path, mode)
			if err != nil {
				t.Fatalf("%v: %v", mode, err)
			}
			checkFile(t, g, want, extra, data)
			if err := g.Close(); err != nil {
				t.Fatal(err)
			}
			if g.TensorData(&g.Tensors[0]) != nil {
				t.Errorf("%v: TensorData after Close is not nil", mode)
			}
			if err := g.Close(); err != nil {
				t.Errorf("%v: second Close: %v", mode, err)
			}
		}
	}
}

// A file held in huge pages opens with the same errors as a mapped one.
func TestOpenModeErrors(t *testing.T) {
	dir := t.TempDir()
	file, _ := buildFile(t)
	trunc := filepath.Join(dir, "trunc.gguf")
	if err := os.WriteFile(trunc, file[:len(file)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{Mapped, HugePages} {
		if _, err := OpenMode(filepath.Join(dir, "missing.gguf"), mode); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: missing file: %v", mode, err)
		}
		_, err := OpenMode(trunc, mode)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%v: truncated file: %v, want a FormatError", mode, err)
		}
	}
}

func TestTensorBytes(t *testing.T) {
	tests := []struct {
		typ  Type
		dims []uint64
		want uint64
		err  bool
	}{
		{F32, []uint64{3, 5}, 60, false},
		{F16, []uint64{7}, 14, false},
		{BF16, []uint64{2, 2, 2, 2}, 32, false},
		{Q8_0, []uint64{64, 3}, 2 * 34 * 3, false},
		{Q4_0, []uint64{32}, 18, false},
		{Q4_K, []uint64{512, 2}, 2 * 144 * 2, false},
		{Q6_K, []uint64{2560, 128256}, 10 * 210 * 128256, false},
		{TQ1_0, []uint64{256}, 54, false},
		{TQ2_0, []uint64{2560, 6912}, 10 * 66 * 6912, false},
		{IQ4_XS, []uint64{256}, 136, false},
		{MXFP4, []uint64{64}, 34, false},
		// I2_S: ne/4 + 32, as the BitNet fork's ggml_nbytes computes it.
		{I2_S, []uint64{2560, 6912}, 2560*6912/4 + 32, false},
		{I2_S, []uint64{128}, 64, false},
		{I2_S, []uint64{3}, 32, false}, // integer division, mirrored
		{Q8_0, []uint64{33}, 0, true},
		{Q4_K, []uint64{128, 2}, 0, true},
		{F32, nil, 0, true},
		{F32, []uint64{1, 1, 1, 1, 1}, 0, true},
		{F32, []uint64{4, 0}, 0, true},
		{F32, []uint64{1 << 32, 1 << 31}, 0, true},        // 2^63 elements
		{F32, []uint64{1 << 31, 1 << 30}, 0, true},        // 2^61 elements, 2^63 bytes
		{I8, []uint64{1 << 31, 1 << 31, 1 << 2}, 0, true}, // 2^64 elements wraps
		{Type(4), []uint64{32}, 0, true},
		{Type(37), []uint64{32}, 0, true},
		{Type(1000), []uint64{32}, 0, true},
	}
	for _, tt := range tests {
		got, err := TensorBytes(tt.typ, tt.dims)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("TensorBytes(%s, %v) = %d, %v; want %d, error %v", tt.typ, tt.dims, got, err, tt.want, tt.err)
		}
	}
	if _, err := TensorBytes(Type(37), []uint64{32}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown type error %v does not wrap ErrUnsupported", err)
	}
}

func TestTypeNames(t *testing.T) {
	for id, want := range map[Type]string{F32: "F32", Q4_K: "Q4_K", IQ2_XXS: "IQ2_XXS", TQ2_0: "TQ2_0", I2_S: "I2_S", MXFP4: "MXFP4", 4: "Type(4)", 37: "Type(37)"} {
		if got := id.String(); got != want {
			t.Errorf("Type(%d).String() = %q, want %q", uint32(id), got, want)
		}
	}
	n := 0
	for id := Type(0); id < 64; id++ {
		if id.Known() {
			n++
			if id.BlockSize() == 0 || id.TypeSize() == 0 {
				t.Errorf("%s has block %d size %d", id, id.BlockSize(), id.TypeSize())
			}
		}
	}
	if n != 36 {
		t.Errorf("%d known types, want 36", n)
	}
}

func TestValueGetters(t *testing.T) {
	if u, ok := Int8(5).Uint(); !ok || u != 5 {
		t.Error("Int8(5).Uint()")
	}
	if _, ok := Int8(-5).Uint(); ok {
		t.Error("Int8(-5).Uint() ok")
	}
	if i, ok := Uint32(math.MaxUint32).Int(); !ok || i != math.MaxUint32 {
		t.Error("Uint32 max .Int()")
	}
	if _, ok := Uint64(math.MaxUint64).Int(); ok {
		t.Error("Uint64 max .Int() ok")
	}
	if i, ok := Int64(-7).Int(); !ok || i != -7 {
		t.Error("Int64(-7).Int()")
	}
	if _, ok := String("1").Uint(); ok {
		t.Error("String.Uint() ok")
	}
	if f, ok := Float32(0.5).Float(); !ok || f != 0.5 {
		t.Error("Float32.Float()")
	}
	if f, ok := Uint32(10000).Float(); !ok || f != 10000 {
		t.Error("Uint32.Float()")
	}
	if _, ok := Uint64(1<<53 + 1).Float(); ok {
		t.Error("inexact Uint64.Float() ok")
	}
	if _, ok := Bool(true).Int(); ok {
		t.Error("Bool.Int() ok")
	}
	if b, ok := Bool(true).Bool(); !ok || !b {
		t.Error("Bool.Bool()")
	}
	if s, ok := Uint8s([]uint8{1, 2}).Int32s(); !ok || !slices.Equal(s, []int32{1, 2}) {
		t.Error("Uint8s.Int32s()")
	}
	if _, ok := Uint32s([]uint32{math.MaxUint32}).Int32s(); ok {
		t.Error("Uint32s overflow .Int32s() ok")
	}
	if s, ok := Int64s([]int64{-1, 3}).Int32s(); !ok || !slices.Equal(s, []int32{-1, 3}) {
		t.Error("Int64s.Int32s()")
	}
	if _, ok := Int32s([]int32{-1}).Uint32s(); ok {
		t.Error("negative Int32s.Uint32s() ok")
	}
	if s, ok := Float64s([]float64{0.5}).Float32s(); !ok || s[0] != 0.5 {
		t.Error("Float64s.Float32s()")
	}
	if _, ok := Int32s([]int32{1}).Float32s(); ok {
		t.Error("Int32s.Float32s() ok")
	}
	src := []string{"a", "b"}
	v := Strings(src)
	src[0] = "changed"
	if s, _ := v.Strings(); s[0] != "a" {
		t.Error("Strings does not copy its input")
	}
	s, _ := v.Strings()
	s[1] = "changed"
	if s2, _ := v.Strings(); s2[1] != "b" {
		t.Error("Value.Strings does not return a copy")
	}
	var zero Value
	if zero.Kind() != KindInvalid || zero.ArrayKind() != KindInvalid || zero.Len() != 0 || zero.String() != "<invalid>" {
		t.Error("zero Value")
	}
	if v.Kind() != KindArray || v.ArrayKind() != KindString || v.Len() != 2 {
		t.Error("Strings kinds")
	}
	if Uint32(1).Equal(Int32(1)) || !Uint32(1).Equal(Uint32(1)) {
		t.Error("Equal")
	}
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{Int32(-3), "-3"},
		{Float32(0.1), "0.1"},
		{String("x"), `"x"`},
		{Bool(false), "false"},
		{Int16s([]int16{-1, 2}), "[]int16{-1, 2}"},
		{Strings([]string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}), `[]string{"a", "b", "c", "d", "e", "f", "g", "h", ... 9 items}`},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("String() = %s, want %s", got, tc.want)
		}
	}
}

func TestFileGetters(t *testing.T) {
	file, _ := buildFile(t)
	f, err := Parse(file, "x")
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := f.String("general.architecture"); !ok || s != "bitnet-b1.58" {
		t.Error("String")
	}
	if u, ok := f.Uint("test.u16"); !ok || u != 65535 {
		t.Error("Uint")
	}
	if i, ok := f.Int("test.i8"); !ok || i != -128 {
		t.Error("Int")
	}
	if x, ok := f.Float("test.f64"); !ok || x != math.Pi {
		t.Error("Float")
	}
	if b, ok := f.Bool("test.true"); !ok || !b {
		t.Error("Bool")
	}
	if s, ok := f.Strings("test.strings"); !ok || len(s) != 4 || s[2] != "▁the" {
		t.Error("Strings")
	}
	if _, ok := f.Get("missing"); ok {
		t.Error("Get(missing)")
	}
	if _, ok := f.Uint("missing"); ok {
		t.Error("Uint(missing)")
	}
	if _, ok := f.Tensor("missing"); ok {
		t.Error("Tensor(missing)")
	}
	if f.TensorData(&TensorInfo{Offset: 1 << 62, Size: 1 << 62}) != nil || f.TensorData(nil) != nil {
		t.Error("TensorData out of range is not nil")
	}
	ti, _ := f.Tensor("blk.0.ffn_gate.weight")
	if ti.Elements() != 1024 {
		t.Errorf("Elements = %d", ti.Elements())
	}
}

func TestWriterErrors(t *testing.T) {
	w := NewWriter()
	long := string(bytes.Repeat([]byte("x"), MaxTensorNameLen+1))
	for _, tc := range []struct {
		name string
		typ  Type
		dims []uint64
		n    int
	}{
		{"", F32, []uint64{1}, 4},
		{long, F32, []uint64{1}, 4},
		{"a", F32, []uint64{2}, 4},
		{"a", Q8_0, []uint64{16}, 17},
		{"a", Type(37), []uint64{1}, 1},
		{"a", F32, []uint64{0}, 0},
	} {
		if err := w.AddTensor(tc.name, tc.typ, tc.dims, make([]byte, tc.n)); err == nil {
			t.Errorf("AddTensor(%q, %s, %v, %d bytes) succeeded", tc.name, tc.typ, tc.dims, tc.n)
		}
	}
	if err := w.AddTensor("a", F32, []uint64{1}, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddTensor("a", F32, []uint64{1}, make([]byte, 4)); err == nil {
		t.Error("duplicate tensor accepted")
	}
	for _, kv := range []KV{
		{KeyAlignment, Uint32(3)},
		{KeyAlignment, Uint64(32)}, // llama.cpp reads general.alignment as a uint32 only
		{KeyAlignment, Uint32(0)},
		{"", Uint32(1)},
		{"zero", Value{}},
	} {
		w := NewWriter()
		w.Set(kv.Key, kv.Value)
		if _, err := w.WriteTo(&bytes.Buffer{}); err == nil {
			t.Errorf("WriteTo with %q = %v succeeded", kv.Key, kv.Value)
		}
	}
}

func TestWriterSetDelete(t *testing.T) {
	w := NewWriter()
	w.Set("a", Uint32(1))
	w.Set("b", Uint32(2))
	w.Set("c", Uint32(3))
	w.Set("a", String("x")) // keeps position
	if !w.Delete("b") || w.Delete("b") {
		t.Error("Delete")
	}
	w.Set("d", Bool(true))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes(), "x")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range f.KV {
		keys = append(keys, kv.Key)
	}
	if !slices.Equal(keys, []string{"a", "c", "d"}) {
		t.Errorf("keys %v", keys)
	}
	if s, _ := f.String("a"); s != "x" {
		t.Errorf("a = %q", s)
	}
	if len(f.Tensors) != 0 || f.DataOffset%32 != 0 {
		t.Errorf("tensors %d, data offset %d", len(f.Tensors), f.DataOffset)
	}
}

// TestLayout checks the exact bytes of a tiny file against the layout gguf-py writes.
func TestLayout(t *testing.T) {
	w := NewWriter()
	w.Set("general.architecture", String("llama"))
	if err := w.AddTensor("w", F32, []uint64{2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	want := []byte("GGUF")
	le := func(x uint64, n int) {
		for i := 0; i < n; i++ {
			want = append(want, byte(x>>(8*i)))
		}
	}
	le(3, 4) // version
	le(1, 8) // tensors
	le(1, 8) // kv
	le(20, 8)
	want = append(want, "general.architecture"...)
	le(8, 4) // string
	le(5, 8)
	want = append(want, "llama"...)
	le(1, 8)
	want = append(want, 'w')
	le(1, 4) // n_dims
	le(2, 8) // ne0
	le(0, 4) // F32
	le(0, 8) // offset
	for len(want)%32 != 0 {
		want = append(want, 0)
	}
	want = append(want, 1, 2, 3, 4, 5, 6, 7, 8)
	for len(want)%32 != 0 {
		want = append(want, 0)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("layout differs:\n got %x\nwant %x", buf.Bytes(), want)
	}
}

func TestTQ1SSize(t *testing.T) {
	n, err := TensorBytes(TQ1_S, []uint64{512, 3})
	if err != nil || n != 3*2*52+32 {
		t.Fatalf("TQ1_S 512x3: %d, %v; want %d", n, err, 3*2*52+32)
	}
	if _, err := TensorBytes(TQ1_S, []uint64{100, 1}); err == nil {
		t.Fatal("TQ1_S row of 100 accepted")
	}
	if TQ1_S.String() != "TQ1_S" || !TQ1_S.Known() {
		t.Fatal(TQ1_S.String())
	}
}

func TestMemoryAvailable(t *testing.T) {
	got := MemoryAvailable()
	if runtime.GOOS == "linux" && got <= 0 {
		t.Fatalf("MemoryAvailable() = %d on Linux", got)
	}
	if runtime.GOOS != "linux" && got != -1 {
		t.Fatalf("MemoryAvailable() = %d, want -1 (unknown)", got)
	}
}
