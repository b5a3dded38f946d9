package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// logitsOf returns logits whose softmax is probs.
func logitsOf(probs ...float64) []float32 {
	l := make([]float32, len(probs))
	for i, p := range probs {
		l[i] = float32(math.Log(p))
	}
	return l
}

// freqs draws n tokens and returns the observed frequencies.
func freqs(s *Sampler, logits []float32, recent []int32, n int) []float64 {
	f := make([]float64, len(logits))
	for range n {
		f[s.Sample(logits, recent)]++
	}
	for i := range f {
		f[i] /= float64(n)
	}
	return f
}

// checkDist fails if an observed frequency is more than 5 standard errors from want (and exactly 0 where want is 0).
func checkDist(t *testing.T, got, want []float64, n int) {
	t.Helper()
	for i := range want {
		if want[i] == 0 {
			if got[i] != 0 {
				t.Errorf("token %d drawn with frequency %v, want never", i, got[i])
			}
			continue
		}
		se := math.Sqrt(want[i] * (1 - want[i]) / float64(n))
		if math.Abs(got[i]-want[i]) > 5*se+1e-12 {
			t.Errorf("token %d: frequency %.4f, want %.4f (±%.4f)", i, got[i], want[i], 5*se)
		}
	}
}

func TestGreedy(t *testing.T) {
	s := New(5, Params{})
	for _, tc := range []struct {
		logits []float32
		want   int32
	}{
		{[]float32{0, 3, 1, 3, -1}, 1}, // tie -> lowest id
		{[]float32{float32(math.NaN()), -1, -2, float32(math.NaN()), -3}, 1},
		{[]float32{0, 1, float32(math.Inf(1)), float32(math.Inf(1)), 2}, 2},
		{[]float32{float32(math.Inf(-1)), float32(math.Inf(-1)), float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(-1))}, 0},
		{[]float32{-5, -4, -3, -2, -1}, 4},
	} {
		for range 3 {
			if got := s.Sample(tc.logits, nil); got != tc.want {
				t.Errorf("Sample(%v) = %d, want %d", tc.logits, got, tc.want)
			}
		}
	}
}

func TestTopK1IsGreedy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := New(100, Params{Temperature: 1.5, TopK: 1, Seed: 7})
	g := New(100, Params{})
	l := make([]float32, 100)
	for range 200 {
		for i := range l {
			l[i] = float32(rng.NormFloat64())
		}
		l[rng.IntN(100)] = l[rng.IntN(100)] // occasional ties
		if a, b := s.Sample(l, nil), g.Sample(l, nil); a != b {
			t.Fatalf("top-k 1 drew %d, greedy %d", a, b)
		}
	}
}

const draws = 40000

func TestSoftmax(t *testing.T) {
	probs := []float64{0.4, 0.3, 0.2, 0.1, 0}
	s := New(5, Params{Temperature: 1, Seed: 1})
	checkDist(t, freqs(s, logitsOf(probs...), nil, draws), probs, draws)
}

func TestTopK(t *testing.T) {
	s := New(5, Params{Temperature: 1, TopK: 2, Seed: 2})
	// Tokens 1 and 3 are the two largest; renormalised 0.3/0.5 and 0.2/0.5.
	got := freqs(s, logitsOf(0.15, 0.3, 0.15, 0.2, 0.2-1e-3), nil, draws)
	checkDist(t, got, []float64{0, 0.3 / 0.5, 0, 0.2 / 0.5, 0}, draws)
	// Ties at the boundary go to the lower id.
	s = New(4, Params{Temperature: 1, TopK: 2, Seed: 3})
	got = freqs(s, []float32{1, 2, 1, 1}, nil, draws)
	e := math.Exp(-1)
	checkDist(t, got, []float64{e / (1 + e), 1 / (1 + e), 0, 0}, draws)
}

func TestTopP(t *testing.T) {
	probs := []float64{0.1, 0.5, 0.05, 0.3, 0.05}
	for _, tc := range []struct {
		p          float32
		want, topK []float64 // topK: after top-k 3, which renormalises {1, 3, 0} to 0.5/0.9, 0.3/0.9, 0.1/0.9 first
	}{
		{0.45, []float64{0, 1, 0, 0, 0}, []float64{0, 1, 0, 0, 0}},                                         // 0.5 alone reaches 0.45
		{0.75, []float64{0, 0.5 / 0.8, 0, 0.3 / 0.8, 0}, []float64{0, 0.5 / 0.8, 0, 0.3 / 0.8, 0}},         // 0.5+0.3
		{0.85, []float64{0.1 / 0.9, 0.5 / 0.9, 0, 0.3 / 0.9, 0}, []float64{0, 0.5 / 0.8, 0, 0.3 / 0.8, 0}}, // 0.5+0.3+0.1; after top-k 0.89 >= 0.85
		{0.99, []float64{0.1, 0.5, 0.05, 0.3, 0.05}, []float64{0.1 / 0.9, 0.5 / 0.9, 0, 0.3 / 0.9, 0}},     // everything
	} {
		s := New(5, Params{Temperature: 1, TopP: tc.p, Seed: 4})
		got := freqs(s, logitsOf(probs...), nil, draws)
		checkDist(t, got, tc.want, draws)
		// Top-p applies to the softmax of what top-k left.
		s = New(5, Params{Temperature: 1, TopP: tc.p, TopK: 3, Seed: 4})
		checkDist(t, freqs(s, logitsOf(probs...), nil, draws), tc.topK, draws)
	}
}

func TestMinP(t *testing.T) {
	probs := []float64{0.5, 0.3, 0.15, 0.05}
	// threshold 0.2*0.5 = 0.1: token 3 (0.05) goes.
	s := New(4, Params{Temperature: 1, MinP: 0.2, Seed: 5})
	checkDist(t, freqs(s, logitsOf(probs...), nil, draws), []float64{0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}, draws)
	// threshold 0.7*0.5 = 0.35: only token 0.
	s = New(4, Params{Temperature: 1, MinP: 0.7, Seed: 5})
	checkDist(t, freqs(s, logitsOf(probs...), nil, draws), []float64{1, 0, 0, 0}, draws)
	// min-p is relative to the max after top-p: top-p 0.6 keeps {0, 1}; min-p 0.5 then drops nothing more.
	s = New(4, Params{Temperature: 1, TopP: 0.6, MinP: 0.5, Seed: 5})
	checkDist(t, freqs(s, logitsOf(probs...), nil, draws), []float64{0.5 / 0.8, 0.3 / 0.8, 0, 0}, draws)
}

func TestTemperature(t *testing.T) {
	l := []float32{0, float32(math.Log(4))}
	for _, tc := range []struct {
		temp float32
		want []float64
	}{
		{1, []float64{0.2, 0.8}},
		{2, []float64{1.0 / 3, 2.0 / 3}},      // 4^(1/2) = 2
		{0.5, []float64{1.0 / 17, 16.0 / 17}}, // 4^2 = 16
	} {
		s := New(2, Params{Temperature: tc.temp, Seed: 6})
		checkDist(t, freqs(s, l, nil, draws), tc.want, draws)
	}
	// Temperature comes after min-p: min-p 0.3 drops token 0 (0.2 < 0.3*0.8) even at a high temperature.
	s := New(2, Params{Temperature: 100, MinP: 0.3, Seed: 6})
	checkDist(t, freqs(s, l, nil, draws), []float64{0, 1}, draws)
}

func TestPenaltyValues(t *testing.T) {
	s := New(6, Params{RepeatPenalty: 1.25, RepeatLastN: 4})
	in := []float32{2, -2, 0, 3, 1, -1}
	copy(s.logits, in)
	s.penalize([]int32{4, 1, 0, 1, 2, 1, -1, 99}) // window: 2, 1, -1, 99 (last 4); 1 counted once
	want := []float32{2, -2 * 1.25, 0, 3, 1, -1}
	if !slices.Equal(s.logits, want) {
		t.Errorf("penalised %v, want %v", s.logits, want)
	}
	copy(s.logits, in)
	s.p.RepeatLastN = -1 // whole history
	s.penalize([]int32{0, 0, 3, 5, 1})
	want = []float32{float32(2) / 1.25, -2 * 1.25, 0, float32(3) / 1.25, 1, -1 * 1.25}
	if !slices.Equal(s.logits, want) {
		t.Errorf("penalised %v, want %v", s.logits, want)
	}
	// Off: penalty 1, penalty <= 0, window 0.
	for _, p := range []Params{{RepeatPenalty: 1, RepeatLastN: -1}, {RepeatPenalty: 0, RepeatLastN: -1}, {RepeatPenalty: 2, RepeatLastN: 0}} {
		s := New(6, p)
		copy(s.logits, in)
		s.penalize([]int32{0, 1, 2, 3})
		if !slices.Equal(s.logits, in) {
			t.Errorf("%+v changed logits to %v", p, s.logits)
		}
	}
}

func TestPenaltyInSample(t *testing.T) {
	// Greedy after the penalty; the penalty comes before top-k.
	for _, p := range []Params{{RepeatPenalty: 1.1, RepeatLastN: 64}, {Temperature: 1, TopK: 1, RepeatPenalty: 1.1, RepeatLastN: 64}} {
		s := New(4, p)
		l := []float32{2, 1.9, -1, -1.05}
		if got := s.Sample(l, []int32{0}); got != 1 { // 2/1.1 = 1.82 < 1.9
			t.Errorf("%+v: got %d, want 1", p, got)
		}
		if got := s.Sample(l, []int32{0, 1, 0, 1}); got != 0 { // 1.82 > 1.73
			t.Errorf("%+v: got %d, want 0", p, got)
		}
		if got := s.Sample([]float32{-10, -10, -1, -1.05}, []int32{2}); got != 3 { // -1.1 < -1.05
			t.Errorf("%+v: got %d, want 3", p, got)
		}
		if !slices.Equal(l, []float32{2, 1.9, -1, -1.05}) {
			t.Errorf("caller's logits modified: %v", l)
		}
	}
	// Many calls keep the stamp generation consistent, including across a wrap.
	s := New(3, Params{RepeatPenalty: 2, RepeatLastN: 1})
	s.gen = math.MaxUint32 - 2
	for i := range 6 {
		if got := s.Sample([]float32{1, 0.9, 0}, []int32{0}); got != 1 {
			t.Fatalf("call %d: got %d", i, got)
		}
	}
}

func TestNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	s := New(5, Params{Temperature: 1, TopP: 0.9, MinP: 0.01, Seed: 8})
	checkDist(t, freqs(s, []float32{nan, 1, nan, 1, float32(math.Inf(-1))}, nil, draws), []float64{0, 0.5, 0, 0.5, 0}, draws)
	checkDist(t, freqs(s, []float32{inf, 1e30, inf, nan, 0}, nil, draws), []float64{0.5, 0, 0.5, 0, 0}, draws)
	s = New(3, Params{Temperature: 0.7, TopK: 2, Seed: 8})
	if got := s.Sample([]float32{nan, nan, nan}, nil); got != 0 {
		t.Errorf("all NaN: %d", got)
	}
}

func TestReproducible(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	l := make([]float32, 1000)
	for i := range l {
		l[i] = float32(rng.NormFloat64() * 2)
	}
	p := DefaultParams()
	p.Seed = 42
	p.RepeatPenalty = 1.1
	run := func(s *Sampler) []int32 {
		var seq []int32
		for range 100 {
			seq = append(seq, s.Sample(l, seq))
		}
		return seq
	}
	a, b := run(New(1000, p)), run(New(1000, p))
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different sequences")
	}
	p.Seed = 43
	c := New(1000, p)
	if slices.Equal(a, run(c)) {
		t.Fatal("different seeds, same sequence")
	}
}

func TestNoAllocs(t *testing.T) {
	const vocab = 4096
	rng := rand.New(rand.NewPCG(5, 6))
	l := make([]float32, vocab)
	for i := range l {
		l[i] = float32(rng.NormFloat64() * 3)
	}
	recent := []int32{1, 2, 3, 2, 1, 4000}
	for _, p := range []Params{
		{},
		{Temperature: 1},
		DefaultParams(),
		{Temperature: 0.9, TopP: 0.9, MinP: 0.02, RepeatPenalty: 1.3, RepeatLastN: -1},
		{Temperature: 0.9, TopK: 50, RepeatPenalty: 1.3, RepeatLastN: 3},
	} {
		s := New(vocab, p)
		if n := testing.AllocsPerRun(100, func() { s.Sample(l, recent) }); n != 0 {
			t.Errorf("%+v: %v allocations per Sample", p, n)
		}
	}
}

func TestWrongLengthPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	New(3, Params{}).Sample([]float32{1, 2}, nil)
}

func BenchmarkSample(b *testing.B) {
	const vocab = 128256
	rng := rand.New(rand.NewPCG(5, 6))
	l := make([]float32, vocab)
	for i := range l {
		l[i] = float32(rng.NormFloat64() * 3)
	}
	for _, bc := range []struct {
		name string
		p    Params
	}{{"greedy", Params{}}, {"default", DefaultParams()}, {"topp", Params{Temperature: 0.8, TopP: 0.95}}, {"plain", Params{Temperature: 0.8}}} {
		b.Run(bc.name, func(b *testing.B) {
			s := New(vocab, bc.p)
			for b.Loop() {
				s.Sample(l, nil)
			}
		})
	}
}

// Presence and frequency penalties lower the logits of the tokens in the
// window by PresencePenalty + count*FrequencyPenalty.
func TestPresenceFrequencyPenalties(t *testing.T) {
	logits := []float32{2, 1.9, 1}
	for _, tc := range []struct {
		p      Params
		recent []int32
		want   int32
	}{
		{Params{RepeatLastN: 64}, []int32{0, 0, 0}, 0},
		{Params{RepeatLastN: 64, FrequencyPenalty: 0.1}, []int32{0, 0, 0}, 1}, // 2 - 3*0.1 < 1.9
		{Params{RepeatLastN: 64, FrequencyPenalty: 0.1}, []int32{0}, 0},       // 2 - 0.1 > 1.9
		{Params{RepeatLastN: 64, PresencePenalty: 0.05}, []int32{0, 0, 0}, 0}, // 1.95 > 1.9
		{Params{RepeatLastN: 64, PresencePenalty: 0.2}, []int32{0, 2, 7, -1}, 1},
		{Params{RepeatLastN: 1, PresencePenalty: 0.2}, []int32{0, 2}, 0},                     // 0 is out of the window
		{Params{RepeatLastN: 0, PresencePenalty: 0.2}, []int32{0}, 0},                        // no window
		{Params{RepeatLastN: 64, PresencePenalty: -1.5}, []int32{2}, 2},                      // negative: encouraged
		{Params{RepeatLastN: 64, RepeatPenalty: 1.04, PresencePenalty: 0.03}, []int32{0}, 1}, // 2/1.04 - 0.03 < 1.9
	} {
		s := New(len(logits), tc.p)
		for range 2 { // the stamps of one call do not leak into the next
			if got := s.Sample(logits, tc.recent); got != tc.want {
				t.Errorf("%+v, recent %v: %d, want %d", tc.p, tc.recent, got, tc.want)
			}
		}
	}
}

// selectTop ranks the k best candidates as a full sort by (logit descending, id ascending) does,
// ties included, skipping -Inf and NaN, and counts the candidates.
func TestSelectTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, n := range []int{2, 3, 10, 41, 44, 1000} {
		for _, k := range []int{1, 2, 5, 40, 999} {
			if k >= n {
				continue
			}
			s := New(n, Params{Temperature: 1, TopK: k})
			l := s.logits
			for i := range l {
				l[i] = []float32{0, 1, 2, 3, 4, 5, 6, -inf, nan, inf}[rng.IntN(10)] // many ties
			}
			var ids []int32
			for i, v := range l {
				if v >= -math.MaxFloat32 {
					ids = append(ids, int32(i))
				}
			}
			if got := s.selectTop(k); got != (len(ids) > k) {
				t.Fatalf("n %d k %d: %d candidates, selectTop says more than k: %v", n, k, len(ids), got)
			}
			if len(ids) <= k {
				continue
			}
			slices.SortFunc(ids, func(a, b int32) int {
				la, lb := min(l[a], math.MaxFloat32), min(l[b], math.MaxFloat32)
				if la > lb || la == lb && a < b {
					return -1
				}
				return 1
			})
			if !slices.Equal(s.cand[:k], ids[:k]) {
				t.Fatalf("n %d k %d: %v, want %v", n, k, s.cand[:k], ids[:k])
			}
		}
	}
}
