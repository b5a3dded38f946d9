package repl

import (
	"context"
	"fmt"
)

// state is what a session knows about the loaded model and the conversation.
type state struct {
	model *loaded
}

// loaded is a model ready to generate (filled in once model/ lands).
type loaded struct{}

func (s *session) load(ctx context.Context, spec string) error {
	return fmt.Errorf("cannot load %s: this build has no engine yet", spec)
}

func (s *session) unload() {}

func (s *session) applySettings() {}

// prompt sends text to the model: the next chat turn, or a completion.
func (s *session) prompt(ctx context.Context, text string) error {
	if s.model == nil {
		return errNoModel
	}
	return nil
}

func modelCommands() []*command   { return nil }
func inspectCommands() []*command { return nil }

func (s *session) subcommand(ctx context.Context, name string, args []string) error {
	return &UsageError{Msg: fmt.Sprintf("unknown subcommand %q", name)}
}
