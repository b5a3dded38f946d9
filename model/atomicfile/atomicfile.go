// Package atomicfile writes files so that a reader, a crash or a full disk
// never sees half of one: the data goes to a temporary file in the same
// directory, which is synced and then renamed over the destination, and the
// directory is synced so that the rename itself survives a power cut. Until
// the rename, the previous file (if any) is untouched. On Linux the
// temporary file has no name until it is complete (O_TMPFILE), so a process
// killed while writing leaves nothing behind.
//
// It imports the standard library (and golang.org/x/sys/unix) only; every
// writer of files uses it.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Mode is the permission of every file written: readable by all, as a
// model, a table or a conversation is meant to be shared.
const Mode os.FileMode = 0o644

// wrap lets tests make the writes to the temporary file fail, as a full
// disk does.
var wrap = func(w io.Writer) io.Writer { return w }

// Write calls fill with a writer that buffers whole chunks (chunkWriter) onto a temporary file next to
// path and, if fill and every write succeed, renames the file to path. On
// any error the temporary file is removed, path is left as it was, and the
// error names path (not the temporary file).
func Write(path string, fill func(w io.Writer) error) (err error) {
	// Writing through a symlink replaces its target, as editors do, rather
	// than the link.
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, onDisk, err := createTemp(dir, base)
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: unwrapPath(err)}
	}
	name := "" // the temporary file's name while it has one
	if onDisk {
		name = tmp.Name()
	}
	defer func() {
		if err != nil {
			tmp.Close()
			if name != "" {
				os.Remove(name)
			}
			err = named(path, tmp.Name(), name, err)
		}
	}()
	bw := &chunkWriter{w: wrap(tmp)}
	if err = fill(bw); err != nil {
		return err
	}
	if err = bw.flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(Mode); err != nil { // CreateTemp makes 0600
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if name == "" {
		if name, err = link(tmp, dir, base); err != nil {
			return err
		}
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(name, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// WriteFile writes data to path as Write does.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// syncDir makes a rename in dir durable. Some systems cannot sync a
// directory; the file itself is already synced, so that is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	d.Sync()
	return d.Close()
}

// named makes err name path: an error about the temporary file (tmp, as the
// os package names it, or name, its name on disk) becomes the same error
// about path; any other gets path in front.
func named(path, tmp, name string, err error) error {
	if pe, ok := err.(*os.PathError); ok && (pe.Path == tmp || pe.Path == name) {
		return &os.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	}
	if le, ok := err.(*os.LinkError); ok && (le.Old == tmp || le.Old == name) {
		return &os.PathError{Op: le.Op, Path: path, Err: le.Err}
	}
	return fmt.Errorf("%s: %w", path, err)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// chunk is how much chunkWriter buffers: a multiple of 2 MiB.
const chunk = 4 << 20

// chunkWriter buffers what is written to it and writes it on in chunks of
// chunk bytes (the last one shorter), each at an offset that is a multiple
// of chunk. Linux (6.16 or later on ext4, and xfs) keeps a file written in
// such chunks in the page cache in 2 MiB pages, which a model's weights are
// then read from with a TLB entry per 2 MiB (see gguf.HugePageCache); a file
// written 1 MiB at a time stays in 4 KiB pages. The buffer grows with the
// data, so a small file costs a small buffer.
type chunkWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if c.err != nil {
			return n, c.err
		}
		k := min(len(p), chunk-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(c.buf) == chunk {
			c.flush()
		}
	}
	return n, c.err
}

// flush writes what is buffered and returns the first error of any write.
func (c *chunkWriter) flush() error {
	if c.err == nil && len(c.buf) > 0 {
		_, c.err = c.w.Write(c.buf)
		c.buf = c.buf[:0]
	}
	return c.err
}
