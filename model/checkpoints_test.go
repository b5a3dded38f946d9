package model

import (
	"github.com/bitrepl/bitrepl/model/kvcache"

	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/gguf"
)

// checkpointRefused lists the test checkpoints (model/testdata/checkpoints,
// written by gen.py in each family's upstream layout) that the engine does
// not run yet, with a piece of the error that must say why: a refusal must
// name what is not supported, never run wrong.
var checkpointRefused = map[string]string{
	"Falcon-E-1B-Base-bfloat16":     "no quantization_config",
	"Falcon-E-1B-Base-prequantized": "no quantization_config",
}

type checkpointEntry struct {
	Dir      string  `json:"dir"`
	Upstream string  `json:"upstream"`
	Tol      float64 `json:"tol"`
	Expect   string  `json:"expect"`
}

type expectedLogits struct {
	IDs    []int32     `json:"ids"`
	Logits [][]float32 `json:"logits"`
}

// TestCheckpoints loads every test checkpoint from its upstream layout and
// compares the logits with the independent reference's (ref.py), within
// the index's tolerance; the config traps (absent keys that take the
// model_type's transformers default, v5 rope_parameters, untied heads
// without a tie key, head_dim != hidden/heads) are among them.
func TestCheckpoints(t *testing.T) {
	root := filepath.Join("testdata", "checkpoints")
	raw, err := os.ReadFile(filepath.Join(root, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index []checkpointEntry
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	for _, e := range index {
		t.Run(e.Dir, func(t *testing.T) {
			dir := filepath.Join(root, e.Dir)
			m, err := Load(dir)
			if want, refused := checkpointRefused[e.Dir]; refused {
				if err == nil {
					m.Close()
					t.Fatalf("%s loaded; the test expects it refused (%q): update checkpointRefused", e.Dir, want)
				}
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q does not say %q", err, want)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			checkLogits(t, m, dir, e.Tol)
		})
	}
}

// checkLogits runs dir/expected.json's ids through m and compares every
// position's logits within tol, logging the largest difference.
func checkLogits(t *testing.T, m *Model, dir string, tol float64) {
	t.Helper()
	p := filepath.Join(dir, "expected.json")
	checkLogitsFile(t, m, p, p, tol)
}

// checkLogitsFile runs the ids of idsFile through m and compares with the
// logits of wantFile (the same ids).
func checkLogitsFile(t *testing.T, m *Model, idsFile, wantFile string, tol float64) {
	t.Helper()
	var ids, want expectedLogits
	for _, f := range []struct {
		path string
		v    *expectedLogits
	}{{idsFile, &ids}, {wantFile, &want}} {
		raw, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, f.v); err != nil {
			t.Fatal(err)
		}
	}
	want.IDs = ids.IDs
	if len(want.Logits) != len(want.IDs) {
		t.Fatalf("%s: %d rows of logits for %d ids", wantFile, len(want.Logits), len(want.IDs))
	}
	// The reference keeps K and V in float32: so does an F32 cache.
	m.KVCache = kvcache.F32
	got, err := m.NewSession(len(want.IDs)).ForwardAll(want.IDs)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i := range want.IDs {
		if len(got[i]) != len(want.Logits[i]) {
			t.Fatalf("position %d: %d logits, want %d", i, len(got[i]), len(want.Logits[i]))
		}
		for j, w := range want.Logits[i] {
			worst = max(worst, math.Abs(float64(got[i][j]-w)))
		}
	}
	t.Logf("max |Δ| %.3g over %d positions (tol %g)", worst, len(want.IDs), tol)
	if !(worst <= tol) {
		t.Errorf("max |Δ| %.3g > %g", worst, tol)
	}
}

// TestCheckpointsConvert writes every test checkpoint the engine runs as
// GGUF (TQ1_0, TQ2_0, I2_S, with F32 embeddings so only the layout changes)
// and as a safetensors directory, loads each back and compares it with the
// reference logits: a conversion keeps the ternary codes, the scales and the
// resolved configuration (head dim, rope scaling, tying). Checkpoints whose
// widths do not fit the GGUF blocks (hidden 64), and OLMo's LayerNorm
// variant as safetensors (no transformers Llama has it), must be refused.
func TestCheckpointsConvert(t *testing.T) {
	root := filepath.Join("testdata", "checkpoints")
	raw, err := os.ReadFile(filepath.Join(root, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index []checkpointEntry
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	for _, e := range index {
		if _, refused := checkpointRefused[e.Dir]; refused {
			continue
		}
		t.Run(e.Dir, func(t *testing.T) {
			dir := filepath.Join(root, e.Dir)
			m, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			fits := m.Config.Dim%256 == 0 && m.Config.FFNDim%256 == 0 && (m.Config.Heads*m.Config.HeadDim)%256 == 0
			for _, f := range []struct {
				name string
				opt  SaveOptions
			}{
				{"tq2_0.gguf", SaveOptions{Format: "gguf", Ternary: cpu.TQ2_0, Embed: cpu.F32}},
				{"tq1_0.gguf", SaveOptions{Format: "gguf", Ternary: cpu.TQ1_0, Embed: cpu.F32}},
				{"i2_s.gguf", SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F32}},
				{"hf", SaveOptions{Format: "safetensors", Embed: cpu.F32}},
			} {
				out := filepath.Join(t.TempDir(), f.name)
				err := m.Save(out, f.opt)
				if f.opt.Format == "gguf" && !fits || f.opt.Format == "safetensors" && m.Config.LayerNorm {
					if err == nil {
						t.Errorf("%s: saved widths %d/%d that are not whole blocks", f.name, m.Config.Dim, m.Config.FFNDim)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", f.name, err)
				}
				if f.opt.Format == "gguf" && m.Config.Arch == "llama" {
					checkNoScaleTensors(t, out)
				}
				back, err := Load(out)
				if err != nil {
					t.Fatalf("%s: %v", f.name, err)
				}
				t.Run(f.name, func(t *testing.T) { checkLogits(t, back, dir, e.Tol) })
				back.Close()
			}
		})
	}
}

// checkNoScaleTensors fails when a GGUF file has ".scale" tensors: llama.cpp's
// llama arch has no such tensor and refuses the file ("wrong number of
// tensors"), so a llama-arch TQ file carries its scale in the blocks.
func checkNoScaleTensors(t *testing.T, path string) {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, ti := range f.Tensors {
		if strings.HasSuffix(ti.Name, ".scale") {
			t.Errorf("%s: tensor %s: llama.cpp's llama arch refuses it", filepath.Base(path), ti.Name)
		}
	}
}

// peerEntry is one GGUF file written by a peer's own tool chain
// (testdata/checkpoints/peers, see PEERS.md there): tol bounds the logits
// against the checkpoint's reference, peer_tol against the peer's own
// logits on the same file (NAME.peer.json) when there is one.
type peerEntry struct {
	File    string  `json:"file"`
	Dir     string  `json:"dir"`
	Tol     float64 `json:"tol"`
	PeerTol float64 `json:"peer_tol"`
	Refused string  `json:"refused"`
}

// TestPeerGGUF loads the GGUF files llama.cpp (convert_hf_to_gguf.py or
// bitnet.cpp's converter, then llama-quantize TQ1_0/TQ2_0 with its fallback
// types) and bitnet.cpp (converter, llama-quantize I2_S) wrote from the test
// checkpoints, and compares the logits with the reference and with the
// peer's own. Lossless files (ternary projections, F32 or F16 heads) meet the
// checkpoint's tolerance; files with Q4_0/Q8_0/Q4_K/Q6_K weights are bounded
// by the peer's logits on the same file.
func TestPeerGGUF(t *testing.T) {
	root := filepath.Join("testdata", "checkpoints")
	raw, err := os.ReadFile(filepath.Join(root, "peers", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index []peerEntry
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	for _, e := range index {
		t.Run(e.File, func(t *testing.T) {
			path := filepath.Join(root, "peers", e.File)
			m, err := Load(path)
			if e.Refused != "" {
				if err == nil {
					m.Close()
					t.Fatalf("loaded; want refused (%q)", e.Refused)
				}
				if !strings.Contains(err.Error(), e.Refused) {
					t.Fatalf("error %q does not say %q", err, e.Refused)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			checkLogits(t, m, filepath.Join(root, e.Dir), e.Tol)
			if e.PeerTol > 0 {
				peer := strings.TrimSuffix(path, ".gguf") + ".peer.json"
				t.Run("peer", func(t *testing.T) {
					checkLogitsFile(t, m, filepath.Join(root, e.Dir, "expected.json"), peer, e.PeerTol)
				})
			}
		})
	}
}
