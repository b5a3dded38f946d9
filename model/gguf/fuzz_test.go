package gguf

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.gguf from the writer")

// goldenFiles are the tiny files committed under testdata/: fuzz seeds and a check that the writer's
// output does not change by accident.
func goldenFiles(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	add := func(name string, w *Writer) {
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		out[name] = buf.Bytes()
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}

	add("empty.gguf", NewWriter())

	w := NewWriter()
	w.Set("general.architecture", String("bitnet"))
	w.Set("general.name", String("tiny"))
	w.Set("bitnet.block_count", Uint32(1))
	w.Set("bitnet.rope.freq_base", Float32(10000))
	w.Set("bitnet.attention.layer_norm_rms_epsilon", Float32(1e-5))
	w.Set("general.file_type", Uint32(37))
	must(w.AddTensor("output_norm.weight", F32, []uint64{4}, f32bytes(1, 2, 3, 4)))
	tq := make([]byte, 66)
	for i := range 64 {
		tq[i] = 0x55 // all codes 1 = weight 0
	}
	tq[64], tq[65] = 0x00, 0x3c // f16 d = 1
	must(w.AddTensor("blk.0.attn_q.weight", TQ2_0, []uint64{256, 1}, tq))
	add("tiny.gguf", w)

	w = NewWriter()
	w.Set("general.architecture", String("bitnet-b1.58"))
	w.Set("tokenizer.ggml.model", String("gpt2"))
	w.Set("tokenizer.ggml.tokens", Strings([]string{"<|begin_of_text|>", "a", "b", "ab", "Ġ"}))
	w.Set("tokenizer.ggml.token_type", Int32s([]int32{3, 1, 1, 1, 1}))
	w.Set("tokenizer.ggml.merges", Strings([]string{"a b"}))
	w.Set("tokenizer.ggml.bos_token_id", Uint32(0))
	w.Set("tokenizer.ggml.add_bos_token", Bool(true))
	w.Set("tokenizer.chat_template", String("{% for m in messages %}{{ m.role }}: {{ m.content }}<|eot_id|>{% endfor %}"))
	i2s := bytes.Repeat([]byte{0x55}, 128*2/4+32) // 2 rows of 128 zeros, then the trailer
	copy(i2s[64:], f32bytes(0.5))
	must(w.AddTensor("blk.0.ffn_down.weight", I2_S, []uint64{128, 2}, i2s))
	add("vocab.gguf", w)

	w = NewWriter()
	w.Set(KeyAlignment, Uint32(64))
	w.Set("test.kinds", Uint8s([]uint8{1, 2}))
	w.Set("test.i8", Int8(-1))
	w.Set("test.u16", Uint16(2))
	w.Set("test.i16", Int16(-2))
	w.Set("test.i64", Int64(-3))
	w.Set("test.u64", Uint64(3))
	w.Set("test.f64", Float64(0.25))
	w.Set("test.f64s", Float64s([]float64{1, 2}))
	w.Set("test.bools", Bools([]bool{true, false}))
	q8 := make([]byte, 34*2)
	q8[0], q8[1] = 0x00, 0x3c
	q8[34], q8[35] = 0x00, 0x38
	must(w.AddTensor("token_embd.weight", Q8_0, []uint64{32, 2}, q8))
	must(w.AddTensor("x", F16, []uint64{1}, []byte{0, 0x3c}))
	add("align64.gguf", w)
	return out
}

func f32bytes(xs ...float32) []byte {
	v := Float32s(xs)
	return v.raw
}

func TestGolden(t *testing.T) {
	for name, want := range goldenFiles(t) {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the writer's output changed (run go test -update if intended)", path)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range f.Tensors {
			if d := f.TensorData(&f.Tensors[i]); uint64(len(d)) != f.Tensors[i].Size {
				t.Errorf("%s: %s: %d bytes", path, f.Tensors[i].Name, len(d))
			}
		}
		f.Close()
	}
}

// FuzzParse checks that Parse never panics, that what it accepts is self-consistent, and that whatever
// the writer can re-encode parses back to the same metadata and tensors.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.gguf"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, b := range goldenFiles(f) { // also works before testdata exists
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data, "fuzz")
		if err != nil {
			if _, ok := err.(*FormatError); !ok {
				t.Fatalf("error %v is %T, not *FormatError", err, err)
			}
			return
		}
		if g.DataOffset%g.Alignment != 0 || g.DataOffset < 24 {
			t.Fatalf("data offset %d, alignment %d", g.DataOffset, g.Alignment)
		}
		w := NewWriter()
		for _, kv := range g.KV {
			_ = kv.Value.String()
			if v, ok := g.Get(kv.Key); !ok || !v.Equal(kv.Value) {
				t.Fatalf("Get(%q)", kv.Key)
			}
			w.Set(kv.Key, kv.Value)
		}
		for i := range g.Tensors {
			ti := &g.Tensors[i]
			d := g.TensorData(ti)
			if uint64(len(d)) != ti.Size || ti.Offset%g.Alignment != 0 {
				t.Fatalf("tensor %q: %d bytes, want %d; offset %d", ti.Name, len(d), ti.Size, ti.Offset)
			}
			if err := w.AddTensor(ti.Name, ti.Type, ti.Dims, d); err != nil {
				return // e.g. a name llama.cpp would refuse
			}
		}
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			return // e.g. general.alignment stored as another integer kind
		}
		h, err := Parse(buf.Bytes(), "rewritten")
		if err != nil {
			t.Fatalf("rewritten file does not parse: %v", err)
		}
		if len(h.KV) != len(g.KV) || len(h.Tensors) != len(g.Tensors) || h.Alignment != g.Alignment {
			t.Fatalf("rewritten file differs")
		}
		for i := range g.KV {
			if h.KV[i].Key != g.KV[i].Key || !h.KV[i].Value.Equal(g.KV[i].Value) {
				t.Fatalf("key %q differs after rewrite", g.KV[i].Key)
			}
		}
		for i := range g.Tensors {
			if !bytes.Equal(h.TensorData(&h.Tensors[i]), g.TensorData(&g.Tensors[i])) {
				t.Fatalf("tensor %q differs after rewrite", g.Tensors[i].Name)
			}
		}
	})
}

// benchFile writes a file shaped like a 2B model's metadata: 300 tensors and a 128256-token vocabulary.
func benchFile(b *testing.B) string {
	w := NewWriter()
	w.Set("general.architecture", String("bitnet-b1.58"))
	const vocab = 128256
	toks := make([]string, vocab)
	types := make([]int32, vocab)
	scores := make([]float32, vocab)
	for i := range toks {
		toks[i] = fmt.Sprintf("tok%d", i)
		types[i] = 1
		scores[i] = float32(-i)
	}
	merges := make([]string, 280000)
	for i := range merges {
		merges[i] = fmt.Sprintf("m%d n%d", i, i)
	}
	w.Set("tokenizer.ggml.tokens", Strings(toks))
	w.Set("tokenizer.ggml.token_type", Int32s(types))
	w.Set("tokenizer.ggml.scores", Float32s(scores))
	w.Set("tokenizer.ggml.merges", Strings(merges))
	w.Set("tokenizer.chat_template", String(strings.Repeat("{{ x }}", 1000)))
	data := make([]byte, 256*64/4+32)
	for i := range 300 {
		if err := w.AddTensor(fmt.Sprintf("blk.%d.w", i), I2_S, []uint64{256, 64}, data); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(b.TempDir(), "bench.gguf")
	if err := w.WriteFile(path); err != nil {
		b.Fatal(err)
	}
	return path
}

func BenchmarkOpen(b *testing.B) {
	path := benchFile(b)
	b.ReportAllocs()
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
