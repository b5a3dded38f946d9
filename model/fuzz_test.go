package model

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// FuzzParseHFConfig: any config.json gives a valid Config or an error.
func FuzzParseHFConfig(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "config", "*.json"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"model_type":"bitnet","hidden_act":"relu2","hidden_size":2560,"intermediate_size":6912,"num_hidden_layers":30,"num_attention_heads":20,"num_key_value_heads":5,"vocab_size":128256,"max_position_embeddings":4096,"rope_theta":500000}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := parseHFConfig(data)
		if err == nil {
			if err := c.Validate(); err != nil {
				t.Fatalf("parseHFConfig accepted an invalid config: %v", err)
			}
		}
	})
}

// FuzzLoadGGUF: a corrupted model file loads or fails with an error; it
// never panics, and a model that loads can run a token.
func FuzzLoadGGUF(f *testing.F) {
	m, err := Random(Config{Arch: "bitnet-b1.58", VocabSize: 8, Dim: 256, FFNDim: 256, Layers: 1, Heads: 2, KVHeads: 1,
		ContextLen: 8, RopeTheta: 10000, NormEps: 1e-5, Act: ReLU2, SubNorms: true, TiedEmbedding: true}, 1, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, t := range []cpu.DType{cpu.I2_S, cpu.TQ2_0} {
		p := filepath.Join(f.TempDir(), t.String()+".gguf")
		if err := m.Save(p, SaveOptions{Format: "gguf", Ternary: t, Embed: cpu.F16}); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// llama-quantize's output: Q4_K embedding, Q6_K head (dequantized at load)
	b, err := os.ReadFile(filepath.Join("testdata", "checkpoints", "peers", "llamacpp-Falcon3-1B-Instruct-1.58bit-tq2_0-q4k-q6k.gguf"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadBytes(bytes.Clone(data), "fuzz.gguf")
		if err != nil {
			return
		}
		if m.Config.ContextLen*m.Config.KVDim()*m.Config.Layers > 1<<24 || m.Config.VocabSize > 1<<16 {
			return // loads, but too large to run in a fuzz iteration
		}
		if _, err := m.NewSession(4).Forward([]int32{0}); err != nil {
			t.Fatalf("a loaded model failed to run: %v", err)
		}
	})
}
