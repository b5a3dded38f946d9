//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `-m fifo.gguf` fails at once: opening a FIFO blocks until a writer comes.
func TestModelIsFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo.gguf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, args := range [][]string{{"-m", fifo}, {"run", "-m", fifo, "hi"}, {"tokenize", "-m", fifo, "hi"}} {
		type result struct {
			code   int
			errOut string
		}
		done := make(chan result, 1)
		go func() {
			code, _, errOut := bitrepl(t, "hello\n", args...)
			done <- result{code, errOut}
		}()
		select {
		case r := <-done:
			if r.code != 1 || !strings.Contains(r.errOut, "fifo.gguf: a named pipe (FIFO), not a regular file") {
				t.Errorf("%v: exit %d, stderr %q", args, r.code, r.errOut)
			}
		case <-time.After(time.Minute): // a hang guard, not a speed test
			t.Fatalf("%v hangs", args)
		}
	}
}
