package repl

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bitrepl/bitrepl/metal"
	"github.com/bitrepl/bitrepl/model"
	"github.com/charmbracelet/colorprofile"
)

func modelCommands() []*command {
	return []*command{
		{name: "load", args: "MODEL", summary: "load a .gguf file, a directory, or a Hugging Face repo id from the local cache", complete: argFile, run: cmdLoad,
			help: "MODEL is a .gguf file, a directory (config.json + safetensors), or a Hugging Face repo id found in the local\n" +
				"cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub), optionally naming a file:\n" +
				"  /load microsoft/bitnet-b1.58-2B-4T-gguf\n  /load microsoft/bitnet-b1.58-2B-4T-gguf/ggml-model-i2_s.gguf\n" +
				"bitrepl never downloads; to fetch the 2B-4T model: huggingface-cli download microsoft/bitnet-b1.58-2B-4T-gguf\n" +
				"$BITREPL_MODEL (or -m) sets the model to start with."},
		{name: "info", summary: "what the loaded model is: architecture, shapes, types, template", needModel: true, run: cmdInfo},
		{name: "regen", aliases: []string{"retry"}, summary: "regenerate the last answer", needModel: true, run: cmdRegen},
		{name: "clear", summary: "forget the conversation", run: cmdClear},
		{name: "history", summary: "show the conversation", run: cmdHistory},
		{name: "save", args: "FILE", summary: "save the conversation as JSON", complete: argFile, run: cmdSave},
		{name: "open", args: "FILE", summary: "open a saved conversation", complete: argFile, run: cmdOpen},
		{name: "tokens", aliases: []string{"tok"}, args: "TEXT", summary: "show how TEXT tokenizes, coloured by token", run: cmdTokens},
		{name: "probs", args: "[K]", summary: "each token of the last generation: probability, entropy, K alternatives", needModel: true, run: cmdProbs},
		{name: "topk", args: "[K] [TEXT]", summary: "the K most likely next tokens after TEXT (default: the last prompt)", needModel: true, run: cmdTopK},
		{name: "bench", args: "[PROMPT_TOKENS [GEN_TOKENS]]", summary: "measure prompt and generation speed", needModel: true, run: cmdBench},
		{name: "convert", args: "OUT [TYPE [EMBED]]", summary: "write the model as GGUF (OUT.gguf; TYPE i2_s, tq2_0, tq1_0) or safetensors (a directory; TYPE packed or latent)", complete: argFile, needModel: true, run: cmdConvert},
	}
}

// BenchResult is the outcome of a benchmark run.
type BenchResult struct {
	Model        string  `json:"model"`
	Kernels      string  `json:"kernels"`
	Threads      int     `json:"threads"`
	PromptTokens int     `json:"prompt_tokens"`
	PromptRate   float64 `json:"prompt_tok_per_s"`
	GenTokens    int     `json:"gen_tokens"`
	GenRate      float64 `json:"gen_tok_per_s"`
	FirstToken   float64 `json:"ttft_ms"`
}

func (b BenchResult) String() string {
	return fmt.Sprintf("pp%d %.2f tok/s · tg%d %.2f tok/s · TTFT %.0f ms · kernels %s · %d threads",
		b.PromptTokens, b.PromptRate, b.GenTokens, b.GenRate, b.FirstToken, b.Kernels, b.Threads)
}

// bench evaluates a prompt of random tokens, then generates greedily ignoring EOS.
func (s *session) bench(ctx context.Context, pp, tg int) (BenchResult, error) {
	m := s.model
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]int32, pp)
	for i := range ids {
		ids[i] = int32(rng.IntN(m.Config.VocabSize))
	}
	sess := m.NewSession(min(pp+tg+1, m.Config.ContextLen))
	start := time.Now()
	if _, err := sess.Forward(ids); err != nil {
		return BenchResult{}, err
	}
	ppTime := time.Since(start)
	sess.Truncate(0)
	st, err := m.Generate(ctx, sess, ids, model.GenOptions{MaxTokens: tg, IgnoreEOS: true}, func(model.Token) error { return nil })
	if err != nil {
		return BenchResult{}, err
	}
	return BenchResult{Model: s.spec, Kernels: metal.CurrentLevel().String(), Threads: metal.Threads(),
		PromptTokens: pp, PromptRate: float64(pp) / ppTime.Seconds(),
		GenTokens: st.Generated, GenRate: st.GenRate(), FirstToken: float64(st.FirstToken.Microseconds()) / 1000}, nil
}

func cmdBench(s *session, ctx context.Context, c *command, a call) error {
	pp, tg := 64, 32
	var err error
	if len(a.args) > 2 {
		return usagef(c, "too many arguments")
	}
	if len(a.args) > 0 {
		if pp, err = strconv.Atoi(a.args[0]); err != nil || pp < 1 {
			return usagef(c, "PROMPT_TOKENS must be a positive integer")
		}
	}
	if len(a.args) > 1 {
		if tg, err = strconv.Atoi(a.args[1]); err != nil || tg < 1 {
			return usagef(c, "GEN_TOKENS must be a positive integer")
		}
	}
	if pp+tg >= s.model.Config.ContextLen {
		return usagef(c, "%d + %d tokens do not fit the context (%d)", pp, tg, s.model.Config.ContextLen)
	}
	r, err := s.bench(ctx, pp, tg)
	if err != nil {
		return err
	}
	s.results["bench"] = r
	s.p.println(r.String())
	return nil
}

// parseDType finds a metal type by its name, case-insensitively.
func parseDType(name string) (metal.DType, bool) {
	for t := metal.DType(0); t < 64; t++ {
		if !t.Valid() {
			break
		}
		if strings.EqualFold(t.String(), name) {
			return t, true
		}
	}
	return 0, false
}

// convertOptions builds the save options for out from the optional type names.
func (s *session) convertOptions(out string, types []string) (model.SaveOptions, error) {
	opt := model.SaveOptions{Format: "safetensors", Embed: s.model.Embedding().Type}
	if strings.HasSuffix(out, ".gguf") {
		opt.Format, opt.Ternary = "gguf", metal.I2_S
	}
	if len(types) > 0 {
		switch t := strings.ToLower(types[0]); {
		case opt.Format == "gguf":
			dt, ok := parseDType(t)
			if !ok || !dt.Ternary() {
				return opt, fmt.Errorf("GGUF ternary type %q: want i2_s, tq2_0 or tq1_0", types[0])
			}
			opt.Ternary = dt
		case t == "latent":
			opt.Latent = true
		case t != "packed":
			return opt, fmt.Errorf("safetensors type %q: want packed or latent", types[0])
		}
	}
	if len(types) > 1 {
		dt, ok := parseDType(types[1])
		if !ok {
			return opt, fmt.Errorf("unknown embedding type %q", types[1])
		}
		opt.Embed = dt
	} else if opt.Format == "safetensors" && opt.Embed != metal.F32 && opt.Embed != metal.F16 && opt.Embed != metal.BF16 {
		opt.Embed = metal.F16
	}
	return opt, nil
}

// progressBar returns a Progress callback drawing a bar on w (a terminal) or nothing.
func progressBar(w io.Writer, tty bool, label string) (func(done, total int), func()) {
	if !tty {
		return func(int, int) {}, func() {}
	}
	start := time.Now()
	return func(done, total int) {
			frac := float64(done) / float64(max(total, 1))
			fmt.Fprintf(w, "\r%s ▕%s▏ %d/%d tensors %.0fs", label, bar(frac, 30), done, total, time.Since(start).Seconds())
		}, func() {
			fmt.Fprint(w, "\r\x1b[K")
		}
}

func (s *session) convert(out string, types []string, w io.Writer, tty bool) error {
	opt, err := s.convertOptions(out, types)
	if err != nil {
		return err
	}
	progress, done := progressBar(w, tty, "converting")
	opt.Progress = progress
	start := time.Now()
	err = s.model.Save(out, opt)
	done()
	if err != nil {
		return err
	}
	size := int64(0)
	if st, err := os.Stat(out); err == nil && !st.IsDir() {
		size = st.Size()
	}
	kind := opt.Format
	if opt.Format == "gguf" {
		kind += " " + opt.Ternary.String()
	} else if opt.Latent {
		kind += " latent"
	}
	msg := fmt.Sprintf("wrote %s (%s, embedding %v) in %.1fs", out, kind, opt.Embed, time.Since(start).Seconds())
	if size > 0 {
		msg += fmt.Sprintf(", %.1f MiB", float64(size)/(1<<20))
	}
	fmt.Fprintln(w, s.st.ok.Render(msg))
	return nil
}

func cmdConvert(s *session, _ context.Context, c *command, a call) error {
	if len(a.args) < 1 || len(a.args) > 3 {
		return usagef(c, "/convert needs an output path")
	}
	return s.convert(s.expand(a.args[0]), a.args[1:], s.p.w, s.st.profile > colorprofile.NoTTY)
}
