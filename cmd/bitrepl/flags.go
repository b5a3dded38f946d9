package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/repl"
)

// errHelp ends a run that only printed help (exit 0).
var errHelp = errors.New("help shown")

// subcommands with their synopsis, in the order the help lists them.
var subcommands = []struct{ name, synopsis string }{
	{"run", "run [-m MODEL] [--json] PROMPT    generate from PROMPT (+ piped stdin); prints only the text"},
	{"train", "train [corpus|bpe|train|export|sample|score|report] [flags]   train a ternary model (model/train/README.md)"},
	{"bench", "bench [-m MODEL] [-p 128] [-n 64] [-r 5] [-t N] [-d 0] [--json]   pp and tg tokens/s, as llama-bench"},
	{"convert", "convert -m MODEL -o OUT [--format F]  write the model as GGUF (F: tq2_0, tq1_0, i2_s)"},
	{"inspect", "inspect [-m MODEL] [--json]      weight statistics per tensor and layer"},
	{"tokenize", "tokenize [-m MODEL | --tokenizer tokenizer.json] [--json] TEXT"},
	{"serve", "serve [-m MODEL] [--addr 127.0.0.1:8080] [--parallel 4] [--api-key KEY]   OpenAI-compatible HTTP server"},
	{"logits", "logits -m MODEL (--ids \"1 2 3\" | --text TEXT)   teacher-forced logits of every position as JSON"},
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// parseArgs turns the command line into a repl.Config. Flags may come before or
// after positional arguments.
func parseArgs(args []string, errOut io.Writer) (repl.Config, error) {
	var cfg repl.Config
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "help":
			usage(errOut)
			return cfg, errHelp
		case "run", "bench", "convert", "inspect", "tokenize", "logits", "serve":
			cfg.Command, args = args[0], args[1:]
		default:
			return cfg, &repl.UsageError{Msg: fmt.Sprintf("unknown subcommand %q (bitrepl help lists them)", args[0])}
		}
	}
	fs := flag.NewFlagSet("bitrepl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var set stringList
	fs.StringVar(&cfg.Model, "m", "", "model: a .gguf file, a directory, or a Hugging Face repo id in the local cache")
	fs.StringVar(&cfg.Model, "model", "", "same as -m")
	fs.StringVar(&cfg.Script, "script", "", "run the REPL commands in this file (- for stdin) and exit")
	fs.BoolVar(&cfg.JSON, "json", false, "print JSON (subcommands)")
	fs.StringVar(&cfg.Device, "device", "auto", "where the model runs: auto (Metal when available, else the CPU), cpu, metal")
	fs.StringVar(&cfg.Memory, "memory", "auto", "how a GGUF file's weights are held: auto (huge pages for files of 64 MiB or more, where Linux offers them), mmap (zero-copy, instant load), hugepages (a private copy in 2 MiB pages: faster decoding)")
	fs.Var(&set, "set", "NAME=VALUE setting, repeatable (e.g. --set temperature=0)")
	fs.StringVar(&cfg.HistoryFile, "history", "", "history file (- for none; default $XDG_STATE_HOME/bitrepl/history)")
	fs.StringVar(&cfg.Tokenizer, "tokenizer", "", "a tokenizer.json to use without a model (tokenize, /tokens, /assert tokens)")
	fs.StringVar(&cfg.IDs, "ids", "", "logits: token ids, comma or space separated")
	fs.StringVar(&cfg.Text, "text", "", "logits: text to tokenize instead of --ids")
	fs.StringVar(&cfg.Output, "o", "", "convert: output file")
	fs.StringVar(&cfg.Format, "format", "", "convert: TYPE[,EMBED[,blockscales]]: TYPE i2_s, tq2_0, tq1_0, tq1_s (GGUF) or packed, latent (safetensors); EMBED f16, q8_0, q6_k, ...; blockscales writes TQ scales as llama-quantize does")
	fs.StringVar(&cfg.Addr, "addr", "", "serve: address to listen on (default 127.0.0.1:8080, loopback only)")
	fs.IntVar(&cfg.Parallel, "parallel", 0, "serve: conversations generated at once, each with its own KV cache (default 4)")
	fs.StringVar(&cfg.APIKey, "api-key", "", "serve: clients must send Authorization: Bearer KEY (every endpoint but /health)")
	// bench takes llama-bench's flags; they reach the subcommand as arguments.
	benchFlags := map[string]*int{}
	for _, f := range []struct{ name, usage string }{
		{"p", "bench: prompt tokens, evaluated as one batch (llama-bench -p; default 128)"},
		{"n", "bench: tokens generated one at a time (llama-bench -n; default 64)"},
		{"r", "bench: repetitions, the median is reported (llama-bench -r; default 5)"},
		{"t", "bench: threads (llama-bench -t; default the physical cores)"},
		{"d", "bench: tokens already in the context before each run (llama-bench -d; default 0)"},
	} {
		benchFlags[f.name] = fs.Int(f.name, -1, f.usage)
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage(errOut)
				fs.SetOutput(errOut)
				fs.PrintDefaults()
				return cfg, errHelp
			}
			return cfg, &repl.UsageError{Msg: err.Error(), Usage: "bitrepl help"}
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	cfg.Args = rest
	for _, name := range []string{"p", "n", "r", "t", "d"} {
		if v := *benchFlags[name]; v >= 0 {
			if cfg.Command != "bench" {
				return cfg, &repl.UsageError{Msg: fmt.Sprintf("-%s is a flag of bitrepl bench", name), Usage: "bitrepl help"}
			}
			cfg.Args = append([]string{"-" + name, strconv.Itoa(v)}, cfg.Args...)
		}
	}
	cfg.Set = set
	if cfg.Command == "" && len(rest) > 0 {
		return cfg, &repl.UsageError{Msg: fmt.Sprintf("unexpected argument %q (did you mean bitrepl run %q?)", rest[0], rest[0]), Usage: "bitrepl help"}
	}
	return cfg, nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: bitrepl [-m MODEL] [--script FILE] [--set NAME=VALUE]   the interactive prompt")
	for _, s := range subcommands {
		fmt.Fprintln(w, "       bitrepl "+s.synopsis)
	}
	fmt.Fprintln(w, "flags: bitrepl -h")
}
