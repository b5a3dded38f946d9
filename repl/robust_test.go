package repl

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/charmbracelet/colorprofile"
)

// A script that sources itself stops at a fixed depth with a clear error
// (it used to run until "too many open files").
func TestSourceSelf(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "self.bitrepl")
	if err := os.WriteFile(self, []byte("/source "+self+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := Run(context.Background(), Config{Script: "-", Env: []string{"NO_COLOR=1"}}, strings.NewReader("/source "+self+"\n"), &out, &errOut)
	var de *SourceDepthError
	if !errors.As(err, &de) {
		t.Fatalf("error %v, want a SourceDepthError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "nested more than 16 deep") || strings.Count(msg, "self.bitrepl:1:") > 1 {
		t.Fatalf("error %q", msg)
	}

	// nesting below the limit works
	last := filepath.Join(dir, "s0.bitrepl")
	os.WriteFile(last, []byte("/set top_k 9\n"), 0o644)
	for i := 1; i < maxSourceDepth; i++ {
		next := filepath.Join(dir, "s"+string(rune('a'+i))+".bitrepl")
		os.WriteFile(next, []byte("/source "+last+"\n"), 0o644)
		last = next
	}
	out.Reset()
	if err := Run(context.Background(), Config{Script: "-", Env: []string{"NO_COLOR=1"}}, strings.NewReader("/source "+last+"\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "top_k = 9") {
		t.Fatalf("output %q", out.String())
	}
}

// A command that panics is reported as an error naming it; the conversation stays.
func TestPanicInCommandKeepsSession(t *testing.T) {
	commandTable()
	saved := cmdTable
	cmdTable = append(append([]*command(nil), saved...), &command{name: "boom", run: func(*session, context.Context, *command, call) error {
		var shades []int
		return errors.New(string(rune(shades[int(math.NaN())]))) // the old /attn panic
	}})
	t.Cleanup(func() { cmdTable = saved })

	var out bytes.Buffer
	s := builtinSession(t, &out)
	ctx := context.Background()
	if err := s.exec(ctx, "/set max_tokens 4"); err != nil {
		t.Fatal(err)
	}
	if err := s.exec(ctx, "Hello there"); err != nil {
		t.Fatal(err)
	}
	err := s.exec(ctx, "/boom now")
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Command != "/boom" || !strings.Contains(err.Error(), "/boom failed") || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("error %v", err)
	}
	out.Reset()
	if err := s.exec(ctx, "/history"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Hello there") {
		t.Fatalf("the conversation is gone after the panic: %q", out.String())
	}
}

// Every renderer takes NaN and ±Inf (/attn on NaN activations used to panic in shade).
func TestRenderersTakeNaN(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	if shade(nan) != nanMark || shade(inf) != "█" || shade(-inf) != " " {
		t.Fatalf("shade: %q %q %q", shade(nan), shade(inf), shade(-inf))
	}
	for _, v := range []float64{nan, inf, -inf} {
		if got := bar(v, 4); len([]rune(got)) != 4 {
			t.Fatalf("bar(%v) = %q", v, got)
		}
	}
	st := newStyles(colorprofile.TrueColor)
	if got := st.heat(nan, "  "); !strings.Contains(got, nanMark+nanMark) {
		t.Fatalf("heat(NaN) = %q", got)
	}
	st.heat(inf, "  ")
	st.prob(nan, "x")
	s := &session{st: st}
	for _, v := range []float64{nan, inf, -inf} {
		s.shareBar(v, v, v, 10)
	}
	h := inspect.NewHistogram(0, 1, 4)
	for _, v := range []float64{nan, inf, -inf, 0.5} {
		h.Add(v)
	}
	if h.Counts[0] != 1 || h.Counts[3] != 1 || h.Total() != 3 {
		t.Fatalf("histogram %v: -Inf goes to the first bin, +Inf to the last, NaN nowhere", h.Counts)
	}
}

// "/" alone names the problem instead of suggesting "/?".
func TestSlashAlone(t *testing.T) {
	var out, errOut bytes.Buffer
	err := Run(context.Background(), Config{Script: "-", Env: []string{"NO_COLOR=1"}}, strings.NewReader("/\n"), &out, &errOut)
	if err == nil || strings.Contains(err.Error(), "/?") || !strings.Contains(err.Error(), "needs a command name") {
		t.Fatalf("error %v", err)
	}
}

// /tokens shows characters split over byte tokens as text, not as byte-level pieces ("Ã©").
func TestTokensWholeCharacters(t *testing.T) {
	var out bytes.Buffer
	s := builtinSession(t, &out)
	if err := s.exec(context.Background(), "/tokens héllo 世界 🐳"); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "h·é·ll·o· ·世·界· ·🐳\n") || !strings.Contains(got, "é 2, 世 3, 界 3, 🐳 4") || strings.Contains(got, "Ã") {
		t.Fatalf("output:\n%s", got)
	}
}

// Neighbouring tokens get different backgrounds in every colour profile
// (under 16 colours three of the five used to be the same grey).
func TestTokenColorsDistinct(t *testing.T) {
	for _, p := range []colorprofile.Profile{colorprofile.ANSI, colorprofile.ANSI256, colorprofile.TrueColor} {
		st := newStyles(p)
		seen := map[string]bool{}
		for i := range st.tokens {
			seen[render(p, st.token(i, "x"))] = true
		}
		if len(seen) != len(st.tokens) {
			t.Errorf("profile %v: %d distinct token styles of %d", p, len(seen), len(st.tokens))
		}
	}
}

// A float tensor (the built-in model's F16 embedding) shows float statistics,
// not -1/0/+1 shares and "scale 1".
func TestWeightsFloatTensor(t *testing.T) {
	var out bytes.Buffer
	s := builtinSession(t, &out)
	if err := s.exec(context.Background(), "/weights token_embd*"); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "std 0.06") || strings.Contains(got, "scale") || strings.Contains(got, "× -1") {
		t.Fatalf("/weights token_embd*:\n%s", got)
	}
	out.Reset()
	if err := s.exec(context.Background(), "/weights"); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "other   (not ternary)") || !strings.Contains(got, "blk.0   ") {
		t.Fatalf("/weights:\n%s", got)
	}
}

// Counts of one read "1 thread", "1 token" (not "1 threads").
func TestPlurals(t *testing.T) {
	if plural(1, "message") != "1 message" || plural(0, "message") != "0 messages" || plural(2, "thread") != "2 threads" {
		t.Fatal("plural")
	}
	var out bytes.Buffer
	s := builtinSession(t, &out)
	t.Cleanup(func() { s.exec(context.Background(), "/set threads 0") }) // threads are process-wide
	for _, cmd := range []string{"/set threads 1", "/info", "/tokens h"} {
		if err := s.exec(context.Background(), cmd); err != nil {
			t.Fatal(err)
		}
	}
	got := out.String()
	if !strings.Contains(got, ", 1 thread\n") || !strings.Contains(got, "1 token: ") || strings.Contains(got, "1 threads") {
		t.Fatalf("output:\n%s", got)
	}
}

// At 60 columns /help, /show and /weights fit the width, breaking lines between words
// (the terminal used to wrap them mid-word).
func TestNarrowTerminal(t *testing.T) {
	var out bytes.Buffer
	s := builtinSession(t, &out)
	s.cfg.Env = append(s.cfg.Env, "COLUMNS=60")
	for _, cmd := range []string{"/help", "/show", "/weights"} {
		out.Reset()
		if err := s.exec(context.Background(), cmd); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if n := len([]rune(line)); n > 60 {
				t.Errorf("%s: a line of %d columns: %q", cmd, n, line)
			}
		}
		if cmd == "/help" && !strings.Contains(out.String(), "activation patching: how much of") {
			t.Errorf("/help lost words:\n%s", out.String())
		}
	}
}

func TestWrapHanging(t *testing.T) {
	if got := wrapHanging("one two three four five six seven eight nine ten", 4, 24); got != "one two three four\n    five six seven eight\n    nine ten" {
		t.Fatalf("%q", got)
	}
	if got := wrapHanging("a b", 4, 0); got != "a b" {
		t.Fatalf("no width: %q", got)
	}
}
