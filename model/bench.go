package model

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// BenchOptions sets up a speed measurement with llama-bench's meaning.
type BenchOptions struct {
	Prompt int // pp: tokens evaluated as one prompt (llama-bench -p); 0 skips
	Gen    int // tg: tokens generated one at a time from an empty context (llama-bench -n); 0 skips
	Reps   int // repetitions (llama-bench -r); the median is reported
	Depth  int // tokens already in the KV cache before each pp and tg run (llama-bench -d), not timed
	Device Device
	// BandwidthBytes > 0 interleaves read-bandwidth probes with the tg
	// tokens: after every second token, a read of a buffer of that many
	// bytes (cpu.BandwidthProbe: the decode threads, huge pages), timed
	// apart from the tokens (see BenchResult.Pairs).
	BandwidthBytes int

	now func() time.Time // the clock: time.Now when nil
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
	BytesPerToken int64 // weight bytes a generated token streams (Model.BytesPerToken)

	// With BandwidthBytes, a probe reads the machine's memory right after
	// every second tg token (the 2nd, 4th, ...): Pairs holds that token's
	// rate and the probe's, a few milliseconds apart, so that their ratio
	// holds on a host whose bandwidth moves 2-8x from second to second.
	Pairs []BandwidthPair
	// AfterProbe is, for every probe but a run's last, the speed of the
	// token right after it over the speed of the token after that one,
	// which follows a token: 1 when the probes do not slow the tokens
	// around them (tg counts both kinds).
	AfterProbe []float64
}

// BandwidthPair is a generated token and the bandwidth probe right after it.
type BandwidthPair struct {
	Token float64 // bytes/s the token read: the weights and its KV cache rows
	Probe float64 // bytes/s the probe read
}

// Fraction is the share of the probe's bandwidth the token reached.
func (p BandwidthPair) Fraction() float64 { return p.Token / p.Probe }

// Spread is the median of some samples and their range.
type Spread struct{ Median, Min, Max float64 }

// SpreadOf returns v's median and range (zeros for none).
func SpreadOf(v []float64) Spread {
	if len(v) == 0 {
		return Spread{}
	}
	return Spread{Median(v), slices.Min(v), slices.Max(v)}
}

// Bandwidth returns the probes' rates, the paired tokens' rates and the
// fractions token/probe, pair by pair, as medians with their ranges.
func (r BenchResult) Bandwidth() (probe, token, fraction Spread) {
	var p, t, f []float64
	for _, x := range r.Pairs {
		p, t, f = append(p, x.Probe), append(t, x.Token), append(f, x.Fraction())
	}
	return SpreadOf(p), SpreadOf(t), SpreadOf(f)
}

// kvBytesAt is what the token at position pos reads of a CPU session's KV
// cache (of type m.KVCache): the keys and values of every position up to
// and including its own.
func (m *Model) kvBytesAt(pos int) int64 {
	c := m.Config
	return int64(c.Layers) * int64(c.KVHeads) * int64(m.KVCache.RowBytes(c.HeadDim)) * 2 * int64(pos+1)
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
// weights to settle (WaitMemory). Bandwidth probes (BandwidthBytes) run
// between the tg tokens; the tg rates count the tokens' time only.
func Bench(ctx context.Context, m *Model, opt BenchOptions) (BenchResult, error) {
	now := opt.now
	if now == nil {
		now = time.Now
	}
	since := func(t time.Time) time.Duration { return now().Sub(t) }
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
				start := now()
				if _, err := s0.Forward(prompt); err != nil {
					return r, err
				}
				r.PP0 = append(r.PP0, float64(opt.Prompt)/since(start).Seconds())
			}
			start := now()
			if _, err := s.Forward(prompt); err != nil {
				return r, err
			}
			r.PP = append(r.PP, float64(opt.Prompt)/since(start).Seconds())
		}
		if opt.Gen > 0 {
			if err := fill(); err != nil {
				return r, err
			}
			if s0 != nil {
				s0.Reset()
			}
			var took, took0 time.Duration
			var afterProbe time.Duration // the last token's time, when it followed a probe
			for i := range opt.Gen {
				if err := ctx.Err(); err != nil {
					return r, err
				}
				one[0] = int32(i % m.Config.VocabSize)
				if s0 != nil {
					start := now()
					if _, err := s0.Forward(one); err != nil {
						return r, err
					}
					took0 += since(start)
				}
				start := now()
				if _, err := s.Forward(one); err != nil {
					return r, err
				}
				t := since(start)
				took += t
				if probe == nil {
					continue
				}
				if afterProbe > 0 {
					r.AfterProbe = append(r.AfterProbe, t.Seconds()/afterProbe.Seconds())
					afterProbe = 0
				}
				if i%2 == 1 {
					bytes := r.BytesPerToken + m.kvBytesAt(opt.Depth+i)
					start := now()
					probe.Read()
					r.Pairs = append(r.Pairs, BandwidthPair{
						Token: float64(bytes) / t.Seconds(),
						Probe: float64(probe.Len()) / since(start).Seconds()})
				} else if i > 0 {
					afterProbe = t
				}
			}
			r.TG = append(r.TG, float64(opt.Gen)/took.Seconds())
			if s0 != nil {
				r.TG0 = append(r.TG0, float64(opt.Gen)/took0.Seconds())
			}
		}
	}
	return r, nil
}
