package repl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

// assertion is one kind of /assert.
type assertion struct {
	name      string
	args      string
	summary   string
	needModel bool
	check     func(s *session, ctx context.Context, a *assertion, args []string, rest string) error
}

func assertions() []*assertion {
	return append([]*assertion{
		{name: "setting", args: "NAME VALUE", summary: "a setting has the given value", check: assertSetting},
		{name: "tokens", args: "TEXT -> IDS", summary: "TEXT tokenizes to IDS (no BOS added; special tokens in TEXT are matched)", check: assertTokens},
		{name: "greedy", args: "PROMPT -> TEXT", summary: "the greedy completion of PROMPT starts with TEXT", needModel: true, check: assertGreedy},
		{name: "logits", args: "FILE [TOL]", summary: "teacher-forced logits match FILE (bitrepl logits output) within TOL (default 1e-3)", needModel: true, check: assertLogits},
		{name: "weights", args: "TENSOR NEG ZERO POS", summary: "a tensor has these counts of -1, 0 and +1", needModel: true, check: assertWeights},
	}, interveneAssertions()...)
}

func assertCommands() []*command {
	var topics, lines []string
	for _, a := range assertions() {
		topics = append(topics, a.name)
		lines = append(lines, fmt.Sprintf("  /assert %s %s — %s", a.name, a.args, a.summary))
	}
	return []*command{{
		name: "assert", args: "KIND ARGS...", summary: "check a result; in a script the first failure ends it (exit 1)",
		help: "Kinds:\n" + strings.Join(lines, "\n"), complete: argSubTopic, topics: topics, run: cmdAssert,
	}}
}

func cmdAssert(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) == 0 {
		return usagef(c, "/assert needs a kind: %s", strings.Join(c.topics, ", "))
	}
	kind := strings.ToLower(a.args[0])
	for _, as := range assertions() {
		if as.name != kind {
			continue
		}
		if as.needModel && s.model == nil {
			return errNoModel
		}
		_, rest, _ := strings.Cut(a.rest, " ")
		err := as.check(s, ctx, as, a.args[1:], strings.TrimSpace(rest))
		if err == nil {
			s.p.println(s.st.ok.Render("ok") + s.st.dim.Render(" assert "+kind))
		}
		return err
	}
	msg := fmt.Sprintf("unknown assertion %q", kind)
	if near := nearest(kind, c.topics); near != "" {
		msg += fmt.Sprintf("; did you mean %s?", near)
	}
	return usagef(c, "%s", msg)
}

func (a *assertion) usage(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...), Usage: "/assert " + a.name + " " + a.args}
}

func (a *assertion) fail(diff string) error { return &AssertionError{What: a.name, Diff: diff} }

func assertSetting(s *session, _ context.Context, a *assertion, args []string, _ string) error {
	if len(args) != 2 {
		return a.usage("want a setting name and a value")
	}
	d, ok := lookupSetting(args[0])
	if !ok {
		return s.set.Apply(args[0], "")
	}
	// compare through a copy so "0.50" equals "0.5"
	want := s.set
	if err := d.set(&want, args[1]); err != nil {
		return err
	}
	if g, w := d.get(&s.set), d.get(&want); g != w {
		return a.fail(diffText(w, g))
	}
	return nil
}

// splitArrow splits "LEFT -> RIGHT" at the last arrow.
func splitArrow(rest string) (string, string, bool) {
	i := strings.LastIndex(rest, "->")
	if i < 0 {
		return "", "", false
	}
	return strings.TrimSpace(rest[:i]), strings.TrimSpace(rest[i+2:]), true
}

// assertTokens: /assert tokens TEXT -> ID ID ... (special tokens in TEXT are matched; no BOS is added).
func assertTokens(s *session, _ context.Context, a *assertion, _ []string, rest string) error {
	text, want, ok := splitArrow(rest)
	if !ok {
		return a.usage("want TEXT -> IDS")
	}
	tok, err := s.tokenizer()
	if err != nil {
		return err
	}
	ids, err := parseIDs(want)
	if err != nil {
		return a.usage("%v", err)
	}
	got := tok.Encode(unquoteLoose(text), false)
	if !slices.Equal(got, ids) {
		return a.fail(diffInts(ids, got, s.tokenText))
	}
	return nil
}

// errEnough stops a generation once it has produced enough text.
var errEnough = errors.New("enough text")

// assertGreedy: /assert greedy PROMPT -> TEXT: the greedy completion of PROMPT starts with TEXT.
func assertGreedy(s *session, ctx context.Context, a *assertion, _ []string, rest string) error {
	prompt, want, ok := splitArrow(rest)
	if !ok {
		return a.usage("want PROMPT -> TEXT")
	}
	if s.model.Tokenizer == nil {
		return errors.New("the model has no tokenizer")
	}
	prompt, want = unquoteLoose(prompt), unquoteLoose(want)
	ids := s.model.Tokenizer.Encode(prompt, true)
	sess := s.newSession(s.set.Context)
	var got strings.Builder
	opt := model.GenOptions{MaxTokens: s.set.MaxTokens}
	_, err := s.model.Generate(ctx, sess, ids, opt, func(t model.Token) error {
		got.WriteString(t.Text)
		if got.Len() >= len(want) {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	g := got.String()
	if len(g) > len(want) {
		g = g[:len(want)]
	}
	if g != want {
		return a.fail(diffText(want, g))
	}
	return nil
}

// assertLogits: /assert logits FILE [TOL]: teacher-forced logits of FILE's ids match FILE's logits.
func assertLogits(s *session, _ context.Context, a *assertion, args []string, _ string) error {
	if len(args) < 1 || len(args) > 2 {
		return a.usage("want a file and an optional tolerance")
	}
	tol := 1e-3
	if len(args) == 2 {
		t, err := strconv.ParseFloat(args[1], 64)
		if err != nil || t < 0 {
			return a.usage("tolerance %q is not a non-negative number", args[1])
		}
		tol = t
	}
	ref, err := readLogitsFile(s.expand(args[0]))
	if err != nil {
		return err
	}
	got32, err := s.teacherForced(ref.IDs)
	if err != nil {
		return err
	}
	// the file holds float32 values printed in their shortest form: compare at float32 precision
	for _, row := range ref.Logits {
		for j, v := range row {
			row[j] = float64(float32(v))
		}
	}
	got := make([][]float64, len(got32))
	for i, row := range got32 {
		got[i] = make([]float64, len(row))
		for j, v := range row {
			got[i][j] = float64(v)
		}
	}
	if d := diffFloats(ref.Logits, got, tol, func(c int) string { return s.tokenText(int32(c)) }); d != "" {
		return a.fail(d)
	}
	return nil
}

// assertWeights: /assert weights TENSOR NEG ZERO POS: the tensor's -1/0/+1 counts.
func assertWeights(s *session, _ context.Context, a *assertion, args []string, _ string) error {
	if len(args) != 4 {
		return a.usage("want a tensor name and three counts")
	}
	var want [3]int64
	for i, w := range args[1:] {
		n, err := strconv.ParseInt(w, 10, 64)
		if err != nil || n < 0 {
			return a.usage("%q is not a count", w)
		}
		want[i] = n
	}
	var found *model.Weight
	var names []string
	for _, w := range s.model.Weights() {
		names = append(names, w.Name)
		if w.Name == args[0] {
			found = &w
		}
	}
	if found == nil {
		msg := fmt.Sprintf("no tensor %q", args[0])
		if near := nearest(args[0], names); near != "" {
			msg += "; did you mean " + near + "?"
		}
		return errors.New(msg)
	}
	st, err := inspect.Weights(found.Name, found.Matrix, nil, 1)
	if err != nil {
		return err
	}
	got := [3]int64{st.Neg, st.Zero, st.Pos}
	if got != want {
		return a.fail(fmt.Sprintf("  %-9s %12s %12s\n  %-9s %12d %12d\n  %-9s %12d %12d\n  %-9s %12d %12d",
			"", "expected", "got", "-1", want[0], got[0], "0", want[1], got[1], "+1", want[2], got[2]))
	}
	return nil
}
