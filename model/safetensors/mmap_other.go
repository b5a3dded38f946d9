//go:build !unix

package safetensors

import (
	"errors"
	"os"
)

// mmap is unavailable here; Open reads the file instead.
func mmap(f *os.File, size int) ([]byte, func() error, error) {
	return nil, nil, errors.ErrUnsupported
}
