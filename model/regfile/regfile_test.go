package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "config.json")
	if err := os.WriteFile(small, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(small, 7); err != nil || string(b) != `{"a":1}` {
		t.Fatalf("ReadFile at the limit = %q, %v", b, err)
	}
	if _, err := ReadFile(small, 6); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "config.json: 7 B (7 bytes) is more than 6 B") {
		t.Errorf("over the limit: %v", err)
	}
	// A sparse file: 4 GiB long, nothing on disk; refused from its size, before reading.
	sparse := filepath.Join(dir, "sparse.json")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4 << 30); err != nil {
		t.Skip("no sparse files here:", err)
	}
	f.Close()
	if _, err := ReadFile(sparse, 1<<20); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "4 GiB (4294967296 bytes) is more than 1 MiB") {
		t.Errorf("sparse: %v", err)
	}
	if _, _, err := Open(dir); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "none"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// A file whose reported size is not its length (procfs reports 0) is still
// read no further than the limit.
func TestReadFileSizeLies(t *testing.T) {
	const p = "/proc/self/status"
	st, err := os.Stat(p)
	if err != nil || st.Size() != 0 {
		t.Skip("no procfs")
	}
	if b, err := ReadFile(p, 1<<20); err != nil || len(b) == 0 {
		t.Fatalf("ReadFile(%s) = %d bytes, %v", p, len(b), err)
	}
	if _, err := ReadFile(p, 10); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 10 B") {
		t.Errorf("over the limit: %v", err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 64 << 20: "64 MiB", 4 << 30: "4 GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
