// Command bitrain builds bitrepl's own model: the corpus, the BPE tokenizer, the ternary model and its
// full-precision baseline, and the GGUF file. See model/train/README.md for the recipe.
//
//	bitrain corpus -src SRC -out DATA          clean and split the sources fetched by corpus/fetch.sh
//	bitrain bpe -data DATA [-vocab 4096]       train DATA/tokenizer.json on DATA/train.txt
//	bitrain train -data DATA -dir RUN [flags]  train (or resume) the model of RUN
//	bitrain export -dir RUN -data DATA -out F  write the GGUF of RUN's checkpoint
//	bitrain sample -model F [-prompt P]        greedy and sampled continuations through bitrepl's engine
//	bitrain score -model F -data DATA          validation loss of a GGUF file through bitrepl's engine
//	bitrain report -data DATA RUN...           validation table of finished runs (and the unigram baseline)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/bitrepl/bitrepl/model/train/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bitrain corpus|bpe|train|export [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := cli.Run(ctx, os.Args[1], os.Args[2:])
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp), errors.Is(err, cli.ErrUsage):
		os.Exit(2)
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "bitrain: interrupted")
		os.Exit(130)
	default:
		fmt.Fprintln(os.Stderr, "bitrain:", err)
		os.Exit(1)
	}
}
