//go:build noasm || !amd64

package cpu

// readMem reads every byte of b for the bandwidth benchmark.
func readMem(b []byte) uint64 { return readMemGo(b) }
