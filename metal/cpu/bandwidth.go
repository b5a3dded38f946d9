package cpu

import (
	"encoding/binary"
	"sync"
	"time"
)

// BandwidthProbe holds a filled buffer whose reads measure the machine's
// read bandwidth, again and again: between the timed runs of a benchmark,
// so that the bandwidth and the speeds see the same machine (a shared one
// changes from second to second) and are compared as medians.
type BandwidthProbe struct {
	buf  []byte
	free func() error
}

// NewBandwidthProbe fills a buffer of size bytes (rounded down to 4 KiB, at
// least 4 KiB), in huge pages where the system offers them.
func NewBandwidthProbe(size int) *BandwidthProbe {
	size = max(size&^4095, 4096)
	buf, free, err := HugePageBytes(size)
	if err != nil {
		buf, free = make([]byte, size), func() error { return nil }
	}
	for i := 0; i < len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], uint64(i)*0x9e3779b97f4a7c15)
	}
	return &BandwidthProbe{buf: buf, free: free}
}

// Read sums the buffer once, split over threads goroutines, and returns the
// rate in bytes per second.
func (p *BandwidthProbe) Read(threads int) float64 {
	start := time.Now()
	readParallel(p.buf, max(threads, 1))
	return float64(len(p.buf)) / time.Since(start).Seconds()
}

// Close frees the buffer.
func (p *BandwidthProbe) Close() error {
	p.buf = nil
	return p.free()
}

// readSink keeps the sums alive.
var readSink uint64

// readParallel sums buf (a multiple of 4 KiB) split into threads parts.
func readParallel(buf []byte, threads int) {
	part := len(buf) / threads &^ 4095
	var wg sync.WaitGroup
	sums := make([]uint64, threads)
	for t := range threads {
		lo, hi := t*part, (t+1)*part
		if t == threads-1 {
			hi = len(buf)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums[t] = readSum(buf[lo:hi])
		}()
	}
	wg.Wait()
	for _, s := range sums {
		readSink += s
	}
}

// readSum returns a checksum of b (len(b) a multiple of 128), reading every
// byte once as fast as the CPU can; SIMD files may replace it.
var readSum = readSumGeneric

func readSumGeneric(b []byte) uint64 {
	var s0, s1, s2, s3 uint64
	for i := 0; i+32 <= len(b); i += 32 {
		s0 += binary.LittleEndian.Uint64(b[i:])
		s1 += binary.LittleEndian.Uint64(b[i+8:])
		s2 += binary.LittleEndian.Uint64(b[i+16:])
		s3 += binary.LittleEndian.Uint64(b[i+24:])
	}
	return s0 + s1 + s2 + s3
}
