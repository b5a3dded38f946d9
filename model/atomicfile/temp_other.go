//go:build !linux

package atomicfile

import (
	"errors"
	"os"
)

// createTemp creates a named temporary file in dir.
func createTemp(dir, base string) (f *os.File, onDisk bool, err error) {
	f, err = os.CreateTemp(dir, "."+base+".tmp-*")
	return f, true, err
}

// link is not needed: the temporary file always has a name here.
func link(f *os.File, dir, base string) (string, error) {
	return "", errors.New("atomicfile: link of a named file")
}
