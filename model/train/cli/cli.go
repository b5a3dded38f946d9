// Package cli is the command line of bitrepl's trainer, `bitrepl train [STEP] [flags]`:
//
//	corpus -src SRC -out DATA          clean and split the sources fetched by corpus/fetch.sh
//	bpe -data DATA [-vocab 4096]       train DATA/tokenizer.json on DATA/train.txt
//	train -data DATA -dir RUN [flags]  train (or resume, or fine-tune with -init) the model of RUN
//	export -dir RUN -data DATA -out F  write the GGUF of RUN's checkpoint
//	sample -model F [-prompt P]        greedy and sampled continuations through bitrepl's engine
//	score -model F -data DATA          validation loss of a GGUF file through bitrepl's engine
//	report RUN...                      validation table of finished runs (and the unigram baseline)
//
// It imports model/train and its subpackages, model, model/sample and metal/cpu;
// cmd/bitrepl imports it.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/sample"
	"github.com/bitrepl/bitrepl/model/train"
	"github.com/bitrepl/bitrepl/model/train/bpe"
	"github.com/bitrepl/bitrepl/model/train/corpus"
)

// ErrUsage is wrapped by the errors of bad flags and missing required flags.
var ErrUsage = errors.New("usage")

// step is one subcommand of the trainer.
type step struct {
	name, summary string
	example       string
	required      []string // flags that must be given
	positional    string   // what the step takes after its flags ("" = nothing)
	// flags defines the step's flags and returns what runs it once they are parsed.
	flags func(fs *flag.FlagSet) func(ctx context.Context, out io.Writer, args []string) error
}

var steps = []step{
	{name: "corpus", summary: "clean and split the sources fetched by model/train/corpus/fetch.sh",
		example: "bitrepl train corpus -src SRC -out DATA", required: []string{"src", "out"}, flags: corpusFlags},
	{name: "bpe", summary: "train DATA/tokenizer.json on DATA/train.txt",
		example: "bitrepl train bpe -data DATA -vocab 4096", required: []string{"data"}, flags: bpeFlags},
	{name: "train", summary: "train (or resume, or fine-tune with -init) the model of RUN; the default step",
		example: "bitrepl train -data DATA -dir RUN -steps 1000", required: []string{"data", "dir"}, flags: trainFlags},
	{name: "export", summary: "write the GGUF file of RUN's checkpoint",
		example: "bitrepl train export -dir RUN -data DATA -out model.gguf", required: []string{"dir", "data", "out"}, flags: exportFlags},
	{name: "sample", summary: "greedy and sampled continuations through bitrepl's engine",
		example: "bitrepl train sample -model model.gguf -prompt 'The whale'", required: []string{"model"}, flags: sampleFlags},
	{name: "score", summary: "validation loss of a GGUF file through bitrepl's engine",
		example: "bitrepl train score -model model.gguf -data DATA", required: []string{"model", "data"}, flags: scoreFlags},
	{name: "report", summary: "validation table of finished runs (and the unigram baseline)",
		example: "bitrepl train report RUN1 RUN2", positional: "RUN...", flags: reportFlags},
}

// Run runs `bitrepl train [STEP] [flags]` (STEP defaults to train); output goes
// to out. -h prints the step's help to out and returns flag.ErrHelp; bad or
// missing flags return an error wrapping ErrUsage.
func Run(ctx context.Context, args []string, out io.Writer) error {
	st := &steps[2]
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if st = findStep(args[0]); st == nil {
			return fmt.Errorf("%w: unknown step %q of bitrepl train (steps: %s; bitrepl train --help)", ErrUsage, args[0], stepNames())
		}
		args = args[1:]
	}
	who := "train" // how errors name the step
	if st.name != "train" {
		who += " " + st.name
	}
	fs := flag.NewFlagSet("bitrepl train "+st.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	run := st.flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help(out, st, fs)
			return flag.ErrHelp
		}
		return fmt.Errorf("%w: %s: %v (bitrepl %s --help lists the flags)", ErrUsage, who, err, who)
	}
	var missing []string
	for _, name := range st.required {
		if fs.Lookup(name).Value.String() == "" {
			missing = append(missing, "-"+name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s needs %s, e.g. %s (bitrepl train --help lists the steps)", ErrUsage, who, strings.Join(missing, " and "), st.example)
	}
	if st.positional == "" && fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected argument %q (steps: %s)", ErrUsage, who, fs.Arg(0), stepNames())
	}
	if st.positional != "" && fs.NArg() == 0 {
		return fmt.Errorf("%w: %s needs %s, e.g. %s", ErrUsage, who, st.positional, st.example)
	}
	return run(ctx, out, fs.Args())
}

func findStep(name string) *step {
	for i := range steps {
		if steps[i].name == name {
			return &steps[i]
		}
	}
	return nil
}

func stepNames() string {
	var names []string
	for _, s := range steps {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}

// help prints the steps and the flags of st.
func help(w io.Writer, st *step, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: bitrepl train [STEP] [flags]")
	fmt.Fprintln(w, "\nTrain a ternary BitNet b1.58 model in Go (model/train/README.md has the recipe). STEP is one of:")
	for _, s := range steps {
		fmt.Fprintf(w, "  %-7s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(w, "\nflags of %s (bitrepl train STEP --help shows another step's):\n", st.name)
	printFlags(w, fs)
	fmt.Fprintf(w, "\nexample:\n  %s\n", st.example)
	if st.name == "train" {
		fmt.Fprintln(w, "  (Ctrl-C saves a checkpoint; the same command again resumes)")
	}
}

// printFlags writes one line per flag: "  -name ARG   usage (default D)".
func printFlags(w io.Writer, fs *flag.FlagSet) {
	var lefts, usages []string
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		switch arg {
		case "value", "uint":
			arg = "N"
		case "string":
			arg = strings.ToUpper(f.Name)
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			usage += " (default " + f.DefValue + ")"
		}
		l := strings.TrimSpace("-" + f.Name + " " + arg)
		lefts, usages = append(lefts, l), append(usages, usage)
		width = max(width, len(l))
	})
	for i := range lefts {
		fmt.Fprintf(w, "  %-*s  %s\n", width, lefts[i], usages[i])
	}
}

// dataFlag is -data, the corpus directory.
func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", "", "corpus directory holding train.txt, val.txt and tokenizer.json")
}

// intFlag defines an integer flag that refuses values outside [lo, hi].
func intFlag(fs *flag.FlagSet, p *int, name string, lo, hi int, usage string) {
	fs.Var(&boundedInt{p, lo, hi}, name, usage)
}

type boundedInt struct {
	p      *int
	lo, hi int
}

func (b *boundedInt) String() string {
	if b == nil || b.p == nil {
		return "0"
	}
	return strconv.Itoa(*b.p)
}

func (b *boundedInt) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return errors.New("not a whole number")
	}
	if n < b.lo || n > b.hi {
		return fmt.Errorf("must be %d to %d", b.lo, b.hi)
	}
	*b.p = n
	return nil
}

// floatFlag defines a number flag that refuses values below lo (and lo
// itself unless orEqual), NaN and infinities.
func floatFlag(fs *flag.FlagSet, p *float64, name string, lo float64, orEqual bool, usage string) {
	fs.Func(name, fmt.Sprintf("%s (default %g)", usage, *p), func(v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x != x || x > 1e300 {
			return errors.New("not a number")
		}
		if x < lo || (x == lo && !orEqual) {
			if orEqual {
				return fmt.Errorf("must be at least %g", lo)
			}
			return fmt.Errorf("must be more than %g", lo)
		}
		*p = x
		return nil
	})
}

func corpusFlags(fs *flag.FlagSet) func(context.Context, io.Writer, []string) error {
	src := fs.String("src", "", "`SRC` directory filled by model/train/corpus/fetch.sh")
	dst := fs.String("out", "", "output directory (`DATA`)")
	return func(_ context.Context, out io.Writer, _ []string) error {
		tb, vb, err := corpus.Build(*src, *dst)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: train.txt %d bytes, val.txt %d bytes\n", *dst, tb, vb)
		return nil
	}
}

func bpeFlags(fs *flag.FlagSet) func(context.Context, io.Writer, []string) error {
	data := dataFlag(fs)
	vocab := 4096
	intFlag(fs, &vocab, "vocab", 1, 1<<20, "vocabulary size including special tokens")
	return func(_ context.Context, out io.Writer, _ []string) error {
		docs, err := corpus.ReadFile(filepath.Join(*data, "train.txt"))
		if err != nil {
			return err
		}
		counts := map[string]int{}
		for _, d := range docs {
			bpe.WordCounts(counts, d)
		}
		m, err := bpe.Train(counts, vocab, nil)
		if err != nil {
			return err
		}
		path := filepath.Join(*data, "tokenizer.json")
		fmt.Fprintf(out, "%s: %d tokens (%d merges)\n", path, len(m.Vocab), len(m.Merges))
		return m.WriteFile(path)
	}
}

func trainFlags(fs *flag.FlagSet) func(context.Context, io.Writer, []string) error {
	data := dataFlag(fs)
	c := train.DefaultConfig()
	steps := 0
	fs.StringVar(&c.Dir, "dir", "", "`RUN` directory (checkpoint.bin is resumed when present)")
	fs.BoolVar(&c.FullPrecision, "full-precision", false, "train without quantization (the baseline)")
	intFlag(fs, &steps, "steps", 0, 1<<30, fmt.Sprintf("optimizer steps (0: %d, or the run's when resuming; a resumed run may change its schedule)", c.Steps))
	intFlag(fs, &c.BatchSeqs, "batch", 1, 1<<20, "sequences per step")
	intFlag(fs, &c.MicroSeqs, "micro", 1, 1<<20, "sequences per forward/backward pass")
	floatFlag(fs, &c.LR, "lr", 0, false, "peak learning rate")
	floatFlag(fs, &c.MinLR, "min-lr", 0, true, "final learning rate")
	intFlag(fs, &c.Warmup, "warmup", 0, 1<<30, "warmup steps")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of initialization and batches")
	intFlag(fs, &c.Workers, "workers", 1, cpu.MaxThreads(), "threads of the shared kernel pool")
	intFlag(fs, &c.Model.Layers, "layers", 1, 256, "blocks")
	intFlag(fs, &c.Model.Dim, "dim", 2, 1<<14, "hidden size")
	intFlag(fs, &c.Model.FFN, "ffn", 1, 1<<16, "FFN size")
	intFlag(fs, &c.Model.Heads, "heads", 1, 1<<10, "attention heads")
	intFlag(fs, &c.Model.KVHeads, "kv-heads", 1, 1<<10, "key/value heads")
	intFlag(fs, &c.Model.Context, "context", 2, 1<<16, "training context")
	intFlag(fs, &c.Model.Vocab, "vocab", 2, 1<<20, "vocabulary size: the tokenizer's (bitrepl train bpe -vocab)")
	intFlag(fs, &c.EvalEvery, "eval-every", 1, 1<<30, "steps between validations")
	intFlag(fs, &c.CheckpointEvery, "checkpoint-every", 1, 1<<30, "steps between checkpoints")
	fs.StringVar(&c.InitFrom, "init", "", "checkpoint `FILE` to fine-tune from")
	return func(ctx context.Context, out io.Writer, _ []string) error {
		c.Steps = steps // 0: the default, or the resumed run's
		c.TrainFile = filepath.Join(*data, "train.txt")
		c.ValFile = filepath.Join(*data, "val.txt")
		c.Tokenizer = filepath.Join(*data, "tokenizer.json")
		return train.Run(ctx, c, out)
	}
}

func exportFlags(fs *flag.FlagSet) func(context.Context, io.Writer, []string) error {
	data := dataFlag(fs)
	dir := fs.String("dir", "", "`RUN` directory")
	dst := fs.String("out", "", "GGUF `FILE` to write")
	q8 := fs.Bool("q8", false, "store the embedding as Q8_0 instead of F16")
	return func(_ context.Context, out io.Writer, _ []string) error {
		opt := train.ExportOptions{}
		if *q8 {
			opt.Embedding = cpu.Q8_0
		}
		if err := train.ExportCheckpoint(train.CheckpointPath(*dir), filepath.Join(*data, "tokenizer.json"), *dst, opt); err != nil {
			return err
		}
		st, err := os.Stat(*dst)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d bytes\n", *dst, st.Size())
		return nil
	}
}

func sampleFlags(fs *flag.FlagSet) func(context.Context, io.Writer, []string) error {
	path := fs.String("model", "", "GGUF `FILE`")
	prompts := fs.String("prompt", "The whale|Fellow citizens, the|I thought I would", "`PROMPTS` separated by |")
	n := 48
	intFlag(fs, &n, "n", 1, 1<<20, "tokens per continuation")
	seed := fs.Uint64("seed", 1, "sampling seed")
	return func(ctx context.Context, out io.Writer, _ []string) error {
		m, err := model.Load(*path)
		if err != nil {
			return err
		}
		defer m.Close()
		if m.Tokenizer == nil {
			return fmt.Errorf("%s has no tokenizer", *path)
		}
		for _, p := range strings.Split(*prompts, "|") {
			for _, mode := range []struct {
				name string
				p    sample.Params
			}{
				{"greedy", sample.Params{Temperature: 0}},
				{"greedy, repeat penalty 1.3", sample.Params{Temperature: 0, RepeatPenalty: 1.3, RepeatLastN: 64}},
				{"sampled: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05", sample.DefaultParams()},
			} {
				mode.p.Seed = *seed
				var b strings.Builder
				_, err := m.Generate(ctx, m.NewSession(0), m.Tokenizer.Encode(p, true), model.GenOptions{MaxTokens: n, Sampling: mode.p},
					func(t model.Token) error { b.WriteString(t.Text); return nil })
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "[%s] %s|%s\n\n", mode.name, p, b.String())
			}
		}
		return nil
	}
}

func scoreFlags(fs *flag.FlagSet) func(context.Context, io.Writer, []string) error {
	data := dataFlag(fs)
	path := fs.String("model", "", "GGUF `FILE`")
	limit := 0
	intFlag(fs, &limit, "tokens", 0, 1<<30, "score at most this many validation tokens (0: all)")
	return func(ctx context.Context, out io.Writer, _ []string) error {
		m, err := model.Load(*path)
		if err != nil {
			return err
		}
		defer m.Close()
		d, err := train.LoadData(filepath.Join(*data, "train.txt"), filepath.Join(*data, "val.txt"), filepath.Join(*data, "tokenizer.json"))
		if err != nil {
			return err
		}
		ids := d.Val
		if limit > 0 && limit < len(ids) {
			ids = ids[:limit]
		}
		r, err := m.PerplexityTokens(ctx, ids, m.Config.ContextLen)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s through bitrepl's engine: val loss %.4f, perplexity %.2f over %d tokens (windows of %d)\n", *path, r.NLL, r.PPL(), r.Tokens, m.Config.ContextLen)
		return nil
	}
}

func reportFlags(fs *flag.FlagSet) func(context.Context, io.Writer, []string) error {
	return func(_ context.Context, out io.Writer, runs []string) error {
		fmt.Fprintln(out, "| model | val loss (nats/token) | perplexity | bits per byte | steps | training tokens |")
		fmt.Fprintln(out, "|---|---|---|---|---|---|")
		var uni *train.Eval
		for _, dir := range runs {
			var r struct {
				Model, Unigram train.Eval
				Step           int
				Tokens         int64
			}
			data, err := os.ReadFile(filepath.Join(dir, "eval.json"))
			if err != nil {
				return err
			}
			if err := json.Unmarshal(data, &r); err != nil {
				return fmt.Errorf("%s: %w", dir, err)
			}
			fmt.Fprintf(out, "| %s (%s) | %.4f | %.2f | %.4f | %d | %d |\n", filepath.Base(dir), r.Model.Quantization, r.Model.Loss, r.Model.Perplexity, r.Model.BitsPerByte, r.Step, r.Tokens)
			uni = &r.Unigram
		}
		if uni != nil {
			fmt.Fprintf(out, "| unigram (training token frequencies) | %.4f | %.2f | %.4f | | |\n", uni.Loss, uni.Perplexity, uni.BitsPerByte)
		}
		return nil
	}
}
