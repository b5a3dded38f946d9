package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fullDisk accepts limit bytes, then fails as a full disk does.
type fullDisk struct {
	w     io.Writer
	limit int
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if len(p) > d.limit {
		n, _ := d.w.Write(p[:d.limit])
		d.limit = 0
		return n, &os.PathError{Op: "write", Path: d.w.(*os.File).Name(), Err: syscall.ENOSPC}
	}
	d.limit -= len(p)
	return d.w.Write(p)
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileReplacesWithMode0644(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(b) != "new" || fi.Mode().Perm() != 0o644 {
		t.Errorf("got %q mode %v, want \"new\" mode 0644", b, fi.Mode().Perm())
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only a.json", names)
	}
}

// A disk that fills up in the middle of the file leaves the old file whole,
// no temporary file, and an error that names the file asked for.
func TestWriteFullDiskKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "conv.json")
	if err := os.WriteFile(path, []byte(`{"old": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	wrap = func(w io.Writer) io.Writer { return &fullDisk{w: w, limit: 1000} }
	defer func() { wrap = func(w io.Writer) io.Writer { return w } }()
	err := WriteFile(path, []byte(strings.Repeat("x", 3<<20)))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("error %v, want ENOSPC", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || strings.Contains(msg, ".tmp") {
		t.Errorf("error %q should name %s and not the temporary file", msg, path)
	}
	if b, _ := os.ReadFile(path); string(b) != `{"old": true}` {
		t.Errorf("old file is now %.40q", b)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only conv.json", names)
	}
}

// An error from the caller's own writing (a marshal error, say) also keeps the old file.
func TestWriteFillErrorKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.csv")
	os.WriteFile(path, []byte("old"), 0o644)
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want boom naming %s", err, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("old file is now %q", b)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v", names)
	}
}

func TestWriteErrorNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "out.json")
	err := WriteFile(path, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), ".tmp") {
		t.Fatalf("error %v should name %s", err, path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v should be ErrNotExist", err)
	}
}

func TestWriteThroughSymlinkReplacesTarget(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	os.WriteFile(target, []byte("old"), 0o644)
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if err := WriteFile(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q", b)
	}
}

// sizes records the length of every write to the file.
type sizes struct {
	w    io.Writer
	seen []int
}

func (s *sizes) Write(p []byte) (int, error) {
	s.seen = append(s.seen, len(p))
	return s.w.Write(p)
}

// The file is written in whole chunks, each at a multiple of chunk (so the
// page cache can hold it in 2 MiB pages), whatever sizes fill writes, and
// holds exactly what fill wrote; a small file is one short write.
func TestWriteInChunks(t *testing.T) {
	if chunk%(2<<20) != 0 {
		t.Fatalf("chunk %d is not a whole number of 2 MiB pages", chunk)
	}
	rec := &sizes{}
	wrap = func(w io.Writer) io.Writer { rec.w = w; return rec }
	defer func() { wrap = func(w io.Writer) io.Writer { return w } }()
	var want []byte
	path := filepath.Join(t.TempDir(), "big")
	err := Write(path, func(w io.Writer) error {
		for i, n := 0, 1; len(want) < 2*chunk+12345; i, n = i+1, n*3%(3*chunk/2)+7 {
			p := make([]byte, n)
			for j := range p {
				p[j] = byte(i + j)
			}
			if m, err := w.Write(p); m != n || err != nil {
				return err
			}
			want = append(want, p...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range rec.seen {
		if last := i == len(rec.seen)-1; !last && n != chunk || last && n != len(want)%chunk {
			t.Fatalf("write %d of %d has %d bytes, want %d per chunk (file of %d)", i, len(rec.seen), n, chunk, len(want))
		}
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != string(want) {
		t.Fatalf("file differs from what was written (%d bytes, %v)", len(got), err)
	}
	rec.seen = nil
	if err := WriteFile(path, []byte("small")); err != nil || len(rec.seen) != 1 || rec.seen[0] != 5 {
		t.Fatalf("a small file: writes %v, %v", rec.seen, err)
	}
}
