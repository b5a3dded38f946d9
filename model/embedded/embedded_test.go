package embedded_test

import (
	"context"
	"strings"
	"testing"
	"unicode"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/embedded"
)

// TestEmbeddedModel loads the shipped model with the engine, checks its shape and size, that it predicts English
// text far better than chance, and that greedy decoding produces words.
func TestEmbeddedModel(t *testing.T) {
	data := embedded.GGUF()
	if len(data) == 0 || len(data) > 8<<20 {
		t.Fatalf("embedded model is %d bytes (limit 8 MiB)", len(data))
	}
	m, err := model.LoadBytes(data, embedded.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := m.Config
	if c.Arch != "bitnet-b1.58" || c.Act != model.ReLU2 || !c.SubNorms || c.VocabSize != 4096 || c.Dim%256 != 0 {
		t.Fatalf("config %+v", c)
	}
	text := "It was the best of times for the whale ships of the nation, and the Congress of the United States " +
		"has shown its satisfaction with the men who sailed them. I thought I would sail about a little and see the " +
		"watery part of the world."
	r, err := m.Perplexity(context.Background(), text, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("perplexity %.1f over %d tokens", r.PPL(), r.Tokens)
	if r.PPL() > 300 { // a uniform guess over the vocabulary scores 4096; the unigram baseline about 700
		t.Fatalf("perplexity %.1f on plain English", r.PPL())
	}
	var b strings.Builder
	_, err = m.Generate(context.Background(), m.NewSession(0), m.Tokenizer.Encode("The", true), model.GenOptions{MaxTokens: 24},
		func(tk model.Token) error { b.WriteString(tk.Text); return nil })
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Logf("greedy: The%s", out)
	letters := 0
	for _, r := range out {
		if unicode.IsLetter(r) || r == ' ' {
			letters++
		}
	}
	if len(strings.Fields(out)) < 5 || letters < len(out)*3/4 {
		t.Fatalf("greedy continuation does not look like words: %q", out)
	}
}
