package notebook

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

// The helpers in this file are for the code of notebook cells, where an error
// or a failed check should stop the cell and show itself: a panic does both
// (GoNB prints it under the cell, and a headless run fails). Like
// regexp.MustCompile, they panic only when asked to.

// Must returns v, and panics with err when it is not nil.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Must2 is Must for functions with two results.
func Must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// Try panics with err when it is not nil.
func Try(err error) {
	if err != nil {
		panic(err)
	}
}

// Check states a claim about what a cell computed: it prints "✓ claim" when
// ok holds, and panics with "check failed: claim" when not, so a notebook
// run headless (examples/notebooks/run.sh) fails on a false claim.
func Check(ok bool, format string, args ...any) { check(os.Stdout, ok, format, args...) }

func check(w io.Writer, ok bool, format string, args ...any) {
	claim := fmt.Sprintf(format, args...)
	if !ok {
		panic("check failed: " + claim)
	}
	fmt.Fprintln(w, "✓", claim)
}

// Record runs text (encoded with a begin-of-text token) through m with an
// inspect.Recorder that computes statistics at every site, keeps the values
// of the sites in keep and the 8 most likely tokens of every position. The
// recorder's Tokens are the token ids of text.
func Record(m *model.Model, text string, keep ...model.Site) (*inspect.Recorder, error) {
	if m.Tokenizer == nil {
		return nil, errors.New("notebook: Record: the model has no tokenizer")
	}
	ids := m.Tokenizer.Encode(text, true)
	r := &inspect.Recorder{Keep: keep, Tokens: ids, Namer: Namer(m), TopK: 8}
	s := m.NewSession(0)
	s.SetHook(r)
	if _, err := s.ForwardAll(ids); err != nil {
		return nil, fmt.Errorf("notebook: Record: %w", err)
	}
	return r, nil
}

// AllLayers lists the decoder blocks of m: 0 … Layers-1.
func AllLayers(m *model.Model) []int {
	out := make([]int, m.Config.Layers)
	for i := range out {
		out[i] = i
	}
	return out
}
