package model

import (
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/gguf"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// archSpec is what a GGUF architecture name implies beyond its metadata.
type archSpec struct {
	act            Activation
	subNorms       bool
	ropeInterleave bool // llama.cpp "NORM" RoPE: Q/K rows were permuted by the converter
}

// ggufArchs registers the GGUF architectures we run. "bitnet-25" is the name
// microsoft's 2B-4T GGUF had before it was re-uploaded as "bitnet-b1.58".
var ggufArchs = map[string]archSpec{
	"bitnet":       {act: SiLU, subNorms: true},
	"bitnet-b1.58": {act: ReLU2, subNorms: true},
	"bitnet-25":    {act: ReLU2, subNorms: true},
	"llama":        {act: SiLU, ropeInterleave: true},
}

// ggufTypes maps ggml tensor types to the storage types our kernels run.
var ggufTypes = map[gguf.Type]cpu.DType{
	gguf.F32: cpu.F32, gguf.F16: cpu.F16, gguf.BF16: cpu.BF16, gguf.Q8_0: cpu.Q8_0,
	gguf.Q4_0: cpu.Q4_0, gguf.Q6_K: cpu.Q6_K, gguf.TQ1_0: cpu.TQ1_0, gguf.TQ2_0: cpu.TQ2_0,
	gguf.I2_S: cpu.I2_S, gguf.TQ1_S: cpu.TQ1_S,
}

// Memory says how a GGUF file's weights are held; they are used where they
// lie either way, without repacking.
type Memory int

const (
	// MemoryAuto holds files of HugePagesFrom bytes or more in huge pages
	// where the kernel offers them (Linux) and a copy would take at most 3/4
	// of the memory available, and maps the rest (a mapped file larger than
	// memory still runs, from the page cache). Unlike MemoryHugePages, it
	// copies only what the page cache cannot hold in huge pages itself
	// (gguf.HugePageCache): on Linux 6.7 or later with ext4 or xfs, nothing,
	// so the weights stay shared with the page cache and later loads of the
	// file decode at huge-page speed from the first token.
	MemoryAuto Memory = iota
	// MemoryMapped maps the file: zero-copy, shared with the page cache and
	// other processes, loaded in milliseconds.
	MemoryMapped
	// MemoryHugePages holds the file in private memory backed by 2 MiB
	// transparent huge pages: the load maps the file, and it moves into huge
	// pages while the model already runs (see weightMove: in the background
	// while idle, at a small share of the time while decoding), so the first
	// token comes as soon as mapped; resident memory ends at about the file size,
	// and decoding, which streams every weight per token, takes far fewer
	// TLB misses. On a 2-core AMD EPYC VM, the 2B-4T I2_S file decoded
	// 8-25% faster than mapped.
	MemoryHugePages
)

// HugePagesFrom is the file size from which MemoryAuto uses huge pages:
// below it the weights fit the TLB's reach or the cache, and mapping keeps
// loads instant.
const HugePagesFrom = 64 << 20

// ParseMemory reads "auto", "mmap" (or "mapped") and "hugepages".
func ParseMemory(s string) (Memory, error) {
	switch strings.ToLower(s) {
	case "auto", "":
		return MemoryAuto, nil
	case "mmap", "mapped":
		return MemoryMapped, nil
	case "hugepages", "huge":
		return MemoryHugePages, nil
	}
	return 0, fmt.Errorf("unknown memory mode %q (want auto, mmap or hugepages)", s)
}

// loadGGUF loads a GGUF file, holding its weights as mem says.
func loadGGUF(path string, mem Memory) (*Model, error) {
	mode := gguf.Mapped
	switch mem {
	case MemoryHugePages:
		mode = gguf.HugePages
	case MemoryAuto:
		if st, err := os.Stat(path); err == nil && st.Size() >= HugePagesFrom && gguf.HugePagesAvailable() &&
			st.Size() <= gguf.MemoryAvailable()/4*3 {
			mode = gguf.HugePageCache
		}
	}
	f, err := gguf.OpenMode(path, mode)
	if err != nil {
		return nil, err
	}
	m, err := fromGGUF(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	m.Source, m.closers, m.memory = path, append(m.closers, f), f.Mode().String()
	if f.Mode() == gguf.HugePages || f.Mode() == gguf.HugePageCache {
		m.move.start, m.move.wait, m.move.pace = f.StartHugePages, f.WaitHugePages, f.PaceHugePages
		m.move.startIdle()
	}
	return m, nil
}

// Memory says how the model's weights are held: "mapped", "huge pages", or
// "in memory" (built, embedded or converted from safetensors).
func (m *Model) Memory() string {
	if m.memory == "" {
		return "in memory"
	}
	return m.memory
}

// LoadBytes loads a GGUF image held in memory (an embedded model). data
// must stay unchanged while the model is used.
func LoadBytes(data []byte, name string) (*Model, error) {
	f, err := gguf.Parse(data, name)
	if err != nil {
		return nil, err
	}
	m, err := fromGGUF(f)
	if err != nil {
		return nil, err
	}
	m.Source = name
	return m, nil
}

func fromGGUF(f *gguf.File) (*Model, error) {
	cfg, _, err := ggufConfig(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	m := &Model{Config: cfg, Format: "gguf"}
	ld := ggufLoader{f: f}
	m.embed = ld.matrix("token_embd.weight")
	m.outNorm = ld.vector("output_norm.weight")
	if _, ok := f.Tensor("output.weight"); ok {
		m.output = ld.matrix("output.weight")
		m.Config.TiedEmbedding = false
	} else {
		m.output = m.embed
		m.Config.TiedEmbedding = true
	}
	m.layers = make([]Layer, cfg.Layers)
	for i := range m.layers {
		for _, t := range blockOf(&m.Config) {
			if !t.Present(&m.Config) {
				continue
			}
			name := fmt.Sprintf("blk.%d.%s", i, t.GGUF)
			if t.Proj {
				*t.mat(&m.layers[i]) = ld.projection(name)
			} else {
				*t.vec(&m.layers[i]) = ld.vector(name + ".weight")
			}
		}
	}
	if ld.err != nil {
		return nil, ld.err
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	if _, ok := f.Get("tokenizer.ggml.tokens"); ok {
		v, err := ggufVocab(f)
		if err != nil {
			return nil, fmt.Errorf("%s: tokenizer: %w", f.Path, err)
		}
		tok, err := tokenizer.FromGGUFVocab(v)
		if err == nil {
			err = checkVocab(tok, &m.Config)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: tokenizer: %w", f.Path, err)
		}
		m.Tokenizer = tok
		m.Chat = chatTemplateFor(cfg.Arch, v.ChatTemplate, tok)
	}
	m.eos = stopTokens(m.Tokenizer, nil)
	return m, nil
}

// ggufConfig reads the hyperparameters of a GGUF file into a Config.
func ggufConfig(f *gguf.File) (Config, archSpec, error) {
	val, ok := f.Get("general.architecture")
	if !ok {
		return Config{}, archSpec{}, configErr("general.architecture is missing")
	}
	arch, ok := val.Str()
	if !ok {
		return Config{}, archSpec{}, configErr("general.architecture is a %s (%s), want a string", val.Kind(), val)
	}
	spec, ok := ggufArchs[arch]
	if !ok {
		return Config{}, archSpec{}, configErr("architecture %q is not supported (bitnet, bitnet-b1.58, bitnet-25, llama)", arch)
	}
	var err error
	// num reads the integer arch.key; it must be at least 1 when given. A
	// value of another type, negative or too large is an error naming the key.
	num := func(key string, required bool) int {
		key = arch + "." + key
		val, ok := f.Get(key)
		if !ok {
			if required && err == nil {
				err = configErr("%s is missing", key)
			}
			return 0
		}
		if err != nil {
			return 0
		}
		n, isInt := val.Int()
		if _, isUint := val.Uint(); !isInt && !isUint {
			err = configErr("%s is a %s (%s), want an integer", key, val.Kind(), val)
			return 0
		}
		if isInt && n >= 1 && n <= math.MaxInt32 {
			return int(n)
		}
		err = configErr("%s = %s: must be between 1 and %d", key, val, math.MaxInt32)
		return 0
	}
	// float reads the float arch.key (def when absent), which must be in (lo, hi).
	float := func(key string, def, lo, hi float64) float64 {
		key = arch + "." + key
		val, ok := f.Get(key)
		if !ok || err != nil {
			return def
		}
		v, ok := val.Float()
		switch {
		case !ok:
			err = configErr("%s is a %s (%s), want a number", key, val.Kind(), val)
		case !(v > lo && v < hi):
			err = configErr("%s = %v: must be between %v and %v", key, v, lo, hi)
		}
		return v
	}
	c := Config{
		Arch:       arch,
		Dim:        num("embedding_length", true),
		FFNDim:     num("feed_forward_length", true),
		Layers:     num("block_count", true),
		Heads:      num("attention.head_count", true),
		KVHeads:    num("attention.head_count_kv", false),
		ContextLen: num("context_length", true),
		VocabSize:  num("vocab_size", false),
		Act:        spec.act,
		SubNorms:   spec.subNorms,
		RopeTheta:  float("rope.freq_base", 10000, 1, math.Inf(1)),
		NormEps:    float32(float("attention.layer_norm_rms_epsilon", 1e-5, 0, 1)),
	}
	rotDims := num("rope.dimension_count", false)
	keyLen := num("attention.key_length", false)
	if err != nil {
		return Config{}, spec, err
	}
	c.RopeInterleaved = spec.ropeInterleave
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	if c.Heads%c.KVHeads != 0 {
		return Config{}, spec, configErr("%s.attention.head_count %d is not a multiple of %s.attention.head_count_kv %d", arch, c.Heads, arch, c.KVHeads)
	}
	if keyLen != 0 {
		// llama.cpp writes key_length when the head dim is not
		// embedding_length / head_count (Falcon3-style head_dim).
		c.HeadDim = keyLen
		if v := num("attention.value_length", false); v != 0 && v != keyLen {
			return Config{}, spec, configErr("%s.attention.value_length %d != key_length %d", arch, v, keyLen)
		}
	} else {
		if c.Dim%c.Heads != 0 {
			return Config{}, spec, configErr("%s.embedding_length %d is not a multiple of %s.attention.head_count %d", arch, c.Dim, arch, c.Heads)
		}
		c.HeadDim = c.Dim / c.Heads
	}
	if rotDims != 0 && rotDims != c.HeadDim {
		return Config{}, spec, configErr("%s.rope.dimension_count %d != head dim %d: partial RoPE is not supported", arch, rotDims, c.HeadDim)
	}
	if _, ok := f.Tensor("rope_freqs.weight"); ok {
		// llama3 rope scaling, as llama.cpp's converter writes it.
		ld := ggufLoader{f: f}
		c.RopeFreqFactors = ld.vector("rope_freqs.weight")
		if ld.err != nil {
			return Config{}, spec, ld.err
		}
		if len(c.RopeFreqFactors) != c.HeadDim/2 {
			return Config{}, spec, configErr("rope_freqs.weight has %d factors, want head dim/2 = %d", len(c.RopeFreqFactors), c.HeadDim/2)
		}
		for i, v := range c.RopeFreqFactors {
			if !(v > 0) || math.IsInf(float64(v), 0) {
				return Config{}, spec, configErr("rope_freqs.weight[%d] = %v: must be positive and finite", i, v)
			}
		}
	}
	if ti, ok := f.Tensor("token_embd.weight"); ok && len(ti.Dims) == 2 {
		rows := ti.Dims[1]
		if c.VocabSize != 0 && uint64(c.VocabSize) != rows {
			return Config{}, spec, configErr("%s.vocab_size %d != token_embd rows %d", arch, c.VocabSize, rows)
		}
		if rows > math.MaxInt32 {
			return Config{}, spec, configErr("token_embd has %d rows", rows)
		}
		c.VocabSize = int(rows)
	}
	return c, spec, c.Validate()
}

// ggufLoader turns tensors into matrices and vectors, keeping the first error
// so the loading code reads as a list.
type ggufLoader struct {
	f   *gguf.File
	err error
}

func (ld *ggufLoader) fail(name string, format string, args ...any) {
	if ld.err == nil {
		ld.err = &gguf.FormatError{File: ld.f.Path, Tensor: name, Offset: -1, Msg: fmt.Sprintf(format, args...)}
	}
}

func (ld *ggufLoader) tensor(name string) (*gguf.TensorInfo, []byte) {
	if ld.err != nil {
		return nil, nil
	}
	ti, ok := ld.f.Tensor(name)
	if !ok {
		ld.fail(name, "tensor is missing")
		return nil, nil
	}
	return ti, ld.f.TensorData(ti)
}

// matrix maps a 2-D tensor (ne0 = cols, ne1 = rows) without copying it.
func (ld *ggufLoader) matrix(name string) *cpu.Matrix {
	ti, data := ld.tensor(name)
	if ti == nil {
		return nil
	}
	if len(ti.Dims) != 2 {
		ld.fail(name, "has %d dimensions, want 2", len(ti.Dims))
		return nil
	}
	if ti.Dims[0] > math.MaxInt32 || ti.Dims[1] > math.MaxInt32 {
		ld.fail(name, "shape %v is too large", ti.Dims)
		return nil
	}
	t, ok := ggufTypes[ti.Type]
	if !ok {
		f32, known, err := dequantGGUF(ti.Type, int(ti.Dims[1]), int(ti.Dims[0]), data)
		switch {
		case !known:
			ld.fail(name, "tensor type %v is not supported for weights", ti.Type)
			return nil
		case err != nil:
			ld.fail(name, "%v", err)
			return nil
		}
		t, data = cpu.F32, f32
	}
	m, err := cpu.NewMatrix(t, int(ti.Dims[1]), int(ti.Dims[0]), data)
	if err != nil {
		ld.fail(name, "%v", err)
		return nil
	}
	return m
}

// projection loads a BitLinear weight and folds in its optional per-tensor
// ".scale" (llama.cpp's bitnet arch multiplies the projection output by it).
func (ld *ggufLoader) projection(prefix string) *cpu.Matrix {
	m := ld.matrix(prefix + ".weight")
	if m == nil {
		return nil
	}
	if _, ok := ld.f.Tensor(prefix + ".scale"); ok {
		s := ld.vector(prefix + ".scale")
		if ld.err != nil {
			return nil
		}
		if len(s) != 1 || !(s[0] > 0) || math.IsInf(float64(s[0]), 0) {
			ld.fail(prefix+".scale", "want one positive finite value, got %v", s)
			return nil
		}
		m.Scale *= s[0]
	}
	return m
}

// vector reads a 1-D float tensor (norm weights, scales) into float32.
func (ld *ggufLoader) vector(name string) []float32 {
	ti, data := ld.tensor(name)
	if ti == nil {
		return nil
	}
	if len(ti.Dims) != 1 || ti.Dims[0] > math.MaxInt32 {
		ld.fail(name, "shape %v, want a vector", ti.Dims)
		return nil
	}
	t, ok := ggufTypes[ti.Type]
	if !ok || t.BlockSize() != 1 {
		ld.fail(name, "tensor type %v is not supported for a vector (F32, F16, BF16)", ti.Type)
		return nil
	}
	n := int(ti.Dims[0])
	m, err := cpu.NewMatrix(t, 1, n, data)
	if err != nil {
		ld.fail(name, "%v", err)
		return nil
	}
	out := make([]float32, n)
	m.Row(out, 0)
	return out
}

// ggufVocab gathers the tokenizer.ggml.* metadata.
func ggufVocab(f *gguf.File) (tokenizer.GGUFVocab, error) {
	v := tokenizer.GGUFVocab{BOS: -1, EOS: -1, EOT: -1, PAD: -1, UNK: -1}
	// A key of the wrong type is an error naming it, not a key ignored.
	for key, dst := range map[string]*string{
		"tokenizer.ggml.model": &v.Model, "tokenizer.ggml.pre": &v.Pre, "tokenizer.chat_template": &v.ChatTemplate,
	} {
		if val, ok := f.Get(key); ok {
			if *dst, ok = val.Str(); !ok {
				return v, fmt.Errorf("%s is a %s (%s), want a string", key, val.Kind(), val)
			}
		}
	}
	for key, dst := range map[string]*[]string{"tokenizer.ggml.tokens": &v.Tokens, "tokenizer.ggml.merges": &v.Merges} {
		if val, ok := f.Get(key); ok {
			if *dst, ok = val.Strings(); !ok {
				return v, fmt.Errorf("%s is a %s (%s), want an array of strings", key, val.Kind(), val)
			}
		}
	}
	if val, ok := f.Get("tokenizer.ggml.token_type"); ok {
		types, ok := val.Int32s()
		if !ok {
			return v, fmt.Errorf("tokenizer.ggml.token_type is not an int32 array")
		}
		v.Types = types
	}
	if val, ok := f.Get("tokenizer.ggml.scores"); ok {
		scores, ok := val.Float32s()
		if !ok {
			return v, fmt.Errorf("tokenizer.ggml.scores is not a float32 array")
		}
		v.Scores = scores
	}
	for key, dst := range map[string]*int32{
		"tokenizer.ggml.bos_token_id": &v.BOS, "tokenizer.ggml.eos_token_id": &v.EOS,
		"tokenizer.ggml.eot_token_id": &v.EOT, "tokenizer.ggml.padding_token_id": &v.PAD,
		"tokenizer.ggml.unknown_token_id": &v.UNK,
	} {
		val, ok := f.Get(key)
		if !ok {
			continue
		}
		if n, isInt := val.Int(); isInt && n < 0 {
			continue // -1: none
		}
		id, ok := val.Uint()
		if !ok {
			return v, fmt.Errorf("%s is a %s (%s), want a token id", key, val.Kind(), val)
		}
		if id >= uint64(len(v.Tokens)) {
			return v, fmt.Errorf("%s = %d is outside the vocabulary (%d)", key, id, len(v.Tokens))
		}
		*dst = int32(id)
	}
	v.AddBOS = true
	if val, ok := f.Get("tokenizer.ggml.add_bos_token"); ok {
		if b, ok := val.Bool(); ok {
			v.AddBOS = b
		}
	}
	if val, ok := f.Get("tokenizer.ggml.add_eos_token"); ok {
		if b, ok := val.Bool(); ok {
			v.AddEOS = b
		}
	}
	return v, nil
}
