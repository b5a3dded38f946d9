package model

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/embedded"
)

// The JSON files of a saved Hugging Face directory, byte for byte: the
// built-in model (bitnet-b1.58, with its tokenizer and chat template) packed
// and latent, and a llama-arch model with llama3 RoPE scaling, a head size
// that is not dim/heads, without a tokenizer, and its config.json with
// BitLinear norms. Whatever
// the loader reads back is checked by the round-trip tests; this pins what
// transformers reads. go test -run TestHFJSONGolden -update rewrites them.
func TestHFJSONGolden(t *testing.T) {
	tiny, err := LoadBytes(embedded.GGUF(), embedded.Name)
	if err != nil {
		t.Fatal(err)
	}
	lc := tinyConfig("llama")
	lc.HeadDim = 32
	lc.RopeScaling = RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 32}
	llama, err := Random(lc, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		m      *Model
		latent bool
		files  []string
	}{
		{"tiny", tiny, false, []string{"config.json", "tokenizer_config.json", "generation_config.json"}},
		{"tiny-latent", tiny, true, []string{"config.json"}},
		{"llama", llama, true, []string{"config.json"}},
	} {
		dir := t.TempDir()
		if err := tc.m.Save(dir, SaveOptions{Format: "safetensors", Embed: cpu.F32, Latent: tc.latent}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, f := range tc.files {
			got, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "hfjson", tc.name+"."+f), got)
		}
		if tc.name == "llama" { // Random makes no BitLinear norm weights: only the config is written
			llama.Config.BitLinearNorm, llama.Config.BitLinearNormEps = true, 1e-6
			got, err := llama.hfConfigJSON(true)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "hfjson", "llama-bitlinear-norm.config.json"), got)
		}
		if _, err := os.Stat(filepath.Join(dir, "tokenizer_config.json")); (err == nil) != (tc.m.Tokenizer != nil) {
			t.Errorf("%s: tokenizer_config.json written: %v, model has a tokenizer: %v", tc.name, err == nil, tc.m.Tokenizer != nil)
		}
	}
}

// checkGolden compares got with the golden file (rewritten with -update).
func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n%s", golden, got)
	}
}
