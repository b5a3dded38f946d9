package atomicfile

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// On Linux the file being written has no name, so a process killed while
// writing leaves nothing in the directory.
func TestWriteLeavesNoNameWhileWriting(t *testing.T) {
	dir := t.TempDir()
	if fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY, 0o600); err != nil {
		t.Skipf("this file system has no O_TMPFILE: %v", err)
	} else {
		unix.Close(fd)
	}
	path := filepath.Join(dir, "conv.json")
	os.WriteFile(path, []byte("old"), 0o644)
	err := Write(path, func(w io.Writer) error {
		w.Write(make([]byte, 3<<20)) // past the buffer: on the file
		if names := entries(t, dir); len(names) != 1 {
			t.Errorf("while writing, the directory holds %v", names)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 3<<20 || fi.Mode().Perm() != Mode {
		t.Errorf("written file: %v %v", fi, err)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("after writing, the directory holds %v", names)
	}
}
