package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func mustFile(t testing.TB, path string) *Tokenizer {
	t.Helper()
	tok, err := FromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// testdata/llama3-mini.json is the real LLaMA-3 tokenizer cut down to the tokens and merges of a few words
// (ids and merge order kept), with Meta's <|begin_of_text|> template.
func TestLLaMA3Mini(t *testing.T) {
	tok := mustFile(t, "testdata/llama3-mini.json")
	for _, c := range []struct {
		text    string
		special bool
		want    []int32
	}{
		{"Hello world", false, []int32{9906, 1917}},
		{" Hello world", false, []int32{22691, 1917}},
		{"Hello world", true, []int32{128000, 9906, 1917}},
		{"<|begin_of_text|>Hello world<|eot_id|>", false, []int32{128000, 9906, 1917, 128009}},
		{"", true, []int32{128000}},
		{"", false, []int32{}},
	} {
		got := tok.Encode(c.text, c.special)
		if !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, %v) = %v, want %v", c.text, c.special, got, c.want)
		}
	}
	ids := tok.Encode("<|begin_of_text|>Hello world<|eot_id|>", true)
	if got := tok.Decode(ids, false); got != "<|begin_of_text|><|begin_of_text|>Hello world<|eot_id|>" {
		t.Errorf("Decode = %q", got)
	}
	if got := tok.Decode(ids, true); got != "Hello world" {
		t.Errorf("Decode(skip) = %q", got)
	}
	if tok.BOS() != 128000 || tok.EOS() != 128001 || tok.EOT() != 128009 || !tok.IsSpecial(128009) || tok.IsSpecial(9906) {
		t.Errorf("BOS %d EOS %d EOT %d", tok.BOS(), tok.EOS(), tok.EOT())
	}
	if id, ok := tok.ID("Hello"); !ok || id != 9906 || tok.Token(1917) != "Ġworld" || tok.VocabSize() != 128010 {
		t.Errorf("ID/Token/VocabSize: %d %v %q %d", id, ok, tok.Token(1917), tok.VocabSize())
	}
}

// TestGGUFFromJSON exports the reference tokenizers as GGUF vocabularies, reads them back with FromGGUFVocab
// and compares with Hugging Face. The byte-level LLaMA-3 path must agree exactly; LLaMA-2 exported as a
// llama.cpp "llama" vocabulary merges by score (SentencePiece-style), which may differ on rare strings.
func TestGGUFFromJSON(t *testing.T) {
	for _, c := range []struct {
		name, model, pre string
		maxBad           int
	}{
		{"llama3", "gpt2", "llama-bpe", 0},
		{"llama3-tpl", "gpt2", "llama-bpe", 0},
		{"llama2", "llama", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			rf, tok := loadRefTokenizer(t, c.name)
			v, err := tok.GGUFVocab()
			if err != nil {
				t.Fatal(err)
			}
			if v.Model != c.model || v.Pre != c.pre {
				t.Fatalf("GGUFVocab model %q pre %q, want %q %q", v.Model, v.Pre, c.model, c.pre)
			}
			g, err := FromGGUFVocab(v)
			if err != nil {
				t.Fatal(err)
			}
			if w := g.Warnings(); len(w) != 0 {
				t.Errorf("warnings: %q", w)
			}
			bad := checkRef(t, rf, g.Encode, g.Decode, func(string) bool { return false })
			t.Logf("%s via GGUF %q: %d mismatches", c.name, v.Model, bad)
			if bad > c.maxBad {
				t.Errorf("%d mismatches, want at most %d", bad, c.maxBad)
			}
			v2, err := g.GGUFVocab()
			if err != nil || !slices.Equal(v2.Tokens, v.Tokens) || !slices.Equal(v2.Merges, v.Merges) || v2.BOS != v.BOS {
				t.Errorf("GGUFVocab of a GGUF tokenizer does not round-trip (%v)", err)
			}
		})
	}
}

// The trap: a LLaMA-3 vocabulary recorded with tokenizer.ggml.pre "default" is split with the GPT-2 regex,
// which silently changes the tokens (digits, spaces, contractions); FromGGUFVocab warns about it.
func TestGGUFPreDefaultTrap(t *testing.T) {
	tok := mustFile(t, "testdata/llama3-mini.json")
	v, err := tok.GGUFVocab()
	if err != nil {
		t.Fatal(err)
	}
	if v.Model != "gpt2" || v.Pre != "llama-bpe" || !v.AddBOS || v.BOS != 128000 {
		t.Fatalf("GGUFVocab: model %q pre %q addBOS %v BOS %d", v.Model, v.Pre, v.AddBOS, v.BOS)
	}
	if v.Types[128000] != TokenControl || v.Types[9906] != TokenNormal {
		t.Errorf("types: %d %d", v.Types[128000], v.Types[9906])
	}
	good, err := FromGGUFVocab(v)
	if err != nil {
		t.Fatal(err)
	}
	v.Pre = "default"
	bad, err := FromGGUFVocab(v)
	if err != nil {
		t.Fatal(err)
	}
	text := "Hello world 2024 I'm"
	g, b := good.Encode(text, false), bad.Encode(text, false)
	if slices.Equal(g, b) {
		t.Errorf("pre \"default\" gives the same tokens %v as \"llama-bpe\"", g)
	}
	if want := tok.Encode(text, false); !slices.Equal(g, want) {
		t.Errorf("llama-bpe: %v, want %v", g, want)
	}
	if len(good.Warnings()) != 0 {
		t.Errorf("llama-bpe warns: %q", good.Warnings())
	}
	if w := bad.Warnings(); len(w) != 1 || !strings.Contains(w[0], "llama-bpe") {
		t.Errorf("pre \"default\" warnings = %q", w)
	}
	if bad.Decode(b, false) != text {
		t.Errorf("decode of the degraded tokens = %q", bad.Decode(b, false))
	}
}

func TestFromGGUFVocabErrors(t *testing.T) {
	base := func() GGUFVocab {
		return GGUFVocab{Model: "gpt2", Pre: "llama-bpe", Tokens: []string{"a", "b", "ab"}, Merges: []string{"a b"},
			BOS: -1, EOS: -1, EOT: -1, PAD: -1, UNK: -1}
	}
	if _, err := FromGGUFVocab(base()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		edit        func(*GGUFVocab)
		unsupported bool
	}{
		{"no tokens", func(v *GGUFVocab) { v.Tokens = nil }, false},
		{"types length", func(v *GGUFVocab) { v.Types = []int32{1} }, false},
		{"scores length", func(v *GGUFVocab) { v.Scores = []float32{1, 2} }, false},
		{"bos range", func(v *GGUFVocab) { v.BOS = 3 }, false},
		{"eos negative", func(v *GGUFVocab) { v.EOS = -2 }, false},
		{"merge without space", func(v *GGUFVocab) { v.Merges = []string{"ab"} }, false},
		{"merge unknown token", func(v *GGUFVocab) { v.Merges = []string{"a c"} }, false},
		{"unknown pre", func(v *GGUFVocab) { v.Pre = "chameleon" }, true},
		{"unknown model", func(v *GGUFVocab) { v.Model = "bert" }, true},
	} {
		v := base()
		c.edit(&v)
		_, err := FromGGUFVocab(v)
		var te *Error
		if !errors.As(err, &te) {
			t.Errorf("%s: error %v, want *Error", c.name, err)
			continue
		}
		if errors.Is(err, ErrUnsupported) != c.unsupported {
			t.Errorf("%s: %v: unsupported = %v", c.name, err, !c.unsupported)
		}
	}
}

// TestGGUFLlamaSPM checks llama.cpp's score-driven merging on a tiny vocabulary: the pair whose merged token has
// the highest score goes first, whatever the order of the pairs.
func TestGGUFLlamaSPM(t *testing.T) {
	v := GGUFVocab{Model: "llama", BOS: 1, EOS: 2, EOT: -1, PAD: -1, UNK: 0, AddBOS: true,
		Tokens: []string{"<unk>", "<s>", "</s>", "<0x0A>", "<0xE2>", "<0x82>", "<0xAC>", "▁", "a", "b", "c", "ab", "bc", "▁a", "▁abc"},
		Types:  []int32{2, 3, 3, 6, 6, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1},
		Scores: []float32{0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -5, -2, -3, -4},
	}
	tok, err := FromGGUFVocab(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		want []int32
	}{
		{"abc", []int32{1, 14}},         // bc (-2), then ▁a (-3), then ▁a+bc = ▁abc (-4); ab (-5) never
		{"bc a", []int32{1, 7, 12, 13}}, // ▁ bc ▁a
		{"a\n€", []int32{1, 13, 3, 4, 5, 6}},
		{"</s>x", []int32{1, 2, 7, 0}},
	} {
		if got := tok.Encode(c.text, true); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := tok.Decode([]int32{1, 13, 3, 4, 5, 6}, true); got != "a\n€" {
		t.Errorf("Decode = %q", got)
	}
}

// TestStreamByteFallback feeds the bytes of € (<0xE2> <0x82> <0xAC>) one at a time.
func TestStreamByteFallback(t *testing.T) {
	tok := mustFile(t, "testdata/hf/metaspace-fallback.json")
	e2, _ := tok.ID("<0xE2>")
	x82, _ := tok.ID("<0x82>")
	xac, _ := tok.ID("<0xAC>")
	hello, _ := tok.ID("▁hello")
	d := tok.NewStreamDecoder()
	var got []string
	for _, id := range []int32{hello, e2, x82, xac, hello} {
		got = append(got, d.Add(id))
	}
	got = append(got, d.Flush())
	if want := []string{"hello", "", "", "€", " hello", ""}; !slices.Equal(got, want) {
		t.Errorf("stream pieces %q, want %q", got, want)
	}
	// An incomplete character is held back, and given as U+FFFD by Flush.
	d = tok.NewStreamDecoder()
	if s := d.Add(e2); s != "" {
		t.Errorf("Add(<0xE2>) = %q", s)
	}
	if s := d.Flush(); s != "\uFFFD" {
		t.Errorf("Flush = %q", s)
	}
}

func TestFromJSONErrors(t *testing.T) {
	for _, c := range []struct {
		name, json  string
		unsupported bool
		offset      bool
	}{
		{"syntax", `{"model": {"type": "BPE",`, false, true},
		{"no model", `{"version": "1.0"}`, false, false},
		{"unigram", `{"model": {"type": "Unigram", "vocab": []}}`, true, false},
		{"vocab type", `{"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}}`, false, true},
		{"merge not in vocab", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}`, false, false},
		{"merge three parts", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a a a"]}}`, false, false},
		{"unk not in vocab", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}}`, false, false},
		{"negative id", `{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}`, false, false},
		{"normalizer", `{"normalizer": {"type": "Precompiled"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}`, true, false},
		{"bad regex", `{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "("}, "behavior": "Isolated", "invert": false}, "model": {"type": "BPE", "vocab": {}, "merges": []}}`, true, false},
		{"bad behavior", `{"pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways", "invert": false}, "model": {"type": "BPE", "vocab": {}, "merges": []}}`, false, false},
		{"template token", `{"post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}], "special_tokens": {}}, "model": {"type": "BPE", "vocab": {}, "merges": []}}`, false, false},
		{"deep", `{"normalizer": ` + strings.Repeat(`{"type": "Sequence", "normalizers": [`, 40) + strings.Repeat(`]}`, 40) + `, "model": {"type": "BPE", "vocab": {}, "merges": []}}`, false, false},
	} {
		_, err := FromJSON([]byte(c.json))
		var te *Error
		if !errors.As(err, &te) {
			t.Errorf("%s: error %v, want *Error", c.name, err)
			continue
		}
		if errors.Is(err, ErrUnsupported) != c.unsupported {
			t.Errorf("%s: %v: unsupported = %v", c.name, err, !c.unsupported)
		}
		if (te.Offset >= 0) != c.offset {
			t.Errorf("%s: %v: offset %d", c.name, err, te.Offset)
		}
	}
	_, err := FromFile("testdata/does-not-exist.json")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FromFile: %v", err)
	}
}

// Merges may be written as "a b" strings or ["a", "b"] pairs.
func TestMergeForms(t *testing.T) {
	for _, merges := range []string{`["a b", "ab c"]`, `[["a", "b"], ["ab", "c"]]`} {
		tok, err := FromJSON([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4}, "merges": ` + merges + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Encode("abcab", false); !slices.Equal(got, []int32{4, 3}) {
			t.Errorf("%s: %v", merges, got)
		}
	}
}

func TestContinuingSubwordPrefix(t *testing.T) {
	tok, err := FromJSON([]byte(`{"pre_tokenizer": {"type": "WhitespaceSplit"}, "decoder": {"type": "BPEDecoder", "suffix": "</w>"},
		"model": {"type": "BPE", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "end_of_word_suffix": "</w>",
		"vocab": {"[UNK]": 0, "a": 1, "##b": 2, "##c</w>": 3, "ab": 4, "abc</w>": 5, "a</w>": 6}, "merges": [["a", "##b"], ["ab", "##c</w>"]]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("abc a abx", false); !slices.Equal(got, []int32{5, 6, 4, 0}) {
		t.Errorf("Encode = %v", got)
	}
}

func TestLossyUTF8(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "abc"},
		{"\xe2\x82", "\uFFFD"},                 // one maximal subpart
		{"\xe2\x82x", "\uFFFDx"},               //
		{"\xff\xfe", "\uFFFD\uFFFD"},           // two invalid bytes
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"}, // surrogate: ED is followed by an out-of-range byte
		{"\xf0\x9f\x98", "\uFFFD"},
		{"\xf0\x9f\x98\x80", "😀"},
		{"\xc0\xaf", "\uFFFD\uFFFD"}, // overlong
	} {
		if got := lossyUTF8([]byte(c.in)); got != c.want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPatterns compares the hand-written split regexes with regexp2 on tricky strings (Go's Unicode tables
// are used by both here, so only letters and numbers that both agree on are used).
func TestPatterns(t *testing.T) {
	texts := []string{"Hello world", "  x  \n\n y\t", "I'm 12345 'S 'Ll 're", "a\r\n\r\nb", " !!! ?\n", "中文 123 x1y2",
		"\u00a0\u3000x", "e\u0301t\u00e9", "   ", "\n", "'", "'x", " '", "x ' y", "1 2  3", " \n \n ", "a\u2028b"}
	for _, re := range []string{regexLLaMA3, regexQwen2, regexGPT2} {
		hand, _ := compilePattern(re)
		r2, err := compilePattern(re + "|(?!)") // defeat the lookup of known regexes
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			var a, b []string
			hand.find(s, func(i, j int) { a = append(a, s[i:j]) })
			r2.find(s, func(i, j int) { b = append(b, s[i:j]) })
			if !slices.Equal(a, b) {
				t.Errorf("%s on %q: hand-written %q, regexp2 %q", re[:10], s, a, b)
			}
		}
	}
}

func FuzzFromJSON(f *testing.F) {
	files, _ := filepath.Glob("testdata/hf/*.json")
	files = append(files, "testdata/llama3-mini.json")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := FromJSON(data)
		if err != nil {
			return
		}
		for _, s := range []string{"Hello world", " <|endoftext|> x", "", "é中😀 12 'll", "\xff"} {
			ids := tok.Encode(s, true)
			tok.Decode(ids, false)
			tok.Decode(ids, true)
			d := tok.NewStreamDecoder()
			for _, id := range ids {
				d.Add(id)
			}
		}
		tok.Decode([]int32{-1, 0, 1, 1 << 30}, false)
		tok.GGUFVocab()
	})
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"Hello world", "  \n\t x", "I'm 12345", "<|begin_of_text|>hi<|eot_id|>", "中文😀👨‍👩‍👧",
		"e\u0301", "\u00a0", "'ſ", "<s>", "\xe2\x82", "", "aaaaaaaaaaaaaaaaaaaaaaaa"} {
		f.Add(s)
	}
	byteLevel := mustFile(f, "testdata/llama3-mini.json")
	others := []*Tokenizer{mustFile(f, "testdata/hf/metaspace-fallback.json"), mustFile(f, "testdata/hf/gpt2-bytelevel.json"),
		mustFile(f, "testdata/hf/punctuation.json")}
	f.Fuzz(func(t *testing.T, s string) {
		ids := byteLevel.Encode(s, false)
		if got := byteLevel.Decode(ids, false); utf8.ValidString(s) && got != s {
			t.Errorf("byte-level decode(encode(%q)) = %q (ids %v)", s, got, ids)
		}
		for _, tok := range others {
			ids := tok.Encode(s, true)
			if out := tok.Decode(ids, false); !utf8.ValidString(out) {
				t.Errorf("decode gives invalid UTF-8 %q", out)
			}
			for _, id := range ids {
				if id < 0 || int(id) >= tok.VocabSize() {
					t.Fatalf("id %d out of range", id)
				}
			}
		}
	})
}

func ExampleTokenizer_Encode() {
	tok, err := FromFile("testdata/llama3-mini.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	ids := tok.Encode("Hello world", true)
	fmt.Println(ids, tok.Decode(ids, true))
	// Output: [128000 9906 1917] Hello world
}
