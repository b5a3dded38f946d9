package model

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/gguf"
	"github.com/bitrepl/bitrepl/model/safetensors"
)

// NaN or infinite weights are refused at load, naming the tensor: norms in
// full, the float embedding and LM head in full, block types by their scales.
func TestNonFiniteWeightsRefused(t *testing.T) {
	cfg := tinyConfig("bitnet")
	m, err := Random(cfg, 5, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ggufPath := filepath.Join(dir, "m.gguf")
	if err := m.Save(ggufPath, SaveOptions{Format: "gguf", Ternary: cpu.TQ2_0, Embed: cpu.F16}); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(ggufPath)
	if err != nil {
		t.Fatal(err)
	}
	f16NaN, f16Inf := []byte{0x00, 0x7e}, []byte{0x00, 0xfc}
	f32NaN := binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN())))
	f32Inf := binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.Inf(1))))
	for _, tc := range []struct {
		tensor string
		at     int // byte offset in the tensor's data
		bytes  []byte
		want   string
	}{
		{"blk.1.attn_norm.weight", 4 * 7, f32NaN, "tensor blk.1.attn_norm.weight: element 7 is NaN"},
		{"blk.0.ffn_sub_norm.weight", 0, f32Inf, "tensor blk.0.ffn_sub_norm.weight: element 0 is +Inf"},
		{"output_norm.weight", 4 * 255, f32NaN, "tensor output_norm.weight: element 255 is NaN"},
		{"token_embd.weight", 2 * (3*256 + 5), f16NaN, "tensor token_embd.weight: row 3, column 5 is NaN"},
		{"output.weight", 2 * (95*256 + 255), f16Inf, "tensor output.weight: row 95, column 255 is -Inf"},
		{"blk.0.attn_q.weight", 66*2 - 2, f16NaN, "tensor blk.0.attn_q.weight: the TQ2_0 block scale at row 1, column 0 is NaN or infinite"},
	} {
		data := bytes.Clone(good)
		f, err := gguf.Parse(data, "m.gguf")
		if err != nil {
			t.Fatal(err)
		}
		ti, ok := f.Tensor(tc.tensor)
		if !ok {
			t.Fatalf("no tensor %s", tc.tensor)
		}
		copy(data[f.DataOffset+ti.Offset+uint64(tc.at):], tc.bytes)
		_, err = LoadBytes(data, "m.gguf")
		if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.tensor, err, tc.want)
		}
	}

	// safetensors: a NaN in the F32 embedding, and in a norm.
	hf := filepath.Join(dir, "hf")
	if err := m.Save(hf, SaveOptions{Format: "safetensors", Embed: cpu.F32}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ tensor, want string }{
		{"model.embed_tokens.weight", "tensor token_embd.weight: row 0, column 9 is NaN"},
		{"model.layers.1.post_attention_layernorm.weight", "tensor blk.1.ffn_norm.weight: element 9 is NaN"},
	} {
		sf, err := safetensors.Open(filepath.Join(hf, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		ts := sf.Tensors()
		for i := range ts {
			if ts[i].Name == tc.tensor {
				ts[i].Data = bytes.Clone(ts[i].Data)
				copy(ts[i].Data[4*9:], f32NaN)
			}
		}
		bad := filepath.Join(t.TempDir(), "hf")
		if err := os.CopyFS(bad, os.DirFS(hf)); err != nil {
			t.Fatal(err)
		}
		err = safetensors.WriteFile(filepath.Join(bad, "model.safetensors"), ts, nil)
		sf.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, err = Load(bad)
		if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.tensor, err, tc.want)
		}
	}
}
