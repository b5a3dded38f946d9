package cpu

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// TestMatMulTernaryPair checks the fused pair against two MatMulTernary calls
// at the Generic level, bit for bit, at every level and thread count, and
// that then sees every row exactly once, after both outputs are written.
func TestMatMulTernaryPair(t *testing.T) {
	defer SetThreads(SetThreads(2))
	r := rand.New(rand.NewPCG(31, 32))
	for iter := range 60 {
		typ := []DType{TQ1_0, TQ2_0, I2_S, TQ1_S}[iter%4]
		rows := 1 + r.IntN(300)
		cols := 256 * (1 + r.IntN(4))
		n := 1 + iter%7
		a := randTernaryBytes(t, r, typ, rows, cols, r.IntN(64), iter%5 == 0)
		b := randTernaryBytes(t, r, typ, rows, cols, r.IntN(64), false)
		if typ == TQ1_0 {
			// Both, one or neither with one d (summed whole).
			if iter%16 != 12 {
				uniformScale(t, r, a)
			}
			if iter%16 != 8 {
				uniformScale(t, r, b)
			}
		}
		xq := randXQ(r, n*cols)
		inv := make([]float32, n)
		for i := range inv {
			inv[i] = float32(r.Float64() * 0.1)
		}
		wantA, wantB := ternaryWant(a, xq, inv, n), ternaryWant(b, xq, inv, n)
		SetThreads(1 + iter%3)
		for _, l := range Levels() {
			func() {
				defer SetLevel(l)()
				name := fmt.Sprintf("%v %v %dx%d n=%d threads=%d", l, typ, rows, cols, n, Threads())
				dstA, checkA := guarded(t, n*rows, iter%3, float32(-7))
				dstB, checkB := guarded(t, n*rows, iter%4, float32(-5))
				seen := make([]int32, rows)
				var bad atomic.Int32
				MatMulTernaryPair(dstA, a, dstB, b, xq, inv, n, func(r0, r1 int) {
					for row := r0; row < r1; row++ {
						seen[row]++
						for tok := range n {
							if dstA[tok*rows+row] != wantA[tok*rows+row] || dstB[tok*rows+row] != wantB[tok*rows+row] {
								bad.Add(1)
							}
						}
					}
				})
				checkA()
				checkB()
				compareBits(t, name+" a", dstA, wantA)
				compareBits(t, name+" b", dstB, wantB)
				for row, c := range seen {
					if c != 1 {
						t.Fatalf("%s: then saw row %d %d times", name, row, c)
					}
				}
				if bad.Load() != 0 {
					t.Fatalf("%s: then ran before %d outputs were written", name, bad.Load())
				}
			}()
		}
	}
}

func TestMatMulTernaryPairMismatch(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	a := randTernaryBytes(t, r, TQ2_0, 8, 256, 0, false)
	b := randTernaryBytes(t, r, TQ1_0, 8, 256, 0, false)
	defer func() {
		if recover() == nil {
			t.Fatal("a TQ2_0 and a TQ1_0 matrix made a pair")
		}
	}()
	MatMulTernaryPair(make([]float32, 8), a, make([]float32, 8), b, make([]int8, 256), []float32{1}, 1, nil)
}

// TestParallel checks that Parallel covers [0, n) once, in multiples of
// grain, and allocates nothing.
func TestParallel(t *testing.T) {
	defer SetThreads(SetThreads(2))
	for _, th := range []int{1, 2, 3} {
		SetThreads(th)
		for _, c := range []struct{ n, grain int }{{0, 1}, {1, 1}, {20, 1}, {1000, 16}, {37, 4}} {
			seen := make([]atomic.Int32, c.n)
			Parallel(c.n, c.grain, func(lo, hi int) {
				if lo%c.grain != 0 || (hi%c.grain != 0 && hi != c.n) {
					t.Errorf("n %d grain %d: range [%d, %d)", c.n, c.grain, lo, hi)
				}
				for i := lo; i < hi; i++ {
					seen[i].Add(1)
				}
			})
			for i := range seen {
				if v := seen[i].Load(); v != 1 {
					t.Fatalf("threads %d n %d: item %d done %d times", th, c.n, i, v)
				}
			}
		}
		var sum atomic.Int64
		fn := func(lo, hi int) { sum.Add(int64(hi - lo)) }
		if a := testing.AllocsPerRun(20, func() { Parallel(100, 1, fn) }); a != 0 && !raceEnabled {
			t.Errorf("threads %d: Parallel made %v allocations", th, a)
		}
	}
}

// TestParallelPark checks that ParallelPark covers [0, n) once, like
// Parallel, and that after it the workers park without polling for the next
// call, while after Parallel they poll first (for the kernels' latency).
func TestParallelPark(t *testing.T) {
	defer SetThreads(SetThreads(3))
	for _, park := range []bool{true, false} {
		seen := make([]atomic.Int32, 1000)
		fn := func(lo, hi int) {
			for i := lo; i < hi; i++ {
				seen[i].Add(1)
			}
		}
		if park {
			ParallelPark(len(seen), 16, fn)
		} else {
			Parallel(len(seen), 16, fn)
		}
		for i := range seen {
			if v := seen[i].Load(); v != 1 {
				t.Fatalf("park %v: item %d done %d times", park, i, v)
			}
		}
		thePool.mu.Lock()
		workers, gen := thePool.workers, thePool.gen
		thePool.mu.Unlock()
		// Wait for each worker to park after this call's job (a minute only
		// against a hang: parking takes microseconds to milliseconds).
		parked := func(w *worker) bool { return w.parked.Load() && w.parkedGen.Load() == gen }
		deadline := time.Now().Add(time.Minute)
		for _, w := range workers {
			for !parked(w) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if !parked(w) {
				t.Fatalf("park %v: a worker has not parked after the job in a minute", park)
			}
			if n := w.polls.Load(); park && n != 0 || !park && n < spinCount {
				t.Errorf("park %v: a worker polled %d times before parking", park, n)
			}
		}
	}
}

// TestMatMulTernary3 checks the fused triple against three MatMulTernary
// calls, bit for bit, at every level and thread count, for every ternary
// type (TQ1_0 and TQ2_0 with and without one d, mixed), 1 to 5 tokens and
// row counts that are not multiples of the kernels' grain.
func TestMatMulTernary3(t *testing.T) {
	defer SetThreads(SetThreads(2))
	r := rand.New(rand.NewPCG(35, 36))
	for iter := range 80 {
		typ := []DType{TQ1_0, TQ2_0, I2_S, TQ1_S}[iter%4]
		cols := 256 * (1 + r.IntN(4))
		n := 1 + iter%5
		var ms [3]*Matrix
		for i := range ms {
			rows := 1 + r.IntN(200)
			if iter%3 == 0 {
				rows = 4 * (1 + r.IntN(40))
			}
			ms[i] = randTernaryBytes(t, r, typ, rows, cols, r.IntN(64), iter%5 == i)
			if (typ == TQ1_0 || typ == TQ2_0) && (iter/4)%3 != 0 && ((iter/4)%3 == 1 || i != 1) {
				// All with one d, or all but the second.
				uniformScale(t, r, ms[i])
			}
		}
		xq := randXQ(r, n*cols)
		inv := make([]float32, n)
		for i := range inv {
			inv[i] = float32(r.Float64() * 0.1)
		}
		var want [3][]float32
		for i, m := range ms {
			want[i] = ternaryWant(m, xq, inv, n)
		}
		SetThreads(1 + iter%3)
		for _, l := range Levels() {
			func() {
				defer SetLevel(l)()
				name := fmt.Sprintf("%v %v %d/%d/%dx%d n=%d threads=%d", l, typ, ms[0].Rows, ms[1].Rows, ms[2].Rows, cols, n, Threads())
				var got [3][]float32
				var checks [3]func()
				for i, m := range ms {
					got[i], checks[i] = guarded(t, n*m.Rows, (iter+i)%4, float32(-7))
				}
				MatMulTernary3(got[0], ms[0], got[1], ms[1], got[2], ms[2], xq, inv, n)
				for i, m := range ms {
					checks[i]()
					sep := make([]float32, n*m.Rows)
					MatMulTernary(sep, m, xq, inv, n)
					compareBits(t, fmt.Sprintf("%s matrix %d vs MatMulTernary", name, i), got[i], sep)
					compareBits(t, fmt.Sprintf("%s matrix %d vs Generic", name, i), got[i], want[i])
				}
			}()
		}
	}
}

func TestMatMulTernary3Mismatch(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 38))
	a := randTernaryBytes(t, r, TQ2_0, 8, 256, 0, false)
	b := randTernaryBytes(t, r, TQ2_0, 8, 512, 0, false)
	defer func() {
		if recover() == nil {
			t.Fatal("matrices 256 and 512 wide made a triple")
		}
	}()
	MatMulTernary3(make([]float32, 8), a, make([]float32, 8), a, make([]float32, 8), b, make([]int8, 256), []float32{1}, 1)
}
