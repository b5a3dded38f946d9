package cpu

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
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

// hugePageSize is the size of the kernel's transparent huge pages, read once:
// 0 where it has none.
var hugePageSize = sync.OnceValue(func() int {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 || n&(n-1) != 0 {
		return 0
	}
	return n
})

// HugePageSize is the size of a transparent huge page (2 MiB on amd64 and
// on arm64 with 4 KiB pages), or 0 where the system has none.
func HugePageSize() int { return hugePageSize() }

// CollapseHugePages moves the pages of b, a whole number of huge pages
// aligned to HugePageSize, into huge pages now (MADV_COLLAPSE, Linux 6.1),
// copying what is in memory and zeroing the rest; the contents do not
// change. It works on memory not advised for huge pages, so that a buffer
// faults in page by page as it is first written and is collapsed once full.
// The error is errors.ErrUnsupported where the kernel cannot (before 6.1,
// huge pages disabled); another error (no free huge page) may pass.
func CollapseHugePages(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	err := unix.Madvise(b, unix.MADV_COLLAPSE)
	if err == unix.EINVAL || err == unix.EPERM {
		return fmt.Errorf("MADV_COLLAPSE: %w (%w)", errors.ErrUnsupported, err)
	}
	return err
}
