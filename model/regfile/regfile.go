// Package regfile opens and reads files that come from outside the program
// (model files, configs, tokenizers, scripts of the user) so that a hostile
// path cannot hang or exhaust the process: only regular files are opened (a
// FIFO blocks open until a writer comes, /dev/zero never ends), and a file read
// whole has a size cap that fits its format.
//
// It imports the standard library only; every reader of outside files uses it.
package regfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

var (
	// ErrNotRegular is wrapped by the error for a FIFO, device, socket or directory.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is wrapped by the error for a file over its size cap.
	ErrTooLarge = errors.New("file too large")
)

// Error says why a file was refused; it unwraps to ErrNotRegular or ErrTooLarge.
type Error struct {
	Path string
	Msg  string
	Err  error
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Open opens path (following symlinks) for reading if it is a regular file.
// The mode is checked before opening, since opening a FIFO blocks, and again
// on the opened file in case the path changed in between.
func Open(path string) (*os.File, fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := regular(path, st); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if st, err = f.Stat(); err == nil {
		err = regular(path, st)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

func regular(path string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case m.IsDir():
		what = "a directory, not a regular file"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO), not a regular file"
	case m&fs.ModeSocket != 0:
		what = "a socket, not a regular file"
	case m&fs.ModeDevice != 0:
		what = "a device, not a regular file"
	}
	return &Error{Path: path, Msg: what, Err: ErrNotRegular}
}

// ReadFile reads the regular file at path whole, refusing it if it holds more
// than limit bytes. The size is checked before reading and the read is bounded
// too, since some files (procfs) report a size that is not their length.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, tooLarge(path, st.Size(), limit)
	}
	var b bytes.Buffer
	b.Grow(int(st.Size()) + bytes.MinRead)
	if _, err := b.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(b.Len()) > limit {
		return nil, tooLarge(path, -1, limit)
	}
	return b.Bytes(), nil
}

func tooLarge(path string, size, limit int64) error {
	msg := fmt.Sprintf("more than %s, the most this file may hold", Size(limit))
	if size >= 0 {
		msg = fmt.Sprintf("%s (%d bytes) is more than %s, the most this file may hold", Size(size), size, Size(limit))
	}
	return &Error{Path: path, Msg: msg, Err: ErrTooLarge}
}

// Size formats a byte count in binary units (1.5 GiB, 64 MiB, 512 B).
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}
