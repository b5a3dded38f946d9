//go:build unix

package repl

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/chzyer/readline"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// A history file over the limit, with empty lines and a last line cut short
// by a crash, is trimmed atomically to the last entries before readline
// opens it; readline then leaves it alone (it would rewrite it in place,
// unsynced, through path.tmp) and only appends.
func TestPrepareHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	var b strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&b, "/tokens line %d\n\n", i)
	}
	b.WriteString("/cut sho") // a crash in the middle of an append
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := prepareHistory(path); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(lines) != historyLimit || lines[0] != "/tokens line 500" || lines[len(lines)-1] != "/tokens line 1499" || !strings.HasSuffix(string(got), "\n") {
		t.Fatalf("trimmed history: %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	before := inode(t, path)
	if err := prepareHistory(path); err != nil || inode(t, path) != before {
		t.Errorf("a history within the limit was rewritten (%v)", err)
	}
	rl, err := readline.NewEx(&readline.Config{HistoryFile: path, HistoryLimit: historyLimit, Stdin: io.NopCloser(strings.NewReader("")), Stdout: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.SaveHistory("/next"); err != nil {
		t.Fatal(err)
	}
	if inode(t, path) != before {
		t.Error("readline rewrote the prepared history file")
	}
	if got, _ := os.ReadFile(path); !strings.HasSuffix(string(got), "/tokens line 1499\n/next\n") {
		t.Errorf("readline did not append: ends %q", got[len(got)-40:])
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Error("readline wrote history.tmp")
	}
}

// Only the end of a huge history file is read; a FIFO is refused, not waited on.
func TestPrepareHistoryHostile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	line := strings.Repeat("x", 99) + "\n"
	if err := os.WriteFile(big, []byte(strings.Repeat(line, 100000)), 0o644); err != nil { // 10 MB
		t.Fatal(err)
	}
	if err := prepareHistory(big); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(big); string(got) != strings.Repeat(line, historyLimit) {
		t.Errorf("trimmed big history has %d bytes", len(got))
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	if err := prepareHistory(fifo); err == nil || !strings.Contains(err.Error(), fifo) {
		t.Errorf("FIFO history: error %v", err)
	}
}
