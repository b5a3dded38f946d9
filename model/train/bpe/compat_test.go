package bpe_test

import (
	"reflect"
	"testing"

	"github.com/bitrepl/bitrepl/model/tokenizer"
	"github.com/bitrepl/bitrepl/model/train/bpe"
	"github.com/bitrepl/bitrepl/model/train/corpus"
)

// TestProjectTokenizerLoadsIt checks that bitrepl's own tokenizer (the code path of real models) loads the
// tokenizer.json we write, and encodes and decodes exactly as the trainer's encoder, also after the round trip
// through GGUF metadata.
func TestProjectTokenizerLoadsIt(t *testing.T) {
	var docs []string
	for _, f := range []string{"../testdata/sample-train.txt", "../testdata/sample-val.txt"} {
		d, err := corpus.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d...)
	}
	counts := map[string]int{}
	for _, d := range docs[:len(docs)-1] {
		bpe.WordCounts(counts, d)
	}
	m, err := bpe.Train(counts, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tok.GGUFVocab()
	if err != nil {
		t.Fatal(err)
	}
	if v.Model != "gpt2" || v.Pre != "llama-bpe" || len(v.Tokens) != 1000 {
		t.Fatalf("GGUF vocab: model %q pre %q, %d tokens", v.Model, v.Pre, len(v.Tokens))
	}
	bos, _ := m.ID(bpe.BeginOfText)
	eos, _ := m.ID(bpe.EndOfText)
	eot, _ := m.ID(bpe.EOT)
	if tok.BOS() != bos || tok.EOS() != eos || tok.EOT() != eot || !v.AddBOS {
		t.Fatalf("special ids: bos %d eos %d eot %d addBOS %v; want %d %d %d true", tok.BOS(), tok.EOS(), tok.EOT(), v.AddBOS, bos, eos, eot)
	}
	fromGGUF, err := tokenizer.FromGGUFVocab(v)
	if err != nil {
		t.Fatal(err)
	}
	texts := append([]string{"Hello world", " Hello  world!\n\nCall me Ishmael. I'm 1,776 years old...", "--whale's"}, docs...)
	for i, text := range texts {
		want := m.Encode(text)
		if got := tok.Encode(text, false); !reflect.DeepEqual(got, want) {
			t.Fatalf("text %d: tokenizer.json path: %d ids differ from the trainer's %d", i, len(got), len(want))
		}
		if got := fromGGUF.Encode(text, false); !reflect.DeepEqual(got, want) {
			t.Fatalf("text %d: GGUF path differs from the trainer's encoding", i)
		}
		if got := tok.Decode(want, false); got != text {
			t.Fatalf("text %d: decode differs", i)
		}
	}
	withBOS := tok.Encode("Hello", true)
	if len(withBOS) == 0 || withBOS[0] != bos {
		t.Fatalf("Encode with special tokens = %v, want BOS %d first", withBOS, bos)
	}
}
