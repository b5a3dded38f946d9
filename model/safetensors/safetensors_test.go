package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// build assembles a file from a header text and a data section.
func build(hdr string, data []byte) []byte {
	b := make([]byte, 8, 8+len(hdr)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(hdr)))
	b = append(b, hdr...)
	return append(b, data...)
}

func checkTiny(t *testing.T, f *File) {
	t.Helper()
	wantNames := []string{"a.f32", "b.f16", "c.bf16", "d.f64", "e.i8", "f.u8"}
	if got := f.Names(); !reflect.DeepEqual(got, wantNames) {
		t.Fatalf("Names = %v, want %v", got, wantNames)
	}
	if got, want := f.Metadata(), map[string]string{"format": "pt", "note": "tiny <&> é"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Metadata = %v, want %v", got, want)
	}
	want := map[string][]float32{
		"a.f32":  {1, -2, 0.5, float32(math.Inf(1))},
		"b.f16":  {1, float32(math.Ldexp(1, -24)), float32(math.Inf(-1))},
		"d.f64":  {3.25},
		"c.bf16": {1, float32(math.NaN())},
	}
	for name, w := range want {
		tn, ok := f.Tensor(name)
		if !ok {
			t.Fatalf("no tensor %s", name)
		}
		got, err := tn.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(w) {
			t.Fatalf("%s: %v, want %v", name, got, w)
		}
		for i := range w {
			if got[i] != w[i] && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(w[i]))) {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], w[i])
			}
		}
	}
	if tn, _ := f.Tensor("d.f64"); tn.DType != F64 || len(tn.Shape) != 0 || len(tn.Data) != 8 {
		t.Errorf("scalar: %+v", tn)
	}
	if tn, _ := f.Tensor("e.i8"); tn.DType != I8 || !reflect.DeepEqual(tn.Shape, []int64{0}) || len(tn.Data) != 0 {
		t.Errorf("empty: %+v", tn)
	}
	if tn, _ := f.Tensor("f.u8"); tn.DType != U8 || !bytes.Equal(tn.Data, []byte{1, 2, 3}) {
		t.Errorf("u8: %+v", tn)
	}
	if _, ok := f.Tensor("missing"); ok {
		t.Error("Tensor(missing) found")
	}
}

func TestOpenTestdata(t *testing.T) {
	for _, name := range []string{"tiny.safetensors", "unsorted.safetensors"} {
		t.Run(name, func(t *testing.T) {
			f, err := Open(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			checkTiny(t, f)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal("second Close:", err)
			}
		})
	}
}

func TestZeroCopy(t *testing.T) {
	data, err := os.ReadFile("testdata/tiny.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := f.Tensor("f.u8")
	data[len(data)-1] = 42 // the view must see it
	if tn.Data[2] != 42 {
		t.Error("tensor data is a copy, not a view")
	}
}

func TestWriteRoundTrip(t *testing.T) {
	src, err := Open("testdata/tiny.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var buf bytes.Buffer
	if err := Write(&buf, src.Tensors(), src.Metadata()); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	n := binary.LittleEndian.Uint64(out)
	if n%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", n)
	}
	f, err := Parse(out, "written")
	if err != nil {
		t.Fatal(err)
	}
	checkTiny(t, f)
	// Layout: the reference dtype order descending (F64 F32 BF16 F16 I8 U8), then name; each tensor aligned.
	var order []string
	pos := 8 + int(n) // Tensors() is in file order and the data section has no holes
	for _, tn := range f.Tensors() {
		order = append(order, tn.Name)
		if pos%tn.DType.Size() != 0 {
			t.Errorf("%s at file offset %d, not aligned to %d", tn.Name, pos, tn.DType.Size())
		}
		pos += len(tn.Data)
	}
	if want := []string{"d.f64", "a.f32", "c.bf16", "b.f16", "e.i8", "f.u8"}; !reflect.DeepEqual(order, want) {
		t.Errorf("layout %v, want %v", order, want)
	}
	// Writing the parsed file again gives identical bytes.
	var again bytes.Buffer
	if err := Write(&again, f.Tensors(), f.Metadata()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), out) {
		t.Error("rewrite differs")
	}
	// The header is the compact form the reference writer produces.
	wantHdr := `{"__metadata__":{"format":"pt","note":"tiny <&> é"},"d.f64":{"dtype":"F64","shape":[],"data_offsets":[0,8]},`
	if !strings.HasPrefix(string(out[8:]), wantHdr) {
		t.Errorf("header starts %q", out[8:8+len(wantHdr)])
	}
}

func TestWriteFileAndOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	ts := []Tensor{{Name: "w", DType: F32, Shape: []int64{2}, Data: []byte{0, 0, 128, 63, 0, 0, 0, 64}}}
	if err := WriteFile(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, _ := f.Tensor("w")
	got, err := w.Float32s()
	if err != nil || !reflect.DeepEqual(got, []float32{1, 2}) {
		t.Errorf("got %v, %v", got, err)
	}
	if len(f.Metadata()) != 0 {
		t.Errorf("metadata %v", f.Metadata())
	}
}

func TestWriteErrors(t *testing.T) {
	ok := Tensor{Name: "a", DType: U8, Shape: []int64{2}, Data: []byte{1, 2}}
	for _, tc := range []struct {
		name    string
		tensors []Tensor
		want    string
	}{
		{"dup", []Tensor{ok, ok}, "duplicate"},
		{"empty name", []Tensor{{DType: U8, Shape: []int64{0}}}, "invalid tensor name"},
		{"metadata name", []Tensor{{Name: "__metadata__", DType: U8, Shape: []int64{0}}}, "invalid tensor name"},
		{"bad utf8", []Tensor{{Name: "\xff", DType: U8, Shape: []int64{0}}}, "invalid tensor name"},
		{"size", []Tensor{{Name: "a", DType: F32, Shape: []int64{2}, Data: []byte{1}}}, "needs 8 bytes, have 1"},
		{"dtype", []Tensor{{Name: "a", Shape: []int64{0}}}, "invalid dtype"},
		{"negative", []Tensor{{Name: "a", DType: U8, Shape: []int64{-1}}}, "negative"},
		{"overflow", []Tensor{{Name: "a", DType: F64, Shape: []int64{1 << 40, 1 << 30}}}, "overflow"},
	} {
		err := Write(&bytes.Buffer{}, tc.tensors, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestCorrupt checks that each kind of damage is reported with the right message, tensor and offset.
func TestCorrupt(t *testing.T) {
	const okT = `"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}`
	two := []byte{1, 2}
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, MaxHeaderSize+1)
	pastEnd := make([]byte, 16)
	binary.LittleEndian.PutUint64(pastEnd, 9)
	for _, tc := range []struct {
		name   string
		file   []byte
		msg    string // substring of the message
		tensor string
		offset int64 // -2: do not check; -(1000+k): data section start + k
		unsup  bool
	}{
		{"short", []byte{1, 2, 3}, "shorter than the 8-byte", "", 0, false},
		{"huge header", hugeLen, "exceeds the limit", "", 0, false},
		{"header past end", pastEnd, "exceeds the 8 bytes after it", "", 0, false},
		{"tiny header", build("{", nil), "cannot hold", "", 8, false},
		{"not object", build(`["x"]`, nil), "starts with '['", "", 8, false},
		{"bad utf8", build("{\"\xff\":1}", nil), "not valid UTF-8", "", 8, false},
		{"bad json", build(`{"t":}`, nil), "invalid JSON", "t", -2, false},
		{"trailing json", build(`{}{}`, nil), "after the header object", "", -2, false},
		{"truncated json", build(`{"t":{"dtype":"U8"`, nil), "invalid JSON", "t", -2, false},
		{"dup tensor", build(`{`+okT+`,`+okT+`}`, two), "duplicate key", "t", -2, false},
		{"dup metadata", build(`{"__metadata__":{},"__metadata__":{},`+okT+`}`, two), "duplicate key", "__metadata__", -2, false},
		{"dup metadata key", build(`{"__metadata__":{"a":"1","a":"2"},`+okT+`}`, two), "duplicate key \"a\"", "", -2, false},
		{"metadata value", build(`{"__metadata__":{"a":1},`+okT+`}`, two), "expected a string", "", -2, false},
		{"metadata type", build(`{"__metadata__":[],`+okT+`}`, two), "expected an object", "", -2, false},
		{"tensor not object", build(`{"t":3}`, nil), "expected \"{\"", "t", -2, false},
		{"unknown dtype", build(`{"t":{"dtype":"Q9","shape":[2],"data_offsets":[0,2]}}`, two), "unknown dtype \"Q9\"", "t", -2, false},
		{"sub-byte dtype", build(`{"t":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}`, two[:1]), "dtype \"F4\"", "t", -2, true},
		{"unknown key", build(`{"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2],"x":1}}`, two), "unknown key \"x\"", "t", -2, false},
		{"dup key", build(`{"t":{"dtype":"U8","dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, two), "duplicate key \"dtype\"", "t", -2, false},
		{"missing dtype", build(`{"t":{"shape":[2],"data_offsets":[0,2]}}`, two), "missing \"dtype\"", "t", -2, false},
		{"missing shape", build(`{"t":{"dtype":"U8","data_offsets":[0,2]}}`, two), "missing \"shape\"", "t", -2, false},
		{"missing offsets", build(`{"t":{"dtype":"U8","shape":[2]}}`, two), "missing \"data_offsets\"", "t", -2, false},
		{"negative dim", build(`{"t":{"dtype":"U8","shape":[-2],"data_offsets":[0,2]}}`, two), "unsigned integer, found -2", "t", -2, false},
		{"float dim", build(`{"t":{"dtype":"U8","shape":[2.0],"data_offsets":[0,2]}}`, two), "unsigned integer, found 2.0", "t", -2, false},
		{"string dim", build(`{"t":{"dtype":"U8","shape":["2"],"data_offsets":[0,2]}}`, two), "unsigned integer, found string", "t", -2, false},
		{"dim too large", build(`{"t":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,2]}}`, two), "too large", "t", -2, false},
		{"dim overflow u64", build(`{"t":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,2]}}`, two), "unsigned integer", "t", -2, false},
		{"too many dims", build(`{"t":{"dtype":"U8","shape":[`+strings.Repeat("1,", 64)+`1],"data_offsets":[0,1]}}`, two[:1]), "more than 64", "t", -2, false},
		{"three offsets", build(`{"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2,4]}}`, two), "exactly two", "t", -2, false},
		{"one offset", build(`{"t":{"dtype":"U8","shape":[2],"data_offsets":[0]}}`, two), "unsigned integer", "t", -2, false},
		{"product overflow", build(`{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,2]}}`, two), "overflows", "t", -(1000 + 0), false},
		{"bytes overflow", build(`{"t":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,2]}}`, two), "overflows", "t", -(1000 + 0), false},
		{"size mismatch", build(`{"t":{"dtype":"U16","shape":[2],"data_offsets":[0,2]}}`, two), "needs 4 bytes", "t", -(1000 + 0), false},
		{"end before begin", build(`{"t":{"dtype":"U8","shape":[0],"data_offsets":[2,1]}}`, two), "end before begin", "t", -(1000 + 0), false},
		{"past data", build(`{"t":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}`, two), "beyond the 2-byte data section", "t", -(1000 + 0), false},
		{"overlap", build(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, two), "overlap", "b", -(1000 + 1), false},
		{"hole", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, two), "hole", "a", -(1000 + 0), false},
		{"trailing data", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, two), "1 trailing bytes", "", -(1000 + 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.file, "bad.safetensors")
			if err == nil {
				t.Fatalf("parsed: %v", f.Names())
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a *FormatError", err, err)
			}
			if fe.File != "bad.safetensors" || !strings.Contains(fe.Msg, tc.msg) && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q, want file bad.safetensors and %q", err, tc.msg)
			}
			if fe.Tensor != tc.tensor {
				t.Errorf("error %q: tensor %q, want %q", err, fe.Tensor, tc.tensor)
			}
			if tc.offset <= -1000 { // relative to the data section
				n := int64(binary.LittleEndian.Uint64(tc.file))
				tc.offset = 8 + n + (-tc.offset - 1000)
			}
			if tc.offset != -2 && fe.Offset != tc.offset {
				t.Errorf("error %q: offset %d, want %d", err, fe.Offset, tc.offset)
			}
			if fe.Offset < 0 || fe.Offset > int64(len(tc.file)) {
				t.Errorf("error %q: offset %d outside the file", err, fe.Offset)
			}
			if errors.Is(err, ErrUnsupported) != tc.unsup {
				t.Errorf("errors.Is(ErrUnsupported) = %v", !tc.unsup)
			}
		})
	}
}

func TestAccepted(t *testing.T) {
	for _, tc := range []struct {
		name, hdr string
		data      []byte
		names     int
	}{
		{"empty", `{}`, nil, 0},
		{"padded", `{}      `, nil, 0},
		{"null metadata", `{"__metadata__":null}`, nil, 0},
		{"zero-size at end", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"z":{"dtype":"F32","shape":[0,5],"data_offsets":[1,1]}}`, []byte{7}, 2},
		{"two zero-size", `{"y":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"z":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, nil, 2},
		{"whitespace", "{ \"a\" : { \"shape\" : [ 1 ] , \"data_offsets\" : [ 0 , 2 ] , \"dtype\" : \"BF16\" } }\n", []byte{1, 2}, 1},
	} {
		f, err := Parse(build(tc.hdr, tc.data), tc.name)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(f.Names()) != tc.names {
			t.Errorf("%s: names %v", tc.name, f.Names())
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	var fe *FormatError
	if _, err := Open(empty); !errors.As(err, &fe) || fe.File != empty {
		t.Errorf("empty file: %v", err)
	}
	if _, err := Open(dir); err == nil {
		t.Error("opened a directory")
	}
}

func TestF16Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		s, e, m := h>>15, (h>>10)&31, h&1023
		var want float64
		switch {
		case e == 31 && m == 0:
			want = math.Inf(1)
		case e == 31:
			got := F16ToF32(uint16(h))
			bits := math.Float32bits(got)
			if !math.IsNaN(float64(got)) || bits>>31 != uint32(s) || bits&0x7fffff != uint32(m)<<13 {
				t.Fatalf("%#04x -> %#08x, want NaN with payload", h, bits)
			}
			continue
		case e == 0:
			want = math.Ldexp(float64(m), -24)
		default:
			want = math.Ldexp(1+float64(m)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		got := F16ToF32(uint16(h))
		if float64(got) != want || math.Signbit(float64(got)) != (s == 1) {
			t.Fatalf("%#04x -> %v, want %v", h, got, want)
		}
	}
}

func TestBF16(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		if got := math.Float32bits(BF16ToF32(uint16(h))); got != uint32(h)<<16 {
			t.Fatalf("%#04x -> %#08x", h, got)
		}
	}
	if v := BF16ToF32(0x0001); v != float32(math.Ldexp(1, -133)) {
		t.Errorf("smallest subnormal = %g", v)
	}
}

func TestFloat32sErrors(t *testing.T) {
	for _, tc := range []Tensor{
		{Name: "i", DType: I32, Shape: []int64{1}, Data: make([]byte, 4)},
		{Name: "len", DType: F32, Shape: []int64{2}, Data: make([]byte, 4)},
		{Name: "neg", DType: F16, Shape: []int64{-1}},
	} {
		if _, err := tc.Float32s(); err == nil || !strings.Contains(err.Error(), tc.Name) {
			t.Errorf("%s: err = %v", tc.Name, err)
		}
	}
	// Unaligned views work.
	buf := make([]byte, 9)
	binary.LittleEndian.PutUint64(buf[1:], math.Float64bits(-0.1))
	got, err := Tensor{DType: F64, Shape: []int64{1}, Data: buf[1:]}.Float32s()
	if err != nil || got[0] != float32(-0.1) {
		t.Errorf("f64: %v %v", got, err)
	}
}

func TestDType(t *testing.T) {
	for d := F64; d <= F8_E8M0; d++ {
		p, ok := ParseDType(d.String())
		if !ok || p != d || d.Size() == 0 {
			t.Errorf("%v: ParseDType = %v %v, size %d", d, p, ok, d.Size())
		}
	}
	if DType(0).Valid() || DType(0).String() != "DType(0)" || DType(200).Size() != 0 {
		t.Error("invalid dtype accepted")
	}
	if _, ok := ParseDType("f32"); ok {
		t.Error("lower case accepted")
	}
}

func f32Tensor(name string, n int) Tensor {
	b := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(i)+0.5))
	}
	return Tensor{Name: name, DType: F32, Shape: []int64{int64(n)}, Data: b}
}

func TestSharded(t *testing.T) {
	dir := t.TempDir()
	ts := []Tensor{f32Tensor("z.w", 4), f32Tensor("huge", 11), f32Tensor("a.w", 4), f32Tensor("big", 10), f32Tensor("m.w", 2)}
	// huge (44 > 40) is shard 1 at once; z.w+a.w = 32 fit; big (40) does not fit with them, so it starts
	// shard 3 and m.w (40+8 > 40) shard 4.
	if err := WriteSharded(dir, ts, 40); err != nil {
		t.Fatal(err)
	}
	idx, err := os.ReadFile(filepath.Join(dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Metadata struct {
			TotalSize int64 `json:"total_size"`
		} `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(idx, &index); err != nil {
		t.Fatal(err)
	}
	wantMap := map[string]string{
		"huge": "model-00001-of-00004.safetensors",
		"z.w":  "model-00002-of-00004.safetensors", "a.w": "model-00002-of-00004.safetensors",
		"big": "model-00003-of-00004.safetensors", "m.w": "model-00004-of-00004.safetensors",
	}
	if index.Metadata.TotalSize != 124 || !reflect.DeepEqual(index.WeightMap, wantMap) {
		t.Errorf("index %s", idx)
	}
	if !strings.HasPrefix(string(idx), "{\n  \"metadata\": {\n    \"total_size\": 124\n  },\n  \"weight_map\": {\n    \"a.w\": ") || !strings.HasSuffix(string(idx), "}\n") {
		t.Errorf("index not in transformers' layout:\n%s", idx)
	}
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Names(); !reflect.DeepEqual(got, []string{"a.w", "big", "huge", "m.w", "z.w"}) {
		t.Errorf("names %v", got)
	}
	for _, want := range ts {
		got, ok := s.Tensor(want.Name)
		if !ok || !bytes.Equal(got.Data, want.Data) || !reflect.DeepEqual(got.Shape, want.Shape) {
			t.Errorf("%s: %+v", want.Name, got)
		}
	}
	if len(s.files) != 4 || s.Metadata()["format"] != "pt" {
		t.Errorf("files %d, metadata %v", len(s.files), s.Metadata())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A shard that is missing.
	os.Rename(filepath.Join(dir, "model-00003-of-00004.safetensors"), filepath.Join(dir, "gone"))
	_, err = OpenDir(dir)
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "model-00003-of-00004.safetensors") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing shard: %v", err)
	}
	// A shard that lacks a tensor the index puts in it.
	if err := WriteFile(filepath.Join(dir, "model-00003-of-00004.safetensors"), []Tensor{f32Tensor("other", 1)}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = OpenDir(dir)
	if !errors.As(err, &fe) || fe.Tensor != "big" || !strings.Contains(err.Error(), "model-00003-of-00004.safetensors") {
		t.Errorf("shard without tensor: %v", err)
	}
	// A corrupt shard.
	os.WriteFile(filepath.Join(dir, "model-00003-of-00004.safetensors"), []byte("garbage!garbage"), 0o644)
	_, err = OpenDir(dir)
	if !errors.As(err, &fe) || !strings.Contains(fe.File, "model-00003-of-00004.safetensors") {
		t.Errorf("corrupt shard: %v", err)
	}
}

func TestIndexErrors(t *testing.T) {
	for _, tc := range []struct{ name, index, want string }{
		{"no weight_map", `{"metadata":{}}`, "no weight_map"},
		{"path escape", `{"weight_map":{"a":"../x.safetensors"}}`, "not a plain file name"},
		{"dup", `{"weight_map":{"a":"x","a":"y"}}`, "duplicate key"},
		{"not string", `{"weight_map":{"a":1}}`, "expected a string"},
		{"bad json", `{"weight_map":`, "invalid JSON"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, IndexName), []byte(tc.index), 0o644)
		_, err := OpenDir(dir)
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(fe.File, IndexName) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestOpenDirSingle(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenDir(dir); err == nil {
		t.Error("empty dir opened")
	}
	ts := []Tensor{f32Tensor("a", 3), f32Tensor("b", 1)}
	if err := WriteSharded(dir, ts, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, IndexName)); err == nil {
		t.Error("single shard wrote an index")
	}
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Names(), []string{"a", "b"}) {
		t.Errorf("names %v", s.Names())
	}
	s.Close()

	// Any single *.safetensors file.
	dir2 := t.TempDir()
	WriteFile(filepath.Join(dir2, "weights.safetensors"), ts, map[string]string{"k": "v"})
	s, err = OpenDir(dir2)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Tensor("b"); !ok || s.Metadata()["k"] != "v" {
		t.Error("single file not read")
	}
	s.Close()
	WriteFile(filepath.Join(dir2, "more.safetensors"), ts, nil)
	if _, err := OpenDir(dir2); err == nil || !strings.Contains(err.Error(), "2 *.safetensors") {
		t.Errorf("ambiguous dir: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.safetensors")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "fuzz")
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FormatError: %v", err, err)
			}
			return
		}
		// Whatever parses round-trips through the writer.
		var buf bytes.Buffer
		if err := Write(&buf, file.Tensors(), file.Metadata()); err != nil {
			t.Fatalf("write of parsed file: %v", err)
		}
		again, err := Parse(buf.Bytes(), "rewritten")
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		if !reflect.DeepEqual(again.Names(), file.Names()) || !reflect.DeepEqual(again.Metadata(), file.Metadata()) {
			t.Fatal("round trip changed names or metadata")
		}
		for _, name := range file.Names() {
			a, _ := file.Tensor(name)
			b, _ := again.Tensor(name)
			if a.DType != b.DType || !reflect.DeepEqual(a.Shape, b.Shape) || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("tensor %q changed", name)
			}
			if _, err := a.Float32s(); err != nil && (a.DType == F32 || a.DType == F16 || a.DType == BF16 || a.DType == F64) {
				t.Fatalf("Float32s: %v", err)
			}
		}
	})
}

// TestReferenceBytes checks the writer against the byte vectors in huggingface/safetensors' own tests.
func TestReferenceBytes(t *testing.T) {
	f32s := make([]byte, 24)
	for i := range 6 {
		binary.LittleEndian.PutUint32(f32s[4*i:], math.Float32bits(float32(i)))
	}
	for _, tc := range []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    []byte
	}{
		{"serialization", []Tensor{{Name: "attn.0", DType: F32, Shape: []int64{1, 2, 3}, Data: f32s}}, nil, []byte{
			64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
			116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
			58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
			101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
			0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64}},
		{"forced alignment", []Tensor{{Name: "attn0", DType: F32, Shape: []int64{1, 1, 2, 3}, Data: f32s}}, nil, []byte{
			72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
			121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
			91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
			115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
			32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
			160, 64}},
		{"empty", nil, nil, []byte{8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32}},
		{"empty with metadata", nil, map[string]string{"framework": "pt"}, []byte{
			40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
			95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
			116, 34, 125, 125, 32, 32, 32, 32, 32}},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, tc.tensors, tc.meta); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, buf.Bytes(), tc.want)
		}
		if _, err := Parse(tc.want, tc.name); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// Same-size dtypes follow the reference enum order (BF16 after F16 in the enum, so first), not the name.
	ts := []Tensor{{Name: "a", DType: F16, Shape: []int64{1}, Data: []byte{0, 0}}, {Name: "b", DType: BF16, Shape: []int64{1}, Data: []byte{0, 0}}}
	if order := layout(ts); order[0] != 1 {
		t.Errorf("layout %v, want BF16 first", order)
	}
}
