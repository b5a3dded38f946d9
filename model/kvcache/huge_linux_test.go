package kvcache

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// A cache of 2B-4T's shape (30 layers, 5 KV heads of 128, F16) holds in
// memory only the pages its positions are written to while short (a
// 20-token chat), all in small pages; once half of each huge page's
// bytes are written, it is moved into huge pages, holding at most twice
// what is written.
func TestHugePagesOnlyWhenLong(t *testing.T) {
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skip(err)
	}
	defer pagemap.Close()
	huge := cpu.HugePageSize()
	if huge == 0 {
		t.Skip("no transparent huge pages")
	}
	const ctxLen = 1024
	c := New(30, ctxLen, 5, 128, F16)
	mem := c.huge.block[:c.Bytes()]
	present, _, err := scanPages(pagemap, mem)
	if err != nil {
		t.Skip(err) // a kernel without PAGEMAP_SCAN (before 6.7)
	}
	if present > 0 {
		t.Skipf("a new cache has %d KiB in memory: heap memory reused, not fresh", present>>10)
	}
	row := make([]float32, c.Width())
	for i := range row {
		row[i] = 1
	}
	fill := func(n int) (present, hugeBytes int) {
		for p := c.Len(); p < n; p++ {
			for l := range 30 {
				c.Put(l, p, row, row)
			}
			c.Commit(p + 1)
		}
		for range len(c.huge.at) {
			c.Commit(n) // the pages a Commit left for the next
		}
		present, hugeBytes, err := scanPages(pagemap, mem)
		if err != nil {
			t.Fatal(err)
		}
		return present, hugeBytes
	}
	// The pages of the 300 head regions that n positions write to.
	page := os.Getpagesize()
	written := func(n int) int { return 30 * 2 * 5 * ((n*F16.RowBytes(128) + page - 1) / page * page) }
	present, hugeBytes := fill(20)
	if present != written(20) || hugeBytes != 0 {
		t.Errorf("after 20 positions %d KiB in memory, %d KiB of them in huge pages; want %d KiB, none", present>>10, hugeBytes>>10, written(20)>>10)
	}
	// Just short of half: still small pages, as written.
	present, hugeBytes = fill(ctxLen/2 - 1)
	if present != written(ctxLen/2-1) || hugeBytes != 0 {
		t.Errorf("after %d positions %d KiB in memory, %d KiB of them in huge pages; want %d KiB, none", ctxLen/2-1, present>>10, hugeBytes>>10, written(ctxLen/2-1)>>10)
	}
	present, hugeBytes = fill(ctxLen / 2)
	t.Logf("after %d positions: %d KiB written, %d KiB in memory, %d KiB of them in huge pages", ctxLen/2, written(ctxLen/2)>>10, present>>10, hugeBytes>>10)
	if present > 2*written(ctxLen/2)+huge {
		t.Errorf("after %d positions %d KiB in memory, more than twice the %d KiB written", ctxLen/2, present>>10, written(ctxLen/2)>>10)
	}
	// Huge pages are given when free ones can be had: require half.
	if hugeBytes < present/2 {
		t.Errorf("after %d positions only %d of %d KiB in memory are in huge pages", ctxLen/2, hugeBytes>>10, present>>10)
	}
	runtime.KeepAlive(c)
}

// scanPages returns how many bytes of the pages of b are in memory and how
// many of those are mapped by huge pages, from the kernel's PAGEMAP_SCAN
// ioctl (Linux 6.7) on pagemap, an open /proc/self/pagemap.
func scanPages(pagemap *os.File, b []byte) (present, huge int, err error) {
	const (
		pagemapScan   = 0xC0606610 // _IOWR('f', 16, struct pm_scan_arg)
		pageIsPresent = 1 << 3
		pageIsHuge    = 1 << 6
	)
	type pmScanArg struct {
		size, flags, start, end, walkEnd, vec, vecLen, maxPages uint64
		categoryInverted, categoryMask, categoryAnyofMask       uint64
		returnMask                                              uint64
	}
	type pageRegion struct{ start, end, categories uint64 }
	vec := make([]pageRegion, 256)
	page := uint64(os.Getpagesize())
	start := uint64(uintptr(unsafe.Pointer(&b[0])))
	end := (start + uint64(len(b)) + page - 1) &^ (page - 1)
	start &^= page - 1
	for start < end {
		a := &pmScanArg{
			size: uint64(unsafe.Sizeof(pmScanArg{})), start: start, end: end,
			vec: uint64(uintptr(unsafe.Pointer(&vec[0]))), vecLen: uint64(len(vec)),
			categoryMask: pageIsPresent, returnMask: pageIsPresent | pageIsHuge,
		}
		n, _, errno := syscall.Syscall(syscall.SYS_IOCTL, pagemap.Fd(), pagemapScan, uintptr(unsafe.Pointer(a)))
		runtime.KeepAlive(vec)
		if errno != 0 {
			return 0, 0, &os.SyscallError{Syscall: "ioctl PAGEMAP_SCAN", Err: errno}
		}
		for _, r := range vec[:n] {
			present += int(r.end - r.start)
			if r.categories&pageIsHuge != 0 {
				huge += int(r.end - r.start)
			}
		}
		if a.walkEnd <= start || int(n) < len(vec) && a.walkEnd >= end {
			break
		}
		start = a.walkEnd
	}
	return present, huge, nil
}
