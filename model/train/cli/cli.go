// Package cli is the command line of bitrepl's trainer, shared by the
// bitrain command and `bitrepl train`:
//
//	corpus -src SRC -out DATA          clean and split the sources fetched by corpus/fetch.sh
//	bpe -data DATA [-vocab 4096]       train DATA/tokenizer.json on DATA/train.txt
//	train -data DATA -dir RUN [flags]  train (or resume, or fine-tune with -init) the model of RUN
//	export -dir RUN -data DATA -out F  write the GGUF of RUN's checkpoint
//	sample -model F [-prompt P]        greedy and sampled continuations through bitrepl's engine
//	score -model F -data DATA          validation loss of a GGUF file through bitrepl's engine
//	report -data DATA RUN...           validation table of finished runs (and the unigram baseline)
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bitrepl/bitrepl/metal"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/sample"
	"github.com/bitrepl/bitrepl/model/train"
	"github.com/bitrepl/bitrepl/model/train/bpe"
	"github.com/bitrepl/bitrepl/model/train/corpus"
)

// ErrUsage is wrapped by the errors of bad flags (the flag package has
// printed the usage).
var ErrUsage = errors.New("usage")

// Commands lists the subcommands Run knows.
var Commands = []string{"corpus", "bpe", "train", "export", "sample", "score", "report"}

// Run runs one subcommand with its flags; output goes to standard output.
// Bad flags return an error wrapping flag.ErrHelp (usage was printed).
func Run(ctx context.Context, cmd string, args []string) error {
	fs := flag.NewFlagSet("bitrain "+cmd, flag.ContinueOnError)
	data := fs.String("data", "", "corpus directory (train.txt, val.txt, tokenizer.json)")
	switch cmd {
	case "corpus":
		src := fs.String("src", "", "directory filled by model/train/corpus/fetch.sh")
		out := fs.String("out", "", "output directory")
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		tb, vb, err := corpus.Build(*src, *out)
		if err != nil {
			return err
		}
		fmt.Printf("%s: train.txt %d bytes, val.txt %d bytes\n", *out, tb, vb)
		return nil
	case "bpe":
		vocab := fs.Int("vocab", 4096, "vocabulary size including special tokens")
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		docs, err := corpus.ReadFile(filepath.Join(*data, "train.txt"))
		if err != nil {
			return err
		}
		counts := map[string]int{}
		for _, d := range docs {
			bpe.WordCounts(counts, d)
		}
		m, err := bpe.Train(counts, *vocab, nil)
		if err != nil {
			return err
		}
		path := filepath.Join(*data, "tokenizer.json")
		fmt.Printf("%s: %d tokens (%d merges)\n", path, len(m.Vocab), len(m.Merges))
		return m.WriteFile(path)
	case "train":
		c := train.DefaultConfig()
		fs.StringVar(&c.Dir, "dir", "", "run directory (checkpoint.bin is resumed when present)")
		fs.BoolVar(&c.FullPrecision, "full-precision", false, "train without quantization (the baseline)")
		fs.IntVar(&c.Steps, "steps", 0, fmt.Sprintf("optimizer steps (default %d; when resuming: keep the run's, or change its schedule)", c.Steps))
		fs.IntVar(&c.BatchSeqs, "batch", c.BatchSeqs, "sequences per step")
		fs.IntVar(&c.MicroSeqs, "micro", c.MicroSeqs, "sequences per forward/backward pass")
		fs.Float64Var(&c.LR, "lr", c.LR, "peak learning rate")
		fs.Float64Var(&c.MinLR, "min-lr", c.MinLR, "final learning rate")
		fs.IntVar(&c.Warmup, "warmup", c.Warmup, "warmup steps")
		fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of initialization and batches")
		fs.IntVar(&c.Workers, "workers", c.Workers, "goroutines")
		fs.IntVar(&c.Model.Layers, "layers", c.Model.Layers, "blocks")
		fs.IntVar(&c.Model.Dim, "dim", c.Model.Dim, "hidden size")
		fs.IntVar(&c.Model.FFN, "ffn", c.Model.FFN, "FFN size")
		fs.IntVar(&c.Model.Heads, "heads", c.Model.Heads, "attention heads")
		fs.IntVar(&c.Model.KVHeads, "kv-heads", c.Model.KVHeads, "key/value heads")
		fs.IntVar(&c.Model.Context, "context", c.Model.Context, "training context")
		fs.IntVar(&c.Model.Vocab, "vocab", c.Model.Vocab, "vocabulary size: the tokenizer's (bitrain bpe -vocab)")
		fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "steps between validations")
		fs.IntVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "steps between checkpoints")
		fs.StringVar(&c.InitFrom, "init", "", "checkpoint to fine-tune from")
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		c.TrainFile = filepath.Join(*data, "train.txt")
		c.ValFile = filepath.Join(*data, "val.txt")
		c.Tokenizer = filepath.Join(*data, "tokenizer.json")
		return train.Run(ctx, c, os.Stdout)
	case "export":
		dir := fs.String("dir", "", "run directory")
		out := fs.String("out", "", "GGUF file to write")
		q8 := fs.Bool("q8", false, "store the embedding as Q8_0 instead of F16")
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		opt := train.ExportOptions{}
		if *q8 {
			opt.Embedding = metal.Q8_0
		}
		if err := train.ExportCheckpoint(train.CheckpointPath(*dir), filepath.Join(*data, "tokenizer.json"), *out, opt); err != nil {
			return err
		}
		st, err := os.Stat(*out)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d bytes\n", *out, st.Size())
		return nil
	case "sample":
		path := fs.String("model", "", "GGUF file")
		prompts := fs.String("prompt", "The whale|Fellow citizens, the|I thought I would", "prompts separated by |")
		n := fs.Int("n", 48, "tokens per continuation")
		seed := fs.Uint64("seed", 1, "sampling seed")
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		m, err := model.Load(*path)
		if err != nil {
			return err
		}
		defer m.Close()
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
				_, err := m.Generate(ctx, m.NewSession(0), m.Tokenizer.Encode(p, true), model.GenOptions{MaxTokens: *n, Sampling: mode.p},
					func(t model.Token) error { b.WriteString(t.Text); return nil })
				if err != nil {
					return err
				}
				fmt.Printf("[%s] %s|%s\n\n", mode.name, p, b.String())
			}
		}
		return nil
	case "score":
		path := fs.String("model", "", "GGUF file")
		max := fs.Int("tokens", 0, "score at most this many validation tokens (0: all)")
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
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
		if *max > 0 && *max < len(ids) {
			ids = ids[:*max]
		}
		r, err := m.PerplexityTokens(ctx, ids, m.Config.ContextLen)
		if err != nil {
			return err
		}
		fmt.Printf("%s through bitrepl's engine: val loss %.4f, perplexity %.2f over %d tokens (windows of %d)\n", *path, r.NLL, r.PPL(), r.Tokens, m.Config.ContextLen)
		return nil
	case "report":
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		fmt.Println("| model | val loss (nats/token) | perplexity | bits per byte | steps | training tokens |")
		fmt.Println("|---|---|---|---|---|---|")
		var uni *train.Eval
		for _, dir := range fs.Args() {
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
			fmt.Printf("| %s (%s) | %.4f | %.2f | %.4f | %d | %d |\n", filepath.Base(dir), r.Model.Quantization, r.Model.Loss, r.Model.Perplexity, r.Model.BitsPerByte, r.Step, r.Tokens)
			uni = &r.Unigram
		}
		if uni != nil {
			fmt.Printf("| unigram (training token frequencies) | %.4f | %.2f | %.4f | | |\n", uni.Loss, uni.Perplexity, uni.BitsPerByte)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd)
}
