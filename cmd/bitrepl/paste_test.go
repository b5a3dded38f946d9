package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const (
	pasteOpen  = "\x1b[200~"
	pasteClose = "\x1b[201~"
)

// pasteText returns about n bytes of varied text on one line: words, digits,
// accents and a CJK character, so a dropped or doubled character shows.
func pasteText(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "w%d-é世 ", i)
	}
	return b.String()
}

// lastHistoryLine is the last entry of the prompt history in dir.
func lastHistoryLine(t *testing.T, dir string) string {
	t.Helper()
	hist, err := os.ReadFile(filepath.Join(dir, "bitrepl", "history"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(hist), "\n"), "\n")
	return lines[len(lines)-1]
}

// A 100 KB paste reaches the REPL whole, bracketed or not. The line editor
// used to redraw the line for every character (quadratic: 16 KB took 25 s, 100 KB
// did not end in minutes); waitFor's 10 s is only a guard against that.
func TestPTYPaste100KB(t *testing.T) {
	text := pasteText(100 << 10)
	for _, tc := range []struct{ name, open, close string }{
		{"bracketed", pasteOpen, pasteClose},
		{"plain", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tm := startTerm(t, dir, nil)
			tm.waitFor("bitrepl>", 1)
			tm.send("/set system ")
			tm.send(tc.open + text + tc.close)
			tm.send(keyEnter)
			words := strings.Fields(text)
			tm.waitFor(words[len(words)-1]+`"`, 1) // the end of the setting's echo
			tm.waitLine("bitrepl>")
			tm.send("/quit" + keyEnter)
			if code := tm.waitExit(); code != 0 {
				t.Fatalf("exit code %d", code)
			}
			hist, err := os.ReadFile(filepath.Join(dir, "bitrepl", "history"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(hist), "/set system "+text+"\n") {
				t.Fatalf("the history does not hold the pasted line (%d bytes of history)", len(hist))
			}
			if !strings.Contains(tm.rawOutput(), " = "+strconv.Quote(strings.TrimSpace(text))) {
				t.Fatal("the setting does not echo the pasted text")
			}
		})
	}
}

// A bracketed paste of several lines runs them as typed lines: a """ block, then a command;
// a tab inside the paste is text, not completion.
func TestPTYPasteLines(t *testing.T) {
	dir := t.TempDir()
	tm := startTerm(t, dir, nil)
	tm.waitFor("bitrepl>", 1)
	tm.send(pasteOpen + "/set system \"\"\"\r\nBe\tbrief.\r\nVery.\"\"\"\r/set top_k 7\r" + pasteClose)
	tm.waitFor(`system = "Be\tbrief.\nVery."`, 1)
	tm.waitFor("top_k = 7", 1)
	// text pasted in the middle of a typed line lands at the cursor
	tm.send("/set seed 12" + "\x1b[D" + pasteOpen + "3456789" + pasteClose + keyEnter)
	tm.waitFor("seed = 134567892", 1)
	if got := lastHistoryLine(t, dir); got != "/set seed 134567892" {
		t.Fatalf("last history line %q", got)
	}
}

// BenchmarkPaste100KB measures a 100 KB bracketed paste into the interactive prompt: from
// the first byte written to the terminal to the command's reply.
func BenchmarkPaste100KB(b *testing.B) {
	text := pasteText(100 << 10)
	tm := startTerm(b, b.TempDir(), nil)
	tm.waitFor("bitrepl>", 1)
	for i := 0; b.Loop(); i++ {
		tm.send(pasteOpen + "/set system " + text + pasteClose + keyEnter + "/set seed " + fmt.Sprint(1000+i) + keyEnter)
		tm.waitFor(fmt.Sprintf("seed = %d", 1000+i), 1) // unique while i < 9000
	}
	b.ReportMetric(float64(len(text))/1024, "KB/paste")
}
