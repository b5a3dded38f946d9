package gguf

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pageCache is how a HugePageCache move gets a piece of the file into huge pages without copying
// it: from the page cache itself. Since Linux 6.x, file systems with large folios (ext4, xfs) can
// hold a file's cached bytes in 2 MiB pages and map them with one page table entry per 2 MiB, the
// TLB reach of a private copy in huge pages, with none of its cost: no second copy of the file in
// memory, no fresh memory to fault in (slow on VMs whose host backs guest memory page by page), and
// every later process that maps the file, bitrepl's or a peer's, gets the same pages at once.
// Whether the cache holds a file in small or large pages depends on how it got there: read
// through a mapping advised for huge pages it comes in 2 MiB pages; written by a program, or read
// in small pieces, often in 4 KiB pages. So each piece is
//   - kept if it is already mapped by huge pages (after faulting it in);
//   - else dropped from this mapping and from the page cache (clean pages that no other process
//     maps: the kernel keeps the others) and read back through the mapping, which brings it in
//     as 2 MiB pages where the file system can;
//   - else copied into private huge pages, as HugePages does; after two pieces that could not be
//     read back in huge pages, with none that could, the move stops trying and copies.
//
// Readers meanwhile fault the pieces back in, from the page cache or the disk: the bytes are the
// file's all along.
type pageCache struct {
	fd      int      // a duplicate of the file's descriptor, for fadvise
	pagemap *os.File // /proc/self/pagemap, to see which pages are huge

	kept, reread, copied int  // pieces so far
	sum                  byte // of touch's reads, kept so they are not optimized away
}

// newPageCache returns the pageCache of f, or nil where the kernel cannot say which pages are huge
// (PAGEMAP_SCAN, Linux 6.7): the move then copies every piece.
func newPageCache(f *os.File) *pageCache {
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil
	}
	if _, err := hugeMapped(pagemap, make([]byte, 1)); err != nil {
		pagemap.Close()
		return nil
	}
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		pagemap.Close()
		return nil
	}
	return &pageCache{fd: fd, pagemap: pagemap}
}

// piece brings the file's bytes [off, off+length) (those before size), mapped at base+off, into
// huge page-cache pages, and reports whether they are there; if not, the caller copies them.
func (c *pageCache) piece(base unsafe.Pointer, off, length, size int) bool {
	b := unsafe.Slice((*byte)(unsafe.Add(base, off)), length)
	want := min(length, size-off) &^ (hugePage - 1) // the file's whole huge pages in the piece
	if want == 0 {
		c.kept++ // the last, partial huge page of the file stays as it is
		return true
	}
	if c.huge(b) >= want {
		c.kept++
		return true
	}
	if c.reread > 0 || c.copied < 2 {
		_ = unix.Madvise(b, unix.MADV_DONTNEED)
		_ = unix.Fadvise(c.fd, int64(off), int64(length), unix.FADV_DONTNEED)
		if c.huge(b) >= want {
			c.sum += touch(b)
			c.reread++
			return true
		}
	}
	c.copied++
	return false
}

// huge faults b in and returns how many of its bytes are mapped by huge pages (0 when it cannot be
// faulted in: the file shrank, which the copy then reports).
func (c *pageCache) huge(b []byte) int {
	if unix.Madvise(b, unix.MADV_POPULATE_READ) != nil {
		return 0
	}
	n, err := hugeMapped(c.pagemap, b)
	if err != nil {
		return 0
	}
	return n
}

func (c *pageCache) close() {
	unix.Close(c.fd)
	c.pagemap.Close()
}

// touch reads a byte of every 4 KiB of b. The first reads of pages just read from the disk took
// 13 ms per 8 MiB on a VM (its host maps guest memory to the guest page by page on first use):
// paid here, within the move's share of the time, rather than by the next token.
func touch(b []byte) byte {
	var s byte
	for i := 0; i < len(b); i += 4096 {
		s += b[i]
	}
	return s
}
