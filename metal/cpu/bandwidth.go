package cpu

import (
	"encoding/binary"
	"sync/atomic"
	"time"
)

// BandwidthProbe holds a filled buffer whose reads measure the machine's
// read bandwidth, again and again: between the timed tokens of a benchmark,
// so that the bandwidth and the speeds see the same machine (a shared one
// changes from second to second) and are compared pair by pair.
type BandwidthProbe struct {
	buf  []byte
	free func() error
	sum  atomic.Uint64 // keeps the sums alive
	read func(lo, hi int)
}

// probeBlock is the unit the pool's threads take: 64 KiB, so that each
// thread streams long runs, as the matrix kernels do.
const probeBlock = 64 << 10

// NewBandwidthProbe fills a buffer of size bytes (rounded down to 64 KiB,
// at least 64 KiB), in huge pages where the system offers them, as the
// model loader holds large weight files (4 KiB pages cost TLB misses and
// read slower). It should be several times the last-level cache, so that
// no read finds it there.
func NewBandwidthProbe(size int) *BandwidthProbe {
	size = max(size&^(probeBlock-1), probeBlock)
	buf, free, err := HugePageBytes(size)
	if err != nil {
		buf, free = make([]byte, size), func() error { return nil }
	}
	for i := 0; i < len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], uint64(i)*0x9e3779b97f4a7c15)
	}
	p := &BandwidthProbe{buf: buf, free: free}
	p.read = func(lo, hi int) { p.sum.Add(readSum(p.buf[lo*probeBlock : hi*probeBlock])) }
	return p
}

// Len is the number of bytes a Read reads.
func (p *BandwidthProbe) Len() int { return len(p.buf) }

// Read sums the buffer once on the matrix kernels' threads (the worker
// pool, Threads of them, split as the kernels split a matrix) and returns
// the rate in bytes per second.
func (p *BandwidthProbe) Read() float64 {
	start := time.Now()
	Parallel(len(p.buf)/probeBlock, 1, p.read)
	return float64(len(p.buf)) / time.Since(start).Seconds()
}

// Close frees the buffer.
func (p *BandwidthProbe) Close() error {
	p.buf = nil
	return p.free()
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
