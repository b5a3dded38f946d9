//go:build !noasm

package cpu

import xcpu "golang.org/x/sys/cpu"

// readMem reads every byte of b (len(b) a multiple of 256) for the
// bandwidth benchmark.
func readMem(b []byte) uint64 {
	if xcpu.X86.HasAVX2 && len(b) > 0 {
		return readAVX2(&b[0], len(b))
	}
	return readMemGo(b)
}
