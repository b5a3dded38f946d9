package repl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/regfile"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// errNoModelHint is the error of a subcommand run without a model.
var errNoModelHint = errors.New("no model given: use -m MODEL (a .gguf file, a directory, or a Hugging Face repo id in ~/.cache/huggingface/hub) or set BITREPL_MODEL\nto download the 2B-4T model first: huggingface-cli download microsoft/bitnet-b1.58-2B-4T-gguf")

// loadForSubcommand loads -m MODEL or $BITREPL_MODEL.
func (s *session) loadForSubcommand(ctx context.Context) error {
	if s.initialSpec() == "" && s.cfg.DefaultModel == nil {
		return errNoModelHint
	}
	return s.loadInitial(ctx)
}

func (s *session) subcommand(ctx context.Context, name string, args []string) error {
	if name == "tokenize" {
		return s.subTokenize(ctx, args)
	}
	var bench benchArgs
	if name == "bench" { // bad arguments are refused before the model loads
		var err error
		if bench, err = parseBenchArgs(args); err != nil {
			return &UsageError{Msg: err.Error(), Usage: "bitrepl bench [flags]   (bitrepl bench --help lists the flags)"}
		}
	}
	start := time.Now()
	if err := s.loadForSubcommand(ctx); err != nil {
		return err
	}
	s.loadTime = time.Since(start)
	switch name {
	case "run":
		return s.subRun(ctx, args)
	case "bench":
		return s.subBench(ctx, bench)
	case "convert":
		return s.subConvert(args)
	case "inspect":
		return s.subInspect(args)
	case "logits":
		return s.subLogits(args)
	case "serve":
		return s.subServe(ctx, args)
	}
	return &UsageError{Msg: fmt.Sprintf("unknown subcommand %q", name), Usage: "bitrepl help"}
}

// maxPipedBytes bounds the text read from piped stdin (< /dev/zero would
// never end): far more than any model's context holds.
const maxPipedBytes = 16 << 20

// readPiped returns stdin when it is piped (not a terminal), else "".
func (s *session) readPiped() (string, error) {
	if s.in == nil || isTerminal(s.in) {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(s.in, maxPipedBytes+1))
	if err == nil && len(b) > maxPipedBytes {
		err = fmt.Errorf("stdin: more than %s piped in, far more than a prompt can hold", regfile.Size(maxPipedBytes))
	}
	return string(b), err
}

// subRun generates from the prompt (plus piped stdin) and prints only the text.
func (s *session) subRun(ctx context.Context, args []string) error {
	prompt, err := s.runPrompt(args)
	if err != nil {
		return err
	}
	piped, err := s.readPiped()
	if err != nil {
		return err
	}
	if piped = strings.TrimRight(piped, "\n"); piped != "" {
		if prompt != "" {
			prompt += "\n\n"
		}
		prompt += piped
	}
	if strings.TrimSpace(prompt) == "" {
		return &UsageError{Msg: "run needs a prompt (an argument, -p TEXT, -f FILE or piped stdin)", Usage: `bitrepl run [flags] "PROMPT"`}
	}
	if s.model.Tokenizer == nil {
		return errors.New("the model has no tokenizer")
	}
	var out io.Writer = s.p.w
	var buf strings.Builder
	if s.cfg.JSON {
		out = &buf
	}
	s.set.ColorProbs = false
	var text string
	if s.set.Mode == "completion" {
		text, err = s.generate(ctx, s.model.Tokenizer.Encode(prompt, true), nil, plainWriter{out})
	} else {
		s.history = []model.Message{{Role: "user", Content: prompt}}
		var ids []int32
		if ids, err = s.model.FormatChat(s.messages(), true); err == nil {
			text, err = s.generate(ctx, ids, s.model.ChatStops(), plainWriter{out})
		}
	}
	if err != nil {
		return err
	}
	if s.cfg.JSON {
		err = writeJSONTo(s.p.w, s.lastGeneration(*s.lastSt))
	} else {
		if !strings.HasSuffix(text, "\n") {
			s.p.println()
		}
		if s.set.Stats && s.errTTY && !s.cfg.Timings {
			fmt.Fprintln(s.errOut, s.statsLine(*s.lastSt, 0))
		}
	}
	if err == nil && s.cfg.Timings {
		_, err = io.WriteString(s.errOut, timingsReport(s.loadTime, s.model.Memory(), *s.lastSt))
	}
	return err
}

// runPrompt is run's prompt: the arguments, -p TEXT or the text of -f FILE (one of them).
func (s *session) runPrompt(args []string) (string, error) {
	given := 0
	for _, set := range []bool{len(args) > 0, s.cfg.Prompt != "", s.cfg.PromptFile != ""} {
		if set {
			given++
		}
	}
	if given > 1 {
		return "", &UsageError{Msg: "give the prompt once: as arguments, -p TEXT or -f FILE", Usage: `bitrepl run [flags] "PROMPT"`}
	}
	if s.cfg.PromptFile != "" {
		b, err := regfile.ReadFile(s.expand(s.cfg.PromptFile), maxPromptFile)
		if err != nil {
			return "", fmt.Errorf("-f: %w", err)
		}
		return strings.TrimRight(string(b), "\n"), nil
	}
	if s.cfg.Prompt != "" {
		return s.cfg.Prompt, nil
	}
	return strings.Join(args, " "), nil
}

// maxPromptFile bounds run -f: far more text than any context holds.
const maxPromptFile = 64 << 20

// plainWriter hides the session's writer from generate, which then prints no stats line.
type plainWriter struct{ w io.Writer }

func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

// writeJSONTo writes v as indented JSON. Floats that may be NaN are typed
// num (null in JSON); one that is not is an error, never invalid JSON.
func writeJSONTo(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	var uv *json.UnsupportedValueError
	if errors.As(err, &uv) {
		return fmt.Errorf("the result holds %s, which JSON cannot hold", uv.Str)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func (s *session) subBench(ctx context.Context, a benchArgs) error {
	r, err := s.bench(ctx, a)
	if err != nil {
		return err
	}
	if s.cfg.JSON {
		return writeJSONTo(s.p.w, r)
	}
	s.p.println(r.String())
	return nil
}

func (s *session) subConvert(args []string) error {
	out := s.cfg.Output
	if out == "" && len(args) == 1 {
		out = args[0]
	}
	if out == "" {
		return &UsageError{Msg: "convert needs an output (-o FILE.gguf or -o DIR)", Usage: "bitrepl convert -m MODEL -o OUT [--format i2_s|tq2_0|tq1_0|packed|latent]"}
	}
	var types []string
	if s.cfg.Format != "" {
		types = strings.Split(s.cfg.Format, ",")
	}
	return s.convert(out, types, s.errOut, s.errTTY)
}

// subInspect is /weights run once: the same result, text and JSON.
func (s *session) subInspect(args []string) error {
	if len(args) > 1 {
		return &UsageError{Msg: "inspect takes at most one tensor name pattern (quote it: the shell expands *)", Usage: "bitrepl inspect [flags] [PATTERN]"}
	}
	c, _ := lookupCommand("weights")
	r, err := computeWeights(s, c, call{args: args, rest: strings.Join(args, " ")})
	if err != nil {
		return err
	}
	if s.cfg.JSON {
		return writeJSONTo(s.p.w, r)
	}
	s.renderWeights(r)
	return nil
}

// subTokenize prints the ids of a text under a tokenizer.json or a model's tokenizer.
func (s *session) subTokenize(ctx context.Context, args []string) error {
	text := strings.Join(args, " ")
	if text == "" {
		text = s.cfg.Text
	}
	if text == "" {
		piped, err := s.readPiped()
		if err != nil {
			return err
		}
		text = piped
	}
	if text == "" {
		return &UsageError{Msg: "tokenize needs a text", Usage: "bitrepl tokenize (-m MODEL | --tokenizer tokenizer.json) [--json] TEXT"}
	}
	var tok *tokenizer.Tokenizer
	switch {
	case s.cfg.Tokenizer != "":
		t, err := tokenizer.FromFile(s.expand(s.cfg.Tokenizer))
		if err != nil {
			return err
		}
		tok = t
	default:
		if err := s.loadForSubcommand(ctx); err != nil {
			return err
		}
		if tok = s.model.Tokenizer; tok == nil {
			return errors.New("the model has no tokenizer")
		}
	}
	ids := tok.Encode(text, false)
	if s.cfg.JSON {
		pieces := make([]string, len(ids))
		for i, id := range ids {
			pieces[i] = tok.Token(id)
		}
		return writeJSONTo(s.p.w, tokenizeResult{IDs: ids, Tokens: pieces})
	}
	s.p.println(joinInts(ids))
	return nil
}

// subLogits prints the teacher-forced logits of every position as JSON.
func (s *session) subLogits(args []string) error {
	var ids []int32
	var err error
	switch {
	case s.cfg.IDs != "":
		ids, err = parseIDs(s.cfg.IDs)
	case s.cfg.Text != "":
		if s.model.Tokenizer == nil {
			return errors.New("the model has no tokenizer: give --ids")
		}
		ids = s.model.Tokenizer.Encode(s.cfg.Text, true)
	case len(args) > 0:
		ids, err = parseIDs(strings.Join(args, " "))
	}
	if err != nil {
		return &UsageError{Msg: err.Error(), Usage: `bitrepl logits -m MODEL --ids "1 2 3"`}
	}
	if len(ids) == 0 {
		return &UsageError{Msg: "logits needs token ids (--ids) or a text (--text)", Usage: `bitrepl logits -m MODEL --ids "1 2 3"`}
	}
	logits, err := s.teacherForced(ids)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(s.p.w)
	if err := writeLogitsJSON(bw, s.spec, ids, logits); err != nil {
		return err
	}
	return bw.Flush()
}

// teacherForced returns the logits after every token of ids.
func (s *session) teacherForced(ids []int32) ([][]float32, error) {
	sess := s.newSession(min(len(ids)+1, s.model.Config.ContextLen))
	if len(ids) > sess.ContextLen() {
		return nil, fmt.Errorf("%d tokens do not fit the context (%d)", len(ids), sess.ContextLen())
	}
	return sess.ForwardAll(ids)
}

// logitsFile is the JSON that `bitrepl logits` prints and `/assert logits` reads.
type logitsFile struct {
	Model  string      `json:"model,omitempty"`
	IDs    []int32     `json:"ids"`
	Logits [][]float64 `json:"logits"` // (len(ids), vocab): the logits after each token
}

func writeLogitsJSON(w io.Writer, spec string, ids []int32, logits [][]float32) error {
	r := logitsResult{Model: spec, IDs: ids, Logits: make([]floatRow, len(logits))}
	for i, row := range logits {
		r.Logits[i] = row
	}
	// compact: a row holds a whole vocabulary
	return json.NewEncoder(w).Encode(r)
}

// maxLogitsFileBytes bounds a logitsFile: 64 positions of a 128k vocabulary
// take about 100 MB.
const maxLogitsFileBytes = 1 << 30

// readLogitsFile reads a logitsFile.
func readLogitsFile(path string) (*logitsFile, error) {
	b, err := regfile.ReadFile(path, maxLogitsFileBytes)
	if err != nil {
		return nil, err
	}
	var f logitsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(f.IDs) == 0 || len(f.Logits) == 0 {
		return nil, fmt.Errorf("%s: want {\"ids\": [...], \"logits\": [[...], ...]}", path)
	}
	return &f, nil
}
