//go:build unix

package gguf

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only and returns the mapping and the function that releases it.
func mapFile(f *os.File, size int) ([]byte, func([]byte) error, error) {
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, &os.PathError{Op: "mmap", Path: f.Name(), Err: err}
	}
	adviseHuge(data)
	return data, syscall.Munmap, nil
}
