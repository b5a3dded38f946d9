package gguf

import (
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pagemapScan is the PAGEMAP_SCAN ioctl of /proc/self/pagemap (Linux 6.7): _IOWR('f', 16, struct
// pm_scan_arg), and pageIsHuge its category of pages mapped by a huge page (PMD) or hugetlb.
const (
	pagemapScan = 0xC0606610
	pageIsHuge  = 1 << 6
)

// pmScanArg is struct pm_scan_arg, and pageRegion struct page_region (linux/fs.h).
type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages uint64
	categoryInverted, categoryMask, categoryAnyofMask       uint64
	returnMask                                              uint64
}

type pageRegion struct{ start, end, categories uint64 }

// hugeMapped returns how many bytes of the pages of b this process maps with huge pages, asking the kernel's
// page table walk (PAGEMAP_SCAN) through pagemap, an open /proc/self/pagemap. It fails on kernels
// without PAGEMAP_SCAN.
func hugeMapped(pagemap *os.File, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	// Both on the heap, which does not move: the kernel gets vec's address as a number.
	vec := make([]pageRegion, 64)
	// The kernel wants whole pages.
	page := uint64(os.Getpagesize())
	start := uint64(uintptr(unsafe.Pointer(&b[0])))
	end := (start + uint64(len(b)) + page - 1) &^ (page - 1)
	start &^= page - 1
	total := 0
	for start < end {
		a := &pmScanArg{
			size: uint64(unsafe.Sizeof(pmScanArg{})), start: start, end: end,
			vec: uint64(uintptr(unsafe.Pointer(&vec[0]))), vecLen: uint64(len(vec)),
			categoryMask: pageIsHuge, returnMask: pageIsHuge,
		}
		n, _, errno := unix.Syscall(unix.SYS_IOCTL, pagemap.Fd(), pagemapScan, uintptr(unsafe.Pointer(a)))
		runtime.KeepAlive(vec)
		if errno != 0 {
			return 0, &os.SyscallError{Syscall: "ioctl PAGEMAP_SCAN", Err: errno}
		}
		for _, r := range vec[:n] {
			total += int(r.end - r.start)
		}
		if a.walkEnd <= start || int(n) < len(vec) && a.walkEnd >= end {
			break
		}
		start = a.walkEnd
	}
	return total, nil
}
