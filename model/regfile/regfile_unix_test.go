//go:build unix

package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO is refused at once: opening it would block until a writer came.
func TestOpenFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo.gguf")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if _, _, err := Open(p); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "fifo.gguf: a named pipe (FIFO), not a regular file") {
		t.Errorf("Open(FIFO) = %v", err)
	}
	if _, err := ReadFile(p, 1<<20); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadFile(FIFO) = %v", err)
	}
}

// A link to /dev/zero, which would never end, is refused before reading.
func TestOpenDevice(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.Symlink("/dev/zero", p); err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	if _, err := ReadFile(p, 1<<20); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "config.json: a device, not a regular file") {
		t.Errorf("ReadFile(link to /dev/zero) = %v", err)
	}
}
