//go:build !noasm

package cpu

import (
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
)

// TestExpSumAVX512Table checks that the AVX512 level's Softmax uses
// expSumAVX512: float_amd64.go's init, which sets the AVX2 kernels of both
// levels, ran after expsum_amd64.go's and put expSumAVX2 back.
func TestExpSumAVX512Table(t *testing.T) {
	got := reflect.ValueOf(levelKernels[AVX512].expSum).Pointer()
	if want := reflect.ValueOf(expSumAVX512).Pointer(); got != want {
		t.Errorf("levelKernels[AVX512].expSum is %v, want expSumAVX512", runtime.FuncForPC(got).Name())
	}
}

// TestExpSumAVX512 checks expSumAVX512 against expSumAVX2 bit for bit (the
// exps and their sum): ragged lengths (whole sixteens, a last eight, a
// scalar tail), unaligned, the last entry before a guard page, entries equal
// to the maximum, -Inf, -0, and below exp's range.
func TestExpSumAVX512(t *testing.T) {
	if len(cpuLevels) < 3 || cpuLevels[2] != AVX512 {
		t.Skip("no AVX512 level on this CPU")
	}
	r := rand.New(rand.NewPCG(51, 52))
	for iter := range 3000 {
		n := r.IntN(300)
		if iter%100 == 0 {
			n = 4096 + r.IntN(32)
		}
		mx := float32(r.NormFloat64() * 4)
		if iter%3 == 0 {
			mx = 0
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = mx - float32(math.Abs(r.NormFloat64()*[]float64{1, 10, 40}[iter%3]))
			switch r.IntN(30) {
			case 0:
				x[i] = float32(math.Inf(-1))
			case 1:
				x[i] = mx
			case 2:
				x[i] = mx - 87.4 + float32(r.Float64()*0.2) // around the underflow
			case 3:
				if mx == 0 {
					x[i] = float32(math.Copysign(0, -1))
				}
			}
		}
		want := append([]float32(nil), x...)
		wantSum := expSumAVX2(want, mx)
		y := readGuardFloats(t, unalignedFloats(x, iter%8))
		if sum := expSumAVX512(y, mx); math.Float64bits(sum) != math.Float64bits(wantSum) {
			t.Fatalf("n %d mx %v: sum %v, want %v", n, mx, sum, wantSum)
		}
		for i := range y {
			if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n %d mx %v: [%d] = %v (x %v), want %v", n, mx, i, y[i], x[i], want[i])
			}
		}
	}
}
