//go:build linux

package cpu

import (
	"syscall"
	"testing"
)

// fencedBytes returns n bytes that end right before an unreadable page, so
// that a kernel reading past them faults. The mapping is released when the
// test ends.
func fencedBytes(t testing.TB, n int) []byte {
	ps := syscall.Getpagesize()
	pages := (n+ps-1)/ps + 1
	mem, err := syscall.Mmap(-1, 0, pages*ps, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Logf("mmap: %v (testing without a fence)", err)
		return nil
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[(pages-1)*ps:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	end := (pages - 1) * ps
	return mem[end-n : end : end]
}
