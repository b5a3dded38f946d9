// Package repl is bitrepl: an interactive prompt (and script runner) to talk to a
// ternary model and look inside it. Run is the only entry point; cmd/bitrepl maps
// flags to a Config and Run's error to an exit code.
//
// It owns the prompt, the slash commands (each subcommand is a slash command
// run once), the rendering of results (styles.go) and the subcommands. It
// imports inspect, model and its subpackages, metal/cpu (threads, dtypes) and
// repl/serve; only cmd/bitrepl imports it.
package repl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/tokenizer"
	"github.com/charmbracelet/colorprofile"
	"golang.org/x/term"
)

// Config is everything Run needs; cmd/bitrepl fills it from flags.
type Config struct {
	Command string   // "" (interactive prompt or script), "run", "bench", "convert", "inspect", "tokenize", "logits", "serve"
	Args    []string // positional arguments of Command
	Model   string   // model to load first: a file, a directory or a Hugging Face repo id
	Script  string   // script of REPL commands to run instead of the prompt ("-" = stdin)
	JSON    bool     // subcommands print JSON
	Set     []string // NAME=VALUE settings applied before anything runs
	Device  string   // "auto" (or ""), "cpu" or "metal": where the forward pass runs
	Memory  string   // "auto" (or ""), "mmap" or "hugepages": how a GGUF file's weights are held

	// Subcommand options.
	Prompt     string // run: the prompt, instead of Args
	PromptFile string // run: a file holding the prompt
	Timings    bool   // run: print where the time went to stderr (load, prompt, each token)
	Tokenizer  string // tokenize: a tokenizer.json instead of a model
	IDs        string // logits: comma or space separated token ids
	Output     string // convert: output path
	Format     string // convert: output format
	Text       string // tokenize/logits: text instead of IDs
	Addr       string // serve: address to listen on (default 127.0.0.1:8080)
	Parallel   int    // serve: slots (conversations at once)
	APIKey     string // serve: the key clients must send

	// DefaultModel, when set, opens the model used when no -m (or BITREPL_MODEL)
	// is given: the one embedded in the binary. It returns the model and a name for it.
	DefaultModel func() (*model.Model, string, error)

	Env         []string // environment (NO_COLOR, CLICOLOR_FORCE, TERM, HOME, XDG_STATE_HOME, HF_HOME, BITREPL_MODEL)
	HistoryFile string   // "" = $XDG_STATE_HOME/bitrepl/history; "-" = no history
	Signals     bool     // handle SIGINT (Ctrl-C cancels the running command); tests leave it off
}

// Run runs bitrepl: a subcommand when cfg.Command is set, else a script (cfg.Script,
// or in when it is not a terminal), else the interactive prompt on in/out.
// Errors of single commands in the interactive prompt are printed and never end it;
// Run returns nil after /quit or Ctrl-D, a *UsageError for bad arguments,
// context.Canceled when interrupted, and any other error of a script or subcommand.
func Run(ctx context.Context, cfg Config, in io.Reader, out, errOut io.Writer) error {
	s, err := newSession(cfg, out, errOut)
	if err != nil {
		return err
	}
	s.in = in
	defer s.close()
	ctx, stop := s.watchInterrupts(ctx)
	defer stop()

	if cfg.Command != "" {
		return s.subcommand(ctx, cfg.Command, cfg.Args)
	}
	if cfg.Tokenizer != "" {
		if s.tok, err = tokenizer.FromFile(s.expand(cfg.Tokenizer)); err != nil {
			return err
		}
	}
	if cfg.Script == "" && isTerminal(in) {
		s.setInteractive()
		s.greet()
		if err := s.loadInitial(ctx); err != nil {
			s.report(err) // the prompt still starts: /load can try again
		}
		return s.interact(ctx, in.(*os.File), out)
	}
	if err := s.loadInitial(ctx); err != nil {
		return err
	}
	switch {
	case cfg.Script != "" && cfg.Script != "-":
		f, err := os.Open(cfg.Script)
		if err != nil {
			return err
		}
		defer f.Close()
		return s.runScript(ctx, f, cfg.Script)
	}
	return s.runScript(ctx, in, "-")
}

// isTerminal reports whether r is a terminal (the interactive prompt needs one).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// session is the state of one bitrepl run: settings, the loaded model and the conversation.
type session struct {
	cfg         Config
	st          *styles
	p           printer   // styled stdout
	errOut      io.Writer // styled stderr
	errTTY      bool      // stderr is a terminal (progress bars, stats of bitrepl run)
	in          io.Reader
	set         Settings
	interactive bool
	quit        bool
	// threadsDefault: the CPU kernels (metal/cpu) run their default thread count (threads = 0 was applied or never changed)
	threadsDefault bool
	sourceDepth    int          // scripts being run by /source, one inside the other
	device         model.Device // --device
	memory         model.Memory // --memory
	deviceNote     string       // the last fallback note printed
	intr           *interrupter
	loadTime       time.Duration // the subcommand's model load (run --timings)
	state                        // model, conversation and last results (state.go)
}

func newSession(cfg Config, out, errOut io.Writer) (*session, error) {
	pw := profileWriter(out, cfg.Env)
	ew := profileWriter(errOut, cfg.Env)
	st := newStyles(pw.Profile)
	s := &session{cfg: cfg, st: st, p: printer{w: pw, st: st}, errOut: ew, errTTY: ew.Profile > colorprofile.NoTTY, set: DefaultSettings(), threadsDefault: true}
	dev, err := model.ParseDevice(cfg.Device)
	if err != nil {
		return nil, &UsageError{Msg: err.Error(), Usage: "bitrepl --device auto|cpu|metal"}
	}
	s.device = dev
	if s.memory, err = model.ParseMemory(cfg.Memory); err != nil {
		return nil, &UsageError{Msg: err.Error(), Usage: "bitrepl --memory auto|mmap|hugepages"}
	}
	for _, kv := range cfg.Set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, &UsageError{Msg: fmt.Sprintf("--set %q: want NAME=VALUE", kv), Usage: "bitrepl --set temperature=0"}
		}
		if err := s.set.Apply(k, v); err != nil {
			return nil, &UsageError{Msg: "--set: " + err.Error()}
		}
	}
	s.applySettings()
	return s, nil
}

func (s *session) close() { s.unload() }

// runScript runs the REPL commands in r; the first failing command or assertion
// ends it with an error naming name:line.
func (s *session) runScript(ctx context.Context, r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	var j lineJoiner
	lineNo, start := 0, 0
	for sc.Scan() {
		lineNo++
		if !j.pending() {
			start = lineNo
			if t := strings.TrimSpace(sc.Text()); t == "" || strings.HasPrefix(t, "#") {
				continue
			}
		}
		line, err := expandVars(sc.Text(), s.cfg.Env)
		if err != nil {
			return &ScriptError{File: name, Line: lineNo, Err: err}
		}
		input, done := j.add(line)
		if !done {
			continue
		}
		if err := s.exec(ctx, input); err != nil {
			if ae, ok := err.(*AssertionError); ok {
				ae.File, ae.Line = name, start
				return ae
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if de := (*SourceDepthError)(nil); errors.As(err, &de) {
				if _, ok := err.(*ScriptError); ok {
					return err // the innermost script and line, not one prefix per level
				}
			}
			return &ScriptError{File: name, Line: start, Err: err}
		}
		if s.quit {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if j.pending() {
		return &ScriptError{File: name, Line: start, Err: fmt.Errorf("unterminated %s block or trailing backslash", blockQuote)}
	}
	return nil
}

// exec runs one logical input: a /command, or text for the model.
// A panic in it (a bug) is recovered and returned as an error naming the command,
// so the session and its conversation go on.
func (s *session) exec(ctx context.Context, input string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Command: commandWord(input), Value: r}
		}
	}()
	return s.execInput(ctx, input)
}

// PanicError is a panic recovered from one command.
type PanicError struct {
	Command string // "/attn", or "the message" for text sent to the model
	Value   any    // what was passed to panic
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("%s failed with an internal error (a bug in bitrepl; please report it): %v", e.Command, e.Value)
}

// commandWord names an input for an error: its /command, or "the message".
func commandWord(input string) string {
	t := strings.TrimSpace(input)
	if !strings.HasPrefix(t, "/") {
		return "the message"
	}
	name, _, _ := strings.Cut(t, " ")
	if i := strings.IndexAny(name, "\t\n"); i >= 0 {
		name = name[:i]
	}
	return name
}

func (s *session) execInput(ctx context.Context, input string) error {
	if strings.TrimSpace(input) == "" {
		return nil
	}
	if s.set.Echo {
		s.p.println(paint(s.st.dim, "> "+input))
	}
	if !strings.HasPrefix(strings.TrimSpace(input), "/") {
		return s.prompt(ctx, input)
	}
	c, err := parseCall(input)
	if err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if c.name == "" {
		return &UsageError{Msg: "a / needs a command name; /help lists the commands"}
	}
	cmd, ok := lookupCommand(c.name)
	if !ok {
		msg := fmt.Sprintf("unknown command /%s", c.name)
		if near := nearest(c.name, commandNames()); near != "" {
			msg += fmt.Sprintf("; did you mean /%s?", near)
		} else {
			msg += "; /help lists the commands"
		}
		return fmt.Errorf("%s", msg)
	}
	if cmd.needModel && s.model == nil {
		return errNoModel
	}
	return cmd.run(s, ctx, cmd, c)
}

// report prints an error from one command in the interactive prompt.
func (s *session) report(err error) {
	if ue, ok := err.(*UsageError); ok {
		fmt.Fprintln(s.errOut, s.st.err.Render("error:"), ue.Msg)
		if ue.Usage != "" {
			fmt.Fprintln(s.errOut, s.st.hint.Render("usage: "+ue.Usage))
		}
		return
	}
	fmt.Fprintln(s.errOut, s.st.err.Render("error:"), err)
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// expandVars replaces ${NAME} in a script line with the environment variable NAME;
// ${NAME:-DEFAULT} gives DEFAULT when NAME is unset or empty, as in the shell.
func expandVars(line string, env []string) (string, error) {
	var missing string
	out := varRef.ReplaceAllStringFunc(line, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		name, def := sub[1], sub[2]
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
				if v == "" && def != "" {
					return def[2:]
				}
				return v
			}
		}
		if def != "" {
			return def[2:]
		}
		if missing == "" {
			missing = name
		}
		return m
	})
	if missing != "" {
		return "", fmt.Errorf("${%s} is not set in the environment", missing)
	}
	return out, nil
}
