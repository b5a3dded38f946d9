//go:build !linux

package gguf

import "os"

// HugePagesAvailable reports whether the kernel gives transparent huge pages to memory that asks
// for them: only Linux is supported.
func HugePagesAvailable() bool { return false }

// hugePagesSupported: OpenMode maps files instead.
const hugePagesSupported = false

// readHuge is not used where huge pages are not supported.
func readHuge(f *os.File, size int) ([]byte, func([]byte) error, error) { return mapFile(f, size) }
