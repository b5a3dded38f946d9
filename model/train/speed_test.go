package train

import (
	"testing"
	"time"
)

// TestStepSpeed reports the training throughput of the default model shape (skipped with -short).
func TestStepSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("speed report")
	}
	c := DefaultModel()
	np := c.Params()
	params, grads := make([]float32, np), make([]float32, np)
	initParams(c, params, 1)
	n := newNet(c, true, 4, c.Context, 2, params, grads)
	for i := range n.tokens {
		n.tokens[i] = int32(i * 7 % c.Vocab)
		n.target[i] = int32(i * 13 % c.Vocab)
	}
	n.lossGrad()
	t0 := time.Now()
	reps := 3
	var tp, tf, tb time.Duration
	for i := 0; i < reps; i++ {
		a := time.Now()
		n.prepare()
		b := time.Now()
		n.forward(1 / float32(n.N))
		c := time.Now()
		n.backward()
		tp += b.Sub(a)
		tf += c.Sub(b)
		tb += time.Since(c)
	}
	el := time.Since(t0).Seconds()
	t.Logf("params %d: %.0f tokens/s (prepare %v forward %v backward %v per %d tokens)", np, float64(reps*n.N)/el, tp/3, tf/3, tb/3, n.N)
}
