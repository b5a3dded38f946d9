package model

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitrepl/bitrepl/model/sample"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// greedy generates n tokens greedily and returns their ids.
func greedy(t *testing.T, m *Model, prompt []int32, opt GenOptions) ([]int32, Stats) {
	t.Helper()
	var ids []int32
	st, err := m.Generate(context.Background(), m.NewSession(0), prompt, opt, func(tok Token) error {
		if tok.ID >= 0 {
			ids = append(ids, tok.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, st
}

// A golden greedy decode of a fixed-seed tiny model: any change to the
// arithmetic of the forward pass shows up here. Refresh with -update.
func TestGoldenGreedyDecode(t *testing.T) {
	golden := filepath.Join("testdata", "golden_greedy.json")
	type run struct {
		Arch   string  `json:"arch"`
		Prompt []int32 `json:"prompt"`
		Output []int32 `json:"output"`
	}
	var got []run
	for _, arch := range []string{"bitnet", "bitnet-b1.58", "llama"} {
		m, err := Random(tinyConfig(arch), 2024, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		prompt := []int32{1, 17, 42, 5}
		ids, st := greedy(t, m, prompt, GenOptions{MaxTokens: 24})
		if st.Reason != StopLength || len(ids) != 24 {
			t.Fatalf("%s: %d tokens, reason %v", arch, len(ids), st.Reason)
		}
		got = append(got, run{arch, prompt, ids})
	}
	data, _ := json.MarshalIndent(got, "", "  ")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(string(data)) {
		t.Fatalf("greedy decode changed:\n got %s\nwant %s", data, want)
	}
}

func TestGenerateStopsOnEOS(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 7, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := greedy(t, m, []int32{1, 2, 3}, GenOptions{MaxTokens: 10})
	m.eos = []int32{ids[4]}
	first := slices.Index(ids, ids[4])
	got, st := greedy(t, m, []int32{1, 2, 3}, GenOptions{MaxTokens: 10})
	if st.Reason != StopEOS || len(got) != first {
		t.Fatalf("stopped after %d tokens (%v), want EOS after %d", len(got), st.Reason, first)
	}
	// IgnoreEOS goes on.
	got, st = greedy(t, m, []int32{1, 2, 3}, GenOptions{MaxTokens: 10, IgnoreEOS: true})
	if st.Reason != StopLength || len(got) != 10 {
		t.Fatalf("IgnoreEOS: %d tokens, %v", len(got), st.Reason)
	}
}

func TestGenerateContextLimits(t *testing.T) {
	m, err := Random(tinyConfig("bitnet"), 8, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession(8)
	emit := func(Token) error { return nil }
	if _, err := m.Generate(context.Background(), s, make([]int32, 8), GenOptions{}, emit); !errors.Is(err, ErrContextFull) {
		t.Fatalf("prompt as long as the context: %v", err)
	}
	if s.Pos() != 0 {
		t.Fatalf("refused prompt left %d positions", s.Pos())
	}
	st, err := m.Generate(context.Background(), s, []int32{1, 2, 3}, GenOptions{}, emit)
	if err != nil {
		t.Fatal(err)
	}
	if st.Reason != StopContext || st.Generated != 6 || s.Pos() != 8 {
		t.Fatalf("got %d tokens, reason %v, pos %d; want 6 tokens ending at the full context", st.Generated, st.Reason, s.Pos())
	}
}

func TestGenerateCancel(t *testing.T) {
	m, err := Random(tinyConfig("bitnet"), 9, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := m.NewSession(0)
	n := 0
	st, err := m.Generate(ctx, s, []int32{1, 2}, GenOptions{}, func(Token) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || st.Reason != StopCanceled || st.Generated != 3 {
		t.Fatalf("err %v, reason %v, %d tokens", err, st.Reason, st.Generated)
	}
	// Every emitted token was evaluated: the session holds the prompt and
	// the 3 tokens, so the conversation can go on from what the user saw.
	if s.Pos() != 5 {
		t.Fatalf("session at %d after cancel, want 5", s.Pos())
	}
	// And it can go on.
	if _, err := s.Forward([]int32{5}); err != nil {
		t.Fatal(err)
	}
}

func TestSeededSamplingIsReproducible(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 10, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The random tied-embedding model gives the last input token a logit
	// near 140 and the rest a spread of ~20: temperature 60 makes the draw
	// diverse enough that two seeds differ.
	opt := GenOptions{MaxTokens: 16, Sampling: sample.Params{Temperature: 60, TopK: 80, Seed: 99}}
	a, _ := greedy(t, m, []int32{4, 5}, opt)
	b, _ := greedy(t, m, []int32{4, 5}, opt)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different tokens:\n%v\n%v", a, b)
	}
	opt.Sampling.Seed = 100
	c, _ := greedy(t, m, []int32{4, 5}, opt)
	if slices.Equal(a, c) {
		t.Fatalf("different seeds gave the same 16 tokens: %v", a)
	}
}

// fakeDecoder maps ids to fixed strings, for the streaming logic.
type fakeDecoder []string

func (f fakeDecoder) Add(id int32) string { return f[id] }

func TestTextStreamHoldsBackStopStrings(t *testing.T) {
	words := fakeDecoder{"Hello", " there", "\nU", "ser", ":", " more", "\nUnder"}
	for _, tc := range []struct {
		ids     []int32
		emitted string
		stopped bool
	}{
		{[]int32{0, 1, 2, 3, 4, 5}, "Hello there", true}, // "\nUser:" split over three tokens
		{[]int32{0, 2, 1}, "Hello\nU there", false},      // a false start is released
		{[]int32{0, 6, 1}, "Hello\nUnder there", false},  // a prefix that diverges
		{[]int32{2, 3, 4}, "", true},                     // stop string at the very start
	} {
		ts := textStream{d: words, stops: []string{"\nUser:"}}
		var out strings.Builder
		stopped := false
		for _, id := range tc.ids {
			chunk, s := ts.add(id)
			out.WriteString(chunk)
			if s {
				stopped = true
				break
			}
		}
		if !stopped {
			out.WriteString(ts.flush())
		}
		if out.String() != tc.emitted || stopped != tc.stopped {
			t.Errorf("%v: emitted %q (stopped %v), want %q (%v)", tc.ids, out.String(), stopped, tc.emitted, tc.stopped)
		}
		if stopped && ts.text() != tc.emitted {
			t.Errorf("%v: text %q, want %q", tc.ids, ts.text(), tc.emitted)
		}
	}
}

func TestPerplexityOfUniformModel(t *testing.T) {
	m, err := Random(tinyConfig("bitnet"), 12, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Zero the final norm: every logit is 0, the distribution uniform, and the
	// perplexity exactly the vocabulary size.
	clear(m.outNorm)
	r, err := m.PerplexityTokens(context.Background(), []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tokens != 7 { // windows [1..4] [5..8] [9,10]: 3 + 3 + 1 predictions
		t.Fatalf("scored %d tokens, want 7", r.Tokens)
	}
	if p := r.PPL(); p < 95.999 || p > 96.001 {
		t.Fatalf("ppl %v, want 96", p)
	}
}

// softmaxAt (SIMD exp) gives the probability the float64 softmax gives, on a
// vocabulary-sized row, and NaN for NaN logits.
func TestSoftmaxAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	logits := make([]float32, 128256)
	for i := range logits {
		logits[i] = float32(rng.NormFloat64() * 4)
	}
	logits[77] = 25
	mx := float64(25)
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	buf := make([]float32, len(logits))
	for _, id := range []int32{77, 0, 1000, 128255} {
		want := math.Exp(float64(logits[id])-mx) / sum
		if got := float64(softmaxAt(buf, logits, id)); math.Abs(got-want) > 1e-6*want+1e-30 {
			t.Errorf("id %d: %g, want %g", id, got, want)
		}
	}
	logits[5] = float32(math.NaN())
	if p := softmaxAt(buf, logits, 77); !math.IsNaN(float64(p)) {
		t.Errorf("NaN logits: %v", p)
	}
}

// BenchmarkSoftmaxAt: a generated token's probability over a 128K
// vocabulary, beside the float64 math.Exp loop it replaced.
func BenchmarkSoftmaxAt(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	logits := make([]float32, 128256)
	for i := range logits {
		logits[i] = float32(rng.NormFloat64() * 4)
	}
	buf := make([]float32, len(logits))
	b.Run("simd", func(b *testing.B) {
		for b.Loop() {
			softmaxAt(buf, logits, 7)
		}
	})
	b.Run("math.Exp", func(b *testing.B) {
		for b.Loop() {
			mx := float32(math.Inf(-1))
			for _, v := range logits {
				mx = max(mx, v)
			}
			var sum float64
			for _, v := range logits {
				sum += math.Exp(float64(v - mx))
			}
			_ = float32(math.Exp(float64(logits[7]-mx)) / sum)
		}
	})
}

// Stats says where the time of the generated tokens went (run --timings):
// each token's evaluation but the last's in Steps, the time in emit in Emit,
// the sampling around them in Sampling. The slow parts here are sleeps, so
// only lower bounds are checked.
func TestGenerateTimings(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 7, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n, stepSleep, emitSleep = 5, 3 * time.Millisecond, 2 * time.Millisecond
	opt := GenOptions{MaxTokens: n, IgnoreEOS: true, Step: func(s *Session, id int32) ([]float32, error) {
		time.Sleep(stepSleep)
		return s.Forward([]int32{id})
	}}
	st, err := m.Generate(context.Background(), m.NewSession(0), []int32{1, 2, 3}, opt, func(Token) error {
		time.Sleep(emitSleep)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Generated != n || len(st.Steps) != n-1 {
		t.Fatalf("%d tokens, %d steps; want %d and %d", st.Generated, len(st.Steps), n, n-1)
	}
	for i, d := range st.Steps {
		if d < stepSleep {
			t.Errorf("step %d took %v, less than its evaluation's sleep %v", i, d, stepSleep)
		}
	}
	if st.Emit < n*emitSleep {
		t.Errorf("Emit %v, less than the %d emits' sleeps", st.Emit, n)
	}
	if st.Sampling <= 0 {
		t.Errorf("Sampling %v", st.Sampling)
	}
	if parts := st.Sampling + st.Emit + sum(st.Steps); parts > st.FirstToken+st.GenTime {
		t.Errorf("sampling %v + emit %v + steps %v add up to more than the generation, %v", st.Sampling, st.Emit, sum(st.Steps), st.FirstToken+st.GenTime)
	}
}

func sum(d []time.Duration) time.Duration {
	var t time.Duration
	for _, x := range d {
		t += x
	}
	return t
}

// Stats.Moving is the time the generation's evaluations spent moving the
// weights into huge pages (here a fake move on a fake clock: each
// evaluation takes 30 ms of it, each piece 1 ms).
func TestGenerateCountsTheWeightMove(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 7, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeMove{now: time.Unix(0, 0), perPiece: time.Millisecond, left: 1000}
	m.move = weightMove{pace: f.pace, clock: func() time.Time { return f.now }}
	opt := GenOptions{MaxTokens: 20, IgnoreEOS: true, Step: func(s *Session, id int32) ([]float32, error) {
		f.now = f.now.Add(30 * time.Millisecond)
		return s.Forward([]int32{id})
	}}
	st, err := m.Generate(context.Background(), m.NewSession(0), []int32{1, 2, 3}, opt, func(Token) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Duration(f.moved) * f.perPiece; f.moved == 0 || st.Moving != want {
		t.Errorf("Moving %v after %d pieces of %v", st.Moving, f.moved, f.perPiece)
	}
}
