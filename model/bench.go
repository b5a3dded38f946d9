package model

import (
	"context"

	"fmt"
	"github.com/bitrepl/bitrepl/metal/cpu"
	"math/rand/v2"
	"slices"
	"time"
)

// BenchOptions sets up a speed measurement with llama-bench's meaning.
type BenchOptions struct {
	Prompt int // pp: tokens evaluated as one prompt (llama-bench -p); 0 skips
	Gen    int // tg: tokens generated one at a time from an empty context (llama-bench -n); 0 skips
	Reps   int // repetitions (llama-bench -r); the median is reported
	Depth  int // tokens already in the KV cache before each pp and tg run (llama-bench -d), not timed
	Device Device
	// BandwidthBytes > 0 measures the read bandwidth after every tg run,
	// summing a buffer of that many bytes once (cpu.BandwidthProbe).
	BandwidthBytes int
}

// BenchResult holds the tokens per second of every repetition.
type BenchResult struct {
	Prompt, Gen int
	PP, TG      []float64 // tokens/s per repetition
	// With a Depth, the same runs at depth 0, interleaved with them: each
	// pp at depth 0 right before the one at depth, each tg token at depth 0
	// right before the one at depth, so that both see the machine alike (a
	// shared host's memory bandwidth can move 2x within a minute).
	PP0, TG0      []float64
	Bandwidth     []float64 // read bandwidth in bytes/s after each tg run (BandwidthBytes)
	BytesPerToken int64     // weight bytes a generated token streams (Model.BytesPerToken)
}

// BytesPerToken is what one generated token reads of the weights: every
// projection and the LM head (the embedding lookup reads one row).
func (m *Model) BytesPerToken() int64 {
	n := int64(len(m.output.Data))
	for _, l := range m.layers {
		for _, w := range []*cpu.Matrix{l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down} {
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
// empty context. With Depth, each run starts after that many tokens in the
// context instead (evaluated before the clock starts), and the same runs at
// depth 0 are interleaved with them (PP0, TG0). A one-token warm-up
// runs first. Token values do not matter for speed. It first waits for the
// weights to settle (WaitMemory).
func Bench(ctx context.Context, m *Model, opt BenchOptions) (BenchResult, error) {
	m.WaitMemory() // the steady state: weights in huge pages where they go there
	r := BenchResult{Prompt: opt.Prompt, Gen: opt.Gen, BytesPerToken: m.BytesPerToken()}
	reps := max(opt.Reps, 1)
	need := opt.Depth + max(opt.Prompt, opt.Gen)
	if opt.Depth < 0 {
		return r, fmt.Errorf("bench: negative depth %d", opt.Depth)
	}
	s, _, err := m.NewSessionOn(opt.Device, need+1)
	if err != nil {
		return r, err
	}
	var s0 *Session // depth 0, interleaved with s
	if opt.Depth > 0 {
		if s0, _, err = m.NewSessionOn(opt.Device, max(opt.Prompt, opt.Gen)+1); err != nil {
			return r, err
		}
	}
	if s.ContextLen() < need {
		return r, fmt.Errorf("bench: %d tokens (depth %d) do not fit the model's context (%d)", need, opt.Depth, s.ContextLen())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := make([]int32, opt.Prompt)
	for i := range prompt {
		prompt[i] = int32(rng.IntN(m.Config.VocabSize))
	}
	depth := make([]int32, opt.Depth)
	for i := range depth {
		depth[i] = int32(rng.IntN(m.Config.VocabSize))
	}
	// fill leaves the depth tokens, and only them, in the session: it
	// evaluates them once, in batches that may be stopped between, and
	// later truncates the cache back to them (the same cached rows).
	filled := false
	fill := func() error {
		if filled {
			s.Truncate(len(depth))
			return nil
		}
		s.Reset()
		filled = true
		for i := 0; i < len(depth); i += maxBatch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := s.Forward(depth[i:min(i+maxBatch, len(depth))]); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := s.Forward([]int32{0}); err != nil {
		return r, err
	}
	one := []int32{0}
	var probe *cpu.BandwidthProbe
	if opt.BandwidthBytes > 0 && opt.Gen > 0 {
		probe = cpu.NewBandwidthProbe(opt.BandwidthBytes)
		defer probe.Close()
	}
	for range reps {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if opt.Prompt > 0 {
			if err := fill(); err != nil {
				return r, err
			}
			if s0 != nil {
				s0.Reset()
				start := time.Now()
				if _, err := s0.Forward(prompt); err != nil {
					return r, err
				}
				r.PP0 = append(r.PP0, float64(opt.Prompt)/time.Since(start).Seconds())
			}
			start := time.Now()
			if _, err := s.Forward(prompt); err != nil {
				return r, err
			}
			r.PP = append(r.PP, float64(opt.Prompt)/time.Since(start).Seconds())
		}
		if opt.Gen > 0 {
			if err := fill(); err != nil {
				return r, err
			}
			if s0 != nil {
				s0.Reset()
			}
			var took, took0 time.Duration
			for i := range opt.Gen {
				if err := ctx.Err(); err != nil {
					return r, err
				}
				one[0] = int32(i % m.Config.VocabSize)
				if s0 != nil {
					start := time.Now()
					if _, err := s0.Forward(one); err != nil {
						return r, err
					}
					took0 += time.Since(start)
				}
				start := time.Now()
				if _, err := s.Forward(one); err != nil {
					return r, err
				}
				took += time.Since(start)
			}
			r.TG = append(r.TG, float64(opt.Gen)/took.Seconds())
			if s0 != nil {
				r.TG0 = append(r.TG0, float64(opt.Gen)/took0.Seconds())
			}
			if probe != nil {
				r.Bandwidth = append(r.Bandwidth, probe.Read(cpu.Threads()))
			}
		}
	}
	return r, nil
}
