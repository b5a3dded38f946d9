package cpu_test

import (
	"fmt"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// A BitLinear layer at inference: quantize the activations of one token to
// int8, then multiply by the ternary weights with an integer dot product and
// one float scale per output.
func ExampleMatVecTernary() {
	const rows, cols = 2, 128
	codes := make([]int8, rows*cols)
	codes[0], codes[1], codes[2] = 1, -1, 1 // row 0: w0 - w1 + w2
	codes[cols+3] = -1                      // row 1: -w3
	data, err := cpu.PackTernary(cpu.I2_S, codes, rows, cols, 0.25)
	if err != nil {
		panic(err)
	}
	w, err := cpu.NewMatrix(cpu.I2_S, rows, cols, data)
	if err != nil {
		panic(err)
	}

	x := make([]float32, cols)
	x[0], x[1], x[2], x[3] = 2, -1, 0.5, 1
	xq := make([]int8, cols)
	inv := cpu.QuantizeInt8(xq, x) // max|x| = 2: s = 63.5
	fmt.Println(xq[:4], inv)

	y := make([]float32, rows)
	cpu.MatVecTernary(y, w, xq, inv) // 0.25 * inv * (127 + 64 + 32), 0.25 * inv * -64
	fmt.Printf("%.4f\n", y)
	// Output:
	// [127 -64 32 64] 0.015748031
	// [0.8780 -0.2520]
}

// Zero codes pack as 0x55 in I2_S (each 2-bit field holds code+1 = 1), and
// the per-tensor scale follows the packed bytes.
func ExamplePackTernary() {
	data, _ := cpu.PackTernary(cpu.I2_S, make([]int8, 128), 1, 128, 1.5)
	fmt.Printf("%d bytes: % x ... trailer % x\n", len(data), data[:4], data[32:36])
	// Output:
	// 64 bytes: 55 55 55 55 ... trailer 00 00 c0 3f
}

// Exact halves round to even, as bitnet.cpp's nearest_int does.
func ExampleQuantizeInt8() {
	xq := make([]int8, 5)
	inv := cpu.QuantizeInt8(xq, []float32{127, 0.5, 1.5, 2.5, -2.5})
	fmt.Println(xq, inv)
	// Output:
	// [127 0 2 2 -2] 1
}

func ExampleF32ToF16() {
	h := cpu.F32ToF16(0.1)
	fmt.Printf("%#04x %v\n", h, cpu.F16ToF32(h))
	// Output:
	// 0x2e66 0.099975586
}

// Q8_0 stores d = absmax/127 as f16 and q = round(x/d): -0.2 becomes -28*d.
func ExampleQuantize() {
	x := []float32{0.9, -0.2, 0.1, 0}
	x = append(x, make([]float32, 28)...)
	data, _ := cpu.Quantize(cpu.Q8_0, 1, 32, x)
	m, _ := cpu.NewMatrix(cpu.Q8_0, 1, 32, data)
	row := make([]float32, 32)
	m.Row(row, 0)
	fmt.Printf("%d bytes, %.4f\n", len(data), row[:4])
	// Output:
	// 34 bytes, [0.9001 -0.1985 0.0992 0.0000]
}
