package tokenizer

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
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
			if !bytes.Contains(data, []byte("\"merges\": [\n      \"")) {
				t.Errorf("merges are not written as \"a b\" strings:\n%s", data[bytes.Index(data, []byte(`"merges"`)):][:100])
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

// testSPMVocab is a small SentencePiece vocabulary: unknown, BOS, EOS, the
// 256 byte tokens, pieces with scores falling with the id, a user-defined token.
func testSPMVocab() GGUFVocab {
	v := GGUFVocab{Model: "llama", BOS: 1, EOS: 2, EOT: -1, PAD: -1, UNK: 0, AddBOS: true}
	add := func(s string, typ int32) {
		v.Tokens = append(v.Tokens, s)
		v.Types = append(v.Types, typ)
		v.Scores = append(v.Scores, -float32(len(v.Scores)))
	}
	add("<unk>", TokenUnknown)
	add("<s>", TokenControl)
	add("</s>", TokenControl)
	for b := range 256 {
		add(fmt.Sprintf("<0x%02X>", b), TokenByte)
	}
	// every character of a piece is a piece, as SentencePiece makes them (llama.cpp would
	// merge two characters that are not tokens; Hugging Face would not)
	for _, p := range strings.Fields("▁ e t h a o n s r l d w i ▁t he ▁the ▁a an ▁an nd ▁and er ▁h lo el ll llo ▁hel ▁hello " +
		"in on ▁o ▁on es ▁s st ▁st é ▁é 世 界 世界 ▁世界 ▁w or ▁wor ld ▁world") {
		add(p, TokenNormal)
	}
	for _, p := range []string{"q", " q", "q q"} { // a token with a space: merges are written as pairs
		add(p, TokenNormal)
	}
	add("<|user|>", TokenUserDefined)
	return v
}

// A SentencePiece vocabulary (scores, no merges) written as tokenizer.json
// gets merges from the scores and reads back to the same tokenization,
// byte fallback and unknown characters included; and so does writing the
// read-back one again.
func TestHFJSONSentencePiece(t *testing.T) {
	v := testSPMVocab()
	texts := append(hfJSONTexts, "hello the world", "and on the st", "é 世界", "xyz unknown chars 🐳", "  double  spaces ",
		"<s>hi</s>", "<|user|>hello", "the<unk>the")
	want, err := FromGGUFVocab(v)
	if err != nil {
		t.Fatal(err)
	}
	for gen := range 2 {
		data, err := HFJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := FromJSON(data)
		if err != nil {
			t.Fatalf("generation %d: FromJSON of the written file: %v", gen, err)
		}
		if !bytes.Contains(data, []byte(`["q", " q"]`)) {
			t.Errorf("generation %d: the merge of \"q\" and \" q\" is not written as a pair", gen)
		}
		for _, text := range texts {
			for _, special := range []bool{true, false} {
				w, g := want.Encode(text, special), back.Encode(text, special)
				if !slices.Equal(g, w) {
					t.Errorf("generation %d: Encode(%q, %v) = %v, want %v", gen, text, special, g, w)
				}
				if d, wd := back.Decode(g, !special), want.Decode(w, !special); d != wd {
					t.Errorf("generation %d: Decode(%v) = %q, want %q", gen, g, d, wd)
				}
			}
		}
		if v, err = back.GGUFVocab(); err != nil {
			t.Fatal(err)
		}
	}
}

// Any text tokenizes the same through a SentencePiece vocabulary and
// through the tokenizer.json written from it.
func FuzzHFJSONSentencePiece(f *testing.F) {
	v := testSPMVocab()
	want, err := FromGGUFVocab(v)
	if err != nil {
		f.Fatal(err)
	}
	data, err := HFJSON(v)
	if err != nil {
		f.Fatal(err)
	}
	back, err := FromJSON(data)
	if err != nil {
		f.Fatal(err)
	}
	for _, text := range hfJSONTexts {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			// llama.cpp groups a stray byte with the bytes its value announces;
			// Hugging Face's text is always valid UTF-8
			t.Skip()
		}
		if w, g := want.Encode(text, true), back.Encode(text, true); !slices.Equal(g, w) {
			t.Errorf("Encode(%q) = %v, want %v", text, g, w)
		}
	})
}
