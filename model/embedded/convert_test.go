package embedded_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

// The built-in model converted to safetensors is a directory transformers
// and bitrepl can chat with: it has the tokenizer files, every file is
// 0644, and loaded back it tokenizes and chats as the original does.
func TestConvertedBuiltinChats(t *testing.T) {
	m := builtin(t)
	dir := filepath.Join(t.TempDir(), "hf")
	if err := m.Save(dir, model.SaveOptions{Format: "safetensors", Embed: cpu.F16}); err != nil {
		t.Fatal(err)
	}
	want := []string{"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", e.Name(), fi.Mode().Perm())
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("directory holds %v, want %v", got, want)
	}
	tc, _ := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if !strings.Contains(string(tc), `"chat_template"`) || !strings.Contains(string(tc), `"eos_token": "<|eot_id|>"`) {
		t.Errorf("tokenizer_config.json has no chat_template:\n%s", tc)
	}

	back, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if back.Tokenizer == nil {
		t.Fatal("the converted model has no tokenizer")
	}
	for _, text := range []string{"Hello, who are you?", "  spaces\tand\nnewlines ", "The whale, 1851.", "héllo 世界 🐳",
		"<|begin_of_text|>User: hi<|eot_id|>Assistant: ", "don't YOU'LL", ""} {
		for _, special := range []bool{true, false} {
			a, b := m.Tokenizer.Encode(text, special), back.Tokenizer.Encode(text, special)
			if !slices.Equal(a, b) {
				t.Errorf("Encode(%q, %v): converted %v, original %v", text, special, b, a)
			}
			if da, db := m.Tokenizer.Decode(a, !special), back.Tokenizer.Decode(b, !special); da != db {
				t.Errorf("Decode of %q: converted %q, original %q", text, db, da)
			}
		}
	}
	if back.Chat != m.Chat || !slices.Equal(back.EOS(), m.EOS()) || back.Tokenizer.BOS() != m.Tokenizer.BOS() {
		t.Errorf("converted: chat %v, EOS %v, BOS %d; original: chat %v, EOS %v, BOS %d",
			back.Chat, back.EOS(), back.Tokenizer.BOS(), m.Chat, m.EOS(), m.Tokenizer.BOS())
	}
	msgs := []model.Message{{Role: "system", Content: "You are a helpful assistant."}, {Role: "user", Content: "Hello, who are you?"}}
	answer := func(m *model.Model) string {
		var b strings.Builder
		_, err := m.GenerateChat(context.Background(), m.NewSession(0), msgs, model.GenOptions{MaxTokens: 24},
			func(tk model.Token) error { b.WriteString(tk.Text); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if a, b := answer(m), answer(back); a != b || a == "" {
		t.Errorf("greedy answer: converted %q, original %q", b, a)
	}
}
