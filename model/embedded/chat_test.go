package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/embedded"
	"github.com/bitrepl/bitrepl/model/sample"
)

// countHook counts the tokens that go through the layers (a residual row of
// layer 0 per token).
type countHook struct{ n int }

func (h *countHook) Want(site model.Site, layer int) bool {
	return site == model.SiteResidual && layer == 0
}
func (h *countHook) Observe(model.Site, int, int, []float32) { h.n++ }

func builtin(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.LoadBytes(embedded.GGUF(), embedded.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// A conversation of 20 turns on the built-in model, whose 256-token context
// one answer of the default 256 tokens fills, goes on to the end: the oldest
// turns are dropped to make room, and each turn reuses the cache.
func TestChatGoesOnPastTheContext(t *testing.T) {
	m := builtin(t)
	s := m.NewSession(0)
	sys := model.Message{Role: "system", Content: "You are a helpful assistant."}
	var history []model.Message
	dropped, drops := 0, 0
	opt := model.GenOptions{MaxTokens: 256, Sampling: sample.Params{Temperature: 0.7, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.1, RepeatLastN: 64}}
	for turn := range 20 {
		user := model.Message{Role: "user", Content: fmt.Sprintf("Tell me about the sea, part %d.", turn)}
		msgs := append(append([]model.Message{sys}, history[dropped:]...), user)
		opt.Sampling.Seed = uint64(turn)
		var text strings.Builder
		st, err := m.GenerateChat(context.Background(), s, msgs, opt, func(tk model.Token) error {
			text.WriteString(tk.Text)
			return nil
		})
		if err != nil {
			t.Fatalf("turn %d: %v", turn, err)
		}
		if st.Cached == 0 && turn > 0 {
			t.Errorf("turn %d reused nothing of the cache", turn)
		}
		if st.Dropped > 0 {
			drops++
		}
		if s.Pos() > s.ContextLen() {
			t.Fatalf("turn %d: session at %d of %d", turn, s.Pos(), s.ContextLen())
		}
		history = append(history, user, model.Message{Role: "assistant", Content: text.String()})
		dropped += st.Dropped
		if dropped%2 != 0 {
			t.Fatalf("turn %d: %d messages dropped, not whole turns", turn, dropped)
		}
	}
	if drops == 0 {
		t.Fatal("20 turns fit in 256 tokens: the test does not test dropping")
	}
	t.Logf("%d turns, %d dropped in %d drops", len(history)/2, dropped/2, drops)
}

// The second turn of a conversation evaluates only what the session does
// not hold: the longest common prefix with it is reused.
func TestChatSecondTurnEvaluatesOnlyTheNewTokens(t *testing.T) {
	m := builtin(t)
	s := m.NewSession(0)
	count := &countHook{}
	s.SetHook(count)
	opt := model.GenOptions{MaxTokens: 12}
	msgs := []model.Message{{Role: "system", Content: "You are a helpful assistant."}, {Role: "user", Content: "Hello, who are you?"}}
	var answer strings.Builder
	first, err := m.GenerateChat(context.Background(), s, msgs, opt, func(tk model.Token) error {
		answer.WriteString(tk.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	hooks := count.n > 0 // not with -tags nohooks
	prompt1, _ := m.FormatChat(msgs, true)
	if first.Cached != 0 || first.PromptTokens != len(prompt1) {
		t.Fatalf("first turn: Cached %d, PromptTokens %d; want 0 and %d", first.Cached, first.PromptTokens, len(prompt1))
	}
	held := s.Tokens()
	msgs = append(msgs, model.Message{Role: "assistant", Content: answer.String()}, model.Message{Role: "user", Content: "Tell me about the sea."})
	prompt2, _ := m.FormatChat(msgs, true)
	common := 0
	for common < len(held) && held[common] == prompt2[common] {
		common++
	}
	if common < len(prompt1)-1 { // the open turn's trailing space may tokenize differently before the answer
		t.Fatalf("the second prompt shares %d tokens with the first's %d", common, len(prompt1))
	}
	count.n = 0
	opt.MaxTokens = 1 // the one token is sampled from the prompt's logits: only the prompt is evaluated
	st, err := m.GenerateChat(context.Background(), s, msgs, opt, func(model.Token) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Cached != common || st.PromptTokens != len(prompt2)-common || hooks && count.n != len(prompt2)-common {
		t.Fatalf("second turn: Cached %d, PromptTokens %d, %d tokens evaluated; want %d, %d, %d",
			st.Cached, st.PromptTokens, count.n, common, len(prompt2)-common, len(prompt2)-common)
	}
}

// A message that does not fit with the system prompt is an error, and the
// session keeps what it held.
func TestChatMessageTooLong(t *testing.T) {
	m := builtin(t)
	s := m.NewSession(64)
	msgs := []model.Message{{Role: "system", Content: "You are a helpful assistant."}, {Role: "user", Content: "Hello."}}
	if _, err := m.GenerateChat(context.Background(), s, msgs, model.GenOptions{MaxTokens: 4}, func(model.Token) error { return nil }); err != nil {
		t.Fatal(err)
	}
	before := s.Tokens()
	msgs = append(msgs, model.Message{Role: "assistant", Content: "Hi."}, model.Message{Role: "user", Content: strings.Repeat("whale ", 80)})
	_, err := m.GenerateChat(context.Background(), s, msgs, model.GenOptions{MaxTokens: 4}, func(model.Token) error { return nil })
	if !errors.Is(err, model.ErrContextFull) {
		t.Fatalf("a message longer than the context: %v", err)
	}
	if got := s.Tokens(); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("the refused turn changed the session from %v to %v", before, got)
	}
}

// An answer that fills the context while it is written goes on once the
// oldest turns are dropped (a context shift at turn granularity).
func TestChatShiftsWhileAnswering(t *testing.T) {
	m := builtin(t)
	s := m.NewSession(128)
	sys := model.Message{Role: "system", Content: "You are a helpful assistant."}
	msgs := []model.Message{sys, {Role: "user", Content: "Hello, who are you?"}}
	var answer strings.Builder
	opt := model.GenOptions{MaxTokens: 16, IgnoreEOS: true}
	if _, err := m.GenerateChat(context.Background(), s, msgs, opt, func(tk model.Token) error {
		answer.WriteString(tk.Text)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	msgs = append(msgs, model.Message{Role: "assistant", Content: answer.String()}, model.Message{Role: "user", Content: "Tell me about the sea."})
	prompt, _ := m.FormatChat(msgs, true)
	opt.MaxTokens = 90
	st, err := m.GenerateChat(context.Background(), s, msgs, opt, func(model.Token) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if room := 128 - len(prompt); len(prompt)+32 > 128 || st.Generated <= room {
		t.Fatalf("prompt of %d tokens, %d generated: the test needs an answer longer than the room left", len(prompt), st.Generated)
	}
	if st.Dropped != 2 || st.Reason != model.StopLength {
		t.Fatalf("dropped %d messages, stopped on %v; want the first turn dropped and the answer to its length", st.Dropped, st.Reason)
	}
	// The session holds the conversation without its first turn, then the answer.
	kept, _ := m.FormatChat([]model.Message{sys, msgs[3]}, true)
	if held := s.Tokens(); fmt.Sprint(held[:len(kept)]) != fmt.Sprint(kept) {
		t.Fatalf("session holds %v…, want %v…", held[:len(kept)], kept)
	}
}
