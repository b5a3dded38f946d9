package model

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bitrepl/bitrepl/model/sample"
)

// runSampling is `bitrepl run`'s default sampling (repl.DefaultSettings).
var runSampling = sample.Params{Temperature: 0.7, TopK: 40, TopP: 0.95, RepeatPenalty: 1, RepeatLastN: 64}

// BenchmarkGenerateOverhead measures what Generate costs per token beyond
// the forward pass, on the 2B-4T vocabulary (128256) with the LLaMA-3
// tokenizer and run's default sampling.
//
// "step": Generate with a Step that returns the same logits every time, so
// only what Generate adds is timed: sampling, the token's probability,
// detokenizing and the bookkeeping; "argmax" is what bench's loop would
// add in its place. "2b4t": a 2B-4T-shaped model (see big2B4T), Generate
// beside a loop of Forward and argmax over the same tokens, interleaved in
// every op, reporting both and the overhead in percent.
func BenchmarkGenerateOverhead(b *testing.B) {
	tok, _ := refTokenizer(b, "llama3")
	const vocab, gen = 128256, 128
	rng := rand.New(rand.NewPCG(3, 4))
	logits := make([]float32, vocab)
	for i := range logits {
		logits[i] = float32(rng.NormFloat64() * 3)
	}
	b.Run("step", func(b *testing.B) {
		// a model that is all vocabulary: the prefill of each op (its last
		// prompt token) costs little beside the tokens
		cfg := Shapes["tiny"]
		cfg.VocabSize, cfg.Dim, cfg.FFNDim, cfg.Layers, cfg.Heads, cfg.KVHeads, cfg.HeadDim = vocab, 32, 64, 1, 2, 1, 16
		m, err := Random(cfg, 1, tok, nil)
		if err != nil {
			b.Fatal(err)
		}
		s := m.NewSession(gen + 8)
		opt := GenOptions{MaxTokens: gen, IgnoreEOS: true, Sampling: runSampling,
			Step: func(*Session, int32) ([]float32, error) { return logits, nil }}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Generate(ctx, s, []int32{1, 2}, opt, func(Token) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*gen), "µs/token")
	})
	b.Run("argmax", func(b *testing.B) {
		for b.Loop() {
			for range gen {
				_ = argmaxF32(logits)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*gen), "µs/token")
	})
	b.Run("2b4t", func(b *testing.B) {
		m, err := Load(big2B4T(b))
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		m.WaitMemory()
		m.Tokenizer = tok
		s := m.NewSession(gen + 8)
		prompt := []int32{1, 2, 3, 4}
		opt := GenOptions{MaxTokens: gen, IgnoreEOS: true, Sampling: runSampling}
		ctx := context.Background()
		var tGen, tFwd time.Duration
		generate := func() {
			st, err := m.Generate(ctx, s, prompt, opt, func(Token) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			tGen += st.GenTime
			s.Reset()
		}
		forward := func() {
			l, err := s.Forward(prompt)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now() // from the first token on, as Stats.GenTime
			id := argmaxF32(l)
			for range gen - 1 {
				if l, err = s.Forward([]int32{id}); err != nil {
					b.Fatal(err)
				}
				id = argmaxF32(l)
			}
			tFwd += time.Since(start)
			s.Reset()
		}
		i := 0
		for b.Loop() {
			if i%2 == 0 { // alternate which goes first
				generate()
				forward()
			} else {
				forward()
				generate()
			}
			i++
		}
		per := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N*(gen-1)) }
		b.ReportMetric(per(tGen), "ms/token-generate")
		b.ReportMetric(per(tFwd), "ms/token-forward")
		b.ReportMetric(100*(tGen.Seconds()/tFwd.Seconds()-1), "%-overhead")
	})
}

func argmaxF32(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}
