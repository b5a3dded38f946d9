package repl

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// pasteReader sits between the terminal and the line editor. chzyer/readline
// redraws the whole line for every rune it inserts, so pasting n bytes costs
// O(n²) (100 KB took minutes). pasteReader takes pasted text out of the key
// stream: in its place the editor reads one marker rune, and OnChange (the
// editor's Listener) swaps the marker for the whole text in one redraw.
// Newlines in pasted text stay Enter keys, so a pasted script runs line by
// line as if it were typed, and \ and """ continuations work as usual.
//
// Pasted text is recognised two ways: between the bracketed-paste markers
// ESC[200~ and ESC[201~ (terminals send them after ESC[?2004h; tabs inside
// are then text, not completion), and as a run of at least burstMin printable
// bytes arriving in one read, which nobody types (terminals without bracketed
// paste). Escape sequences and control keys always pass through unchanged.
//
// Known limit: text pasted while Ctrl-R searches the history is dropped.
type pasteReader struct {
	r       io.Reader
	tmp     []byte
	buf     []byte // read from r, not yet looked at
	out     []byte // ready for the editor
	inPaste bool
	paste   []byte // bracketed paste collected so far
	err     error

	mu     sync.Mutex // chunks is shared with OnChange, which runs on the editor's goroutine
	chunks map[rune]string
	next   int
}

const (
	burstMin    = 16
	markerBase  = 0xF0000 // supplementary private use area A: never typed, never in a paste (those are taken out)
	markerCount = 0xFFFE
)

var (
	pasteStart = []byte("\x1b[200~")
	pasteEnd   = []byte("\x1b[201~")
)

// bracketedPaste* switch the terminal's bracketed paste mode on and off.
const (
	bracketedPasteOn  = "\x1b[?2004h"
	bracketedPasteOff = "\x1b[?2004l"
)

func newPasteReader(r io.Reader) *pasteReader {
	return &pasteReader{r: r, chunks: map[rune]string{}}
}

func (p *pasteReader) Read(b []byte) (int, error) {
	for len(p.out) == 0 {
		if p.err != nil {
			if p.inPaste { // the input ended inside a paste: what came is still text
				p.inPaste = false
				p.text(append(p.paste, p.buf...))
				p.paste, p.buf = nil, nil
				continue
			}
			if len(p.buf) > 0 { // a held start of a paste marker
				p.keys(p.buf)
				p.buf = nil
				continue
			}
			return 0, p.err
		}
		if p.tmp == nil {
			p.tmp = make([]byte, 32<<10)
		}
		n, err := p.r.Read(p.tmp)
		p.err = err
		p.buf = append(p.buf, p.tmp[:n]...)

		p.scan()
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	return n, nil
}

// scan moves what it can from buf to out (or to paste); an incomplete paste
// marker at the end of buf stays there for the next read.
func (p *pasteReader) scan() {
	for len(p.buf) > 0 {
		if p.inPaste {
			i := bytes.Index(p.buf, pasteEnd)
			if i < 0 {
				keep := partialSuffix(p.buf, pasteEnd)
				p.paste = append(p.paste, p.buf[:len(p.buf)-keep]...)
				p.buf = p.buf[len(p.buf)-keep:]
				return
			}
			p.paste = append(p.paste, p.buf[:i]...)
			p.buf = p.buf[i+len(pasteEnd):]
			p.inPaste = false
			p.text(p.paste)
			p.paste = nil
			continue
		}
		keys := p.buf
		rest := []byte(nil)
		if i := bytes.Index(p.buf, pasteStart); i >= 0 {
			keys, rest = p.buf[:i], p.buf[i+len(pasteStart):]
			p.inPaste = true
		} else if keep := max(partialSuffix(p.buf, pasteStart), partialRune(p.buf)); keep > 0 {
			// the rest of a paste marker or of a character comes with the next read
			keys, rest = p.buf[:len(p.buf)-keep], p.buf[len(p.buf)-keep:]
		}
		p.keys(keys)
		p.buf = append([]byte(nil), rest...)
		if !p.inPaste {
			return
		}
	}
}

// keys passes typed keys through, with long printable runs turned into markers.
func (p *pasteReader) keys(b []byte) {
	for len(b) > 0 {
		if b[0] == 0x1b { // an escape sequence passes whole: its tail must not start a run
			n := escapeLen(b)
			p.out = append(p.out, b[:n]...)
			b = b[n:]
			continue
		}
		n := 0
		for n < len(b) && printable(b[n]) {
			n++
		}
		if n >= burstMin && utf8.Valid(b[:n]) {
			p.out = append(p.out, p.marker(string(b[:n]))...)
		} else {
			p.out = append(p.out, b[:n]...)
		}
		b = b[n:]
		if n == 0 {
			p.out = append(p.out, b[0])
			b = b[1:]
		}
	}
}

// text hands over bracketed pasted text: a marker per line, Enter between lines.
func (p *pasteReader) text(b []byte) {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		line = strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' || r == 0x7f || r == utf8.RuneError || r >= markerBase && r < markerBase+markerCount {
				return -1 // control characters would garble the line; markers are ours
			}
			return r
		}, line)
		if line != "" {
			p.out = append(p.out, p.marker(line)...)
		}
		if i < len(lines)-1 {
			p.out = append(p.out, '\r')
		}
	}
}

// marker stores text and returns the rune that stands for it, UTF-8 encoded.
func (p *pasteReader) marker(text string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := rune(markerBase + p.next%markerCount)
	p.next++
	p.chunks[m] = text
	return utf8.AppendRune(nil, m)
}

// OnChange is the editor's Listener: it replaces a marker just inserted
// before the cursor by its text.
func (p *pasteReader) OnChange(line []rune, pos int, key rune) ([]rune, int, bool) {
	if key < markerBase || key >= markerBase+markerCount {
		return nil, 0, false
	}
	p.mu.Lock()
	text, ok := p.chunks[key]
	delete(p.chunks, key)
	p.mu.Unlock()
	if !ok || pos < 1 || pos > len(line) || line[pos-1] != key {
		return nil, 0, false
	}
	t := []rune(text)
	nl := make([]rune, 0, len(line)-1+len(t))
	nl = append(append(append(nl, line[:pos-1]...), t...), line[pos:]...)
	return nl, pos - 1 + len(t), true
}

func printable(c byte) bool { return c >= 0x20 && c != 0x7f }

// escapeLen is the length of the escape sequence at the start of b (all of b
// when it is cut off): CSI (ESC [ params final), SS3 (ESC O x) or ESC x.
func escapeLen(b []byte) int {
	switch {
	case len(b) < 2:
		return len(b)
	case b[1] == '[':
		for i := 2; i < len(b); i++ {
			if b[i] >= 0x40 && b[i] <= 0x7e {
				return i + 1
			}
		}
		return len(b)
	case b[1] == 'O':
		return min(3, len(b))
	}
	return 2
}

// partialSuffix is the length of the longest suffix of b that is a proper prefix of marker.
func partialSuffix(b, marker []byte) int {
	for n := min(len(b), len(marker)-1); n > 0; n-- {
		if bytes.HasSuffix(b, marker[:n]) {
			return n
		}
	}
	return 0
}

// partialRune is the length of an incomplete UTF-8 character at the end of b.
func partialRune(b []byte) int {
	for n := 1; n < utf8.UTFMax && n <= len(b); n++ {
		if utf8.RuneStart(b[len(b)-n]) {
			if utf8.FullRune(b[len(b)-n:]) {
				return 0
			}
			return n
		}
	}
	return 0
}
