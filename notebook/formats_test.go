package notebook

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

func TestFormatsRoundTrip(t *testing.T) {
	// every projection 256 wide: the TQ types pack rows in blocks of 256
	cfg := testConfig()
	cfg.Dim, cfg.FFNDim, cfg.HeadDim, cfg.Layers = 256, 256, 64, 2
	m, err := model.Random(cfg, 7, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fs := Formats(m)
	if len(fs) != 5 {
		t.Fatalf("%d formats", len(fs))
	}
	sizes := map[string]int64{}
	for _, f := range fs {
		path := filepath.Join(dir, f.File)
		if err := m.Save(path, f.Options); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		c, err := model.Load(path)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		same, rel := CompareWeights(m, c)
		if !same || rel > 1e-6 {
			t.Errorf("%s: same codes %v, largest relative difference %.2g", f.Name, same, rel)
		}
		if c.Embedding().Type != cpu.F32 {
			t.Errorf("%s: embedding %v, the original's is F32", f.Name, c.Embedding().Type)
		}
		size, err := DiskSize(path)
		if err != nil {
			t.Fatal(err)
		}
		sizes[f.Name] = size
		bytes, params := TernaryBytes(c)
		if want := int64(2 * (2*256*256 + 2*128*256 + 3*256*256)); params != want {
			t.Errorf("%s: %d ternary weights, want %d", f.Name, params, want)
		}
		if bits := 8 * float64(bytes) / float64(params); c.Layers()[0].Q.Type == cpu.I2_S && (bits < 2 || bits > 2.01) { // 2 bits and a scale per tensor
			t.Errorf("%s: I2_S at %.3f bits per weight", f.Name, bits)
		}
		c.Close()
	}
	if !(sizes["GGUF TQ1_0"] < sizes["GGUF TQ2_0"] && sizes["safetensors packed"] < sizes["safetensors latent"]) {
		t.Errorf("sizes %v", sizes)
	}

	other, err := model.Random(cfg, 8, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if same, rel := CompareWeights(m, other); same || rel == 0 {
		t.Errorf("two random models: same codes %v, difference %g", same, rel)
	}
}

func TestDiskSize(t *testing.T) {
	dir := t.TempDir()
	for name, n := range map[string]int{"a": 10, "b": 32} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if n, err := DiskSize(dir); n != 42 || err != nil {
		t.Errorf("directory: %d, %v; want 42", n, err)
	}
	if n, err := DiskSize(filepath.Join(dir, "b")); n != 32 || err != nil {
		t.Errorf("file: %d, %v; want 32", n, err)
	}
	if _, err := DiskSize(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
}
