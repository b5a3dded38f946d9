package cpu_test

import (
	"fmt"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// An I2_S matrix (2 bits per weight, as bitnet.cpp writes them) repacked to
// TQ1_S (1.625 bits per weight, 5 weights per byte): the same weights, and
// MatVecTernary gives the same bits.
func ExampleRepack() {
	const rows, cols = 2, 256
	codes := make([]int8, rows*cols)
	for i := range codes {
		codes[i] = int8(i%3) - 1
	}
	data, _ := cpu.PackTernary(cpu.I2_S, codes, rows, cols, 0.5)
	w, _ := cpu.NewMatrix(cpu.I2_S, rows, cols, data)
	c, err := cpu.Repack(w, cpu.TQ1_S)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(w.Data), "->", len(c.Data), "bytes")

	xq := make([]int8, cols)
	for i := range xq {
		xq[i] = int8(i)
	}
	y1, y2 := make([]float32, rows), make([]float32, rows)
	cpu.MatVecTernary(y1, w, xq, 0.01)
	cpu.MatVecTernary(y2, c, xq, 0.01)
	fmt.Println(y1, y2)
	// Output:
	// 160 -> 136 bytes
	// [-0.42499998 0.85499996] [-0.42499998 0.85499996]
}

// SetThreads sets how many threads the matrix kernels use; it returns the
// previous count, so that a test or benchmark can restore it.
func ExampleSetThreads() {
	prev := cpu.SetThreads(1) // one thread: the caller's
	defer cpu.SetThreads(prev)
	fmt.Println(cpu.Threads())
	// Output:
	// 1
}
