// Command bitrepl talks to a BitNet b1.58 model and looks inside it.
//
//	bitrepl [-m MODEL] [--script FILE]      the interactive prompt (or a script)
//	bitrepl run [-m MODEL] PROMPT           generate; piped stdin is appended to PROMPT
//	bitrepl serve [-m MODEL] [--addr A] [--parallel N]   OpenAI-compatible HTTP server
//	bitrepl train|bench|convert|inspect|tokenize|logits ...
//
// bitrepl help lists the subcommands; bitrepl SUBCOMMAND --help shows one.
//
// main is flags and exit codes only: it imports repl (the prompt, the
// subcommands and the server), model/train/cli (bitrepl train), model and
// model/embedded (the built-in model).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/embedded"
	"github.com/bitrepl/bitrepl/model/train/cli"
	"github.com/bitrepl/bitrepl/repl"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, in io.Reader, out, errOut io.Writer) int {
	if i := subcommandIndex(args); i >= 0 && args[i] == "train" {
		if i > 0 {
			return exitCode(&repl.UsageError{Msg: "train takes its flags after it", Usage: "bitrepl train [STEP] [flags]   (bitrepl train --help lists them)"}, errOut)
		}
		return exitCode(train(args[1:], out), errOut)
	}
	cfg, err := parseArgs(args, out)
	if err == nil {
		cfg.Env = os.Environ()
		cfg.Signals = true
		cfg.DefaultModel = defaultModel
		err = repl.Run(context.Background(), cfg, in, out, errOut)
	}
	return exitCode(err, errOut)
}

// exitCode is the one place that maps an error to an exit code and prints it:
// 0 success, 2 usage, 130 interrupted, 1 anything else.
func exitCode(err error, errOut io.Writer) int {
	var usage *repl.UsageError
	switch {
	case err == nil || errors.Is(err, errHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintln(errOut, "bitrepl:", err)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(errOut, "bitrepl: interrupted")
		return 130
	default:
		fmt.Fprintln(errOut, "bitrepl:", err)
		return 1
	}
}

// defaultModel opens the model embedded in the binary (used without -m).
func defaultModel() (*model.Model, string, error) {
	m, err := model.LoadBytes(embedded.GGUF(), embedded.Name)
	return m, "built-in " + embedded.Name, err
}

// train runs bitrepl's trainer: `bitrepl train [STEP] [flags]` (see
// model/train/README.md). Ctrl-C stops training after saving a checkpoint;
// running the same command again resumes.
func train(args []string, out io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := cli.Run(ctx, args, out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return errHelp
	case errors.Is(err, cli.ErrUsage):
		return &repl.UsageError{Msg: strings.TrimPrefix(err.Error(), cli.ErrUsage.Error()+": ")}
	}
	return err
}
