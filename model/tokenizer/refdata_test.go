package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The reference data is made by testdata/ref/setup.sh (npm: Hugging Face tokenizers, LLaMA-2/3 vocabularies).
const refDir = "testdata/ref/out"

type refCase struct {
	Text         string  `json:"text"`
	IDs          []int32 `json:"ids"`
	IDsNoSpecial []int32 `json:"ids_nospecial"`
	Decode       string  `json:"decode"`
	DecodeSkip   string  `json:"decode_skip"`
}

type refDecode struct {
	IDs        []int32 `json:"ids"`
	Decode     string  `json:"decode"`
	DecodeSkip string  `json:"decode_skip"`
}

type refFile struct {
	Tokenizer string      `json:"tokenizer"`
	Cases     []refCase   `json:"cases"`
	Decodes   []refDecode `json:"decodes"`
}

// loadRef reads out/<name>.json and its tokenizer; it skips the test when the data is missing, unless
// BITREPL_REQUIRE_REFDATA=1.
func loadRef(t testing.TB, name string) (*refFile, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refDir, name+".json"))
	if err != nil {
		if os.Getenv("BITREPL_REQUIRE_REFDATA") == "1" {
			t.Fatalf("reference data missing (%v): run model/tokenizer/testdata/ref/setup.sh", err)
		}
		t.Skipf("reference data missing (%v): run model/tokenizer/testdata/ref/setup.sh", err)
	}
	var rf refFile
	if err := json.Unmarshal(data, &rf); err != nil {
		t.Fatal(err)
	}
	return &rf, filepath.Join(refDir, rf.Tokenizer)
}

func loadRefTokenizer(t testing.TB, name string) (*refFile, *Tokenizer) {
	rf, path := loadRef(t, name)
	tok, err := FromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return rf, tok
}

// checkRef compares enc/dec with the reference and returns the number of mismatching cases.
// skip, if not nil, leaves out the texts it returns true for.
func checkRef(t *testing.T, rf *refFile, encode func(string, bool) []int32, decode func([]int32, bool) string, skip func(string) bool) int {
	bad := 0
	report := func(format string, args ...any) {
		bad++
		if bad <= 15 {
			t.Errorf(format, args...)
		}
	}
	for _, c := range rf.Cases {
		if skip != nil && skip(c.Text) {
			continue
		}
		if got := encode(c.Text, true); !slices.Equal(got, c.IDs) {
			report("Encode(%q, true) = %v, want %v", c.Text, got, c.IDs)
		}
		if got := encode(c.Text, false); !slices.Equal(got, c.IDsNoSpecial) {
			report("Encode(%q, false) = %v, want %v", c.Text, got, c.IDsNoSpecial)
		}
		if got := decode(c.IDs, false); got != c.Decode {
			report("Decode(%v, false) = %q, want %q", c.IDs, got, c.Decode)
		}
		if got := decode(c.IDs, true); got != c.DecodeSkip {
			report("Decode(%v, true) = %q, want %q", c.IDs, got, c.DecodeSkip)
		}
	}
	for _, d := range rf.Decodes {
		if got := decode(d.IDs, false); got != d.Decode {
			report("Decode(%v, false) = %q, want %q", d.IDs, got, d.Decode)
		}
		if got := decode(d.IDs, true); got != d.DecodeSkip {
			report("Decode(%v, true) = %q, want %q", d.IDs, got, d.DecodeSkip)
		}
	}
	return bad
}

// refSets are the reference files: the real LLaMA-3 and LLaMA-2 tokenizers (at least 2000 strings each), then
// the small tokenizers of testdata/hf.
func refSets(t *testing.T) []string {
	sets := []string{"llama3", "llama3-tpl", "llama2"}
	hf, err := filepath.Glob("testdata/hf/*.json")
	if err != nil || len(hf) == 0 {
		t.Fatalf("no testdata/hf tokenizers: %v", err)
	}
	for _, f := range hf {
		sets = append(sets, "hf-"+strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	return sets
}

func TestReference(t *testing.T) {
	for _, name := range refSets(t) {
		t.Run(name, func(t *testing.T) {
			rf, tok := loadRefTokenizer(t, name)
			var skip func(string) bool
			if name == "hf-regex-custom" {
				skip = regexp2Differs
			}
			bad := checkRef(t, rf, tok.Encode, tok.Decode, skip)
			n := 4*len(rf.Cases) + 2*len(rf.Decodes)
			t.Logf("%s: %d strings, %d decodes: %d mismatches out of %d checks", name, len(rf.Cases), len(rf.Decodes), bad, n)
			if !strings.HasPrefix(name, "hf-") && len(rf.Cases) < 2000 {
				t.Errorf("only %d reference strings", len(rf.Cases))
			}
		})
	}
}

// TestReferenceStream checks that the stream decoder, fed the reference encodings one id at a time, gives
// the reference decode and never a piece that ends inside a UTF-8 character.
func TestReferenceStream(t *testing.T) {
	for _, name := range []string{"llama3", "llama2"} {
		t.Run(name, func(t *testing.T) {
			rf, tok := loadRefTokenizer(t, name)
			bad := 0
			for _, c := range rf.Cases {
				for _, skip := range []bool{false, true} {
					d := tok.NewStreamDecoder()
					d.SkipSpecial = skip
					var b strings.Builder
					for _, id := range c.IDs {
						s := d.Add(id)
						if !utf8.ValidString(s) {
							t.Fatalf("%q: stream piece %q is not valid UTF-8", c.Text, s)
						}
						b.WriteString(s)
					}
					b.WriteString(d.Flush())
					want := c.Decode
					if skip {
						want = c.DecodeSkip
					}
					if b.String() != want {
						bad++
						if bad < 10 {
							t.Errorf("stream(%q, skip=%v) = %q, want %q", c.Text, skip, b.String(), want)
						}
					}
				}
			}
			t.Logf("%s: %d stream mismatches", name, bad)
		})
	}
}

func BenchmarkEncodeLLaMA3(b *testing.B) {
	rf, tok := loadRefTokenizer(b, "llama3")
	var texts []string
	n := 0
	for _, c := range rf.Cases {
		texts = append(texts, c.Text)
		n += len(c.Text)
	}
	b.SetBytes(int64(n))
	b.ResetTimer()
	for range b.N {
		for _, s := range texts {
			tok.Encode(s, true)
		}
	}
}

func BenchmarkLoadLLaMA3(b *testing.B) {
	_, path := loadRef(b, "llama3")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		if _, err := FromJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

// regexp2Differs reports texts on which a regex that is not one of the hand-written ones (run by regexp2) is
// known to differ from Oniguruma: characters that Unicode 16 (Oniguruma) and Go's Unicode 15 classify
// differently, and U+017F, which Oniguruma's (?i) folds to s.
func regexp2Differs(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) != isL(r) || unicode.IsNumber(r) != isN(r) || r == 'ſ' {
			return true
		}
	}
	return false
}
