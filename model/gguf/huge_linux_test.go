package gguf

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeFile writes a GGUF file of a few huge pages whose one tensor is random bytes, and returns
// its path and contents.
func hugeFile(t *testing.T, size int) (string, []byte) {
	t.Helper()
	w := NewWriter()
	payload := make([]byte, size)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	if err := w.AddTensor("blob", I8, []uint64{uint64(size)}, payload); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "huge.gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, file
}

// A file opened with HugePages is usable at once, reads as the file while it moves into huge pages
// (readers check every byte during the move), and ends in anonymous huge pages.
func TestHugePagesMoveUnderReaders(t *testing.T) {
	// Over three move pieces, and not a whole number of pages, so the last piece is partial.
	path, file := hugeFile(t, 2*hugePiece+5*hugePage+12345)
	f := moveUnderReaders(t, path, file, HugePages, true)
	if !HugePagesAvailable() {
		t.Skip("no transparent huge pages here")
	}
	anon, huge := smapsOf(t, uintptr(unsafe.Pointer(&f.data[0])), len(f.data))
	t.Logf("anonymous %d, huge %d of %d", anon, huge, len(file))
	if anon < len(file)/2 || huge == 0 {
		t.Errorf("after the move: %d bytes anonymous, %d in huge pages, want the file (%d) anonymous in huge pages", anon, huge, len(file))
	}
}

// Close during the move stops it and releases everything; the file can be opened again.
func TestHugePagesCloseDuringMove(t *testing.T) {
	path0, _ := hugeFile(t, hugePage)
	f, err := OpenMode(path0, HugePages)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil { // never started
		t.Fatal(err)
	}
	f.StartHugePages() // after Close: nothing
	f.WaitHugePages()
	path, file := hugeFile(t, 3*hugePiece)
	for range 3 {
		f, err := OpenMode(path, HugePages)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.data[:4096], file[:4096]) {
			t.Fatal("first page differs")
		}
		f.StartHugePages()
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		f.WaitHugePages() // the move is over
	}
}

// smapsOf sums the Anonymous and AnonHugePages bytes of the mappings of this process inside
// [addr, addr+n).
func smapsOf(t *testing.T, addr uintptr, n int) (anon, huge int) {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uintptr(l) < addr+uintptr(n) && uintptr(h) > addr
			continue
		}
		if !in || len(fields) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "Anonymous:":
			anon += kb << 10
		case "AnonHugePages:":
			huge += kb << 10
		}
	}
	return anon, huge
}

// PaceHugePages moves exactly the pieces asked for, in the caller, with the bytes unchanged, and
// says when nothing is left; the move is then over for WaitHugePages too.
func TestPaceHugePages(t *testing.T) {
	path, file := hugeFile(t, 2*hugePiece+5*hugePage+12345) // 4 pieces, the last partial
	f, err := OpenMode(path, HugePages)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	addr := uintptr(unsafe.Pointer(&f.data[0]))
	anon := func() int { a, _ := smapsOf(t, addr, len(f.data)); return a }
	if !f.PaceHugePages(0) || anon() != 0 {
		t.Fatalf("PaceHugePages(0): %d bytes moved, want none and some left", anon())
	}
	if !f.PaceHugePages(1) {
		t.Fatal("PaceHugePages(1) of 4 pieces: nothing left")
	}
	if a := anon(); a < hugePiece-hugePage || a > hugePiece {
		t.Fatalf("after one piece: %d bytes anonymous, want the piece (%d)", a, hugePiece)
	}
	if !bytes.Equal(f.data, file) {
		t.Fatal("bytes differ from the file after one piece")
	}
	if f.PaceHugePages(100) {
		t.Fatal("PaceHugePages(100) of 3 pieces left: some left")
	}
	f.WaitHugePages() // over: returns at once
	if !bytes.Equal(f.data, file) {
		t.Fatal("bytes differ from the file after the move")
	}
	if a := anon(); a < len(file)-hugePage {
		t.Fatalf("after the move: %d bytes anonymous, want the file (%d)", a, len(file))
	}
	if f.PaceHugePages(1) {
		t.Fatal("PaceHugePages after the move: some left")
	}
}

// PaceHugePages stops a background move; WaitHugePages starts it again and it finishes.
func TestPaceStopsBackgroundMove(t *testing.T) {
	path, file := hugeFile(t, 4*hugePiece)
	f, err := OpenMode(path, HugePages)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.StartHugePages()
	f.PaceHugePages(0)
	f.WaitHugePages()
	if f.PaceHugePages(1) {
		t.Fatal("after WaitHugePages: some left")
	}
	if !bytes.Equal(f.data, file) {
		t.Fatal("bytes differ from the file after the move")
	}
}

// A file truncated while it moves stops the move with what was moved kept, and crashes nothing
// (the copy reads the mapping, whose pages past the end of the file fault).
func TestHugePagesFileShrinks(t *testing.T) {
	for _, mode := range []Mode{HugePages, HugePageCache} {
		path, file := hugeFile(t, 3*hugePiece)
		f, err := OpenMode(path, mode)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if !f.PaceHugePages(1) {
			t.Fatalf("%v: nothing left after one piece of 3", mode)
		}
		if err := os.Truncate(path, hugePiece+hugePage); err != nil {
			t.Fatal(err)
		}
		if f.PaceHugePages(5) {
			t.Fatalf("%v: the move of a truncated file goes on", mode)
		}
		f.WaitHugePages()
		if !bytes.Equal(f.data[:hugePiece+hugePage], file[:hugePiece+hugePage]) {
			t.Fatalf("%v: bytes before the new end differ", mode)
		}
	}
}

// smallPages writes file to a new path 4 KiB at a time, as most programs write, and syncs it:
// the page cache then holds it in 4 KiB pages, clean.
func smallPages(t *testing.T, file []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "small.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for off := 0; off < len(file); off += 4096 {
		if _, err := f.Write(file[off:min(off+4096, len(file))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	return path
}

// moveUnderReaders opens path in mode and moves it, while readers check every byte against file
// if readers is set, and returns the File, moved. (Readers that fault pieces in while they are read
// again keep them in small pages: a model's evaluations do not run while a piece moves.)
func moveUnderReaders(t *testing.T, path string, file []byte, mode Mode, readers bool) *File {
	t.Helper()
	f, err := OpenMode(path, mode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if f.Mode() != mode {
		t.Fatalf("mode %v, want %v", f.Mode(), mode)
	}
	f.StartHugePages()
	var stop atomic.Bool
	bad := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for readers && !stop.Load() {
			for off := 0; off < len(file); off += 4096 {
				end := min(off+4096, len(file))
				if !bytes.Equal(f.data[off:end], file[off:end]) {
					bad <- off
					return
				}
			}
		}
	}()
	f.WaitHugePages()
	stop.Store(true)
	<-done
	select {
	case off := <-bad:
		t.Fatalf("%v: bytes at %d differ from the file during the move", mode, off)
	default:
	}
	if !bytes.Equal(f.data, file) {
		t.Fatalf("%v: bytes differ from the file after the move", mode)
	}
	return f
}

// A HugePageCache file in 4 KiB page-cache pages is read back into 2 MiB ones, with the bytes
// unchanged while readers check every byte; opened again, it is kept as it is, with nothing read
// again or copied. It needs a file system that keeps files in huge page-cache pages: the file
// bitrepl's writer wrote (in 4 MiB chunks) shows whether this one does.
func TestHugePageCacheMove(t *testing.T) {
	written, file := hugeFile(t, 2*hugePiece+5*hugePage+12345)
	whole := len(file) &^ (hugePage - 1)
	if !HugePagesAvailable() {
		t.Skip("no transparent huge pages here")
	}
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skip(err)
	}
	defer pagemap.Close()
	w, err := OpenMode(written, Mapped)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if !bytes.Equal(w.data, file) {
		t.Fatal("the written file differs")
	}
	n, err := hugeMapped(pagemap, w.data)
	if err != nil {
		t.Skipf("the kernel cannot say which pages are huge (PAGEMAP_SCAN: Linux 6.7): %v", err)
	}
	if n < whole {
		t.Skipf("this file system keeps a file written in 4 MiB chunks in small pages (%d of %d bytes huge)", n, whole)
	}

	moveUnderReaders(t, smallPages(t, file), file, HugePageCache, true)
	path := smallPages(t, file)
	f := moveUnderReaders(t, path, file, HugePageCache, false)
	c := f.huge.cache
	if c.kept != 0 || c.reread != 4 || c.copied != 0 {
		t.Fatalf("pieces: %d kept, %d read again, %d copied; want all 4 read again", c.kept, c.reread, c.copied)
	}
	if n, err := hugeMapped(c.pagemap, f.data); err != nil || n < whole {
		t.Fatalf("%d of the file's %d bytes in whole huge pages are mapped huge (%v)", n, whole, err)
	}
	again := moveUnderReaders(t, path, file, HugePageCache, true)
	if c := again.huge.cache; c.kept != 4 || c.reread != 0 || c.copied != 0 {
		t.Fatalf("opened again: %d pieces kept, %d read again, %d copied; want all 4 kept", c.kept, c.reread, c.copied)
	}
}

// A file whose small pages another mapping holds cannot be dropped from the page cache: the move
// gives up reading pieces again after two and copies them into private huge pages.
func TestHugePageCacheCopiesWhatItCannotReread(t *testing.T) {
	_, file := hugeFile(t, 3*hugePiece+hugePage)
	path := smallPages(t, file)
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	other, err := unix.Mmap(int(fh.Fd()), 0, len(file), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(other)
	if !bytes.Equal(other, file) { // faults every page in
		t.Fatal("the other mapping differs from the file")
	}
	f := moveUnderReaders(t, path, file, HugePageCache, false)
	c := f.huge.cache
	if c == nil || !HugePagesAvailable() {
		t.Skip("no PAGEMAP_SCAN or no transparent huge pages here")
	}
	if c.kept != 0 || c.reread != 0 || c.copied != 4 {
		t.Fatalf("pieces: %d kept, %d read again, %d copied; want all 4 copied", c.kept, c.reread, c.copied)
	}
	if anon, huge := smapsOf(t, uintptr(unsafe.Pointer(&f.data[0])), len(f.data)); anon < len(file)/2 || huge == 0 {
		t.Fatalf("%d bytes anonymous, %d in huge pages, want the file (%d) anonymous in huge pages", anon, huge, len(file))
	}
}

// BenchmarkPaceHugePages moves a 64 MiB file into huge pages a piece at a time, as decoding does
// between tokens; the time per piece is what a token waits for one. Where the VM's host backs fresh
// guest memory page by page, populating the huge pages dominates.
func BenchmarkPaceHugePages(b *testing.B) {
	const size = 64 << 20
	w := NewWriter()
	if err := w.AddTensor("blob", I8, []uint64{size}, make([]byte, size)); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "huge.gguf")
	if err := w.WriteFile(path); err != nil {
		b.Fatal(err)
	}
	pieces := 0
	b.SetBytes(size)
	for b.Loop() {
		b.StopTimer()
		f, err := OpenMode(path, HugePages)
		if err != nil {
			b.Fatal(err)
		}
		var s byte
		for i := 0; i < len(f.data); i += 4096 { // fault the mapping in, as the first token does
			s += f.data[i]
		}
		_ = s
		b.StartTimer()
		for f.PaceHugePages(1) {
			pieces++
		}
		pieces++
		b.StopTimer()
		f.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(pieces), "ms/piece")
}
