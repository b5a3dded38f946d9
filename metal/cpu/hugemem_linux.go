package cpu

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// HugePageBytes returns size zeroed bytes of private memory aligned to
// 2 MiB and advised for transparent huge pages, and the function that
// frees them. Kernels that stream a buffer larger than the TLB's reach (the
// weights, every token) take far fewer TLB misses from it. Where the kernel
// refuses the advice the memory is ordinary pages; on other systems it is
// the Go heap.
func HugePageBytes(size int) ([]byte, func() error, error) {
	const huge = 2 << 20
	n := (max(size, 1) + huge - 1) / huge * huge
	region, err := unix.Mmap(-1, 0, n+huge, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, nil, err
	}
	off := int(-uintptr(unsafe.Pointer(&region[0])) & (huge - 1))
	buf := region[off : off+n]
	_ = unix.Madvise(buf, unix.MADV_HUGEPAGE)
	return buf[:size:size], func() error { return unix.Munmap(region) }, nil
}
