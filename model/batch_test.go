package model

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/model/sample"
)

// Eight sessions at different positions decoding greedily together with Step
// see exactly the logits, step after step, of each decoding alone with
// Forward, and so pick the same tokens.
func TestStepMatchesForwardBitForBit(t *testing.T) {
	for _, arch := range []string{"bitnet-b1.58", "bitnet", "llama"} {
		t.Run(arch, func(t *testing.T) {
			m, err := Random(tinyConfig(arch), 5, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			const n, steps = 8, 12
			prompts := make([][]int32, n)
			for i := range prompts {
				for j := range 3 + 5*i { // 3 to 38 tokens: positions differ
					prompts[i] = append(prompts[i], int32((7*i+3*j+1)%m.Config.VocabSize))
				}
			}
			greedy := sample.New(m.Config.VocabSize, sample.Params{})

			// serial[i][k] are the logits before step k of session i alone.
			serial := make([][][]float32, n)
			for i, p := range prompts {
				s := m.NewSession(0)
				l, err := s.Forward(p)
				if err != nil {
					t.Fatal(err)
				}
				for range steps {
					serial[i] = append(serial[i], slices.Clone(l))
					if l, err = s.Forward([]int32{greedy.Sample(l, nil)}); err != nil {
						t.Fatal(err)
					}
				}
			}

			ss := make([]*Session, n)
			logits := make([][]float32, n)
			for i, p := range prompts {
				ss[i] = m.NewSession(48 + i) // contexts differ too
				if logits[i], err = ss[i].Forward(p); err != nil {
					t.Fatal(err)
				}
			}
			for k := range steps {
				ids := make([]int32, n)
				for i := range ss {
					if d := firstDiff(logits[i], serial[i][k]); d >= 0 {
						t.Fatalf("session %d step %d: logit %d is %v batched, %v alone", i, k, d, logits[i][d], serial[i][k][d])
					}
					ids[i] = greedy.Sample(logits[i], nil)
				}
				if logits, err = m.Step(ss, ids); err != nil {
					t.Fatal(err)
				}
			}
			for i, s := range ss {
				if s.Pos() != len(prompts[i])+steps {
					t.Errorf("session %d at position %d, want %d", i, s.Pos(), len(prompts[i])+steps)
				}
			}
		})
	}
}

func firstDiff(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// Step refuses what it cannot do with an error naming the session, and then
// leaves every session as it was.
func TestStepRefusesBadInput(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 5, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Random(tinyConfig("bitnet-b1.58"), 6, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b, full := m.NewSession(8), m.NewSession(8), m.NewSession(4)
	for _, s := range []*Session{a, b, full} {
		if _, err := s.Forward([]int32{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := full.Forward([]int32{4}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ss   []*Session
		ids  []int32
		want string
	}{
		{[]*Session{a, b}, []int32{1}, "2 sessions and 1 tokens"},
		{nil, nil, "0 sessions"},
		{[]*Session{a, a}, []int32{1, 2}, "sessions 0 and 1 are the same"},
		{[]*Session{a, other.NewSession(8)}, []int32{1, 2}, "session 1 belongs to another model"},
		{[]*Session{a, b, full}, []int32{1, 2, 3}, "session 2: context is full"},
		{[]*Session{a, b}, []int32{1, 96}, "session 1: forward: token 96"},
	} {
		_, err := m.Step(tc.ss, tc.ids)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Step(%d sessions, %v): error %v, want %q", len(tc.ss), tc.ids, err, tc.want)
		}
	}
	for _, s := range []*Session{a, b} {
		if got := s.Tokens(); !slices.Equal(got, []int32{1, 2, 3}) {
			t.Errorf("after refused steps a session holds %v", got)
		}
	}
}

// Generate with a Step option evaluates every generated token but the last
// through it, and streams the logits each token was drawn from.
func TestGenerateStepOption(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 5, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func(step func(*Session, int32) ([]float32, error)) (ids []int32, argmaxOK bool) {
		argmaxOK = true
		greedy := sample.New(m.Config.VocabSize, sample.Params{})
		opt := GenOptions{MaxTokens: 10, IgnoreEOS: true, Step: step}
		_, err := m.Generate(context.Background(), m.NewSession(0), []int32{1, 2, 3}, opt, func(tk Token) error {
			if tk.ID >= 0 {
				ids = append(ids, tk.ID)
				argmaxOK = argmaxOK && greedy.Sample(tk.Logits, nil) == tk.ID
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids, argmaxOK
	}
	want, ok := run(nil)
	if !ok {
		t.Error("a streamed token is not the argmax of its Logits")
	}
	calls := 0
	got, _ := run(func(s *Session, id int32) ([]float32, error) {
		calls++
		l, err := m.Step([]*Session{s}, []int32{id})
		if err != nil {
			return nil, err
		}
		return l[0], nil
	})
	if !slices.Equal(got, want) || calls != len(want)-1 {
		t.Errorf("with Step: %v in %d steps, without: %v", got, calls, want)
	}
}

// A model whose BitLinears have their own RMSNorm (use_rms_norm) steps with
// the same logits as Forward: Step applies each projection's input norm too.
func TestStepBitLinearNorm(t *testing.T) {
	m, err := Random(tinyConfig("llama"), 9, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Config.BitLinearNorm, m.Config.BitLinearNormEps = true, 1e-6
	for li := range m.layers {
		l := &m.layers[li]
		for p := range l.inNorm {
			w := m.Config.Dim
			if p == projO {
				w = m.Config.Heads * m.Config.HeadDim
			} else if p == projDown {
				w = m.Config.FFNDim
			}
			l.inNorm[p] = make([]float32, w)
			for i := range l.inNorm[p] {
				l.inNorm[p][i] = 0.5 + float32((i*7+p*3+li)%11)/10
			}
		}
	}
	prompts := [][]int32{{1, 2, 3}, {4, 5, 6, 7, 8}}
	alone, ss := make([][]float32, len(prompts)), make([]*Session, len(prompts))
	ids := []int32{9, 10}
	for i, p := range prompts {
		s := m.NewSession(0)
		if _, err := s.Forward(p); err != nil {
			t.Fatal(err)
		}
		l, err := s.Forward(ids[i : i+1])
		if err != nil {
			t.Fatal(err)
		}
		alone[i] = slices.Clone(l)
		ss[i] = m.NewSession(0)
		if _, err := ss[i].Forward(p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := m.Step(ss, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ss {
		if d := firstDiff(got[i], alone[i]); d >= 0 {
			t.Fatalf("session %d: logit %d is %v stepped, %v alone", i, d, got[i][d], alone[i][d])
		}
	}
}
