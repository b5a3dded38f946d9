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

// hugeMove is never made where huge pages are not supported.
type hugeMove struct{ done chan struct{} }

func (h *hugeMove) start()               {}
func (h *hugeMove) pace(pieces int) bool { return false }

// readHuge is not used where huge pages are not supported.
func readHuge(f *os.File, size int, cache bool) ([]byte, func([]byte) error, *hugeMove, error) {
	data, unmap, err := mapFile(f, size)
	return data, unmap, nil, err
}

// adviseHuge does nothing: only Linux has transparent huge pages.
func adviseHuge([]byte) {}
