package notebook

import (
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

// Format is one way of writing a model with model.Save.
type Format struct {
	Name    string // e.g. "GGUF TQ1_0"
	File    string // a file or directory name for the copy
	Options model.SaveOptions
}

// Formats lists the file formats bitrepl writes: GGUF with TQ1_0, TQ2_0 and
// I2_S ternary weights, and safetensors with packed and with latent weights.
// Each keeps the embedding of m in its type when the format holds it (F32,
// F16, BF16), F32 otherwise, which holds any dequantized value exactly.
func Formats(m *model.Model) []Format {
	embed := m.Embedding().Type
	if embed != cpu.F32 && embed != cpu.F16 && embed != cpu.BF16 {
		embed = cpu.F32
	}
	return []Format{
		{"GGUF TQ1_0", "tq1_0.gguf", model.SaveOptions{Format: "gguf", Ternary: cpu.TQ1_0, Embed: embed}},
		{"GGUF TQ2_0", "tq2_0.gguf", model.SaveOptions{Format: "gguf", Ternary: cpu.TQ2_0, Embed: embed}},
		{"GGUF I2_S", "i2_s.gguf", model.SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: embed}},
		{"safetensors packed", "packed", model.SaveOptions{Format: "safetensors", Embed: embed}},
		{"safetensors latent", "latent", model.SaveOptions{Format: "safetensors", Embed: embed, Latent: true}},
	}
}

// DiskSize is the size of a file, or the total size of the files in a
// directory (not its subdirectories).
func DiskSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if !st.IsDir() {
		return st.Size(), nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range entries {
		info, err := os.Stat(filepath.Join(path, e.Name()))
		if err != nil {
			return 0, err
		}
		if info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n, nil
}

// CompareWeights compares the ternary projections of a and b, tensor by
// tensor in file order: whether they have the same shapes and every code is
// the same, and the largest relative difference of their dequantized weights
// (code times block and tensor scales) where a's weight is not zero.
func CompareWeights(a, b *model.Model) (sameCodes bool, maxRel float64) {
	wa, wb := a.Weights(), b.Weights()
	sameCodes = len(wa) == len(wb)
	for i := range min(len(wa), len(wb)) {
		x, y := wa[i].Matrix, wb[i].Matrix
		if !x.Type.Ternary() {
			continue
		}
		if !y.Type.Ternary() || x.Rows != y.Rows || x.Cols != y.Cols {
			sameCodes = false
			continue
		}
		ca, cb := make([]int8, x.Cols), make([]int8, y.Cols)
		va, vb := make([]float32, x.Cols), make([]float32, y.Cols)
		for r := range x.Rows {
			x.TernaryRow(ca, r)
			y.TernaryRow(cb, r)
			sameCodes = sameCodes && slices.Equal(ca, cb)
			x.Row(va, r)
			y.Row(vb, r)
			for j, v := range va {
				if v != 0 {
					maxRel = math.Max(maxRel, math.Abs(float64(vb[j]-v))/math.Abs(float64(v)))
				}
			}
		}
	}
	return sameCodes, maxRel
}

// TernaryBytes is the memory of m's ternary projections in the types it
// holds them in, and their number of weights.
func TernaryBytes(m *model.Model) (bytes, params int64) {
	for _, w := range m.Weights() {
		if w.Matrix.Type.Ternary() {
			bytes += int64(len(w.Matrix.Data))
			params += int64(w.Matrix.Rows) * int64(w.Matrix.Cols)
		}
	}
	return bytes, params
}
