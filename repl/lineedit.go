package repl

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chzyer/readline"
	"golang.org/x/term"
)

// historyPath returns where the prompt history lives: $XDG_STATE_HOME/bitrepl/history,
// else ~/.local/state/bitrepl/history; "" when there is no home.
func historyPath(cfg Config) string {
	if cfg.HistoryFile == "-" {
		return ""
	}
	if cfg.HistoryFile != "" {
		return cfg.HistoryFile
	}
	if d := envGet(cfg.Env, "XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "bitrepl", "history")
	}
	if h := envGet(cfg.Env, "HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "bitrepl", "history")
	}
	return ""
}

// envGet looks key up in env (the last assignment wins, as in os/exec).
func envGet(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// interact runs the interactive prompt until /quit or Ctrl-D.
func (s *session) interact(ctx context.Context, in *os.File, out io.Writer) error {
	hist := historyPath(s.cfg)
	if hist != "" {
		if err := os.MkdirAll(filepath.Dir(hist), 0o700); err != nil {
			hist = "" // a read-only home must not stop the prompt
		} else if err := prepareHistory(hist); err != nil {
			s.p.println(s.st.hint.Render("no prompt history: " + err.Error()))
			hist = "" // nor a history file that cannot be read
		}
	}
	prompt := render(s.st.profile, s.st.prompt.Render("bitrepl> "))
	cont := render(s.st.profile, s.st.cont.Render("     ... "))
	paste := newPasteReader(in)
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            prompt,
		HistoryFile:       hist,
		HistoryLimit:      historyLimit,
		HistorySearchFold: true,
		AutoComplete:      completer{s},
		InterruptPrompt:   "^C",
		EOFPrompt:         "\n",
		Stdin:             io.NopCloser(paste),
		Listener:          paste,
		Stdout:            out,
		Stderr:            out,
	})
	if err != nil {
		return err
	}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) && envGet(s.cfg.Env, "TERM") != "dumb" {
		io.WriteString(out, bracketedPasteOn)
		defer io.WriteString(out, bracketedPasteOff)
	}
	// rl.Close is not called: it blocks until the next key press (chzyer/readline
	// issue); the terminal is already out of raw mode once Readline returns.

	var j lineJoiner
	for !s.quit {
		if j.pending() {
			rl.SetPrompt(cont)
		} else {
			rl.SetPrompt(prompt)
		}
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			if j.pending() || line != "" {
				j.reset()
			} else {
				s.p.println(s.st.hint.Render("(Ctrl-D or /quit to leave)"))
			}
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		input, done := j.add(line)
		if !done {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		cctx, cancel := s.commandContext(ctx)
		err = s.exec(cctx, input)
		cancel()
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() == nil {
				s.p.println(s.st.warn.Render("interrupted"))
				continue
			}
			s.report(err)
		}
	}
	return nil
}

// greet prints the banner of the interactive prompt.
func (s *session) greet() {
	s.p.println(s.st.title.Render("bitrepl") + s.st.dim.Render(" — talk to a ternary model and look inside it. /help for commands, Ctrl-D to leave."))
	if s.initialSpec() == "" && s.cfg.DefaultModel == nil {
		s.p.println(s.st.hint.Render(noModelHint))
	}
}

// noModelHint tells how to get a model when none is loaded.
const noModelHint = `No model loaded. Load one with /load PATH (a .gguf file, a directory with safetensors,
or a Hugging Face repo id from ~/.cache/huggingface/hub), e.g.
  /load microsoft/bitnet-b1.58-2B-4T-gguf
To download it first: huggingface-cli download microsoft/bitnet-b1.58-2B-4T-gguf`
