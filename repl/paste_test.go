package repl

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// editorInput reads everything the editor would get from p and puts the pasted
// text back in place of the markers, as OnChange does.
func editorInput(t testing.TB, p *pasteReader) string {
	t.Helper()
	b, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		raw := b[:size]
		b = b[size:]
		if r >= markerBase && r < markerBase+markerCount {
			line, pos, ok := p.OnChange([]rune{r}, 1, r)
			if !ok || pos != len(line) {
				t.Fatalf("marker %U has no text", r)
			}
			out.WriteString(string(line))
			continue
		}
		out.Write(raw) // bytes that are not UTF-8 pass as they are
	}
	return out.String()
}

func TestPasteReader(t *testing.T) {
	long := strings.Repeat("héllo 世界 ", 20)
	for _, tc := range []struct{ name, in, want string }{
		{"keys", "ab\x1b[A\t\r", "ab\x1b[A\t\r"},
		{"burst", long + "\r", long + "\r"},
		{"escape then burst", "\x1b[D" + long, "\x1b[D" + long},
		{"bracketed lines", "x\x1b[200~a\tb\r\nc\rd\x1b\x03\x1b[201~\x1b[B", "xa\tb\rc\rd\x1b[B"},
		{"bracketed empty", "\x1b[200~\x1b[201~q", "q"},
		{"unterminated paste", "\x1b[200~abc", "abc"},
		{"insert key", "\x1b[2~z", "\x1b[2~z"},
	} {
		readers := map[string]func(io.Reader) io.Reader{
			"whole":    func(r io.Reader) io.Reader { return r },
			"one byte": iotest.OneByteReader,
			"half":     iotest.HalfReader,
		}
		for rn, wrap := range readers {
			t.Run(tc.name+"/"+rn, func(t *testing.T) {
				p := newPasteReader(wrap(strings.NewReader(tc.in)))
				if got := editorInput(t, p); got != tc.want {
					t.Fatalf("editor gets %q, want %q", got, tc.want)
				}
			})
		}
	}
}

// The burst path turns a long printable run into one marker (one redraw).
func TestPasteReaderBurstIsOneMarker(t *testing.T) {
	p := newPasteReader(strings.NewReader(strings.Repeat("x", 1000)))
	b, _ := io.ReadAll(p)
	if n := len([]rune(string(b))); n != 1 {
		t.Fatalf("editor gets %d runes for a 1000-byte paste, want 1 marker", n)
	}
}

// Without bracketed-paste markers the editor gets exactly the bytes typed,
// however the reads split them.
func FuzzPasteReader(f *testing.F) {
	f.Add([]byte("hello world, a long enough line\r\x1b[Ahé世"), uint8(3))
	f.Add([]byte("\x1b[200~pasted\r\nlines\x1b[201~"), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		r := io.Reader(&chunkReader{b: in, n: int(chunk)%7 + 1})
		if bytes.Contains(in, []byte("\x1b[20")) || bytes.ContainsFunc(in, func(r rune) bool { return r >= markerBase && r < markerBase+markerCount }) {
			return // bracketed paste changes the text on purpose; markers typed by hand are not text
		}
		p := newPasteReader(r)
		got := editorInput(t, p)
		if got != string(in) {
			t.Fatalf("editor gets %q, want %q", got, in)
		}
	})
}

type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[n:]
	return n, nil
}
