package model

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitrepl/bitrepl/model/gguf"
)

// TestDequantGGUF checks the load-time dequantizers of llama-quantize's
// fallback types against vectors from llama.cpp's gguf-py (quants.py, its
// numpy port of ggml's dequantize_row_*) on random blocks
// (testdata/dequant_ggml.json; see testdata/checkpoints/PEERS.md).
func TestDequantGGUF(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "dequant_ggml.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vecs map[string]struct {
		Hex  string    `json:"hex"`
		Want []float32 `json:"want"`
	}
	if err := json.Unmarshal(raw, &vecs); err != nil {
		t.Fatal(err)
	}
	types := map[string]gguf.Type{"Q4_1": gguf.Q4_1, "Q5_0": gguf.Q5_0, "Q5_1": gguf.Q5_1,
		"Q4_K": gguf.Q4_K, "Q5_K": gguf.Q5_K, "IQ4_NL": gguf.IQ4_NL}
	for name, typ := range types {
		v, ok := vecs[name]
		if !ok {
			t.Fatalf("no vectors for %s", name)
		}
		data, err := hex.DecodeString(v.Hex)
		if err != nil {
			t.Fatal(err)
		}
		bs := int(typ.BlockSize())
		out, known, err := dequantGGUF(typ, len(v.Want)/bs, bs, data)
		if !known || err != nil {
			t.Fatalf("%s: known %v, %v", name, known, err)
		}
		for i, w := range v.Want {
			got := math.Float32frombits(binary.LittleEndian.Uint32(out[4*i:]))
			if math.Abs(float64(got-w)) > 1e-6*math.Max(1, math.Abs(float64(w))) {
				t.Fatalf("%s[%d] = %g, want %g", name, i, got, w)
			}
		}
	}
	if _, _, err := dequantGGUF(gguf.Q4_K, 1, 64, make([]byte, 144)); err == nil {
		t.Error("Q4_K row of 64 columns accepted")
	}
	if _, _, err := dequantGGUF(gguf.Q5_0, 2, 32, make([]byte, 22)); err == nil {
		t.Error("short Q5_0 data accepted")
	}
	if _, known, _ := dequantGGUF(gguf.IQ2_XXS, 1, 256, make([]byte, 66)); known {
		t.Error("IQ2_XXS claimed")
	}
}
