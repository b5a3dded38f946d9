package train

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzLoadCheckpoint(f *testing.F) {
	dir := f.TempDir()
	cfg := Config{Model: ModelConfig{Vocab: 8, Dim: 4, Layers: 1, Heads: 2, KVHeads: 1, FFN: 4, Context: 4, RopeTheta: 10000, NormEps: 1e-5}, Workers: 1}
	tr, err := NewTrainer(cfg)
	if err != nil {
		f.Fatal(err)
	}
	p := filepath.Join(dir, "seed.bin")
	if err := tr.SaveCheckpoint(p); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(p)
	f.Add(seed)
	f.Add([]byte("BITRAIN1\x02\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "x.bin")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tr, err := LoadCheckpoint(p, 1)
		if err == nil && len(tr.params) != tr.Cfg.Model.Params() {
			t.Fatal("loaded a checkpoint of the wrong size")
		}
	})
}
