package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

func tinyConfig() ModelConfig {
	return ModelConfig{Vocab: 37, Dim: 32, Layers: 2, Heads: 4, KVHeads: 2, FFN: 48, Context: 16, RopeTheta: 10000, NormEps: 1e-5}
}

// newTestNet builds a net with larger-than-usual random weights (so that every path carries gradient) and random
// tokens. It runs cpu's pool with the given number of threads until the test ends.
func newTestNet(t *testing.T, c ModelConfig, quant bool, threads int) *net {
	t.Helper()
	prev := cpu.SetThreads(threads)
	t.Cleanup(func() { cpu.SetThreads(prev) })
	np := c.Params()
	params, grads := make([]float32, np), make([]float32, np)
	initParams(c, params, 7)
	r := rand.New(rand.NewPCG(3, 4))
	for _, ts := range layout(c) {
		s := params[ts.Off : ts.Off+ts.Rows*ts.Cols]
		for i := range s {
			if ts.Rows == 1 {
				s[i] = 1 + 0.3*float32(r.NormFloat64())
			} else {
				s[i] = 0.3 * float32(r.NormFloat64())
			}
		}
	}
	n := newNet(c, quant, 2, c.Context, params, grads)
	for i := range n.tokens {
		n.tokens[i] = int32(r.IntN(c.Vocab))
		n.target[i] = int32(r.IntN(c.Vocab))
	}
	return n
}

func (n *net) lossGrad() float64 {
	clear(n.grads)
	n.prepare()
	loss := n.forward(1 / float32(n.N))
	n.backward()
	return loss / float64(n.N)
}

func (n *net) lossOnly() float64 {
	n.prepare()
	return n.forward(0) / float64(n.N)
}

// TestGradientsMatchFiniteDifferences checks the hand-written backward pass of every tensor of every block (and the
// embedding and final norm) against central differences, with quantization off.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	c := tinyConfig()
	n := newTestNet(t, c, false, 2)
	n.lossGrad()
	grads := append([]float32(nil), n.grads...)
	r := rand.New(rand.NewPCG(5, 6))
	const h = 1e-2
	for _, ts := range layout(c) {
		size := ts.Rows * ts.Cols
		worst := 0.0
		for trial := 0; trial < 6; trial++ {
			i := ts.Off + r.IntN(size)
			if ts.Name == "token_embd.weight" && trial < 3 {
				i = ts.Off + int(n.tokens[trial])*c.Dim + r.IntN(c.Dim) // make sure some rows are used as input
			}
			old := n.params[i]
			n.params[i] = old + h
			lp := n.lossOnly()
			n.params[i] = old - h
			lm := n.lossOnly()
			n.params[i] = old
			num := (lp - lm) / (2 * h)
			ana := float64(grads[i])
			err := math.Abs(num-ana) / (math.Abs(num) + math.Abs(ana) + 1e-3)
			worst = max(worst, err)
			if err > 0.05 {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", ts.Name, i-ts.Off, ana, num)
			}
		}
		t.Logf("%-26s worst relative error %.2g", ts.Name, worst)
	}
}

// TestSTEGradient checks the straight-through estimator: with ternary weights, the gradient w.r.t. the latent
// weights is exactly the full-precision gradient taken at the quantized weights (W_eff = W + stopgrad(q(W) - W)).
func TestSTEGradient(t *testing.T) {
	c := tinyConfig()
	q := newTestNet(t, c, true, 2)
	q.quantA = false
	lq := q.lossGrad()
	f := newTestNet(t, c, false, 2)
	for _, ts := range layout(c) {
		if ts.Linear {
			quantWeight(f.params[ts.Off:ts.Off+ts.Rows*ts.Cols], q.params[ts.Off:ts.Off+ts.Rows*ts.Cols])
		}
	}
	lf := f.lossGrad()
	if lq != lf {
		t.Fatalf("loss with ternary weights %v, full precision at the quantized weights %v", lq, lf)
	}
	for i := range q.grads {
		if q.grads[i] != f.grads[i] {
			t.Fatalf("grad[%d]: STE %v, full precision at quantized weights %v", i, q.grads[i], f.grads[i])
		}
	}
	// and the activation STE: int8 quantization changes the loss a little but passes gradients straight through,
	// so the gradients stay close to those without it.
	q.quantA = true
	lqa := q.lossGrad()
	if math.Abs(lqa-lq) > 0.05*lq || lqa == lq {
		t.Fatalf("loss with int8 activations %v, without %v", lqa, lq)
	}
	var dot, n1, n2 float64
	for i := range q.grads {
		dot += float64(q.grads[i]) * float64(f.grads[i])
		n1 += float64(q.grads[i]) * float64(q.grads[i])
		n2 += float64(f.grads[i]) * float64(f.grads[i])
	}
	if cos := dot / math.Sqrt(n1*n2); cos < 0.99 {
		t.Fatalf("gradient with int8 activations has cosine %.4f to the one without", cos)
	}
}

func TestDeterministicAcrossRuns(t *testing.T) {
	c := tinyConfig()
	a := newTestNet(t, c, true, 2)
	b := newTestNet(t, c, true, 2)
	if la, lb := a.lossGrad(), b.lossGrad(); la != lb {
		t.Fatalf("losses differ: %v %v", la, lb)
	}
	for i := range a.grads {
		if a.grads[i] != b.grads[i] {
			t.Fatalf("grad %d differs", i)
		}
	}
}

func TestQuantAct(t *testing.T) {
	x := []float32{127, 0.5, 1.5, -2.5, 63.5, -127}
	dst := make([]float32, len(x))
	quantAct(dst, x) // s = 1: round half to even
	want := []float32{127, 0, 2, -2, 64, -127}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("quantAct(%v) = %v, want %v", x, dst, want)
		}
	}
	zero := make([]float32, 4)
	quantAct(dst[:4], zero)
	for _, v := range dst[:4] {
		if v != 0 || math.IsNaN(float64(v)) {
			t.Fatalf("all-zero row quantized to %v", dst[:4])
		}
	}
	w := []float32{0.1, -0.1, 0.01, 0.3, -0.5, 0}
	q := make([]float32, len(w))
	s := quantWeight(q, w) // mean |w| = 1/6
	for i, v := range w {
		code := ternary(v / s)
		if q[i] != float32(code)*s {
			t.Fatalf("quantWeight[%d] = %v, want %v", i, q[i], float32(code)*s)
		}
	}
	if ternary(0.5) != 0 || ternary(1.5) != 1 || ternary(-7) != -1 || ternary(-0.6) != -1 {
		t.Fatal("ternary rounding")
	}
}

// TestSameResultAnyThreadCount: cpu's pool splits the work differently for every thread count (chunks taken
// from a counter), yet the loss and every gradient are the same bits.
func TestSameResultAnyThreadCount(t *testing.T) {
	c := tinyConfig()
	a := newTestNet(t, c, true, 1)
	la := a.lossGrad()
	b := newTestNet(t, c, true, 3)
	if lb := b.lossGrad(); la != lb {
		t.Fatalf("losses differ: 1 thread %v, 3 threads %v", la, lb)
	}
	for i := range a.grads {
		if a.grads[i] != b.grads[i] {
			t.Fatalf("grad %d differs: 1 thread %v, 3 threads %v", i, a.grads[i], b.grads[i])
		}
	}
}
