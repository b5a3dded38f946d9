package repl

import (
	"errors"
	"fmt"
)

// UsageError reports a command line or command invoked with bad arguments.
// cmd/bitrepl maps it to exit code 2.
type UsageError struct {
	Msg   string // what was wrong
	Usage string // the synopsis, e.g. "/set NAME VALUE"
}

func (e *UsageError) Error() string {
	if e.Usage == "" {
		return e.Msg
	}
	return e.Msg + "\nusage: " + e.Usage
}

// AssertionError reports a failed assertion in a script, with a readable diff.
type AssertionError struct {
	File string // script file ("-" for stdin)
	Line int    // 1-based line of the assertion
	What string // the assertion, e.g. "tokens"
	Diff string // expected/got, rendered for a terminal
}

func (e *AssertionError) Error() string {
	if e.File == "" { // typed at the prompt
		return fmt.Sprintf("assertion %s failed\n%s", e.What, e.Diff)
	}
	return fmt.Sprintf("%s:%d: assertion %s failed\n%s", e.File, e.Line, e.What, e.Diff)
}

// ScriptError is an error from the command at File:Line of a script.
type ScriptError struct {
	File string
	Line int
	Err  error
}

func (e *ScriptError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *ScriptError) Unwrap() error { return e.Err }

// maxSourceDepth is how deeply /source may nest: enough for scripts that
// share setup, and a clear error for one that sources itself.
const maxSourceDepth = 16

// SourceDepthError reports /source nested more than maxSourceDepth deep.
type SourceDepthError struct{ File string }

func (e *SourceDepthError) Error() string {
	return fmt.Sprintf("/source %s: scripts nested more than %d deep; does a script source itself?", e.File, maxSourceDepth)
}

// errNoModel is returned by commands that need a model when none is loaded.
var errNoModel = errors.New("no model loaded: use /load PATH (a .gguf file, a directory, or a Hugging Face repo id such as microsoft/bitnet-b1.58-2B-4T-gguf), or start with bitrepl -m PATH")

// usagef makes a UsageError for the command c.
func usagef(c *command, format string, a ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, a...), Usage: c.synopsis()}
}
