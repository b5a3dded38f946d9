package model

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/kvcache"
	"github.com/bitrepl/bitrepl/model/safetensors"
)

// saveAll writes m in every format we write and returns the paths by name.
func saveAll(t *testing.T, m *Model) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for name, opt := range map[string]SaveOptions{
		"hf-latent":  {Format: "safetensors", Embed: cpu.F32, Latent: true},
		"hf-packed":  {Format: "safetensors", Embed: cpu.F32},
		"gguf-tq1_0": {Format: "gguf", Ternary: cpu.TQ1_0, Embed: cpu.F32},
		"gguf-tq2_0": {Format: "gguf", Ternary: cpu.TQ2_0, Embed: cpu.F32},
		"gguf-i2_s":  {Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F32},
		"gguf-tq1_s": {Format: "gguf", Ternary: cpu.TQ1_S, Embed: cpu.F32},
		// As llama-quantize writes TQ2_0: the scale rounded to f16 per block.
		"gguf-tq2_0-blockscales": {Format: "gguf", Ternary: cpu.TQ2_0, Embed: cpu.F32, BlockScales: true},
	} {
		p := filepath.Join(dir, name)
		if opt.Format == "gguf" {
			p += ".gguf"
		}
		if err := m.Save(p, opt); err != nil {
			t.Fatalf("save %s: %v", name, err)
		}
		paths[name] = p
	}
	// The packed checkpoint again, sharded with an index as transformers
	// writes big models.
	f, err := safetensors.Open(filepath.Join(paths["hf-packed"], "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sharded := filepath.Join(dir, "hf-sharded")
	if err := safetensors.WriteSharded(sharded, f.Tensors(), 64<<10); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(paths["hf-packed"], "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sharded, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if shards, _ := filepath.Glob(filepath.Join(sharded, "*.safetensors")); len(shards) < 2 {
		t.Fatalf("sharded checkpoint has %d shards", len(shards))
	}
	paths["hf-sharded"] = sharded
	return paths
}

// f16Scales reports whether the file saveAll wrote as name holds the scales
// rounded to f16 in TQ blocks: asked for (blockscales), or a llama-arch TQ
// file, whose arch in llama.cpp has no ".scale" tensors.
func f16Scales(arch, name string) bool {
	return strings.HasSuffix(name, "blockscales") || arch == "llama" && strings.HasPrefix(name, "gguf-tq") && name != "gguf-tq1_s"
}

// One tiny model written in every format gives the same logits from every
// file: the ternary weights are identical and the embedding type is equal.
func TestSameLogitsFromEveryFormat(t *testing.T) {
	for _, arch := range []string{"bitnet", "bitnet-b1.58", "llama"} {
		t.Run(arch, func(t *testing.T) {
			m, err := Random(tinyConfig(arch), 41, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			// F32 caches: an F16 one would round keys that differ in the
			// last bits (blockscales) to different halves.
			m.KVCache = kvcache.F32
			tokens := []int32{7, 3, 88, 12, 0, 41}
			want, err := m.NewSession(16).ForwardAll(tokens)
			if err != nil {
				t.Fatal(err)
			}
			for name, p := range saveAll(t, m) {
				got, err := Load(p)
				if err != nil {
					t.Fatalf("%s: load: %v", name, err)
				}
				if got.Config.Act != m.Config.Act || got.Config.SubNorms != m.Config.SubNorms || got.Config.KVHeads != m.Config.KVHeads {
					t.Errorf("%s: config %+v, want %+v", name, got.Config, m.Config)
				}
				// The ternary codes are the same in every file.
				for i, w := range got.Weights() {
					orig := m.Weights()[i]
					if w.Name != orig.Name {
						t.Fatalf("%s: weight %d is %s, want %s", name, i, w.Name, orig.Name)
					}
					if !w.Matrix.Type.Ternary() {
						continue
					}
					c1, s1, _ := ternaryOf(w.Name, w.Matrix)
					c2, s2, _ := ternaryOf(w.Name, orig.Matrix)
					if got.Config.RopeInterleaved && (strings.Contains(w.Name, "attn_q") || strings.Contains(w.Name, "attn_k")) {
						c2 = permuteHeads(c2, w.Matrix.Rows, w.Matrix.Cols, m.Config.HeadDim, false)
					}
					if string(int8Bytes(c1)) != string(int8Bytes(c2)) {
						t.Fatalf("%s: %s: ternary codes differ", name, w.Name)
					}
					scaleTol := 1e-6
					if f16Scales(arch, name) {
						scaleTol = 1.0 / 2048
					}
					if d := float64(s1/s2 - 1); d > scaleTol || d < -scaleTol {
						t.Errorf("%s: %s: scale %v, want %v", name, w.Name, s1, s2)
					}
				}
				got.KVCache = kvcache.F32
				logits, err := got.NewSession(16).ForwardAll(tokens)
				if err != nil {
					t.Fatal(err)
				}
				tol := 1e-5
				if f16Scales(arch, name) {
					// Every scale is rounded to f16 (relative error up to 2^-11,
					// checked below); through two layers and the int8 activation
					// rounding that moves logits by up to ~1%.
					tol = 2e-2
				}
				for pos := range tokens {
					if e := relErr(logits[pos], f64s(want[pos])); e > tol {
						t.Errorf("%s: pos %d: logits differ by %g (relative)", name, pos, e)
					}
				}
				if err := got.Close(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func int8Bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// The weight_scale convention differs between checkpoint families:
// transformers' "bitlinear" divides by it, "autobitlinear" multiplies.
func TestWeightScaleConventions(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 51, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir, SaveOptions{Format: "safetensors", Embed: cpu.F32}); err != nil {
		t.Fatal(err)
	}
	inv, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, sInv, _ := ternaryOf("q", inv.layers[0].Q)
	_, sOrig, _ := ternaryOf("q", m.layers[0].Q)
	if d := sInv/sOrig - 1; d > 1e-6 || d < -1e-6 {
		t.Fatalf("bitlinear (inverted) scale %v, want %v", sInv, sOrig)
	}
	// The same file read as autobitlinear multiplies by the stored 1/scale.
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	auto := strings.Replace(string(cfg), `"linear_class": "bitlinear"`, `"linear_class": "autobitlinear"`, 1)
	if auto == string(cfg) {
		t.Fatal("config.json has no linear_class to change")
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(auto), 0o644); err != nil {
		t.Fatal(err)
	}
	mul, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, sMul, _ := ternaryOf("q", mul.layers[0].Q)
	if d := sMul*sOrig - 1; d > 1e-6 || d < -1e-6 {
		t.Fatalf("autobitlinear scale %v, want 1/%v", sMul, sOrig)
	}
}

// microsoft's 2B-4T GGUF was first published with arch "bitnet-25", then
// re-uploaded as "bitnet-b1.58": both must load as ReLU² models.
func TestBitnet25ArchName(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 61, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Config.Arch = "bitnet-25"
	p := filepath.Join(t.TempDir(), "old.gguf")
	if err := m.Save(p, SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F16}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config.Act != ReLU2 || !got.Config.SubNorms {
		t.Fatalf("bitnet-25 loaded as %v, sub-norms %v; want relu2 with sub-norms", got.Config.Act, got.Config.SubNorms)
	}
}

func TestPackHFLayout(t *testing.T) {
	// Rows 0..3 of a 8x2 matrix go to bits 0-1 of packed rows 0..1, rows 2..3
	// to bits 2-3, and so on: quarters are concatenated, not interleaved.
	codes := []int8{
		1, -1, // row 0
		0, 1, // row 1
		-1, -1, // row 2
		1, 1, // row 3
		0, 0, // row 4
		-1, 0, // row 5
		1, 0, // row 6
		0, -1, // row 7
	}
	p, err := PackHF(codes, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	// byte(0,0): row0=+1(2) | row2=-1(0)<<2 | row4=0(1)<<4 | row6=+1(2)<<6
	if want := byte(2 | 0<<2 | 1<<4 | 2<<6); p[0] != want {
		t.Fatalf("packed[0] = %08b, want %08b", p[0], want)
	}
	back, err := UnpackHF(p, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(int8Bytes(back)) != string(int8Bytes(codes)) {
		t.Fatalf("round trip: %v", back)
	}
	if _, err := UnpackHF([]byte{0xff, 0, 0, 0}, 8, 2); err == nil {
		t.Fatal("code 3 accepted")
	}
}

func TestLoadErrors(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 71, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "m.gguf")
	if err := m.Save(good, SaveOptions{Format: "gguf", Ternary: cpu.TQ2_0, Embed: cpu.F16}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknownArch := strings.Replace(string(data), "bitnet-b1.58", "bitnet-b9.99", 1)
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.gguf"), "no such file"},
		{"not gguf", write("x.gguf", []byte("hello world, not a model")), "not a GGUF file"},
		{"truncated", write("t.gguf", data[:len(data)/2]), "gguf"},
		{"unknown arch", write("a.gguf", []byte(unknownArch)), "not supported"},
		{"empty dir", t.TempDir(), "config.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.want)) {
				t.Fatalf("Load: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestContextFull(t *testing.T) {
	m, err := Random(tinyConfig("bitnet"), 81, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession(4)
	if _, err := s.Forward([]int32{1, 2, 3, 4, 5}); !errors.Is(err, ErrContextFull) {
		t.Fatalf("5 tokens in a context of 4: %v", err)
	}
	if s.Pos() != 0 {
		t.Fatalf("a refused forward moved the session to %d", s.Pos())
	}
	if _, err := s.Forward([]int32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Forward([]int32{1}); !errors.Is(err, ErrContextFull) {
		t.Fatalf("token past the end: %v", err)
	}
	if _, err := s.Forward([]int32{int32(m.Config.VocabSize)}); err == nil {
		t.Fatal("token outside the vocabulary accepted")
	}
}

// ReLU² of large activations exceeds fp16's range; the engine keeps them in
// float32, so even a gate of 1000 gives finite values.
func TestReLU2StaysFinite(t *testing.T) {
	gate := []float32{1000, -5, 300}
	up := []float32{100, 1, -2}
	activate(gate, up, ReLU2)
	if gate[0] != 1e8 || gate[1] != 0 || gate[2] != -180000 {
		t.Fatalf("relu2 = %v", gate)
	}
	if gate[0] <= 65504 {
		t.Fatal("test does not exceed the fp16 range")
	}
}

// An all-zero activation row must not divide by zero anywhere in a layer.
func TestZeroActivationsStayFinite(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 91, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.layers {
		clear(m.layers[i].AttnNorm) // every BitLinear input of attention is zero
	}
	logits, err := m.NewSession(4).Forward([]int32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range logits {
		if v != v || v > 1e30 || v < -1e30 {
			t.Fatalf("logit %d = %v", i, v)
		}
	}
}

// 1bitLLM's 3B (ffn 8640) and xl (ffn 5460) have widths that are not whole
// blocks: the loader pads the down projection with zero columns, and every
// format that can hold the shape gives the same logits; GGUF's ternary types
// cannot, and say so.
func TestOddWidthFromHF(t *testing.T) {
	cfg := tinyConfig("bitnet")
	cfg.FFNDim = 340
	m, err := Random(cfg, 43, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.layers[0].Down.Cols != 384 {
		t.Fatalf("down projection has %d columns, want 340 padded to 384", m.layers[0].Down.Cols)
	}
	tokens := []int32{9, 8, 7, 6}
	want, err := m.NewSession(8).ForwardAll(tokens)
	if err != nil {
		t.Fatal(err)
	}
	for _, latent := range []bool{true, false} {
		dir := t.TempDir()
		if err := m.Save(dir, SaveOptions{Format: "safetensors", Embed: cpu.F32, Latent: latent}); err != nil {
			t.Fatal(err)
		}
		got, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		logits, err := got.NewSession(8).ForwardAll(tokens)
		if err != nil {
			t.Fatal(err)
		}
		for pos := range tokens {
			if e := relErr(logits[pos], f64s(want[pos])); e > 1e-5 {
				t.Errorf("latent=%v pos %d: logits differ by %g", latent, pos, e)
			}
		}
	}
	err = m.Save(filepath.Join(t.TempDir(), "x.gguf"), SaveOptions{Format: "gguf", Ternary: cpu.TQ2_0, Embed: cpu.F16})
	if err == nil || !strings.Contains(err.Error(), "ffn_down") {
		t.Fatalf("TQ2_0 with 340 columns: %v, want an error naming ffn_down", err)
	}
}

// Latent weights written by Save ternarise back to the same codes and
// exactly the same scale.
func TestLatentWeightsExact(t *testing.T) {
	for i := range 20000 {
		scale := float32(0.001 + float64(i)*1.7e-6)
		n := 256 * (1 + i%37)
		codes := make([]int8, n)
		for j := range 1 + (i*7919)%n {
			codes[(j*31)%n] = int8(1 - 2*(j%2))
		}
		got := make([]int8, n)
		if s := Ternarize(got, latentWeights(codes, scale)); s != scale {
			t.Fatalf("scale %v came back as %v (n %d)", scale, s, n)
		}
		if string(int8Bytes(got)) != string(int8Bytes(codes)) {
			t.Fatalf("codes changed for scale %v", scale)
		}
	}
}

// Layer weights written in another type load with that type's semantics:
// F32, F16 and BF16 weights of a BitNet model see the int8 activations (a
// BitLinear, so every file of one model computes the same model); Q8_0 and
// Q4_0 are plain linear layers on the float activations, as in llama.cpp.
// The engine's logits match the float64 reference of each within the
// type's tolerance; F32 pins the float semantics at 1e-5, where plain float
// activations would be off by about 1%.
func TestPlainLayerWeights(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 43, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens := []int32{7, 3, 88, 12, 0, 41, 5, 9}
	for _, tc := range []struct {
		typ cpu.DType
		tol float64
	}{
		// Q8_0 and Q4_0 rows multiply activations quantized per 32
		// elements to int8 (as llama.cpp does), about 0.5% rms per product.
		{cpu.F32, 1e-5}, {cpu.F16, 1e-5}, {cpu.BF16, 1e-5}, {cpu.Q8_0, 3e-2}, {cpu.Q4_0, 3e-2},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "plain.gguf")
			if err := m.Save(p, SaveOptions{Format: "gguf", Ternary: tc.typ, Embed: cpu.F16}); err != nil {
				t.Fatal(err)
			}
			got, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			got.KVCache = kvcache.F32 // the reference keeps K and V exact
			for _, w := range got.Weights() {
				if strings.HasPrefix(w.Name, "blk.") && w.Matrix.Type != tc.typ {
					t.Fatalf("%s is %v, want %v", w.Name, w.Matrix.Type, tc.typ)
				}
			}
			want := refFromModel(t, got).logits(tokens)
			// A prompt as one batch, then the same tokens one at a time.
			batch, err := got.NewSession(16).ForwardAll(tokens)
			if err != nil {
				t.Fatal(err)
			}
			s := got.NewSession(16)
			for pos, id := range tokens {
				one, err := s.Forward([]int32{id})
				if err != nil {
					t.Fatal(err)
				}
				if e := relErr(one, want[pos]); e > tc.tol {
					t.Errorf("pos %d one at a time: logits differ from the plain reference by %g (relative), want <= %g", pos, e, tc.tol)
				}
				if e := relErr(batch[pos], want[pos]); e > tc.tol {
					t.Errorf("pos %d in a batch: logits differ from the plain reference by %g (relative), want <= %g", pos, e, tc.tol)
				}
			}
		})
	}
}
