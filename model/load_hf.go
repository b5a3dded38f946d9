package model

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/regfile"
	"github.com/bitrepl/bitrepl/model/safetensors"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Size caps of the JSON files of a checkpoint directory, which are read whole:
// real ones are far smaller (LLaMA-3's tokenizer.json is 9 MB, Gemma 3's
// tokenizer_config.json 1.2 MB), and a bigger file is a mistake or an attack.
const (
	maxConfigBytes          = 1 << 20
	maxTokenizerConfigBytes = 16 << 20
)

// loadHF loads a Hugging Face checkpoint directory. Latent weights are
// ternarised at load (absmean per tensor, as 1bitLLM's weight_quant) and
// packed; packed uint8 weights (microsoft's layout) are repacked; the
// embedding stays a view into the mapped file.
func loadHF(dir string) (*Model, error) {
	raw, err := regfile.ReadFile(filepath.Join(dir, "config.json"), maxConfigBytes)
	if err != nil {
		return nil, err
	}
	if modelType(raw) == "olmo" {
		m, err := loadOLMo(dir, raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		return m, nil
	}
	cfg, mode, err := parseHFConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, Source: dir, closers: []io.Closer{set}, latent: map[string]safetensors.Tensor{}}
	if err := m.loadHFWeights(set, mode); err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if err := m.check(); err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if data, err := regfile.ReadFile(filepath.Join(dir, "tokenizer.json"), tokenizer.MaxFileBytes); err == nil {
		tok, err := tokenizer.FromJSON(data)
		if err == nil {
			err = checkVocab(tok, &cfg)
		}
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("%s: tokenizer.json: %w", dir, err)
		}
		tmpl, err := readChatTemplate(dir)
		if err != nil {
			m.Close()
			return nil, err
		}
		m.Tokenizer, m.tokenizerJSON = tok, data
		m.Chat = chatTemplateFor(cfg.Arch, tmpl, tok)
	} else if !errors.Is(err, os.ErrNotExist) {
		m.Close()
		return nil, err
	}
	m.eos = stopTokens(m.Tokenizer, hfEOS(raw))
	return m, nil
}

func (m *Model) loadHFWeights(set *safetensors.Set, mode weightScaleMode) error {
	c := &m.Config
	ld := hfLoader{set: set, mode: mode, latent: m.latent}
	m.embed = ld.dense("model.embed_tokens.weight", "token_embd.weight")
	m.outNorm = ld.vector("model.norm.weight")
	// As transformers: a tied head is the embedding (a stored lm_head.weight
	// is ignored); an untied one (the default of every supported config
	// class when tie_word_embeddings is absent) must be in the file.
	if c.TiedEmbedding {
		m.output = m.embed
	} else if _, ok := set.Tensor("lm_head.weight"); ok {
		m.output = ld.dense("lm_head.weight", "output.weight")
	} else if ld.err == nil {
		ld.err = configErr("lm_head.weight is missing and the head is not tied (tie_word_embeddings is false, or absent: false is transformers' default)")
	}
	m.layers = make([]Layer, c.Layers)
	for i := range m.layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		for _, t := range blockOf(c) {
			if !t.Present(c) {
				continue
			}
			name := p + t.HF[0] // the name the error names when none is found
			for _, n := range t.HF {
				if _, ok := set.Tensor(p + n + ".weight"); ok {
					name = p + n
					break
				}
			}
			if t.Proj {
				*t.mat(&m.layers[i]) = ld.bitLinear(name, fmt.Sprintf("blk.%d.%s.weight", i, t.GGUF))
			} else {
				*t.vec(&m.layers[i]) = ld.vector(name + ".weight")
			}
		}
	}
	read := mode
	if read == scaleNone && ld.packed > 0 {
		read = scaleInverted // checkpointScale's default
	}
	m.scales = read.String()
	if ld.packed > 0 && ld.latents > 0 {
		m.scales = fmt.Sprintf("%s; latent tensors absmean ternarised at load", read)
	}
	switch {
	case ld.packed > 0 && ld.latents > 0:
		m.Format = "safetensors (mixed)"
	case ld.packed > 0:
		m.Format = "safetensors (packed)"
	default:
		m.Format = "safetensors (latent)"
	}
	return ld.err
}

// hfLoader converts HF tensors, keeping the first error.
type hfLoader struct {
	set             *safetensors.Set
	mode            weightScaleMode
	latent          map[string]safetensors.Tensor
	packed, latents int
	err             error
}

func (ld *hfLoader) fail(name, format string, args ...any) {
	if ld.err == nil {
		ld.err = &safetensors.FormatError{Tensor: name, Offset: -1, Msg: fmt.Sprintf(format, args...)}
	}
}

func (ld *hfLoader) tensor(name string) (safetensors.Tensor, bool) {
	if ld.err != nil {
		return safetensors.Tensor{}, false
	}
	t, ok := ld.set.Tensor(name)
	if !ok {
		ld.fail(name, "tensor is missing")
	}
	return t, ok
}

// stDense maps the float safetensors types to matrix types that can view
// their bytes directly (same row-major little-endian layout).
var stDense = map[safetensors.DType]cpu.DType{
	safetensors.F32: cpu.F32, safetensors.F16: cpu.F16, safetensors.BF16: cpu.BF16,
}

// dense views a 2-D float tensor as a matrix without copying it.
func (ld *hfLoader) dense(name, ggufName string) *cpu.Matrix {
	t, ok := ld.tensor(name)
	if !ok {
		return nil
	}
	dt, ok := stDense[t.DType]
	if !ok || len(t.Shape) != 2 {
		ld.fail(name, "%v %v: want a 2-D F32, F16 or BF16 tensor", t.DType, t.Shape)
		return nil
	}
	m, err := cpu.NewMatrix(dt, int(t.Shape[0]), int(t.Shape[1]), t.Data)
	if err != nil {
		ld.fail(name, "%v", err)
		return nil
	}
	return m
}

func (ld *hfLoader) vector(name string) []float32 {
	t, ok := ld.tensor(name)
	if !ok {
		return nil
	}
	if len(t.Shape) != 1 {
		ld.fail(name, "shape %v, want a vector", t.Shape)
		return nil
	}
	v, err := t.Float32s()
	if err != nil {
		ld.fail(name, "%v", err)
	}
	return v
}

// bitLinear loads the projection prefix (prefix.weight, and prefix.weight_scale
// for quantized checkpoints) as a ternary matrix in our compute layout.
func (ld *hfLoader) bitLinear(prefix, ggufName string) *cpu.Matrix {
	name := prefix + ".weight"
	t, ok := ld.tensor(name)
	if !ok {
		return nil
	}
	if len(t.Shape) != 2 || t.Shape[0] <= 0 || t.Shape[1] <= 0 || t.Shape[0] > math.MaxInt32 || t.Shape[1] > math.MaxInt32 {
		ld.fail(name, "shape %v, want a 2-D matrix", t.Shape)
		return nil
	}
	scaleT, hasScale := ld.set.Tensor(prefix + ".weight_scale")
	var (
		codes      []int8
		rows, cols int
		scale      float32
	)
	switch {
	case t.DType == safetensors.U8:
		// Packed: uint8 [out/4, in], four row-quarters per byte.
		if !hasScale {
			ld.fail(name, "packed uint8 weight without %s.weight_scale", prefix)
			return nil
		}
		rows, cols = int(t.Shape[0])*4, int(t.Shape[1])
		var err error
		codes, err = UnpackHF(t.Data, rows, cols)
		if err != nil {
			ld.fail(name, "%v", err)
			return nil
		}
		scale = ld.checkpointScale(prefix, scaleT)
		ld.packed++
	case hasScale:
		// Ternary values stored unpacked as floats, with a scale.
		rows, cols = int(t.Shape[0]), int(t.Shape[1])
		w, err := t.Float32s()
		if err != nil {
			ld.fail(name, "%v", err)
			return nil
		}
		codes = make([]int8, len(w))
		for i, v := range w {
			if v != -1 && v != 0 && v != 1 {
				ld.fail(name, "weight_scale given but element %d is %v, not -1, 0 or +1", i, v)
				return nil
			}
			codes[i] = int8(v)
		}
		scale = ld.checkpointScale(prefix, scaleT)
		ld.packed++
	default:
		// Latent weights: absmean ternarisation, as at training.
		rows, cols = int(t.Shape[0]), int(t.Shape[1])
		w, err := t.Float32s()
		if err != nil {
			ld.fail(name, "%v", err)
			return nil
		}
		codes = make([]int8, len(w))
		scale = Ternarize(codes, w)
		ld.latent[ggufName] = t
		ld.latents++
	}
	if ld.err != nil {
		return nil
	}
	m, err := packProjection(codes, rows, cols, scale)
	if err != nil {
		ld.fail(name, "%v", err)
	}
	return m
}

// packProjection packs ternary codes (rows x cols) with their per-tensor
// scale into the compute layout, I2_S, padding the columns with zero weights
// to whole blocks when cols is not a multiple of colPad.
func packProjection(codes []int8, rows, cols int, scale float32) (*cpu.Matrix, error) {
	if p := padCols(cols); p != cols {
		padded := make([]int8, rows*p)
		for r := range rows {
			copy(padded[r*p:], codes[r*cols:(r+1)*cols])
		}
		codes, cols = padded, p
	}
	data, err := cpu.PackTernary(cpu.I2_S, codes, rows, cols, scale)
	if err != nil {
		return nil, fmt.Errorf("packing %dx%d: %w", rows, cols, err)
	}
	return cpu.NewMatrix(cpu.I2_S, rows, cols, data)
}

// checkpointScale reads weight_scale and turns it into the factor our kernels
// multiply by. transformers' "bitlinear" divides by weight_scale (stored
// inverted, > 1 in practice); "autobitlinear" multiplies by it.
func (ld *hfLoader) checkpointScale(prefix string, t safetensors.Tensor) float32 {
	var s float64
	if t.DType == safetensors.F64 && len(t.Data) == 8 {
		// Read at full precision: the inverse of a float32 scale is exact
		// only in float64.
		s = math.Float64frombits(binary.LittleEndian.Uint64(t.Data))
	} else {
		v, err := t.Float32s()
		if err != nil || len(v) != 1 {
			ld.fail(prefix+".weight_scale", "want one float, got %v %v (%v)", t.DType, t.Shape, err)
			return 0
		}
		s = float64(v[0])
	}
	if !(s > 0) || math.IsInf(s, 0) || float32(s) == 0 || math.IsInf(float64(float32(s)), 0) {
		ld.fail(prefix+".weight_scale", "scale %v must be positive and finite", s)
		return 0
	}
	if ld.mode == scaleMultiply {
		return float32(s)
	}
	return float32(1 / s)
}

// Ternarize quantizes latent weights w to codes in {-1, 0, +1} with the
// BitNet b1.58 absmean rule and returns the scale of the effective weights
// (codes * scale): s = max(mean|w|, 1e-5); code = clamp(round(w / s), -1, 1).
// Rounding is half to even, as torch.round.
func Ternarize(codes []int8, w []float32) float32 {
	var sum float64
	for _, v := range w {
		sum += math.Abs(float64(v))
	}
	mean := float32(sum / float64(max(len(w), 1)))
	mean = max(mean, 1e-5)
	inv := 1 / mean
	for i, v := range w {
		q := math.RoundToEven(float64(v * inv))
		codes[i] = int8(max(-1, min(1, q)))
	}
	return mean
}

// UnpackHF decodes transformers' packed ternary layout: uint8 [rows/4, cols],
// where bits 2i..2i+1 of byte (r, c) hold row i*rows/4 + r (code = bits - 1).
func UnpackHF(packed []byte, rows, cols int) ([]int8, error) {
	if rows%4 != 0 || len(packed) != rows/4*cols {
		return nil, fmt.Errorf("packed ternary: %d bytes for %dx%d", len(packed), rows, cols)
	}
	q := rows / 4
	codes := make([]int8, rows*cols)
	for r := range q {
		for c := range cols {
			b := packed[r*cols+c]
			for i := range 4 {
				v := (b >> (2 * i)) & 3
				if v == 3 {
					return nil, fmt.Errorf("packed ternary: invalid code 3 at byte %d", r*cols+c)
				}
				codes[(i*q+r)*cols+c] = int8(v) - 1
			}
		}
	}
	return codes, nil
}

// PackHF is the inverse of UnpackHF.
func PackHF(codes []int8, rows, cols int) ([]byte, error) {
	if rows%4 != 0 || len(codes) != rows*cols {
		return nil, fmt.Errorf("packed ternary: %d codes for %dx%d (rows must be a multiple of 4)", len(codes), rows, cols)
	}
	q := rows / 4
	out := make([]byte, q*cols)
	for i := range 4 {
		for r := range q {
			for c := range cols {
				out[r*cols+c] |= byte(codes[(i*q+r)*cols+c]+1) << (2 * i)
			}
		}
	}
	return out, nil
}

// hfEOS reads eos_token_id (a number or a list) from config.json.
func hfEOS(config []byte) []int32 {
	var c struct {
		EOS json.RawMessage `json:"eos_token_id"`
	}
	if json.Unmarshal(config, &c) != nil || len(c.EOS) == 0 {
		return nil
	}
	var one int32
	if json.Unmarshal(c.EOS, &one) == nil {
		return []int32{one}
	}
	var many []int32
	if json.Unmarshal(c.EOS, &many) == nil {
		return many
	}
	return nil
}

// readChatTemplate returns tokenizer_config.json's chat_template, if any: a
// string, or a list of named templates (then the one named "default").
func readChatTemplate(dir string) (string, error) {
	path := filepath.Join(dir, "tokenizer_config.json")
	data, err := regfile.ReadFile(path, maxTokenizerConfigBytes)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return parseChatTemplate(data, path)
}

// parseChatTemplate reads chat_template from a tokenizer_config.json.
func parseChatTemplate(data []byte, path string) (string, error) {
	var c struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	if len(c.ChatTemplate) == 0 || string(c.ChatTemplate) == "null" {
		return "", nil
	}
	var one string
	if json.Unmarshal(c.ChatTemplate, &one) == nil {
		return one, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(c.ChatTemplate, &named); err != nil {
		return "", fmt.Errorf("%s: chat_template is neither a string nor a list of {name, template}", path)
	}
	for _, t := range named {
		if t.Name == "default" {
			return t.Template, nil
		}
	}
	return "", nil
}

// modelType reads config.json's model_type ("" when it has none).
func modelType(config []byte) string {
	var c struct {
		ModelType string `json:"model_type"`
	}
	_ = json.Unmarshal(config, &c)
	return c.ModelType
}
