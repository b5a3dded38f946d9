//go:build !linux

package gguf

import "os"

// HugePagesAvailable reports whether the kernel gives transparent huge pages to memory that asks
// for them: only Linux is supported.
func HugePagesAvailable() bool { return false }

// hugePagesSupported: OpenMode maps files instead.
const hugePagesSupported = false

// MemoryAvailable returns -1: it is only known on Linux.
func MemoryAvailable() int64 { return -1 }

// readHuge is not used where huge pages are not supported.
func readHuge(f *os.File, size int) ([]byte, func([]byte) error, func(), <-chan struct{}, error) {
	data, unmap, err := mapFile(f, size)
	return data, unmap, nil, nil, err
}
