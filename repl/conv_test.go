package repl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/embedded"
	"github.com/bitrepl/bitrepl/model/kvcache"
)

// builtinSession is a session on the built-in model (a 256-token context)
// writing to out.
func builtinSession(t *testing.T, out io.Writer) *session {
	t.Helper()
	m, err := model.LoadBytes(embedded.GGUF(), embedded.Name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSession(Config{Env: []string{"NO_COLOR=1"}}, out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s.use(m, "built-in", time.Time{})
	t.Cleanup(s.close)
	return s
}

// cancelWriter cancels a context once n bytes were written to it.
type cancelWriter struct {
	n      int
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(b []byte) (int, error) {
	if w.n -= len(b); w.n <= 0 {
		w.cancel()
	}
	return len(b), nil
}

// failWriter fails once armed.
type failWriter struct {
	buf   bytes.Buffer
	armed bool
}

func (w *failWriter) Write(b []byte) (int, error) {
	if w.armed {
		return 0, errors.New("disk full")
	}
	return w.buf.Write(b)
}

// A turn that fails (a message longer than the context, an error while the
// answer streams, Ctrl-C) leaves the conversation as it was, and the next
// turn works.
func TestFailedTurnLeavesConversation(t *testing.T) {
	ctx := context.Background()
	w := &failWriter{}
	s := builtinSession(t, w)
	s.set.MaxTokens, s.set.Temperature = 8, 0
	for _, line := range []string{"/set context 64", "Hello, who are you?"} {
		if err := s.exec(ctx, line); err != nil {
			t.Fatal(err)
		}
	}
	before := slices.Clone(s.history)
	check := func(what string) {
		t.Helper()
		if !slices.Equal(s.history, before) || s.dropped != 0 {
			t.Fatalf("%s: history %q (dropped %d), want %q", what, s.history, s.dropped, before)
		}
	}
	if err := s.exec(ctx, strings.Repeat("whale ", 80)); !errors.Is(err, model.ErrContextFull) {
		t.Fatalf("a message longer than the context: %v", err)
	}
	check("too long")
	w.armed = true
	if err := s.exec(ctx, "Tell me about the sea."); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("a failing writer: %v", err)
	}
	w.armed = false
	check("write error")
	s.interactive = true // Ctrl-C at the prompt ends the turn, not the session
	cctx, cancel := context.WithCancel(ctx)
	s.set.MaxTokens = 200
	s.p.w = &cancelWriter{n: 5, cancel: cancel}
	if err := s.exec(cctx, "Tell me about the sea."); err != nil {
		t.Fatalf("interrupted turn: %v", err)
	}
	if s.lastSt == nil || s.lastSt.Reason != model.StopCanceled {
		t.Fatalf("the turn was not interrupted: %+v", s.lastSt)
	}
	check("Ctrl-C")
	cctx, cancel = context.WithCancel(ctx)
	cancel() // Ctrl-C before the first token
	if err := s.exec(cctx, "Tell me about the sea."); err != nil {
		t.Fatalf("turn interrupted in the prompt: %v", err)
	}
	check("Ctrl-C in the prompt")
	s.p.w = w
	s.set.MaxTokens = 8
	if err := s.exec(ctx, "And the whale?"); err != nil {
		t.Fatalf("the turn after the failures: %v", err)
	}
	if len(s.history) != len(before)+2 || s.history[len(before)].Content != "And the whale?" {
		t.Fatalf("history %q", s.history)
	}
	// /regen that fails keeps the answer it would have replaced.
	answer := s.history[len(s.history)-1]
	w.armed = true
	if err := s.exec(ctx, "/regen"); err == nil {
		t.Fatal("/regen with a failing writer succeeded")
	}
	if s.history[len(s.history)-1] != answer {
		t.Fatalf("failed /regen changed the answer to %q", s.history[len(s.history)-1])
	}
}

// /set cache_type f32 (q8_0) makes the next prompt run on an F32 (Q8_0) KV cache and f16
// back on an F16 one (the default).
func TestSetCacheType(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	s := builtinSession(t, &out)
	s.set.MaxTokens, s.set.Temperature = 4, 0
	for _, tc := range []struct {
		line string
		want kvcache.Type
	}{{"", kvcache.F16}, {"/set cache_type f32", kvcache.F32}, {"/set cache_type q8_0", kvcache.Q8_0}, {"/set cache_type f16", kvcache.F16}} {
		if tc.line != "" {
			if err := s.exec(ctx, tc.line); err != nil {
				t.Fatalf("%s: %v", tc.line, err)
			}
		}
		if err := s.exec(ctx, "hello"); err != nil {
			t.Fatal(err)
		}
		if got := s.sess.CacheType(); got != tc.want {
			t.Fatalf("after %q the prompt ran on an %v cache, want %v", tc.line, got, tc.want)
		}
	}
	if err := s.exec(ctx, "/set cache_type q4"); err == nil || !strings.Contains(err.Error(), "not f16, q8_0 or f32") {
		t.Fatalf("/set cache_type q4: %v", err)
	}
}

// /set context N then 0 (or /reset) gives the model's context back; a value
// over the model's trained length is refused; /show says what is used.
func TestSetContextBackToTheModels(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	s := builtinSession(t, &out)
	s.set.MaxTokens = 2
	trained := s.model.Config.ContextLen
	for _, tc := range []struct {
		lines []string
		want  int
	}{
		{[]string{"/set context 40", "hello"}, 40},
		{[]string{"/set context 0", "hello"}, trained},
		{[]string{"/set context 40", "hello", "/reset", "/set max_tokens 2", "hello"}, trained},
	} {
		for _, line := range tc.lines {
			if err := s.exec(ctx, line); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
		}
		if got := s.sess.ContextLen(); got != tc.want {
			t.Fatalf("%q: the prompt ran with a context of %d, want %d", tc.lines, got, tc.want)
		}
	}
	err := s.exec(ctx, "/set context 999999")
	if err == nil || !strings.Contains(err.Error(), "trained for (256 positions)") || s.set.Context != 0 {
		t.Fatalf("/set context 999999: %v, setting %d", err, s.set.Context)
	}
	out.Reset()
	if err := s.exec(ctx, "/show context"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(256 positions with this model)") {
		t.Fatalf("/show context: %q", out.String())
	}
}

// `bitrepl run` with a prompt longer than the context says so, in both modes.
func TestRunPromptTooLong(t *testing.T) {
	def := func() (*model.Model, string, error) {
		m, err := model.LoadBytes(embedded.GGUF(), embedded.Name)
		return m, "built-in", err
	}
	for _, mode := range []string{"chat", "completion"} {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), Config{Command: "run", Args: []string{strings.Repeat("whale ", 400)}, Set: []string{"mode=" + mode}, DefaultModel: def},
			strings.NewReader(""), &out, &errOut)
		if !errors.Is(err, model.ErrContextFull) {
			t.Errorf("%s: %v", mode, err)
		}
	}
}
