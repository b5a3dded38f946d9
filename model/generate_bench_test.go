package model

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"slices"
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

// BenchmarkGenerateTokens compares, token by token in one process, what a
// token of `bitrepl run` takes with what bench's tg loop measures for one:
// Generate with run's default sampling, writing its text to /dev/null as run
// writes to stdout, on a 2B-4T-shaped model (BITREPL_BENCH_GGUF, or
// big2B4T), with a Step that evaluates bench's token (on a second session,
// as Bench does) right before or right after (alternately) Generate's own.
// A run token is its forward pass plus what Generate did since the last
// one (sampling, the probability, detokenizing, emit); the figures are
// medians over the tokens: run/bench is the speed ratio (1 when run's
// tokens are as fast), overhead-ms the time outside the forward pass.
func BenchmarkGenerateTokens(b *testing.B) {
	tok, _ := refTokenizer(b, "llama3")
	m, err := Load(big2B4T(b))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	m.WaitMemory()
	m.Tokenizer = tok
	const gen = 128
	s, s0 := m.NewSession(gen+8), m.NewSession(gen+8)
	out, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	var ratios, over, runMs, benchMs []float64
	var last time.Time // when Generate's last forward pass returned
	one := []int32{0}
	i := 0
	opt := GenOptions{MaxTokens: gen, IgnoreEOS: true, Sampling: runSampling,
		Step: func(s *Session, id int32) ([]float32, error) {
			enter := time.Now()
			benchToken := func() time.Duration {
				one[0] = int32(i % m.Config.VocabSize)
				start := time.Now()
				if _, err := s0.Forward(one); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			var tb time.Duration
			if i%2 == 0 {
				tb = benchToken()
			}
			start := time.Now()
			l, err := s.Forward([]int32{id})
			tr := time.Since(start)
			if i%2 == 1 {
				tb = benchToken()
			}
			if !last.IsZero() {
				o := enter.Sub(last)
				ratios = append(ratios, tb.Seconds()/(tr+o).Seconds())
				over = append(over, o.Seconds()*1000)
				runMs = append(runMs, (tr+o).Seconds()*1000)
				benchMs = append(benchMs, tb.Seconds()*1000)
			}
			i++
			last = time.Now()
			return l, err
		}}
	ctx := context.Background()
	for b.Loop() {
		s0.Reset()
		last = time.Time{}
		if _, err := m.Generate(ctx, s, []int32{1, 2, 3, 4}, opt, func(t Token) error {
			_, err := io.WriteString(out, t.Text)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		s.Reset()
	}
	b.ReportMetric(Median(ratios), "run/bench")
	b.ReportMetric(slices.Min(ratios), "run/bench-min")
	b.ReportMetric(slices.Max(ratios), "run/bench-max")
	b.ReportMetric(Median(over), "overhead-ms")
	b.ReportMetric(Median(runMs), "ms/token-run")
	b.ReportMetric(Median(benchMs), "ms/token-bench")
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
