package model

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/gguf"
	"github.com/bitrepl/bitrepl/model/safetensors"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// fuzzShard names the two shards FuzzLoadHF writes when it writes an index.
var fuzzShard = [2]string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}

// hfSeeds writes a tiny model with a 134-token tokenizer as a
// single-file and as a two-shard checkpoint, and returns their files:
// config.json, tokenizer.json, tokenizer_config.json, the index ("" when
// unsharded), shard 1, shard 2.
func hfSeeds(f *testing.F) [][6][]byte {
	tokJSON, err := os.ReadFile(filepath.Join("tokenizer", "testdata", "hf", "whitespace-digits.json"))
	if err != nil {
		f.Fatal(err)
	}
	tok, err := tokenizer.FromJSON(tokJSON)
	if err != nil {
		f.Fatal(err)
	}
	// As small as the layouts allow, so that the fuzzer's mutations and
	// minimizations stay fast.
	cfg := Config{Arch: "bitnet-b1.58", VocabSize: tok.VocabSize(), Dim: 128, FFNDim: 128, Layers: 1, Heads: 2, KVHeads: 1,
		ContextLen: 16, RopeTheta: 10000, NormEps: 1e-5, Act: ReLU2, SubNorms: true, TiedEmbedding: true}
	m, err := Random(cfg, 9, tok, tokJSON)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	one := filepath.Join(dir, "one")
	if err := m.Save(one, SaveOptions{Format: "safetensors", Embed: cpu.F16}); err != nil {
		f.Fatal(err)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	tokConfig := []byte(`{"chat_template": "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}<|eot_id|>{% endfor %}Assistant: ", "bos_token": "<|begin_of_text|>"}`)
	single := [6][]byte{read(filepath.Join(one, "config.json")), tokJSON, tokConfig, nil, read(filepath.Join(one, "model.safetensors")), nil}

	// The same tensors in two shards, the index naming them fuzzShard.
	sf, err := safetensors.Open(filepath.Join(one, "model.safetensors"))
	if err != nil {
		f.Fatal(err)
	}
	defer sf.Close()
	two := filepath.Join(dir, "two")
	if err := safetensors.WriteSharded(two, sf.Tensors(), int64(len(single[4])/2)); err != nil {
		f.Fatal(err)
	}
	shards, _ := filepath.Glob(filepath.Join(two, "*.safetensors"))
	if len(shards) != 2 {
		f.Fatalf("%d shards", len(shards))
	}
	index := string(read(filepath.Join(two, safetensors.IndexName)))
	for i, p := range shards {
		index = strings.ReplaceAll(index, filepath.Base(p), fuzzShard[i])
	}
	sharded := [6][]byte{single[0], tokJSON, []byte(`{"chat_template": [{"name": "default", "template": "<|start_header_id|>"}]}`),
		[]byte(index), read(shards[0]), read(shards[1])}
	seeds := [][6][]byte{single, sharded}
	for i, want := range []ChatTemplate{ChatBitNet, ChatLlama3} { // the seeds load
		d := f.TempDir()
		writeHFDir(f, d, seeds[i])
		m, err := Load(d)
		if err != nil {
			f.Fatalf("seed %d: %v", i, err)
		}
		if m.Chat != want {
			f.Fatalf("seed %d: chat template %v, want %v", i, m.Chat, want)
		}
		m.Close()
	}
	return seeds
}

// writeHFDir writes the files of a checkpoint directory: config.json,
// tokenizer.json and tokenizer_config.json (when not empty), then the index
// and two shards, or model.safetensors when the index is empty.
func writeHFDir(t testing.TB, dir string, files [6][]byte) {
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config.json", files[0])
	if len(files[1]) > 0 {
		write("tokenizer.json", files[1])
	}
	if len(files[2]) > 0 {
		write("tokenizer_config.json", files[2])
	}
	if len(files[3]) > 0 {
		write(safetensors.IndexName, files[3])
		write(fuzzShard[0], files[4])
		write(fuzzShard[1], files[5])
	} else {
		write(safetensors.SingleName, files[4])
	}
}

// FuzzLoadHF: a checkpoint directory of any config.json, tokenizer.json,
// tokenizer_config.json, index and shards loads or fails with an error; it
// never panics, and a model that loads can format a chat and run a token.
func FuzzLoadHF(f *testing.F) {
	for _, s := range hfSeeds(f) {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5])
	}
	f.Fuzz(func(t *testing.T, config, tok, tokConfig, index, shard1, shard2 []byte) {
		dir := t.TempDir()
		writeHFDir(t, dir, [6][]byte{config, tok, tokConfig, index, shard1, shard2})
		m, err := Load(dir)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		defer m.Close()
		c := m.Config
		if c.ContextLen*c.KVDim()*c.Layers > 1<<24 || c.VocabSize > 1<<16 || c.Dim*c.FFNDim*c.Layers > 1<<24 {
			return // loads, but too large to run in a fuzz iteration
		}
		s := m.NewSession(min(c.ContextLen, 64))
		if m.Tokenizer != nil {
			ids, err := m.FormatChat([]Message{{Role: "user", Content: "hi"}}, true)
			if err != nil {
				t.Fatalf("FormatChat: %v", err)
			}
			for _, id := range ids {
				if id < 0 || int(id) >= c.VocabSize {
					t.Fatalf("FormatChat gave token %d outside the vocabulary (%d)", id, c.VocabSize)
				}
			}
			if len(ids) > 0 && len(ids) <= s.ContextLen() {
				if _, err := s.Forward(ids); err != nil {
					t.Fatalf("a loaded model failed to run its chat prompt: %v", err)
				}
				return
			}
		}
		if _, err := s.Forward([]int32{0}); err != nil {
			t.Fatalf("a loaded model failed to run: %v", err)
		}
	})
}

// FuzzChatTemplate: any tokenizer_config.json gives a chat template or an
// error, and the template chosen lays out a conversation in valid tokens.
func FuzzChatTemplate(f *testing.F) {
	tokJSON, err := os.ReadFile(filepath.Join("tokenizer", "testdata", "llama3-mini.json"))
	if err != nil {
		f.Fatal(err)
	}
	tok, err := tokenizer.FromJSON(tokJSON)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"chat_template": "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}"}`,
		`{"chat_template": "` + strings.ReplaceAll(bitnetJinja, `"`, `\"`) + `"}`,
		`{"chat_template": [{"name": "default", "template": "User: "}, {"name": "tool_use", "template": "x"}]}`,
		`{"chat_template": null, "bos_token": "<|begin_of_text|>"}`,
		`{"chat_template": 7}`, `{}`, `[]`, ``,
	} {
		f.Add([]byte(s), "bitnet-b1.58", "You are terse.", "Hello <|eot_id|> there")
		f.Add([]byte(s), "llama", "", "")
	}
	f.Fuzz(func(t *testing.T, data []byte, arch, system, user string) {
		tmpl, err := parseChatTemplate(data, "tokenizer_config.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tokenizer_config.json: ") {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		m := &Model{Tokenizer: tok, Chat: chatTemplateFor(arch, tmpl, tok)}
		ids, err := m.FormatChat([]Message{{Role: "system", Content: system}, {Role: "user", Content: user}}, true)
		if err != nil {
			t.Fatalf("FormatChat: %v", err)
		}
		for _, id := range ids {
			if id < 0 || int(id) >= tok.VocabSize() {
				t.Fatalf("token %d outside the vocabulary (%d)", id, tok.VocabSize())
			}
		}
	})
}

// ggufTokenizerSeed writes the tokenizer metadata of a tokenizer.json as a
// GGUF file // with no tensors; false when the tokenizer has no GGUF form.
func ggufTokenizerSeed(f *testing.F, name string) ([]byte, bool) {
	data, err := os.ReadFile(filepath.Join("tokenizer", "testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	tok, err := tokenizer.FromJSON(data)
	if err != nil {
		f.Fatal(err)
	}
	w := gguf.NewWriter()
	if err := setGGUFVocab(w, &Model{Tokenizer: tok}); err != nil {
		return nil, false
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes(), true
}

// countPrintable counts the bytes below b that GPT-2's bytes_to_unicode
// keeps as themselves.
func countPrintable(b int) int {
	n := 0
	for c := range b {
		if c >= '!' && c <= '~' || c >= 0xA1 && c <= 0xAC || c >= 0xAE {
			n++
		}
	}
	return n
}

// FuzzGGUFTokenizer: any tokenizer.ggml.* metadata gives a tokenizer or an
// error, and a tokenizer built encodes and decodes without panicking, into
// ids inside its vocabulary.
func FuzzGGUFTokenizer(f *testing.F) {
	// A LLaMA-3-style byte-level BPE vocabulary, small: the 256 byte tokens,
	// a few merges, and the special tokens.
	var tokens []string
	for b := range 256 {
		r := rune(b)
		if !(b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE) {
			r = rune(256 + len(tokens) - countPrintable(b))
		}
		tokens = append(tokens, string(r))
	}
	merges := []string{"H e", "l l", "He ll", "Ġ w", "o r"}
	for _, m := range merges {
		tokens = append(tokens, strings.ReplaceAll(m, " ", ""))
	}
	types := make([]int32, len(tokens), len(tokens)+2)
	for i := range types {
		types[i] = tokenizer.TokenNormal
	}
	tokens = append(tokens, "<|begin_of_text|>", "<|eot_id|>")
	types = append(types, tokenizer.TokenControl, tokenizer.TokenControl)
	w := gguf.NewWriter()
	w.Set("tokenizer.ggml.model", gguf.String("gpt2"))
	w.Set("tokenizer.ggml.pre", gguf.String("llama-bpe"))
	w.Set("tokenizer.ggml.tokens", gguf.Strings(tokens))
	w.Set("tokenizer.ggml.token_type", gguf.Int32s(types))
	w.Set("tokenizer.ggml.merges", gguf.Strings(merges))
	w.Set("tokenizer.ggml.bos_token_id", gguf.Uint32(uint32(len(tokens)-2)))
	w.Set("tokenizer.ggml.eot_token_id", gguf.Uint32(uint32(len(tokens)-1)))
	w.Set("tokenizer.ggml.add_bos_token", gguf.Bool(true))
	w.Set("tokenizer.chat_template", gguf.String(bitnetJinja))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	gf, err := gguf.Parse(buf.Bytes(), "seed.gguf")
	if err != nil {
		f.Fatal(err)
	}
	v, err := ggufVocab(gf)
	if err != nil {
		f.Fatal(err)
	}
	tok, err := tokenizer.FromGGUFVocab(v)
	if err != nil {
		f.Fatal(err)
	}
	if got := tok.Encode("Hello<|eot_id|>", true); len(got) != 4 || tok.Token(got[1]) != "Hell" || got[3] != int32(len(tokens)-1) {
		f.Fatalf("the seed vocabulary encodes Hello as %v", got)
	}
	f.Add(buf.Bytes(), "Hello world<|eot_id|> 123 héllo\n")
	// A SentencePiece-style ("llama") vocabulary with byte fallback.
	spm, ok := ggufTokenizerSeed(f, "hf/metaspace-fallback.json")
	if !ok {
		f.Fatal("metaspace-fallback.json has no GGUF form")
	}
	f.Add(spm, "Hello, world! 123 héllo\n")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		gf, err := gguf.Parse(bytes.Clone(data), "fuzz.gguf")
		if err != nil {
			return
		}
		if _, ok := gf.Strings("tokenizer.ggml.tokens"); !ok {
			return
		}
		v, err := ggufVocab(gf)
		if err != nil {
			return
		}
		tok, err := tokenizer.FromGGUFVocab(v)
		if err != nil {
			return
		}
		ids := tok.Encode(text, true)
		for _, id := range ids {
			if id < 0 || int(id) >= tok.VocabSize() {
				t.Fatalf("token %d outside the vocabulary (%d)", id, tok.VocabSize())
			}
		}
		_ = tok.Decode(ids, false)
		_ = chatTemplateFor("bitnet-b1.58", v.ChatTemplate, tok)
	})
}
