//go:build linux || darwin

package cpu

import (
	"syscall"
	"testing"
	"unsafe"
)

// readGuard returns a copy of b that ends exactly where an unreadable page
// begins, so that a kernel reading past the end of its input faults
// instead of passing by luck. The mapping lives until the test ends.
func readGuard(t testing.TB, b []byte) []byte {
	t.Helper()
	page := syscall.Getpagesize()
	n := (len(b) + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, n+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(mem[n:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	s := mem[n-len(b) : n : n]
	copy(s, b)
	return s
}

// readGuardFloats is readGuard for float32 slices.
func readGuardFloats(t testing.TB, x []float32) []float32 {
	t.Helper()
	if len(x) == 0 {
		return x
	}
	b := readGuard(t, unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x)))
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(x))
}
