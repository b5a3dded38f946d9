package metal

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeBytes returns size zeroed bytes aligned to 2 MiB and advised for
// transparent huge pages, as the model loader holds large weight files (see
// model.MemoryHugePages), and the function that frees them. It falls back
// to the Go heap.
func hugeBytes(size int) ([]byte, func()) {
	const huge = 2 << 20
	n := (size + huge - 1) / huge * huge
	region, err := unix.Mmap(-1, 0, n+huge, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return make([]byte, size), func() {}
	}
	off := int(-uintptr(unsafe.Pointer(&region[0])) & (huge - 1))
	buf := region[off : off+n]
	_ = unix.Madvise(buf, unix.MADV_HUGEPAGE)
	return buf[:size:size], func() { unix.Munmap(region) }
}
