package repl

import (
	"errors"
	"io"
	"os"
	"strings"

	"github.com/bitrepl/bitrepl/model/atomicfile"
	"github.com/bitrepl/bitrepl/model/regfile"
)

// The prompt history keeps the last historyLimit entries; only the last
// maxHistoryBytes of the file are read.
const (
	historyLimit    = 1000
	maxHistoryBytes = 4 << 20
)

// prepareHistory makes the history file one that readline only appends to.
// readline (chzyer/readline) appends each entry with one write, which a
// crash can cut short but never truncates what is there; but when the file
// holds more than its limit it rewrites it in place through path+".tmp",
// unsynced, which a crash can leave empty. So before readline opens it, the
// file is trimmed here to the last historyLimit entries, atomically, which
// keeps readline from ever rewriting it. A last line cut short by a crash
// is dropped (readline would glue the next entry onto it), as are empty
// lines. A path that is not a regular file is an error: no history then.
func prepareHistory(path string) error {
	f, st, err := regfile.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	off := max(0, st.Size()-maxHistoryBytes)
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	f.Close()
	if err != nil {
		return err
	}
	text := string(b)
	if off > 0 { // the first line read is a part of one
		_, text, _ = strings.Cut(text, "\n")
	}
	lines := strings.SplitAfter(text, "\n")
	partial := lines[len(lines)-1] != ""
	lines = lines[:len(lines)-1]
	kept := lines[:0:0]
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			kept = append(kept, l)
		}
	}
	kept = kept[max(0, len(kept)-historyLimit):]
	if off == 0 && !partial && len(kept) == len(lines) {
		return nil // already as readline leaves it alone
	}
	return atomicfile.WriteFile(path, []byte(strings.Join(kept, "")))
}
