package repl

import (
	"context"
	"fmt"
	"strings"
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
	return []*assertion{
		{name: "setting", args: "NAME VALUE", summary: "a setting has the given value", check: assertSetting},
	}
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
