//go:build !linux

package metal

// hugeBytes returns size zeroed bytes and the function that frees them (huge
// pages are only asked for on Linux).
func hugeBytes(size int) ([]byte, func()) { return make([]byte, size), func() {} }
