package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/atomicfile"
	"github.com/bitrepl/bitrepl/model/gguf"
	"github.com/bitrepl/bitrepl/model/safetensors"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// SaveOptions chooses the file format a model is written in.
type SaveOptions struct {
	// Format is "gguf" or "safetensors" (a Hugging Face directory).
	Format string
	// Ternary is the GGUF type of the BitLinear weights: TQ1_0, TQ2_0, I2_S,
	// or TQ1_S (bitrepl's own 1.625-bit layout, the fastest here; other
	// engines cannot read it). A plain type (F32, F16, BF16, Q8_0, Q4_0)
	// writes the layer weights as they compute (codes × scale) in that type:
	// they then load as plain linear layers, with float activations, as
	// llama.cpp runs such files (see Session's project).
	Ternary cpu.DType
	// Embed is the type of the embedding (and untied LM head). GGUF: F32, F16,
	// BF16, Q8_0, Q4_0 or Q6_K; safetensors: F32, F16 or BF16.
	Embed cpu.DType
	// Latent writes 1bitLLM-style latent weights (safetensors) instead of
	// microsoft's packed uint8 + weight_scale.
	Latent bool
	// BlockScales writes TQ1_0/TQ2_0 as llama-quantize does: the per-tensor
	// scale rounded to f16 in every block's d, and no ".scale" tensors. The
	// default keeps the scale exact (d = 1 plus a ".scale" tensor), which
	// costs llama.cpp one extra multiply per projection; arch llama always
	// has block scales (llama.cpp's llama arch has no ".scale" tensors).
	BlockScales bool
	// Progress, when set, is called after each tensor.
	Progress func(done, total int)
}

// Convert loads the model at src and writes it to dst.
func Convert(src, dst string, opt SaveOptions) error {
	m, err := Load(src)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Save(dst, opt)
}

// Save writes the model. GGUF files get llama.cpp's tensor names, the
// tokenizer metadata and, for TQ types, the exact per-tensor scale as a
// ".scale" tensor (llama.cpp's bitnet arch multiplies by it) with block
// scales of 1, since an f16 block scale would round it.
func (m *Model) Save(path string, opt SaveOptions) error {
	switch opt.Format {
	case "gguf":
		return m.saveGGUF(path, opt)
	case "safetensors":
		return m.saveHF(path, opt)
	}
	return fmt.Errorf("save: unknown format %q (gguf, safetensors)", opt.Format)
}

// ternaryOf returns a projection's codes and its per-tensor scale: the
// effective weights are codes * scale.
func ternaryOf(name string, w *cpu.Matrix) ([]int8, float32, error) {
	vals := make([]float32, w.Rows*w.Cols)
	for r := range w.Rows {
		w.Row(vals[r*w.Cols:(r+1)*w.Cols], r)
	}
	codes := make([]int8, len(vals))
	var scale float32
	for _, v := range vals {
		scale = max(scale, float32(math.Abs(float64(v))))
	}
	if scale == 0 {
		return codes, 1, nil
	}
	for i, v := range vals {
		switch v {
		case scale:
			codes[i] = 1
		case -scale:
			codes[i] = -1
		case 0:
		default:
			if w.Type.Ternary() {
				return nil, 0, fmt.Errorf("save: %s: block scales differ within the tensor (%v vs %v); a per-tensor ternary format cannot hold it", name, v, scale)
			}
			// A dense float projection that is not ternary: ternarise it.
			return codes, Ternarize(codes, vals), nil
		}
	}
	return codes, scale, nil
}

// ternaryCodes is ternaryOf without the zero columns a loader may have
// padded the matrix with: it returns rows x cols codes, cols being the
// model's width for that projection.
func (m *Model) ternaryCodes(name string, w *cpu.Matrix) ([]int8, float32, int, error) {
	codes, scale, err := ternaryOf(name, w)
	if err != nil {
		return nil, 0, 0, err
	}
	cols := m.projCols(name, w)
	if cols == w.Cols {
		return codes, scale, cols, nil
	}
	out := make([]int8, w.Rows*cols)
	for r := range w.Rows {
		copy(out[r*cols:(r+1)*cols], codes[r*w.Cols:])
	}
	return out, scale, cols, nil
}

// projCols returns the model's width for the projection name: w.Cols
// without the zero columns a loader may have padded it with.
func (m *Model) projCols(name string, w *cpu.Matrix) int {
	c := &m.Config
	for _, t := range blockOf(c) {
		for _, n := range append([]string{t.GGUF}, t.HF...) {
			if t.Proj && strings.HasSuffix(name, "."+n) {
				_, cols := t.shape(c)
				return min(cols, w.Cols)
			}
		}
	}
	return w.Cols
}

// denseBytes returns w's data in type t, reusing the bytes when the type is
// already t.
func denseBytes(w *cpu.Matrix, t cpu.DType) ([]byte, error) {
	if w.Type == t {
		return w.Data, nil
	}
	vals := make([]float32, w.Rows*w.Cols)
	for r := range w.Rows {
		w.Row(vals[r*w.Cols:(r+1)*w.Cols], r)
	}
	return cpu.Quantize(t, w.Rows, w.Cols, vals)
}

var ggufTypeOf = func() map[cpu.DType]gguf.Type {
	out := map[cpu.DType]gguf.Type{}
	for g, d := range ggufTypes {
		out[d] = g
	}
	return out
}()

func (m *Model) saveGGUF(path string, opt SaveOptions) error {
	c := &m.Config
	if c.BitLinearNorm {
		return fmt.Errorf("save: GGUF: the model has an RMSNorm inside every BitLinear (quantization_config.use_rms_norm), which no GGUF architecture of llama.cpp or bitnet.cpp computes; save it as safetensors")
	}
	if _, ok := ggufTypeOf[opt.Ternary]; !ok || opt.Ternary == cpu.Q6_K {
		return fmt.Errorf("save: GGUF layer weight type %v is not supported (TQ1_0, TQ2_0, I2_S, TQ1_S; plain F32, F16, BF16, Q8_0, Q4_0)", opt.Ternary)
	}
	embedType, ok := ggufTypeOf[opt.Embed]
	if !ok || opt.Embed.Ternary() {
		return fmt.Errorf("save: embedding type %v is not supported", opt.Embed)
	}
	w := gguf.NewWriter()
	arch := c.Arch
	w.Set("general.architecture", gguf.String(arch))
	w.Set("general.name", gguf.String(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))))
	u := func(k string, v int) { w.Set(arch+"."+k, gguf.Uint32(uint32(v))) }
	u("vocab_size", c.VocabSize)
	u("context_length", c.ContextLen)
	u("embedding_length", c.Dim)
	u("feed_forward_length", c.FFNDim)
	u("block_count", c.Layers)
	u("attention.head_count", c.Heads)
	u("attention.head_count_kv", c.KVHeads)
	u("rope.dimension_count", c.HeadDim)
	if c.HeadDim*c.Heads != c.Dim {
		u("attention.key_length", c.HeadDim)
		u("attention.value_length", c.HeadDim)
	}
	w.Set(arch+".rope.freq_base", gguf.Float32(float32(c.RopeTheta)))
	w.Set(arch+".attention.layer_norm_rms_epsilon", gguf.Float32(c.NormEps))
	w.Set("general.file_type", gguf.Uint32(ggufFileType(opt.Ternary)))
	if m.Tokenizer != nil {
		if err := setGGUFVocab(w, m); err != nil {
			return err
		}
	}

	total := 3 + 9*c.Layers
	done := 0
	step := func() {
		done++
		if opt.Progress != nil {
			opt.Progress(done, total)
		}
	}
	dims := func(rows, cols int) []uint64 { return []uint64{uint64(cols), uint64(rows)} }
	vec := func(name string, v []float32) error {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return w.AddTensor(name, gguf.F32, []uint64{uint64(len(v))}, b)
	}
	dense := func(name string, mat *cpu.Matrix) error {
		b, err := denseBytes(mat, opt.Embed)
		if err != nil {
			return fmt.Errorf("save: %s: %w", name, err)
		}
		step()
		return w.AddTensor(name, embedType, dims(mat.Rows, mat.Cols), b)
	}
	// llama.cpp's llama arch uses interleaved RoPE: its converter permutes
	// the Q and K rows, and so do we when the model holds HF order.
	permute := arch == "llama" && !c.RopeInterleaved
	var plain func(name string, mat *cpu.Matrix) error
	proj := func(name string, mat *cpu.Matrix) error {
		if !opt.Ternary.Ternary() {
			return plain(name, mat)
		}
		codes, scale, cols, err := m.ternaryCodes(name, mat)
		if err != nil {
			return err
		}
		if permute && (strings.HasSuffix(name, "attn_q") || strings.HasSuffix(name, "attn_k")) {
			codes = permuteHeads(codes, mat.Rows, cols, c.HeadDim, false)
		}
		// TQ types keep the exact scale in a ".scale" tensor; I2_S and TQ1_S in their trailer.
		// llama.cpp's llama arch has no ".scale" tensors (it refuses such a file): there the
		// scale goes into the blocks, as llama-quantize writes it.
		separate := (opt.Ternary == cpu.TQ1_0 || opt.Ternary == cpu.TQ2_0) && !opt.BlockScales && arch != "llama"
		blockScale := scale
		if separate {
			blockScale = 1
		}
		b, err := cpu.PackTernary(opt.Ternary, codes, mat.Rows, cols, blockScale)
		if err != nil {
			return fmt.Errorf("save: %s: %w", name, err)
		}
		if err := w.AddTensor(name+".weight", ggufTypeOf[opt.Ternary], dims(mat.Rows, cols), b); err != nil {
			return err
		}
		step()
		if separate {
			return vec(name+".scale", []float32{scale})
		}
		return nil
	}
	// plain writes a layer weight as it computes (scale included) in the
	// plain type opt.Ternary, without the columns a loader padded.
	plain = func(name string, mat *cpu.Matrix) error {
		cols := m.projCols(name, mat)
		vals := make([]float32, mat.Rows*cols)
		row := make([]float32, mat.Cols)
		for r := range mat.Rows {
			mat.Row(row, r)
			copy(vals[r*cols:(r+1)*cols], row)
		}
		if permute && (strings.HasSuffix(name, "attn_q") || strings.HasSuffix(name, "attn_k")) {
			vals = permuteHeads(vals, mat.Rows, cols, c.HeadDim, false)
		}
		b, err := cpu.Quantize(opt.Ternary, mat.Rows, cols, vals)
		if err != nil {
			return fmt.Errorf("save: %s: %w", name, err)
		}
		step()
		return w.AddTensor(name+".weight", ggufTypeOf[opt.Ternary], dims(mat.Rows, cols), b)
	}
	if err := dense("token_embd.weight", m.embed); err != nil {
		return err
	}
	if f := ropeFreqFactors(c); f != nil {
		// llama.cpp's converter carries llama3 scaling as this tensor.
		if err := vec("rope_freqs.weight", f); err != nil {
			return err
		}
	}
	for i := range m.layers {
		for _, t := range blockOf(c) {
			if !t.Present(c) {
				continue
			}
			name := fmt.Sprintf("blk.%d.%s", i, t.GGUF)
			var err error
			if t.Proj {
				err = proj(name, *t.mat(&m.layers[i]))
			} else {
				err = vec(name+".weight", *t.vec(&m.layers[i]))
			}
			if err != nil {
				return err
			}
		}
	}
	if err := vec("output_norm.weight", m.outNorm); err != nil {
		return err
	}
	step()
	if m.output != m.embed {
		if err := dense("output.weight", m.output); err != nil {
			return err
		}
	} else {
		step()
	}
	return w.WriteFile(path)
}

// ropeFreqFactors returns the per-pair divisors of the RoPE frequencies that
// the model's scaling amounts to (llama.cpp's rope_freqs.weight), or nil.
func ropeFreqFactors(c *Config) []float32 {
	if c.RopeScaling.Type == "" && c.RopeFreqFactors == nil {
		return nil
	}
	plain := *c
	plain.RopeScaling, plain.RopeFreqFactors = RopeScaling{}, nil
	base, scaled := plain.ropeFreqs(), c.ropeFreqs()
	out := make([]float32, len(base))
	for i := range out {
		out[i] = float32(base[i] / scaled[i])
	}
	return out
}

// ggufFileType is llama.cpp's general.file_type for a layer weight type
// (LLAMA_FTYPE_MOSTLY_TQ1_0 = 36, TQ2_0 = 37; microsoft/BitNet's I2_S = 40;
// ALL_F32 = 0, MOSTLY_F16 = 1, Q4_0 = 2, Q8_0 = 7, BF16 = 32).
func ggufFileType(t cpu.DType) uint32 {
	switch t {
	case cpu.F32:
		return 0
	case cpu.F16:
		return 1
	case cpu.Q4_0:
		return 2
	case cpu.Q8_0:
		return 7
	case cpu.BF16:
		return 32
	case cpu.TQ1_0:
		return 36
	case cpu.TQ2_0:
		return 37
	case cpu.TQ1_S:
		return 4096 + 36 // bitrepl's own, like the type
	}
	return 40
}

func setGGUFVocab(w *gguf.Writer, m *Model) error {
	v, err := m.Tokenizer.GGUFVocab()
	if err != nil {
		return fmt.Errorf("save: tokenizer: %w", err)
	}
	w.Set("tokenizer.ggml.model", gguf.String(v.Model))
	if v.Pre != "" {
		w.Set("tokenizer.ggml.pre", gguf.String(v.Pre))
	}
	w.Set("tokenizer.ggml.tokens", gguf.Strings(v.Tokens))
	if len(v.Types) > 0 {
		w.Set("tokenizer.ggml.token_type", gguf.Int32s(v.Types))
	}
	if len(v.Scores) > 0 {
		w.Set("tokenizer.ggml.scores", gguf.Float32s(v.Scores))
	}
	if len(v.Merges) > 0 {
		w.Set("tokenizer.ggml.merges", gguf.Strings(v.Merges))
	}
	for key, id := range map[string]int32{
		"tokenizer.ggml.bos_token_id": v.BOS, "tokenizer.ggml.eos_token_id": v.EOS,
		"tokenizer.ggml.eot_token_id": v.EOT, "tokenizer.ggml.padding_token_id": v.PAD,
		"tokenizer.ggml.unknown_token_id": v.UNK,
	} {
		if id >= 0 {
			w.Set(key, gguf.Uint32(uint32(id)))
		}
	}
	w.Set("tokenizer.ggml.add_bos_token", gguf.Bool(v.AddBOS))
	w.Set("tokenizer.ggml.add_eos_token", gguf.Bool(v.AddEOS))
	if j := m.chatJinja(); j != "" {
		w.Set("tokenizer.chat_template", gguf.String(j))
	}
	return nil
}

// bitnetJinja is the chat template written into files with the 2B-4T format,
// so other engines pick the right one too.
// It spells the roles out: llama.cpp's template engine has no capitalize
// filter.
const bitnetJinja = "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}" +
	"{% if message['role'] == 'system' %}System: {% elif message['role'] == 'user' %}User: {% else %}Assistant: {% endif %}" +
	"{{ message['content'] | trim }}<|eot_id|>{% endfor %}" +
	"{% if add_generation_prompt %}Assistant: {% endif %}"

// saveHF writes a Hugging Face directory: config.json, model.safetensors and,
// when the model has a tokenizer, tokenizer.json, tokenizer_config.json and
// generation_config.json. Each file is written atomically.
func (m *Model) saveHF(dir string, opt SaveOptions) error {
	c := &m.Config
	stType := map[cpu.DType]safetensors.DType{cpu.F32: safetensors.F32, cpu.F16: safetensors.F16, cpu.BF16: safetensors.BF16}
	embedType, ok := stType[opt.Embed]
	if !ok {
		return fmt.Errorf("save: safetensors embedding type %v is not supported (F32, F16, BF16)", opt.Embed)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var ts []safetensors.Tensor
	total := 3 + 9*c.Layers
	add := func(t safetensors.Tensor) {
		ts = append(ts, t)
		if opt.Progress != nil {
			opt.Progress(len(ts), total)
		}
	}
	f32 := func(name string, v []float32) {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		add(safetensors.Tensor{Name: name, DType: safetensors.F32, Shape: []int64{int64(len(v))}, Data: b})
	}
	dense := func(name string, mat *cpu.Matrix) error {
		b, err := denseBytes(mat, opt.Embed)
		if err != nil {
			return err
		}
		add(safetensors.Tensor{Name: name, DType: embedType, Shape: []int64{int64(mat.Rows), int64(mat.Cols)}, Data: b})
		return nil
	}
	proj := func(name string, mat *cpu.Matrix) error {
		codes, scale, cols, err := m.ternaryCodes(name, mat)
		if err != nil {
			return err
		}
		if c.RopeInterleaved && (strings.HasSuffix(name, "q_proj") || strings.HasSuffix(name, "k_proj")) {
			codes = permuteHeads(codes, mat.Rows, cols, c.HeadDim, true)
		}
		if opt.Latent {
			b := make([]byte, 4*len(codes))
			for i, v := range latentWeights(codes, scale) {
				binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
			}
			add(safetensors.Tensor{Name: name + ".weight", DType: safetensors.F32, Shape: []int64{int64(mat.Rows), int64(cols)}, Data: b})
			return nil
		}
		packed, err := PackHF(codes, mat.Rows, cols)
		if err != nil {
			return fmt.Errorf("save: %s: %w", name, err)
		}
		add(safetensors.Tensor{Name: name + ".weight", DType: safetensors.U8, Shape: []int64{int64(mat.Rows / 4), int64(cols)}, Data: packed})
		// transformers' bitlinear stores the scale inverted. In float32, 12% of
		// scales do not survive the inversion (one ulp off, which int8
		// activation rounding amplifies), so it is written as F64.
		inv := make([]byte, 8)
		binary.LittleEndian.PutUint64(inv, math.Float64bits(1/float64(scale)))
		add(safetensors.Tensor{Name: name + ".weight_scale", DType: safetensors.F64, Shape: []int64{1}, Data: inv})
		return nil
	}
	if err := dense("model.embed_tokens.weight", m.embed); err != nil {
		return err
	}
	for i := range m.layers {
		for _, t := range blockOf(c) {
			if !t.Present(c) {
				continue
			}
			name := fmt.Sprintf("model.layers.%d.%s", i, t.HF[0])
			if !t.Proj {
				f32(name+".weight", *t.vec(&m.layers[i]))
			} else if err := proj(name, *t.mat(&m.layers[i])); err != nil {
				return err
			}
		}
	}
	f32("model.norm.weight", m.outNorm)
	if m.output != m.embed {
		if err := dense("lm_head.weight", m.output); err != nil {
			return err
		}
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	cfgJSON, err := m.hfConfigJSON(opt.Latent)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "config.json"), cfgJSON); err != nil {
		return err
	}
	if m.Tokenizer == nil {
		return nil
	}
	return m.saveHFTokenizer(dir)
}

// saveHFTokenizer writes what transformers needs to chat with the model:
// tokenizer.json (as loaded, or made from the GGUF vocabulary),
// tokenizer_config.json (special tokens and the chat template) and
// generation_config.json (the tokens that start and end a generation).
func (m *Model) saveHFTokenizer(dir string) error {
	tok := m.Tokenizer
	tokJSON := m.tokenizerJSON
	if tokJSON == nil {
		v, err := tok.GGUFVocab()
		if err == nil {
			tokJSON, err = tokenizer.HFJSON(v)
		}
		if err != nil {
			return fmt.Errorf("save: %s: %w", filepath.Join(dir, "tokenizer.json"), err)
		}
	}
	name := func(id int32) *string {
		if id < 0 {
			return nil
		}
		t := tok.Token(id)
		return &t
	}
	eos := tok.EOS()
	if len(m.eos) > 0 {
		eos = m.eos[len(m.eos)-1] // the end of a turn, for a chat model
	}
	tc := hfTokenizerConfig{
		BOSToken: name(tok.BOS()), ChatTemplate: m.chatJinja(), EOSToken: name(eos),
		ModelInputNames: []string{"input_ids", "attention_mask"}, ModelMaxLength: m.Config.ContextLen,
		TokenizerClass: "PreTrainedTokenizerFast",
	}
	gen := hfGenerationConfig{EOSTokenID: m.eos}
	if tok.BOS() >= 0 {
		bos := tok.BOS()
		gen.BOSTokenID = &bos
	}
	for _, f := range []struct {
		name string
		v    any // one of the two structs above
	}{{"tokenizer_config.json", tc}, {"generation_config.json", gen}} {
		err := atomicfile.Write(filepath.Join(dir, f.name), func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false) // "<|eot_id|>", as transformers writes it
			enc.SetIndent("", "  ")
			return enc.Encode(f.v)
		})
		if err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(filepath.Join(dir, "tokenizer.json"), tokJSON)
}

// The JSON files of a Hugging Face directory, as transformers reads them.
// Fields are in the alphabetical order of their keys, the order the files
// had when bitrepl wrote them from maps.

// hfTokenizerConfig is tokenizer_config.json.
type hfTokenizerConfig struct {
	BOSToken                  *string  `json:"bos_token"` // null without one
	ChatTemplate              string   `json:"chat_template,omitempty"`
	CleanUpTokenizationSpaces bool     `json:"clean_up_tokenization_spaces"`
	EOSToken                  *string  `json:"eos_token"`
	ModelInputNames           []string `json:"model_input_names"`
	ModelMaxLength            int      `json:"model_max_length"`
	TokenizerClass            string   `json:"tokenizer_class"`
}

// hfGenerationConfig is generation_config.json.
type hfGenerationConfig struct {
	BOSTokenID *int32  `json:"bos_token_id"`
	EOSTokenID []int32 `json:"eos_token_id"`
}

// hfConfigFile is the config.json bitrepl writes (config.go's hfConfig is
// what it reads).
type hfConfigFile struct {
	Architectures         []string        `json:"architectures"`
	BOSTokenID            *int32          `json:"bos_token_id,omitempty"` // with a tokenizer
	EOSTokenID            *[]int32        `json:"eos_token_id,omitempty"` // with a tokenizer (null if it has no end token)
	HeadDim               int             `json:"head_dim,omitempty"`     // when not hidden_size / num_attention_heads
	HiddenAct             string          `json:"hidden_act"`
	HiddenSize            int             `json:"hidden_size"`
	IntermediateSize      int             `json:"intermediate_size"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	ModelType             string          `json:"model_type"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumKeyValueHeads      int             `json:"num_key_value_heads"`
	QuantizationConfig    *hfQuantization `json:"quantization_config,omitempty"`
	RMSNormEps            float32         `json:"rms_norm_eps"`
	RopeScaling           *hfRopeScaling  `json:"rope_scaling,omitempty"`
	RopeTheta             float64         `json:"rope_theta"`
	TieWordEmbeddings     bool            `json:"tie_word_embeddings"`
	VocabSize             int             `json:"vocab_size"`
}

// hfQuantization is config.json's quantization_config for BitNet layers.
type hfQuantization struct {
	LinearClass      string  `json:"linear_class"`
	QuantMethod      string  `json:"quant_method"`
	QuantizationMode string  `json:"quantization_mode"`
	RMSNormEps       float32 `json:"rms_norm_eps,omitempty"` // with use_rms_norm
	UseRMSNorm       bool    `json:"use_rms_norm,omitempty"`
}

// hfRopeScaling is config.json's rope_scaling (Llama 3's).
type hfRopeScaling struct {
	Factor                        float64 `json:"factor"`
	HighFreqFactor                float64 `json:"high_freq_factor"`
	LowFreqFactor                 float64 `json:"low_freq_factor"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings"`
	RopeType                      string  `json:"rope_type"`
}

// chatJinja is the chat template to write into a file: the one the model
// came with, else the Jinja form of the template bitrepl uses for it.
func (m *Model) chatJinja() string {
	if j := m.Tokenizer.ChatTemplate(); j != "" {
		return j
	}
	switch m.Chat {
	case ChatBitNet:
		return bitnetJinja
	case ChatLlama3:
		return llama3Jinja
	}
	return ""
}

// llama3Jinja is Meta-Llama-3-8B-Instruct's chat template.
const llama3Jinja = "{% set loop_messages = messages %}{% for message in loop_messages %}" +
	"{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}" +
	"{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}" +
	"{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"

// hfConfigJSON describes the model as transformers would.
func (m *Model) hfConfigJSON(latent bool) ([]byte, error) {
	c := &m.Config
	cfg := hfConfigFile{
		HiddenSize: c.Dim, IntermediateSize: c.FFNDim, NumHiddenLayers: c.Layers,
		NumAttentionHeads: c.Heads, NumKeyValueHeads: c.KVHeads, MaxPositionEmbeddings: c.ContextLen,
		RMSNormEps: c.NormEps, RopeTheta: c.RopeTheta, VocabSize: c.VocabSize,
		TieWordEmbeddings: m.output == m.embed, HiddenAct: c.Act.String(),
	}
	switch c.Arch {
	case "bitnet":
		cfg.ModelType, cfg.Architectures = "llama", []string{"BitnetForCausalLM"}
	case "llama":
		cfg.ModelType, cfg.Architectures = "llama", []string{"LlamaForCausalLM"}
	default:
		cfg.ModelType, cfg.Architectures = "bitnet", []string{"BitNetForCausalLM"}
	}
	if c.Act == SiLU {
		cfg.HiddenAct = "silu"
	}
	if c.HeadDim*c.Heads != c.Dim {
		cfg.HeadDim = c.HeadDim
	}
	if c.LayerNorm {
		return nil, fmt.Errorf("save: the model's LayerNorm blocks (OLMo layer_norm_type default) have no transformers Llama form")
	}
	if r := c.RopeScaling; r.Type != "" {
		cfg.RopeScaling = &hfRopeScaling{RopeType: r.Type, Factor: r.Factor, LowFreqFactor: r.LowFreqFactor,
			HighFreqFactor: r.HighFreqFactor, OriginalMaxPositionEmbeddings: r.OriginalContext}
	} else if c.RopeFreqFactors != nil {
		return nil, fmt.Errorf("save: the model's RoPE frequency factors (rope_freqs.weight) have no config.json form")
	}
	if !latent || c.Arch == "llama" || c.BitLinearNorm {
		q := &hfQuantization{QuantMethod: "bitnet", LinearClass: "bitlinear", QuantizationMode: "offline"}
		if latent {
			q.LinearClass, q.QuantizationMode = "autobitlinear", "online"
		}
		if c.BitLinearNorm {
			q.UseRMSNorm, q.RMSNormEps = true, c.BitLinearNormEps
		}
		cfg.QuantizationConfig = q
	}
	if m.Tokenizer != nil {
		bos := m.Tokenizer.BOS()
		cfg.BOSTokenID, cfg.EOSTokenID = &bos, &m.eos
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// permuteHeads reorders the rows of each head the way llama.cpp's converter
// does for interleaved RoPE: row 2i takes row i and row 2i+1 takes row
// i+headDim/2. inverse undoes it.
func permuteHeads[T int8 | float32](codes []T, rows, cols, headDim int, inverse bool) []T {
	out := make([]T, len(codes))
	half := headDim / 2
	for h := 0; h < rows/headDim; h++ {
		for i := range half {
			for k, src := range [2]int{i, i + half} {
				a, b := h*headDim+src, h*headDim+2*i+k // HF row a becomes GGUF row b
				if inverse {
					a, b = b, a
				}
				copy(out[b*cols:(b+1)*cols], codes[a*cols:(a+1)*cols])
			}
		}
	}
	return out
}

// latentWeights returns latent weights (codes * magnitude) whose absmean
// ternarisation (Ternarize) gives back codes and exactly scale: the nonzero
// entries have magnitude scale*n/nz, and the first one absorbs the rounding
// so that the float64 sum of |w| is scale*n to within far less than half a
// float32 ulp of the mean. (Without that, about 10% of scales came back one
// ulp off, which int8 activation rounding amplifies into visible logit
// changes.)
func latentWeights(codes []int8, scale float32) []float32 {
	w := make([]float32, len(codes))
	nz := 0
	for _, q := range codes {
		if q != 0 {
			nz++
		}
	}
	if nz == 0 {
		return w
	}
	n := float64(len(codes))
	m := float32(float64(scale) * n / float64(nz))
	first := float32(float64(scale)*n - float64(nz-1)*float64(m))
	done := false
	for i, q := range codes {
		switch {
		case q == 0:
		case !done:
			w[i], done = float32(q)*first, true
		default:
			w[i] = float32(q) * m
		}
	}
	return w
}
