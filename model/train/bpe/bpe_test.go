package bpe

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/model/train/corpus"
)

func TestSplitFollowsLLaMA3Regex(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"I'm here, they'LL go", []string{"I", "'m", " here", ",", " they", "'LL", " go"}},
		{"  two spaces", []string{" ", " two", " spaces"}},
		{"year 1776!", []string{"year", " ", "177", "6", "!"}},
		{"end.\n\nNext", []string{"end", ".\n\n", "Next"}},
		{"a  \n\n  b", []string{"a", "  \n\n", " ", " b"}},
		{"trailing   ", []string{"trailing", "   "}},
		{`"Quoted" (x)`, []string{`"Quoted`, `"`, " (", "x", ")"}},
		{"--then", []string{"--", "then"}},
		{"x\tTab", []string{"x", "\tTab"}},
		{"café über", []string{"café", " über"}},
		{"", nil},
	} {
		got := Split(tc.in)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Split(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func sample(t *testing.T) []string {
	t.Helper()
	docs, err := corpus.ReadFile("../testdata/sample-train.txt")
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func trainSample(t *testing.T, vocab int) *Model {
	t.Helper()
	counts := map[string]int{}
	for _, d := range sample(t) {
		WordCounts(counts, d)
	}
	m, err := Train(counts, vocab, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTrainDeterministicAndRoundTrips(t *testing.T) {
	a, b := trainSample(t, 600), trainSample(t, 600)
	if !reflect.DeepEqual(a.Merges, b.Merges) || len(a.Vocab) != 600 {
		t.Fatalf("training is not deterministic or vocab size %d != 600", len(a.Vocab))
	}
	if a.Vocab[256] != "Ġt" && a.Vocab[256] != "he" && a.Vocab[256] != "Ġa" {
		t.Errorf("first merge %q is not a frequent English pair", a.Vocab[256])
	}
	docs := sample(t)
	var ids []int32
	for _, d := range docs {
		ids = a.Encode(d)
		if got := a.Decode(ids); got != d {
			t.Fatalf("decode(encode(doc)) differs")
		}
	}
	if r := float64(len(docs[len(docs)-1])) / float64(len(ids)); r < 2 {
		t.Errorf("only %.2f bytes per token", r)
	}
	data, err := a.JSON()
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Vocab, a.Vocab) || !reflect.DeepEqual(c.Merges, a.Merges) {
		t.Fatal("JSON round trip changed the model")
	}
	if id, ok := c.ID(EndOfText); !ok || int(id) != len(c.Vocab)-len(DefaultSpecials)+1 {
		t.Fatalf("ID(%s) = %d", EndOfText, id)
	}
}

// TestIgnoreMergesAgrees checks that whole-word lookup (ignore_merges, as llama-bpe in GGUF files does) and
// applying the merges give the same ids for every vocabulary entry that is a pre-token.
func TestIgnoreMergesAgrees(t *testing.T) {
	m := trainSample(t, 1000)
	for id := 256; id < len(m.Vocab)-len(m.Specials); id++ {
		w := m.Decode([]int32{int32(id)})
		if len(Split(w)) != 1 {
			continue
		}
		s := []int32{}
		for i := 0; i < len(w); i++ {
			s = append(s, int32(w[i]))
		}
		delete(m.index, m.Vocab[id])
		delete(m.cache, w)
		got := m.word(w)
		m.index[m.Vocab[id]] = int32(id)
		if len(got) != 1 || got[0] != int32(id) {
			t.Errorf("merges turn %q into %v, not %d", w, got, id)
		}
	}
}

func TestFromJSONRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "{}", `{"model":{"vocab":{"a":0},"merges":[]}}`, `{"model":{"vocab":{"a":0},"merges":["x y"]}}`} {
		if _, err := FromJSON([]byte(in)); err == nil {
			t.Errorf("FromJSON(%q) accepted", in)
		}
	}
}

func FuzzSplit(f *testing.F) {
	data, _ := os.ReadFile("../testdata/sample-val.txt")
	f.Add(string(data[:2000]))
	f.Add("a  \n\n  b'S 123456 !?\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		if got := strings.Join(Split(s), ""); got != s {
			t.Fatalf("pieces of %q join to %q", s, got)
		}
	})
}

func FuzzFromJSON(f *testing.F) {
	m, err := Train(map[string]int{"hello": 3, " world": 2, " hello": 2}, 262, nil)
	if err != nil {
		f.Fatal(err)
	}
	data, _ := m.JSON()
	f.Add(data)
	f.Add([]byte(`{"model":{"vocab":{},"merges":[]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := FromJSON(data)
		if err != nil {
			return
		}
		ids := m.Encode("hello world")
		if m.Decode(ids) != "hello world" {
			t.Fatalf("round trip failed")
		}
	})
}
