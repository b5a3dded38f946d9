package model

import (
	"context"

	"fmt"
	"github.com/bitrepl/bitrepl/metal"
	"math/rand/v2"
	"slices"
	"time"
)

// BenchOptions sets up a speed measurement with llama-bench's meaning.
type BenchOptions struct {
	Prompt int // pp: tokens evaluated as one prompt (llama-bench -p); 0 skips
	Gen    int // tg: tokens generated one at a time from an empty context (llama-bench -n); 0 skips
	Reps   int // repetitions (llama-bench -r); the median is reported
	Device Device
}

// BenchResult holds the tokens per second of every repetition.
type BenchResult struct {
	Prompt, Gen   int
	PP, TG        []float64 // tokens/s per repetition
	BytesPerToken int64     // weight bytes a generated token streams (Model.BytesPerToken)
}

// BytesPerToken is what one generated token reads of the weights: every
// projection and the LM head (the embedding lookup reads one row).
func (m *Model) BytesPerToken() int64 {
	n := int64(len(m.output.Data))
	for _, l := range m.layers {
		for _, w := range []*metal.Matrix{l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down} {
			n += int64(len(w.Data))
		}
	}
	return n
}

// Median of v (0 for none).
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r BenchResult) String() string {
	out := ""
	if r.Prompt > 0 {
		out += fmt.Sprintf("pp%d %.2f tok/s", r.Prompt, Median(r.PP))
	}
	if r.Gen > 0 {
		if out != "" {
			out += " · "
		}
		out += fmt.Sprintf("tg%d %.2f tok/s", r.Gen, Median(r.TG))
	}
	return out + fmt.Sprintf(" (median of %d)", max(len(r.PP), len(r.TG)))
}

// Bench measures prompt processing and generation as llama-bench does: pp
// evaluates Prompt random tokens as one batch in an empty context; tg
// evaluates Gen tokens one at a time, each at the next position, from an
// empty context. A one-token warm-up runs first. Token values do not matter
// for speed.
func Bench(ctx context.Context, m *Model, opt BenchOptions) (BenchResult, error) {
	r := BenchResult{Prompt: opt.Prompt, Gen: opt.Gen, BytesPerToken: m.BytesPerToken()}
	reps := max(opt.Reps, 1)
	s, _, err := m.NewSessionOn(opt.Device, max(opt.Prompt, opt.Gen)+1)
	if err != nil {
		return r, err
	}
	if s.ContextLen() < max(opt.Prompt, opt.Gen) {
		return r, fmt.Errorf("bench: %d tokens do not fit the model's context (%d)", max(opt.Prompt, opt.Gen), s.ContextLen())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := make([]int32, opt.Prompt)
	for i := range prompt {
		prompt[i] = int32(rng.IntN(m.Config.VocabSize))
	}
	if _, err := s.Forward([]int32{0}); err != nil {
		return r, err
	}
	one := []int32{0}
	for range reps {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if opt.Prompt > 0 {
			s.Reset()
			start := time.Now()
			if _, err := s.Forward(prompt); err != nil {
				return r, err
			}
			r.PP = append(r.PP, float64(opt.Prompt)/time.Since(start).Seconds())
		}
		if opt.Gen > 0 {
			s.Reset()
			start := time.Now()
			for i := range opt.Gen {
				if err := ctx.Err(); err != nil {
					return r, err
				}
				one[0] = int32(i % m.Config.VocabSize)
				if _, err := s.Forward(one); err != nil {
					return r, err
				}
			}
			r.TG = append(r.TG, float64(opt.Gen)/time.Since(start).Seconds())
		}
	}
	return r, nil
}
