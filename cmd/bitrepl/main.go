// Command bitrepl talks to a BitNet b1.58 model and looks inside it.
//
//	bitrepl [-m MODEL] [--script FILE]      the interactive prompt (or a script)
//	bitrepl run [-m MODEL] PROMPT           generate; piped stdin is appended to PROMPT
//	bitrepl serve [-m MODEL] [--addr A] [--parallel N]   OpenAI-compatible HTTP server
//	bitrepl bench|convert|inspect|tokenize|logits ...
//
// bitrepl help lists every subcommand and flag.
package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/bitrepl/bitrepl/model/train/cli"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/embedded"
	"github.com/bitrepl/bitrepl/repl"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, in io.Reader, out, errOut io.Writer) int {
	if len(args) > 0 && args[0] == "train" {
		return exitCode(train(args[1:]), errOut)
	}
	cfg, err := parseArgs(args, errOut)
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
	m, err := model.LoadGGUFBytes(embedded.GGUF(), embedded.Name)
	return m, "built-in " + embedded.Name, err
}

// train runs bitrepl's trainer: `bitrepl train [STEP] [flags]`, STEP one of
// corpus, bpe, train (the default), export, sample, score, report (see
// model/train/README.md). Ctrl-C stops training after saving a checkpoint;
// running the same command again resumes, and -init fine-tunes from another
// run's checkpoint.
func train(args []string) error {
	step := "train"
	if len(args) > 0 && slices.Contains(cli.Commands, args[0]) {
		step, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := cli.Run(ctx, step, args)
	if errors.Is(err, cli.ErrUsage) {
		return &repl.UsageError{Msg: err.Error() + " (bitrepl train " + step + ")", Usage: "bitrepl train [" + strings.Join(cli.Commands, "|") + "] [flags]"}
	}
	return err
}
