package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/gguf"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// A bad hyperparameter is reported by its key and value, in config.json ...
func TestHFConfigErrors(t *testing.T) {
	base := map[string]any{"model_type": "bitnet", "hidden_act": "relu2", "hidden_size": 256, "intermediate_size": 512,
		"num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 96,
		"max_position_embeddings": 64, "rope_theta": 500000.0, "rms_norm_eps": 1e-5}
	c, _, err := parseHFConfig(mustJSON(t, base))
	if err != nil || c.ContextLen != 64 || c.KVHeads != 2 || c.HeadDim != 64 {
		t.Fatalf("base config: %+v, %v", c, err)
	}
	for _, tc := range []struct {
		key  string
		val  any // nil deletes the key
		want string
	}{
		{"num_attention_heads", 0, "num_attention_heads = 0: must be at least 1"},
		{"num_attention_heads", -4, "num_attention_heads = -4: must be at least 1"},
		{"num_attention_heads", nil, "num_attention_heads is missing"},
		{"num_attention_heads", 3, "num_attention_heads 3 is not a multiple of num_key_value_heads 2"},
		{"num_attention_heads", "4", "num_attention_heads of type int"},
		{"num_key_value_heads", 0, "num_key_value_heads = 0: must be at least 1"},
		{"num_key_value_heads", 3, "num_attention_heads 4 is not a multiple of num_key_value_heads 3"},
		{"max_position_embeddings", 0, "max_position_embeddings = 0: must be at least 1"},
		{"hidden_size", 258, "hidden_size 258 is not a multiple of num_attention_heads 4"},
		{"hidden_size", nil, "hidden_size is missing"},
		{"vocab_size", -1, "vocab_size = -1"},
		{"head_dim", 0, "head_dim = 0"},
		{"rope_theta", 0.0, "rope_theta = 0: must be finite and greater than 1"},
		{"rms_norm_eps", 0.0, "rms_norm_eps = 0: must be between 0 and 1"},
	} {
		cfg := map[string]any{}
		for k, v := range base {
			cfg[k] = v
		}
		if tc.val == nil {
			delete(cfg, tc.key)
		} else {
			cfg[tc.key] = tc.val
		}
		_, _, err := parseHFConfig(mustJSON(t, cfg))
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s = %v: %v; want %q", tc.key, tc.val, err, tc.want)
		}
	}
	// Absent optional keys take the defaults of the model_type's config
	// class in transformers: BitNetConfig's num_key_value_heads is 5 and its
	// rope_theta 500000; LlamaConfig's are the head count and 10000.
	for _, k := range []string{"num_key_value_heads", "max_position_embeddings", "rope_theta", "rms_norm_eps", "hidden_act"} {
		delete(base, k)
	}
	base["num_attention_heads"], base["hidden_size"] = 10, 640
	if c, _, err := parseHFConfig(mustJSON(t, base)); err != nil || c.KVHeads != 5 || c.ContextLen != 2048 ||
		c.RopeTheta != 500000 || c.NormEps != 1e-5 || c.Act != ReLU2 || c.TiedEmbedding {
		t.Errorf("bitnet defaults: %+v, %v", c, err)
	}
	base["model_type"], base["quantization_config"] = "llama", map[string]any{"quant_method": "bitnet"}
	if c, _, err := parseHFConfig(mustJSON(t, base)); err != nil || c.KVHeads != 10 || c.ContextLen != 2048 ||
		c.RopeTheta != 10000 || c.NormEps != 1e-6 || c.Act != SiLU || c.TiedEmbedding {
		t.Errorf("llama defaults: %+v, %v", c, err)
	}
}

// Keys and values that change the math and are not supported are refused by
// name, never ignored.
func TestHFConfigRefusals(t *testing.T) {
	base := `"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 32`
	for _, tc := range []struct{ cfg, want string }{
		{`{"model_type": "olmo", "d_model": 64}`, `model_type "olmo"`},
		{`{"model_type": "llama", ` + base + `}`, "no quantization_config"},
		{`{"model_type": "bitnet", "rope_scaling": {"type": "yarn", "factor": 4}, ` + base + `}`, `rope_scaling rope_type "yarn" is not supported`},
		{`{"model_type": "bitnet", "rope_parameters": {"rope_type": "linear", "factor": 2}, ` + base + `}`, `rope_parameters rope_type "linear"`},
		{`{"model_type": "bitnet", "rope_scaling": {"rope_type": "llama3", "factor": 8}, ` + base + `}`, "llama3 needs"},
		{`{"model_type": "bitnet", "hidden_act": "gelu", ` + base + `}`, `hidden_act "gelu"`},
		{`{"model_type": "bitnet", "quantization_config": {"quant_method": "bitnet", "quantization_mode": "dynamic"}, ` + base + `}`, `quantization_mode "dynamic"`},
		{`{"model_type": "bitnet", "quantization_config": {"quant_method": "bitnet", "modules_to_not_convert": ["lm_head", "model.layers.0.mlp"]}, ` + base + `}`, `modules_to_not_convert "model.layers.0.mlp"`},
	} {
		_, _, err := parseHFConfig([]byte(tc.cfg))
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.cfg, err, tc.want)
		}
	}
	// v5's rope_parameters win over a v4 rope_theta; llama3 scaling is read
	// from either.
	c, _, err := parseHFConfig([]byte(`{"model_type": "bitnet", "rope_theta": 10000, "rope_parameters": {"rope_type": "llama3", "rope_theta": 250000,
		"factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}, ` + base + `}`))
	if err != nil || c.RopeTheta != 250000 || c.RopeScaling.Type != "llama3" || c.RopeScaling.OriginalContext != 8192 {
		t.Errorf("rope_parameters: %+v, %v", c, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rewriteGGUF writes the GGUF file data again with its metadata edited.
func rewriteGGUF(t *testing.T, data []byte, edit func(w *gguf.Writer)) []byte {
	t.Helper()
	f, err := gguf.Parse(data, "in.gguf")
	if err != nil {
		t.Fatal(err)
	}
	w := gguf.NewWriter()
	for _, kv := range f.KV {
		w.Set(kv.Key, kv.Value)
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		if err := w.AddTensor(ti.Name, ti.Type, ti.Dims, f.TensorData(ti)); err != nil {
			t.Fatal(err)
		}
	}
	edit(w)
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ... and in GGUF metadata.
func TestGGUFConfigErrors(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.gguf")
	if err := m.Save(p, SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F16}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const a = "bitnet-b1.58."
	for _, tc := range []struct {
		key  string
		val  gguf.Value // the zero Value deletes the key
		want string
	}{
		{a + "attention.head_count", gguf.Uint32(0), a + "attention.head_count = 0: must be between 1 and"},
		{a + "attention.head_count", gguf.Int32(-4), a + "attention.head_count = -4: must be between 1 and"},
		{a + "attention.head_count", gguf.String("4"), a + `attention.head_count is a string ("4"), want an integer`},
		{a + "attention.head_count", gguf.Value{}, a + "attention.head_count is missing"},
		{a + "attention.head_count", gguf.Uint64(1 << 40), a + "attention.head_count = 1099511627776: must be between 1 and"},
		{a + "attention.head_count", gguf.Uint32(3), a + "attention.head_count 3 is not a multiple of " + a + "attention.head_count_kv 2"},
		{a + "attention.head_count_kv", gguf.Uint32(0), a + "attention.head_count_kv = 0: must be between 1 and"},
		{a + "attention.head_count_kv", gguf.Float32(2), a + "attention.head_count_kv is a float32 (2), want an integer"},
		{a + "context_length", gguf.Uint32(0), a + "context_length = 0: must be between 1 and"},
		{a + "embedding_length", gguf.Uint32(258), a + "embedding_length 258 is not a multiple of " + a + "attention.head_count 4"},
		{a + "rope.freq_base", gguf.String("1e4"), a + `rope.freq_base is a string ("1e4"), want a number`},
		{a + "rope.freq_base", gguf.Float32(0), a + "rope.freq_base = 0: must be between 1 and"},
		{a + "attention.layer_norm_rms_epsilon", gguf.Float32(-1), a + "attention.layer_norm_rms_epsilon = -1: must be between 0 and 1"},
		{"general.architecture", gguf.Uint32(1), "general.architecture is a uint32 (1), want a string"},
		{"general.architecture", gguf.Value{}, "general.architecture is missing"},
	} {
		bad := rewriteGGUF(t, data, func(w *gguf.Writer) {
			if tc.val.Kind() == gguf.KindInvalid {
				w.Delete(tc.key)
			} else {
				w.Set(tc.key, tc.val)
			}
		})
		_, err := LoadBytes(bad, "bad.gguf")
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s = %v: %v; want %q", tc.key, tc.val, err, tc.want)
		}
	}
}

// A tokenizer with more tokens than the embedding has rows is refused at
// load, naming both sizes, not at the first token past the embedding.
func TestTokenizerLargerThanEmbedding(t *testing.T) {
	tokJSON, err := os.ReadFile(filepath.Join("tokenizer", "testdata", "llama3-mini.json"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromJSON(tokJSON)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig("bitnet-b1.58")
	cfg.VocabSize = tok.VocabSize() - 1
	want := "the tokenizer has " + strconv.Itoa(tok.VocabSize()) + " tokens, more than the " + strconv.Itoa(cfg.VocabSize) + " rows of the embedding"
	if _, err := Random(cfg, 1, tok, tokJSON); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Random: %v; want %q", err, want)
	}
	cfg.VocabSize = tok.VocabSize()
	m, err := Random(cfg, 1, tok, tokJSON)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	dir := t.TempDir()
	for _, format := range []string{"gguf", "safetensors"} {
		p := filepath.Join(dir, format)
		if format == "gguf" {
			p += ".gguf"
		}
		if err := m.Save(p, SaveOptions{Format: format, Ternary: cpu.I2_S, Embed: cpu.F32}); err != nil {
			t.Fatal(err)
		}
		paths[format] = p
	}
	// The same files with one embedding row fewer.
	small := cfg
	small.VocabSize--
	sm, err := Random(small, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// GGUF: the small model's weights with the full tokenizer's metadata.
	full, err := os.ReadFile(paths["gguf"])
	if err != nil {
		t.Fatal(err)
	}
	ff, err := gguf.Parse(full, "full.gguf")
	if err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(dir, "small.gguf")
	if err := sm.Save(sp, SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F32}); err != nil {
		t.Fatal(err)
	}
	smallData, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	bad := rewriteGGUF(t, smallData, func(w *gguf.Writer) {
		for _, kv := range ff.KV {
			if strings.HasPrefix(kv.Key, "tokenizer.") {
				w.Set(kv.Key, kv.Value)
			}
		}
	})
	if _, err := LoadBytes(bad, "bad.gguf"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("GGUF: %v; want %q", err, want)
	}
	// safetensors: the small model's directory with the tokenizer.json.
	sd := filepath.Join(dir, "small-hf")
	if err := sm.Save(sd, SaveOptions{Format: "safetensors", Embed: cpu.F32}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sd, "tokenizer.json"), tokJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(sd); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("safetensors: %v; want %q", err, want)
	}
}

// A tokenizer key of the wrong type is an error naming it, not a key ignored.
func TestGGUFTokenizerKeyTypes(t *testing.T) {
	tokJSON, err := os.ReadFile(filepath.Join("tokenizer", "testdata", "hf", "metaspace-fallback.json"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromJSON(tokJSON)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig("bitnet-b1.58")
	cfg.VocabSize = tok.VocabSize()
	m, err := Random(cfg, 1, tok, tokJSON)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.gguf")
	if err := m.Save(p, SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F16}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBytes(bytes.Clone(data), "m.gguf"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  string
		val  gguf.Value
		want string
	}{
		{"tokenizer.ggml.tokens", gguf.String("a"), `tokenizer.ggml.tokens is a string ("a"), want an array of strings`},
		{"tokenizer.ggml.model", gguf.Uint32(2), "tokenizer.ggml.model is a uint32 (2), want a string"},
		{"tokenizer.chat_template", gguf.Bool(true), "tokenizer.chat_template is a bool (true), want a string"},
		{"tokenizer.ggml.bos_token_id", gguf.String("1"), `tokenizer.ggml.bos_token_id is a string ("1"), want a token id`},
		{"tokenizer.ggml.eos_token_id", gguf.Uint32(1 << 20), "tokenizer.ggml.eos_token_id = 1048576 is outside the vocabulary"},
	} {
		bad := rewriteGGUF(t, data, func(w *gguf.Writer) { w.Set(tc.key, tc.val) })
		if _, err := LoadBytes(bad, "bad.gguf"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s = %v: %v; want %q", tc.key, tc.val, err, tc.want)
		}
	}
	// -1 means no such token, as llama.cpp writes it.
	ok := rewriteGGUF(t, data, func(w *gguf.Writer) { w.Set("tokenizer.ggml.padding_token_id", gguf.Int32(-1)) })
	if _, err := LoadBytes(ok, "ok.gguf"); err != nil {
		t.Errorf("padding_token_id -1: %v", err)
	}
}
