package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/gguf"
	"github.com/bitrepl/bitrepl/model/train/bpe"
	"github.com/bitrepl/bitrepl/model/train/corpus"
)

// ciConfig is the tiny model of the CI training: every BitLinear input is 256 wide, so it exports to TQ2_0.
func ciConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	docs, err := corpus.ReadFile("testdata/sample-train.txt")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, d := range docs {
		bpe.WordCounts(counts, d)
	}
	m, err := bpe.Train(counts, 512, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokPath := filepath.Join(dir, "tokenizer.json")
	if err := m.WriteFile(tokPath); err != nil {
		t.Fatal(err)
	}
	return Config{
		Model:     ModelConfig{Vocab: 512, Dim: 256, Layers: 1, Heads: 2, KVHeads: 1, FFN: 256, Context: 64, RopeTheta: 10000, NormEps: 1e-5},
		TrainFile: "testdata/sample-train.txt", ValFile: "testdata/sample-val.txt", Tokenizer: tokPath,
		Dir: filepath.Join(dir, "run"), Steps: 60, BatchSeqs: 8, MicroSeqs: 4, LR: 1e-2, MinLR: 1e-3, Warmup: 5,
		Seed: 3, Workers: 2, LogEvery: 10, CheckpointEvery: 15, EvalEvery: 20, EvalWindows: 8,
	}
}

// TestCIShortTraining trains the tiny model for a few dozen steps on the committed sample: the validation loss
// must fall well below its start and below the unigram baseline, and the run must leave a checkpoint and eval.json.
func TestCIShortTraining(t *testing.T) {
	cfg := ciConfig(t)
	d, err := LoadData(cfg.TrainFile, cfg.ValFile, cfg.Tokenizer)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := fresh.Evaluate(d, 0)
	var log bytes.Buffer
	if err := Run(context.Background(), cfg, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Log("\n" + log.String())
	var res struct {
		Model, Unigram Eval
		Step           int
		Tokens         int64
		Seconds        float64
		Config         Config
	}
	data, err := os.ReadFile(filepath.Join(cfg.Dir, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if res.Step != cfg.Steps || res.Model.Loss > before.Loss-1 || res.Model.Loss > res.Unigram.Loss-0.1 {
		t.Fatalf("after %d steps val loss %.3f (start %.3f, unigram %.3f)", res.Step, res.Model.Loss, before.Loss, res.Unigram.Loss)
	}
	if res.Tokens != int64(cfg.Steps*cfg.BatchSeqs*cfg.Model.Context) || res.Seconds <= 0 || res.Config.Model != cfg.Model || res.Config.Seed != cfg.Seed {
		t.Fatalf("eval.json: %d tokens, %v s, config %+v", res.Tokens, res.Seconds, res.Config)
	}
	if res.Model.BitsPerByte <= 0 || res.Model.BitsPerByte > 8 || res.Model.Bytes == 0 {
		t.Fatalf("bits per byte %v over %d bytes", res.Model.BitsPerByte, res.Model.Bytes)
	}
	if !strings.Contains(log.String(), "tok/s") {
		t.Fatal("no progress line")
	}
	// export, then read the file back: ternary codes and scales as trained
	tr, err := LoadCheckpoint(CheckpointPath(cfg.Dir), 2)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := ExportCheckpoint(CheckpointPath(cfg.Dir), cfg.Tokenizer, out, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	checkExport(t, tr, out)
}

func checkExport(t *testing.T, tr *Trainer, path string) {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if a, _ := f.String("general.architecture"); a != Arch {
		t.Fatalf("architecture %q", a)
	}
	c := tr.Cfg.Model
	for key, want := range map[string]int{"embedding_length": c.Dim, "block_count": c.Layers, "feed_forward_length": c.FFN,
		"attention.head_count": c.Heads, "attention.head_count_kv": c.KVHeads, "vocab_size": c.Vocab, "context_length": c.Context} {
		if v, ok := f.Uint(Arch + "." + key); !ok || int(v) != want {
			t.Errorf("%s.%s = %d, want %d", Arch, key, v, want)
		}
	}
	if toks, ok := f.Strings("tokenizer.ggml.tokens"); !ok || len(toks) != c.Vocab {
		t.Fatalf("tokenizer.ggml.tokens: %d", len(toks))
	}
	for _, ten := range layout(c) {
		ti, ok := f.Tensor(ten.Name)
		if !ok {
			t.Fatalf("tensor %s missing", ten.Name)
		}
		if !ten.Linear {
			continue
		}
		if ti.Type != gguf.TQ2_0 {
			t.Fatalf("%s has type %v", ten.Name, ti.Type)
		}
		m, err := cpu.NewMatrix(cpu.TQ2_0, ten.Rows, ten.Cols, f.TensorData(ti))
		if err != nil {
			t.Fatal(err)
		}
		// The exact per-tensor scale is in the ".scale" tensor (block scales are 1).
		si, ok := f.Tensor(strings.TrimSuffix(ten.Name, ".weight") + ".scale")
		if !ok || si.Type != gguf.F32 || len(f.TensorData(si)) != 4 {
			t.Fatalf("%s: no F32 .scale tensor", ten.Name)
		}
		m.Scale = math.Float32frombits(binary.LittleEndian.Uint32(f.TensorData(si)))
		lat := tr.params[ten.Off : ten.Off+ten.Rows*ten.Cols]
		scale := meanAbs(lat)
		codes := make([]int8, ten.Cols)
		row := make([]float32, ten.Cols)
		for r := 0; r < ten.Rows; r += 37 {
			m.TernaryRow(codes, r)
			m.Row(row, r)
			for j, code := range codes {
				x := lat[r*ten.Cols+j]
				if code != ternary(x/scale) {
					t.Fatalf("%s[%d,%d]: code %d for latent %v (scale %v)", ten.Name, r, j, code, x, scale)
				}
				if d := row[j] - float32(code)*scale; d > 1e-3*scale || d < -1e-3*scale {
					t.Fatalf("%s[%d,%d]: dequantized %v, want %v", ten.Name, r, j, row[j], float32(code)*scale)
				}
			}
		}
	}
	if st, _ := os.Stat(path); st.Size() > 8<<20 {
		t.Fatalf("exported file is %d bytes", st.Size())
	}
}

// TestResumeIsExact checks that a run interrupted by a checkpoint continues exactly as an uninterrupted one.
func TestResumeIsExact(t *testing.T) {
	cfg := ciConfig(t)
	cfg.Steps = 6
	d, err := LoadData(cfg.TrainFile, cfg.ValFile, cfg.Tokenizer)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := NewTrainer(cfg)
	for i := 0; i < 6; i++ {
		a.TrainStep(d)
	}
	b, _ := NewTrainer(cfg)
	for i := 0; i < 3; i++ {
		b.TrainStep(d)
	}
	ck := filepath.Join(t.TempDir(), "ck.bin")
	if err := b.SaveCheckpoint(ck); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCheckpoint(ck, 1) // another worker count must not matter
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		c.TrainStep(d)
	}
	if c.Step != 6 || c.Tokens != a.Tokens {
		t.Fatalf("step %d tokens %d, want 6 %d", c.Step, c.Tokens, a.Tokens)
	}
	for i := range a.params {
		if a.params[i] != c.params[i] || a.m[i] != c.m[i] || a.v[i] != c.v[i] {
			t.Fatalf("param %d differs after resume: %v vs %v", i, a.params[i], c.params[i])
		}
	}
}

func TestLoadCheckpointRejectsGarbage(t *testing.T) {
	dir := t.TempDir()
	for i, data := range [][]byte{nil, []byte("BITRAIN1"), []byte("BITRAIN1\xff\xff\xff\xff"), []byte("BITRAIN1\x02\x00\x00\x00{}"), []byte("nope")} {
		p := filepath.Join(dir, "x.bin")
		os.WriteFile(p, data, 0o644)
		if _, err := LoadCheckpoint(p, 1); err == nil {
			t.Errorf("garbage %d accepted", i)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
