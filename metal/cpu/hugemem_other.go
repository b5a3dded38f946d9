//go:build !linux

package cpu

import "errors"

// HugePageBytes returns size zeroed bytes and the function that frees them:
// huge pages are only asked for on Linux, elsewhere this is the Go heap.
func HugePageBytes(size int) ([]byte, func() error, error) {
	return make([]byte, size), func() error { return nil }, nil
}

// HugePageSize is the size of a transparent huge page: 0, since only Linux
// has them.
func HugePageSize() int { return 0 }

// CollapseHugePages returns errors.ErrUnsupported: huge pages are only asked
// for on Linux.
func CollapseHugePages([]byte) error { return errors.ErrUnsupported }
