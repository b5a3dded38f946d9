//go:build !linux

package cpu

// HugePageBytes returns size zeroed bytes and the function that frees them:
// huge pages are only asked for on Linux, elsewhere this is the Go heap.
func HugePageBytes(size int) ([]byte, func() error, error) {
	return make([]byte, size), func() error { return nil }, nil
}
