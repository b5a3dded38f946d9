package gguf

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePagesSupported: OpenMode(path, HugePages) moves files into huge pages.
const hugePagesSupported = true

// HugePagesAvailable reports whether the kernel gives transparent huge pages to memory that asks
// for them (THP "always" or "madvise").
func HugePagesAvailable() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !strings.Contains(string(b), "[never]")
}

// MemoryAvailable returns the kernel's estimate of the memory available to new work without
// swapping (MemAvailable in /proc/meminfo), in bytes, or -1 when it is unknown.
func MemoryAvailable() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

const (
	hugePage = 2 << 20
	// hugePiece is how much one step of the move copies: a few milliseconds of work, so a step
	// between two decoded tokens (PaceHugePages) or the wait for a background step to finish
	// costs little, and yet large enough that the mremap calls and their TLB shootdowns cost
	// nothing next to the copy.
	hugePiece = 8 << 20
)

// hugeMove moves a file mapped at base, piece by piece, into private memory backed by transparent
// huge pages: each piece is copied from the mapping into fresh anonymous memory advised for huge
// pages and populated in one call, made read-only, and moved over the same addresses with mremap.
// The bytes at every address never change, only the pages behind them, and mremap swaps them under
// the address space's lock, so readers (decoding) go on meanwhile, first from the page cache, then
// from the copy. Streaming the weights from huge pages needs one TLB entry per 2 MiB instead of one
// per 4 KiB: on the 2B-4T shape that made decoding 2-25% faster than the page-cache mapping.
//
// The pieces are moved by a goroutine (start, when nothing else runs) or by the caller between two
// evaluations (pace): a goroutine copying beside a decode that keeps every core busy made the
// tokens twice as slow and the copy ten times slower (it takes a core from a decoding thread, and
// every thread then waits at the next barrier for the one that lost its core).
type hugeMove struct {
	base    unsafe.Pointer
	n, size int        // bytes mapped (whole pages), bytes of the file
	cache   *pageCache // HugePageCache: keep or re-read pieces in huge page-cache pages first

	mu      sync.Mutex // held while a piece moves
	next    int        // offset of the next piece
	running bool       // a goroutine moves pieces
	paced   bool       // the caller moves pieces (pace): a running goroutine stops
	stopped bool       // by Close or an error: the rest stays mapped
	over    sync.Once
	done    chan struct{} // closed when the move is over
}

// step moves the next piece; mu is held. It reports whether pieces are left.
func (h *hugeMove) step() bool {
	if h.stopped || h.next >= h.n {
		return false
	}
	length := min(hugePiece, h.n-h.next)
	if h.cache != nil && h.cache.piece(h.base, h.next, length, h.size) {
		h.next += hugePiece
		return h.next < h.n
	}
	if err := movePiece(h.base, h.next, length, h.size); err != nil {
		h.stopped = true
		return false
	}
	h.next += hugePiece
	return h.next < h.n
}

func (h *hugeMove) finish() { h.over.Do(func() { close(h.done) }) }

// start starts a goroutine that moves the pieces left, unless one runs; the goroutine stops at the
// end, on Close, or when pace is called.
func (h *hugeMove) start() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.paced = false
	if h.running || h.stopped || h.next >= h.n {
		return
	}
	h.running = true
	go func() {
		for {
			h.mu.Lock()
			left := !h.paced && h.step()
			if !left {
				h.running = false
				if h.stopped || h.next >= h.n {
					h.finish()
				}
				h.mu.Unlock()
				return
			}
			h.mu.Unlock()
		}
	}()
}

// pace stops a running goroutine (after its current piece) and moves up to pieces pieces in the
// caller. It reports whether pieces are left.
func (h *hugeMove) pace(pieces int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.paced = true
	left := !h.stopped && h.next < h.n
	for i := 0; i < pieces && left; i++ {
		left = h.step()
	}
	if !left && !h.running {
		h.finish()
	}
	return left
}

// close stops the move; the goroutine, if one runs, ends after its piece.
func (h *hugeMove) close() {
	h.mu.Lock()
	h.stopped = true
	running := h.running
	h.mu.Unlock()
	if !running {
		h.finish()
	}
	<-h.done
	if h.cache != nil {
		h.cache.close()
	}
}

// readHuge maps f read-only at a 2 MiB-aligned address, so the file is usable at once, and returns
// the move that replaces the mapping with a private copy in huge pages (hugeMove). Its done channel
// is closed when the move is over (finished, or stopped by Close or an error: what is left stays
// mapped).
func readHuge(f *os.File, size int, cache bool) (data []byte, release func([]byte) error, h *hugeMove, err error) {
	fail := func(op string, err error) ([]byte, func([]byte) error, *hugeMove, error) {
		return nil, nil, nil, &os.PathError{Op: op, Path: f.Name(), Err: err}
	}
	n := roundUp(size, os.Getpagesize())
	base, err := alignedAnon(n, unix.PROT_NONE)
	if err != nil {
		return fail("mmap", err)
	}
	if _, err := unix.MmapPtr(int(f.Fd()), 0, base, uintptr(size), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED); err != nil {
		unix.MunmapPtr(base, uintptr(n))
		return fail("mmap", err)
	}
	// Reads that fault the file in (the load's, decoding's, and the cache's re-reads) bring it
	// into the page cache in huge pages where the file system can.
	adviseHuge(unsafe.Slice((*byte)(base), n))
	h = &hugeMove{base: base, n: n, size: size, done: make(chan struct{})}
	if cache {
		h.cache = newPageCache(f)
	}
	release = func([]byte) error {
		h.close()
		return unix.MunmapPtr(base, uintptr(n))
	}
	return unsafe.Slice((*byte)(base), size), release, h, nil
}

// movePiece copies the file's bytes [off, off+length) (those before size) from the mapping at base
// into anonymous huge pages and moves them over the mapping. Copying from the mapping, whose pages
// decoding has already faulted in, into memory populated in one call took half the time of a pread
// into fresh memory. A file that shrank makes the copy fault (SIGBUS): that is an error here.
func movePiece(base unsafe.Pointer, off, length, size int) (err error) {
	src, err := alignedAnon(length, unix.PROT_READ|unix.PROT_WRITE)
	if err != nil {
		return err
	}
	buf := unsafe.Slice((*byte)(src), length)
	_ = unix.Madvise(buf, unix.MADV_HUGEPAGE)
	_ = unix.Madvise(buf, unix.MADV_POPULATE_WRITE) // Linux 5.14; otherwise the copy faults them in
	if err := copyFaulting(buf[:min(length, size-off)], unsafe.Slice((*byte)(unsafe.Add(base, off)), min(length, size-off))); err != nil {
		unix.MunmapPtr(src, uintptr(length))
		return err
	}
	if err := unix.Mprotect(buf, unix.PROT_READ); err != nil {
		unix.MunmapPtr(src, uintptr(length))
		return err
	}
	if _, err := unix.MremapPtr(src, uintptr(length), unsafe.Add(base, off), uintptr(length), unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED); err != nil {
		unix.MunmapPtr(src, uintptr(length))
		return err
	}
	return nil
}

// copyFaulting copies src, a view of a mapped file, to dst, and returns an error instead of
// crashing when src faults (the file was truncated).
func copyFaulting(dst, src []byte) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the file shrank while it was moved into huge pages: %v", r)
		}
	}()
	copy(dst, src)
	return nil
}

// alignedAnon maps length bytes of anonymous memory at a 2 MiB-aligned address.
func alignedAnon(length, prot int) (unsafe.Pointer, error) {
	region, err := unix.MmapPtr(-1, 0, nil, uintptr(length+hugePage), prot, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, err
	}
	head := int(-uintptr(region) & (hugePage - 1))
	if head > 0 {
		unix.MunmapPtr(region, uintptr(head))
	}
	if tail := hugePage - head; tail > 0 {
		unix.MunmapPtr(unsafe.Add(region, head+length), uintptr(tail))
	}
	return unsafe.Add(region, head), nil
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// adviseHuge asks that faults in the file mapping b read the file into the page cache in huge
// pages, and map them so, where the file system can (see pageCache).
func adviseHuge(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
