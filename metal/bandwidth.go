package metal

import (
	"encoding/binary"
	"sync"
	"time"
)

// ReadBandwidth measures how fast this machine reads memory: it fills a
// buffer of size bytes (rounded down to 4 KiB, at least 4 KiB) once, then
// sums it reps times, split over threads goroutines, and returns the best
// rate in bytes per second. Token generation streams every weight once per
// token, so this is the ceiling the kernels are measured against; call it
// in the same run as the speed figures (the machine may be shared). The
// buffer is in huge pages where the system offers them, as the model loader
// holds large weight files: 4 KiB pages cost TLB misses and read slower.
func ReadBandwidth(size, threads, reps int) float64 {
	size = max(size&^4095, 4096)
	threads = max(threads, 1)
	buf, free, err := HugePageBytes(size)
	if err != nil {
		buf, free = make([]byte, size), func() error { return nil }
	}
	defer free()
	for i := 0; i < len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], uint64(i)*0x9e3779b97f4a7c15)
	}
	best := 0.0
	for range max(reps, 1) {
		start := time.Now()
		readParallel(buf, threads)
		if r := float64(size) / time.Since(start).Seconds(); r > best {
			best = r
		}
	}
	return best
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
