package tokenizer

import (
	"bytes"
	"slices"
	"testing"
)

var hfJSONTexts = []string{
	"", "Hello, world!", "hello world", " leading space", "trailing space ", "  two  spaces\n\nnewlines\r\n",
	"numbers 1234567 and 3.14", "don't I'LL we've", "héllo 世界 🐳", "tabs\tand\u00a0nbsp",
	"<|begin_of_text|>special in text<|eot_id|>", "<|end_of_text|>", "a<|start_header_id|>b",
}

// A GGUF vocabulary written as tokenizer.json reads back (with FromJSON) to
// a tokenizer that encodes and decodes every text as the GGUF one does, and
// writing that one again gives the same file.
func TestHFJSONRoundTrip(t *testing.T) {
	llama3, err := mustFile(t, "testdata/llama3-mini.json").GGUFVocab()
	if err != nil {
		t.Fatal(err)
	}
	gpt2 := llama3 // the GPT-2 split, EOS added instead of BOS, a repeated merge
	gpt2.Pre, gpt2.AddBOS, gpt2.AddEOS = "gpt-2", false, true
	gpt2.Merges = append(slices.Clone(gpt2.Merges), gpt2.Merges[0])
	none := llama3 // nothing added around a sequence
	none.AddBOS = false
	for name, v := range map[string]GGUFVocab{"llama-bpe": llama3, "gpt-2": gpt2, "none": none} {
		t.Run(name, func(t *testing.T) {
			fromGGUF, err := FromGGUFVocab(v)
			if err != nil {
				t.Fatal(err)
			}
			data, err := HFJSON(v)
			if err != nil {
				t.Fatal(err)
			}
			back, err := FromJSON(data)
			if err != nil {
				t.Fatalf("FromJSON of the written file: %v\n%s", err, data[:min(len(data), 2000)])
			}
			for _, text := range hfJSONTexts {
				for _, special := range []bool{true, false} {
					want := fromGGUF.Encode(text, special)
					got := back.Encode(text, special)
					if !slices.Equal(got, want) {
						t.Errorf("Encode(%q, %v) = %v, want %v", text, special, got, want)
					}
					if d, w := back.Decode(got, !special), fromGGUF.Decode(want, !special); d != w {
						t.Errorf("Decode(%v) = %q, want %q", got, d, w)
					}
				}
			}
			if back.BOS() != v.BOS || back.EOS() != v.EOS {
				t.Errorf("BOS, EOS = %d, %d, want %d, %d", back.BOS(), back.EOS(), v.BOS, v.EOS)
			}
			v2, err := back.GGUFVocab()
			if err != nil {
				t.Fatal(err)
			}
			data2, err := HFJSON(v2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, data2) {
				t.Error("writing the read-back tokenizer gives a different tokenizer.json")
			}
		})
	}
}

func TestHFJSONRefusesSentencePiece(t *testing.T) {
	v := GGUFVocab{Model: "llama", Tokens: []string{"<unk>", "a"}, BOS: -1, EOS: -1, EOT: -1, PAD: -1, UNK: 0}
	if _, err := HFJSON(v); err == nil {
		t.Fatal("a SentencePiece vocabulary was written")
	}
}
