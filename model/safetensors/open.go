package safetensors

import (
	"fmt"
	"io"

	"github.com/bitrepl/bitrepl/model/regfile"
)

// Open memory-maps the file at path (reading it into memory where mapping is unavailable) and parses it.
// Tensor data are views into the mapping: call Close when done with them. As with any mapping, the file
// must not be truncated while it is open (the process would fault on access).
func Open(path string) (*File, error) {
	data, release, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data, path)
	if err != nil {
		release()
		return nil, err
	}
	f.release = release
	return f, nil
}

// mapFile maps the whole file read-only, falling back to reading it.
func mapFile(path string) ([]byte, func() error, error) {
	fd, st, err := regfile.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fd.Close()
	size := st.Size()
	if size < 0 || uint64(size) > uint64(maxInt) {
		return nil, nil, &FormatError{File: path, Offset: -1, Msg: fmt.Sprintf("file of %d bytes too large to address", size)}
	}
	nop := func() error { return nil }
	if size == 0 {
		return nil, nop, nil
	}
	if data, unmap, err := mmap(fd, int(size)); err == nil {
		return data, unmap, nil
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(fd, data); err != nil {
		return nil, nil, err
	}
	return data, nop, nil
}
