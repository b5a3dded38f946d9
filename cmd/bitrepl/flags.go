package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/repl"
)

// errHelp ends a run that only printed help (exit 0).
var errHelp = errors.New("help shown")

// command is one way to call bitrepl: the interactive prompt (name "") or a
// subcommand. Each has its own flags and help.
type command struct {
	name     string
	args     string // what follows [flags] in the usage line
	summary  string
	detail   string // a paragraph after the summary in the help
	examples []string
	flags    func(c *repl.Config, f *flagSet)
}

// commands in the order the help lists them. train is dispatched to the
// trainer's own command line (model/train/cli) and is here for the help only.
var commands = []command{
	{name: "", summary: "the interactive prompt; a script when --script is given or stdin is not a terminal",
		examples: []string{"bitrepl", "bitrepl -m microsoft/bitnet-b1.58-2B-4T-gguf", "bitrepl --script examples/tour.bitrepl"},
		flags: func(c *repl.Config, f *flagSet) {
			modelFlags(c, f)
			f.str(&c.Script, "script", "FILE", "run the REPL commands in FILE (- for stdin) and exit")
			f.setFlag("set")
			f.str(&c.HistoryFile, "history", "FILE", "history file (- for none; default $XDG_STATE_HOME/bitrepl/history)")
			tokenizerFlag(c, f)
		}},
	{name: "run", args: "[PROMPT]", summary: "generate from PROMPT (and piped stdin, appended) and print only the text",
		examples: []string{`bitrepl run "Why is the sky blue?"`, `cat notes.txt | bitrepl run -m MODEL -n 128 --temp 0 "Summarize"`, "bitrepl run -f prompt.txt --json"},
		flags: func(c *repl.Config, f *flagSet) {
			modelFlags(c, f)
			f.str(&c.Prompt, "p,prompt", "TEXT", "the prompt (instead of the PROMPT argument)")
			f.str(&c.PromptFile, "f,file", "FILE", "read the prompt from FILE")
			f.setting("n,max-tokens", "N", "max_tokens", "stop after N generated tokens (default 256)")
			f.setting("c,ctx-size", "N", "context", "context length in tokens (default 0: the model's)")
			f.setting("temp", "T", "temperature", "sampling temperature, 0 = greedy (default 0.7)")
			f.setting("top-k", "K", "top_k", "keep the K most likely tokens, 0 = off (default 40)")
			f.setting("top-p", "P", "top_p", "nucleus sampling mass in (0,1], 1 = off (default 0.95)")
			f.setting("s,seed", "N", "seed", "sampler seed (default 0)")
			f.setting("t,threads", "N", "threads", "threads of the matrix kernels (default 0: the physical cores)")
			f.setting("cache-type", "TYPE", "cache_type", "KV cache entries: f16 (default, as llama.cpp's), q8_0 or f32")
			f.setFlag("set")
			tokenizerFlag(c, f)
			f.bool(&c.JSON, "json", "print the text, token ids, probabilities and stats as JSON")
			f.bool(&c.Timings, "timings", "print where the time went to stderr: load, prompt eval, time to first token, decode per token (median, p90), sampling, output")
		}},
	{name: "train", args: "[STEP] [flags]", summary: "train a ternary model in Go: corpus, bpe, train, export, sample, score, report",
		examples: []string{"bitrepl train --help"}},
	{name: "bench", args: "[PROMPT_TOKENS [GEN_TOKENS]]", summary: "prompt (pp) and generation (tg) tokens/s, as llama-bench",
		examples: []string{"bitrepl bench -m MODEL", "bitrepl bench -m MODEL -p 512 -n 128 -r 3 -t 4 --json"},
		flags: func(c *repl.Config, f *flagSet) {
			modelFlags(c, f)
			f.bench("p", "N", "prompt tokens, evaluated as one batch (default 128)")
			f.bench("n", "N", "tokens generated one at a time (default 64)")
			f.bench("r", "N", "repetitions, the median is reported (default 5)")
			f.bench("t", "N", "threads (default the physical cores; at most 4 per CPU)")
			f.bench("d", "N", "tokens already in the context before each run; the same runs at depth 0 are interleaved with them, and tg and pp at depth are also given as a share of depth 0 (default 0)")
			f.setting("cache-type", "TYPE", "cache_type", "KV cache entries: f16 (default, as llama.cpp's), q8_0 or f32")
			f.bool(&c.JSON, "json", "print the result as JSON")
		}},
	{name: "convert", args: "[OUT]", summary: "write the model as GGUF (a .gguf file) or safetensors (a directory)",
		examples: []string{"bitrepl convert -m MODEL -o model-tq2.gguf --format tq2_0", "bitrepl convert -m MODEL -o out-dir --format packed",
			"bitrepl convert -m random:2b4t --tokenizer tokenizer.json -o x.gguf --format tq2_0,q6_k"},
		flags: func(c *repl.Config, f *flagSet) {
			modelFlags(c, f)
			f.str(&c.Output, "o,output", "OUT", "output: FILE.gguf, or a directory for safetensors")
			f.str(&c.Format, "format", "TYPE[,EMBED[,blockscales]]", "TYPE i2_s, tq2_0, tq1_0, tq1_s (GGUF), f16, q8_0, q4_0 (GGUF, plain layers, the ternary weights as they compute) or packed, latent (safetensors); EMBED f16, q8_0, q6_k, ...; blockscales writes TQ scales as llama-quantize does")
			tokenizerFlag(c, f) // random:SHAPE models get this vocabulary, so other engines load the file
		}},
	{name: "inspect", args: "[PATTERN]", summary: "weight statistics per layer, or of the tensors matching PATTERN",
		detail:   repl.TensorPatternHelp + ". Quote it, or the shell expands the *.",
		examples: []string{"bitrepl inspect", "bitrepl inspect 'blk.0.*'", "bitrepl inspect -m MODEL --json '*ffn_down*'"},
		flags: func(c *repl.Config, f *flagSet) {
			modelFlags(c, f)
			f.bool(&c.JSON, "json", "print the statistics as JSON")
		}},
	{name: "tokenize", args: "[TEXT]", summary: "the token ids of TEXT (or piped stdin)",
		examples: []string{`bitrepl tokenize "Hello world"`, `bitrepl tokenize --tokenizer tokenizer.json --json "Hello world"`},
		flags: func(c *repl.Config, f *flagSet) {
			modelFlags(c, f)
			tokenizerFlag(c, f)
			f.str(&c.Text, "text", "TEXT", "the text (instead of the TEXT argument)")
			f.bool(&c.JSON, "json", "print ids and token strings as JSON")
		}},
	{name: "serve", summary: "an OpenAI-compatible HTTP server (/v1/chat/completions, /v1/completions); Ctrl-C stops it",
		examples: []string{"bitrepl serve -m MODEL", "bitrepl serve --addr 0.0.0.0:8080 --parallel 8 --api-key KEY"},
		flags: func(c *repl.Config, f *flagSet) {
			modelFlags(c, f)
			f.str(&c.Addr, "addr", "HOST:PORT", "address to listen on (default 127.0.0.1:8080, loopback only)")
			f.intRange(&c.Parallel, "parallel", "N", 1, model.MaxStep, "conversations generated at once, each with its own KV cache (default 4)")
			f.str(&c.APIKey, "api-key", "KEY", "clients must send Authorization: Bearer KEY (every endpoint but /health)")
			f.setting("c,ctx-size", "N", "context", "context length of each slot in tokens (default 0: the model's)")
		}},
	{name: "logits", args: "[IDS]", summary: "teacher-forced logits of every position, as JSON",
		examples: []string{`bitrepl logits -m MODEL --ids "128000 9906 1917" > ref.json`, `bitrepl logits --text "Hello world"`},
		flags: func(c *repl.Config, f *flagSet) {
			modelFlags(c, f)
			tokenizerFlag(c, f)
			f.str(&c.IDs, "ids", "IDS", "token ids, comma or space separated")
			f.str(&c.Text, "text", "TEXT", "text to tokenize instead of --ids")
		}},
}

// modelFlags are the flags of every command that loads a model; they may also
// come before the subcommand (bitrepl -m MODEL run ...).
func modelFlags(c *repl.Config, f *flagSet) {
	f.str(&c.Model, "m,model", "MODEL", "a .gguf file, a directory, or a Hugging Face repo id in the local cache (default $BITREPL_MODEL, else the built-in model)")
	f.str(&c.Device, "device", "DEVICE", "where the model runs: auto (Metal when available, else the CPU), cpu, metal (default auto)")
	f.str(&c.Memory, "memory", "MODE", "how a GGUF file's weights are held: auto (huge pages for files of 64 MiB or more, where Linux offers them: the page cache's own where it can, else a copy), mmap (zero-copy, instant load), hugepages (a private copy in 2 MiB pages: faster decoding) (default auto)")
}

func tokenizerFlag(c *repl.Config, f *flagSet) {
	f.str(&c.Tokenizer, "tokenizer", "FILE", "a tokenizer.json (used without a model, or instead of the model's)")
}

func findCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// flagSet is a flag.FlagSet whose flags may have several names (-n and
// --max-tokens) and that prints them one per line.
type flagSet struct {
	fs        *flag.FlagSet
	specs     []flagSpec
	set       []string // --set NAME=VALUE and the settings flags, in command-line order
	benchArgs []string // bench's flags, passed on as "-p N" for the REPL's parser
}

type flagSpec struct {
	names      []string
	arg, usage string
	boolean    bool
}

func newFlagSet(c *command, cfg *repl.Config) *flagSet {
	f := &flagSet{fs: flag.NewFlagSet("bitrepl "+c.name, flag.ContinueOnError)}
	f.fs.SetOutput(io.Discard)
	f.fs.Usage = func() {}
	if c.flags != nil {
		c.flags(cfg, f)
	}
	return f
}

// add registers v under each comma-separated name.
func (f *flagSet) add(v flag.Value, names, arg, usage string) {
	ns := strings.Split(names, ",")
	for _, n := range ns {
		f.fs.Var(v, n, usage)
	}
	b, ok := v.(interface{ IsBoolFlag() bool })
	f.specs = append(f.specs, flagSpec{names: ns, arg: arg, usage: usage, boolean: ok && b.IsBoolFlag()})
}

func (f *flagSet) str(p *string, names, arg, usage string) {
	f.add((*stringValue)(p), names, arg, usage)
}
func (f *flagSet) bool(p *bool, names, usage string) { f.add((*boolValue)(p), names, "", usage) }

// intRange is an integer flag that refuses values outside [lo, hi].
func (f *flagSet) intRange(p *int, names, arg string, lo, hi int, usage string) {
	f.add(funcValue(func(v string) error {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			return fmt.Errorf("not a whole number")
		case n < lo || n > hi:
			return fmt.Errorf("must be %d to %d", lo, hi)
		}
		*p = n
		return nil
	}), names, arg, usage)
}

// setFlag is --set NAME=VALUE, repeatable.
func (f *flagSet) setFlag(names string) {
	f.add(funcValue(func(v string) error {
		name, value, ok := strings.Cut(v, "=")
		if !ok {
			return fmt.Errorf("want NAME=VALUE (e.g. temperature=0)")
		}
		return f.addSetting(name, value)
	}), names, "NAME=VALUE", "a setting of /set, repeatable (e.g. --set temperature=0)")
}

// setting is a flag for one /set setting, checked as /set checks it.
func (f *flagSet) setting(names, arg, name, usage string) {
	f.add(funcValue(func(v string) error { return f.addSetting(name, v) }), names, arg, usage)
}

func (f *flagSet) addSetting(name, value string) error {
	s := repl.DefaultSettings()
	if err := s.Apply(name, value); err != nil {
		return err
	}
	f.set = append(f.set, name+"="+value)
	return nil
}

// bench is a flag of llama-bench's; the REPL's bench parser checks its value.
func (f *flagSet) bench(name, arg, usage string) {
	f.add(funcValue(func(v string) error { f.benchArgs = append(f.benchArgs, "-"+name, v); return nil }), name, arg, usage)
}

// print writes one line per flag: "  -n, --max-tokens N   usage".
func (f *flagSet) print(w io.Writer) {
	lefts := make([]string, len(f.specs))
	width := 0
	for i, s := range f.specs {
		var ns []string
		for _, n := range s.names {
			if len(n) == 1 {
				ns = append(ns, "-"+n)
			} else {
				ns = append(ns, "--"+n)
			}
		}
		l := strings.Join(ns, ", ")
		if len(s.names[0]) > 1 {
			l = "    " + l // long-only flags line up with the long names
		}
		if s.arg != "" {
			l += " " + s.arg
		}
		lefts[i] = l
		if len(l) <= 28 {
			width = max(width, len(l))
		}
	}
	indent := strings.Repeat(" ", width+4)
	for i, s := range f.specs {
		usage := wrap(s.usage, 100-len(indent), indent)
		if len(lefts[i]) > width {
			fmt.Fprintf(w, "  %s\n%s%s\n", lefts[i], indent, usage)
			continue
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, lefts[i], usage)
	}
}

// wrap breaks s into lines of at most width bytes at spaces, indenting every line after the first.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		if i > 0 && n+1+len(word) > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

type stringValue string

func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }
func (s *stringValue) String() string {
	if s == nil {
		return ""
	}
	return string(*s)
}

type boolValue bool

func (b *boolValue) Set(v string) error {
	switch v {
	case "true", "1":
		*b = true
	case "false", "0":
		*b = false
	default:
		return fmt.Errorf("want true or false")
	}
	return nil
}
func (b *boolValue) String() string   { return fmt.Sprint(b != nil && bool(*b)) }
func (b *boolValue) IsBoolFlag() bool { return true }

type funcValue func(string) error

func (f funcValue) Set(v string) error { return f(v) }
func (f funcValue) String() string     { return "" }

// parseArgs turns the command line into a repl.Config. The subcommand is the
// first argument that is not a flag or a flag's value, so the model flags may
// come before it; the other flags may come before or after the positional
// arguments ("--" ends the flags).
func parseArgs(args []string, out io.Writer) (repl.Config, error) {
	var cfg repl.Config
	i := subcommandIndex(args)
	name := ""
	if i >= 0 {
		name = args[i]
		if name == "help" {
			return cfg, help(args[i+1:], out)
		}
		if findCommand(name) == nil {
			return cfg, &repl.UsageError{Msg: fmt.Sprintf("unknown subcommand %q", name), Usage: "bitrepl help"}
		}
		args = append(args[:i:i], args[i+1:]...)
	}
	c := findCommand(name)
	f := newFlagSet(c, &cfg)
	cfg.Command = name
	var rest []string
	for {
		err := f.fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			commandHelp(c, f, out)
			return cfg, errHelp
		}
		if err != nil {
			return cfg, usageErr(c, "%v", err)
		}
		if n := len(args) - f.fs.NArg(); n > 0 && args[n-1] == "--" {
			rest = append(rest, f.fs.Args()...)
			break
		}
		if f.fs.NArg() == 0 {
			break
		}
		rest = append(rest, f.fs.Arg(0))
		args = f.fs.Args()[1:]
	}
	cfg.Args = append(f.benchArgs, rest...)
	cfg.Set = f.set
	if name == "" && len(rest) > 0 {
		return cfg, usageErr(c, "unexpected argument %q (did you mean bitrepl run %q?)", rest[0], rest[0])
	}
	return cfg, nil
}

// subcommandIndex returns the index of the first argument that is neither a
// flag nor a flag's value, or -1. A flag takes a value unless it is boolean in
// the commands that define it.
func subcommandIndex(args []string) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return -1
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return i
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && !isBoolFlag(name) {
			i++
		}
	}
	return -1
}

func isBoolFlag(name string) bool {
	for i := range commands {
		var cfg repl.Config
		for _, s := range newFlagSet(&commands[i], &cfg).specs {
			for _, n := range s.names {
				if n == name {
					return s.boolean
				}
			}
		}
	}
	return name == "h" || name == "help"
}

func usageErr(c *command, format string, a ...any) error {
	who := "bitrepl"
	if c.name != "" {
		who += " " + c.name
	}
	return &repl.UsageError{Msg: fmt.Sprintf(format, a...), Usage: usageLine(c) + "   (" + who + " --help lists the flags)"}
}

func usageLine(c *command) string {
	if c.name == "" {
		return "bitrepl [flags]"
	}
	return strings.TrimSpace("bitrepl " + c.name + " [flags] " + c.args)
}

// help prints bitrepl help [SUBCOMMAND].
func help(args []string, out io.Writer) error {
	if len(args) == 0 {
		var cfg repl.Config
		commandHelp(&commands[0], newFlagSet(&commands[0], &cfg), out)
		return errHelp
	}
	c := findCommand(args[0])
	if c == nil || c.name == "" {
		return &repl.UsageError{Msg: fmt.Sprintf("unknown subcommand %q", args[0]), Usage: "bitrepl help"}
	}
	if c.name == "train" {
		return train([]string{"--help"}, out)
	}
	var cfg repl.Config
	commandHelp(c, newFlagSet(c, &cfg), out)
	return errHelp
}

// commandHelp prints the help of one command; the interactive prompt's also
// lists the subcommands.
func commandHelp(c *command, f *flagSet, w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s.\n", usageLine(c), capitalize(c.summary))
	if c.detail != "" {
		fmt.Fprintln(w, wrap(c.detail, 100, ""))
	}
	if c.name == "" {
		fmt.Fprintln(w, "\nsubcommands (bitrepl SUBCOMMAND --help shows one):")
		for _, s := range commands[1:] {
			fmt.Fprintf(w, "  %-9s %s\n", s.name, s.summary)
		}
	}
	fmt.Fprintln(w, "\nflags:")
	f.specs = append(f.specs, flagSpec{names: []string{"h", "help"}, usage: "show this help", boolean: true})
	f.print(w)
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nexamples:")
		for _, e := range c.examples {
			fmt.Fprintln(w, "  "+e)
		}
	}
}

func capitalize(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
