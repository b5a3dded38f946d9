package model

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// countHook counts the tokens that go through the layers: one residual row
// per token in layer 0.
type countHook struct{ n int }

func (h *countHook) Want(site Site, layer int) bool    { return site == SiteResidual && layer == 0 }
func (h *countHook) Observe(Site, int, int, []float32) { h.n++ }

func TestSessionTokens(t *testing.T) {
	m, err := Random(tinyConfig("bitnet"), 11, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession(16)
	if _, err := s.Forward([]int32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.ForwardEach([]int32{4, 5}, func(int, []float32) {}); err != nil {
		t.Fatal(err)
	}
	if got := s.Tokens(); !slices.Equal(got, []int32{1, 2, 3, 4, 5}) {
		t.Fatalf("Tokens = %v", got)
	}
	// refused input leaves them as they were
	if _, err := s.Forward([]int32{7, 96}); err == nil {
		t.Fatal("token 96 of a 96-token vocabulary accepted")
	}
	s.Truncate(2)
	if got := s.Tokens(); !slices.Equal(got, []int32{1, 2}) {
		t.Fatalf("after Truncate(2) Tokens = %v", got)
	}
	s.Tokens()[0] = 50 // a copy
	if s.Tokens()[0] != 1 {
		t.Fatal("Tokens returned the session's own slice")
	}
	s.Reset()
	if len(s.Tokens()) != 0 {
		t.Fatalf("after Reset Tokens = %v", s.Tokens())
	}
}

// A generation that continues a session evaluates only the tokens the
// session does not hold yet, and computes what a fresh session computes.
func TestGenerateReusesCachedPrefix(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 12, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	gen := func(s *Session, prompt []int32, n int) ([]int32, Stats) {
		t.Helper()
		var ids []int32
		st, err := m.Generate(context.Background(), s, prompt, GenOptions{MaxTokens: n}, func(tk Token) error {
			ids = append(ids, tk.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids, st
	}
	s := m.NewSession(64)
	count := &countHook{}
	s.SetHook(count)
	first := []int32{1, 17, 42, 5}
	out, _ := gen(s, first, 6)
	held := s.Tokens()
	if !slices.Equal(held, append(slices.Clone(first), out[:5]...)) {
		t.Fatalf("session holds %v after prompt %v and output %v", held, first, out)
	}
	// The next turn: what the session holds, the last token, and 3 new ones.
	next := append(append(slices.Clone(held), out[5]), 7, 8, 9)
	count.n = 0
	got, st := gen(s, next, 8)
	if st.Cached != len(held) || st.PromptTokens != 4 {
		t.Fatalf("Cached %d, PromptTokens %d; want %d and 4", st.Cached, st.PromptTokens, len(held))
	}
	if evaluated := count.n - (st.Generated - 1); hooksCompiled && evaluated != 4 {
		t.Fatalf("%d prompt tokens went through the layers, want the 4 new ones", evaluated)
	}
	want, _ := gen(m.NewSession(64), next, 8)
	if !slices.Equal(got, want) {
		t.Fatalf("continued session generated %v, a fresh one %v", got, want)
	}
	// A prompt that leaves the held tokens after two of them keeps two.
	_, st = gen(s, []int32{1, 17, 30, 31}, 1)
	if st.Cached != 2 || st.PromptTokens != 2 {
		t.Fatalf("diverging prompt: Cached %d, PromptTokens %d; want 2 and 2", st.Cached, st.PromptTokens)
	}
	// The same prompt again: all but its last token are reused (its logits are needed).
	_, st = gen(s, []int32{1, 17, 30, 31}, 1)
	if st.Cached != 3 || st.PromptTokens != 1 {
		t.Fatalf("repeated prompt: Cached %d, PromptTokens %d; want 3 and 1", st.Cached, st.PromptTokens)
	}
}

// A refused prompt leaves the session's tokens as they were.
func TestGenerateRefusalKeepsSession(t *testing.T) {
	m, err := Random(tinyConfig("bitnet"), 13, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession(16)
	emit := func(Token) error { return nil }
	if _, err := m.Generate(context.Background(), s, []int32{1, 2, 3}, GenOptions{MaxTokens: 3}, emit); err != nil {
		t.Fatal(err)
	}
	before := s.Tokens()
	for _, prompt := range [][]int32{{1, 2, 96}, make([]int32, 16), {1, -1}} {
		if _, err := m.Generate(context.Background(), s, prompt, GenOptions{MaxTokens: 3}, emit); err == nil {
			t.Fatalf("prompt %v accepted", prompt)
		}
		if got := s.Tokens(); !slices.Equal(got, before) {
			t.Fatalf("refused prompt %v changed the session from %v to %v", prompt, before, got)
		}
	}
}

// With Shift, a generation goes on past a full context from the shorter
// sequence Shift returns; without it, it stops.
func TestGenerateShift(t *testing.T) {
	m, err := Random(tinyConfig("bitnet"), 14, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession(16)
	shifts := 0
	opt := GenOptions{MaxTokens: 40, Shift: func(held []int32) ([]int32, error) {
		if len(held) != 17 {
			t.Errorf("Shift got %d tokens, want the 16 held and the one sampled", len(held))
		}
		shifts++
		return append([]int32{1, 2}, held[len(held)-4:]...), nil // keep the start, drop the middle
	}}
	var ids []int32
	st, err := m.Generate(context.Background(), s, []int32{1, 2, 3, 4}, opt, func(tk Token) error {
		ids = append(ids, tk.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Reason != StopLength || st.Generated != 40 || shifts == 0 {
		t.Fatalf("%d tokens, %v, %d shifts; want 40 tokens to the length", st.Generated, st.Reason, shifts)
	}
	// The session holds the last shift's sequence and what followed it.
	held := s.Tokens()
	if !slices.Equal(held[:2], []int32{1, 2}) || !slices.Equal(held[len(held)-3:], ids[len(ids)-4:len(ids)-1]) {
		t.Fatalf("session holds %v; generated %v", held, ids)
	}
	opt.Shift = func([]int32) ([]int32, error) { return nil, nil }
	st, err = m.Generate(context.Background(), m.NewSession(16), []int32{1, 2, 3, 4}, opt, func(Token) error { return nil })
	if err != nil || st.Reason != StopContext || st.Generated != 13 {
		t.Fatalf("Shift returning nil: %d tokens, %v, %v; want 13 to the context", st.Generated, st.Reason, err)
	}
	opt.Shift = func(held []int32) ([]int32, error) { return nil, errors.New("no room") }
	if _, err = m.Generate(context.Background(), m.NewSession(16), []int32{1, 2, 3, 4}, opt, func(Token) error { return nil }); err == nil {
		t.Fatal("Shift's error was lost")
	}
}
