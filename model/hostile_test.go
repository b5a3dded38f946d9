package model

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bitrepl/bitrepl/model/regfile"
)

// hostileMemory bounds what loading a hostile file may allocate.
const hostileMemory = 200 << 20

// loadBounded runs Load(path) and returns its error, failing the test if the
// load hangs or allocates more than hostileMemory. A hang is detected with a
// generous deadline: it guards against blocking forever, not slowness.
func loadBounded(t *testing.T, path string) error {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	done := make(chan error, 1)
	go func() {
		m, err := Load(path)
		if err == nil {
			m.Close()
		}
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatalf("Load(%s) hangs", path)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > hostileMemory {
		t.Errorf("Load(%s) allocated %d MB", path, n>>20)
	}
	return err
}

// sparse makes a file of size bytes that takes no room on disk.
func sparse(t *testing.T, p string, size int64) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Skip("no sparse files here:", err)
	}
}

func linkDevZero(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip(err)
	}
	os.Remove(p)
	if err := os.Symlink("/dev/zero", p); err != nil {
		t.Skip(err)
	}
}

// Every file of a checkpoint directory read whole is a regular file with a
// size cap: a sparse 4 GiB config, a link to /dev/zero or a FIFO in place of
// any of them fails at once with an error naming the file, in bounded memory.
func TestLoadHostileFiles(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 7, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	paths := saveAll(t, m)
	for _, tc := range []struct {
		name, ckpt, file string
		spoil            func(t *testing.T, p string)
		want             error
	}{
		{"sparse config", "hf-packed", "config.json", func(t *testing.T, p string) { sparse(t, p, 4<<30) }, regfile.ErrTooLarge},
		{"config 2 MiB", "hf-packed", "config.json", func(t *testing.T, p string) { sparse(t, p, 2<<20) }, regfile.ErrTooLarge},
		{"config is /dev/zero", "hf-packed", "config.json", linkDevZero, regfile.ErrNotRegular},
		{"config is a FIFO", "hf-packed", "config.json", mkfifo, regfile.ErrNotRegular},
		{"sparse tokenizer", "hf-packed", "tokenizer.json", func(t *testing.T, p string) { sparse(t, p, 4<<30) }, regfile.ErrTooLarge},
		{"tokenizer is /dev/zero", "hf-packed", "tokenizer.json", linkDevZero, regfile.ErrNotRegular},
		{"tokenizer is a FIFO", "hf-packed", "tokenizer.json", mkfifo, regfile.ErrNotRegular},
		{"weights are a FIFO", "hf-packed", "model.safetensors", mkfifo, regfile.ErrNotRegular},
		{"index is a FIFO", "hf-sharded", "model.safetensors.index.json", mkfifo, regfile.ErrNotRegular},
		{"sparse index", "hf-sharded", "model.safetensors.index.json", func(t *testing.T, p string) { sparse(t, p, 4<<30) }, regfile.ErrTooLarge},
		{"index is /dev/zero", "hf-sharded", "model.safetensors.index.json", linkDevZero, regfile.ErrNotRegular},
		{"gguf is a FIFO", "", "fifo.gguf", mkfifo, regfile.ErrNotRegular},
		{"gguf is /dev/zero", "", "zero.gguf", linkDevZero, regfile.ErrNotRegular},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.ckpt != "" {
				if err := os.CopyFS(dir, os.DirFS(paths[tc.ckpt])); err != nil {
					t.Fatal(err)
				}
			}
			p := filepath.Join(dir, tc.file)
			os.Remove(p)
			tc.spoil(t, p)
			target := dir
			if tc.ckpt == "" {
				target = p
			}
			err := loadBounded(t, target)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.file) {
				t.Fatalf("Load: %v; want %v naming %s", err, tc.want, tc.file)
			}
		})
	}
}
