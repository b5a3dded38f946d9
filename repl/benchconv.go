package repl

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/kvcache"
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
		{name: "bench", args: "[-p N] [-n N] [-r N] [-t N] [-d N]", summary: "prompt (pp) and generation (tg) speed, as llama-bench -p 128 -n 64 -r 5", needModel: true, run: cmdBench},
		{name: "convert", args: "OUT [TYPE [EMBED [blockscales]]]", summary: "write the model as GGUF (OUT.gguf; TYPE i2_s, tq2_0, tq1_0, tq1_s) or safetensors (a directory; TYPE packed or latent)", complete: argFile, needModel: true, run: cmdConvert},
	}
}

// BenchResult is the outcome of a benchmark run, with llama-bench's meaning:
// pp is a prompt evaluated as one batch, tg tokens generated one at a time
// from an empty context; rates are medians over the repetitions.
type BenchResult struct {
	Model        string    `json:"model"`
	Kernels      string    `json:"kernels"`
	Threads      int       `json:"threads"`
	Memory       string    `json:"memory"` // how the weights are held: mapped, huge pages, in memory
	PromptTokens int       `json:"prompt_tokens"`
	PromptRate   float64   `json:"prompt_tok_per_s"`
	PromptRates  []float64 `json:"prompt_samples_tok_per_s"`
	GenTokens    int       `json:"gen_tokens"`
	GenRate      float64   `json:"gen_tok_per_s"`
	GenRates     []float64 `json:"gen_samples_tok_per_s"`
	Reps         int       `json:"repetitions"`
	Depth        int       `json:"depth"` // tokens in the context before each run (llama-bench -d)
	// With a depth: pp and tg at depth 0, each run (pp) or token (tg)
	// right before its twin at depth, and the medians of the ratios
	// depth/depth 0, repetition by repetition.
	PromptRate0   float64 `json:"prompt_depth0_tok_per_s,omitempty"`
	GenRate0      float64 `json:"gen_depth0_tok_per_s,omitempty"`
	PromptOfDepth float64 `json:"prompt_depth_ratio,omitempty"`
	GenOfDepth    float64 `json:"gen_depth_ratio,omitempty"`
	KVCache       string  `json:"kv_cache"` // the KV cache type: f16 or f32
	// KV cache bytes a generated token reads on average (positions before it, keys and values).
	KVBytesPerToken int64 `json:"kv_bytes_per_token"`
	// Weight bytes streamed per generated token, and the machine's read
	// bandwidth measured between the tg tokens: a read of ProbeBytes on the
	// decode threads right after every second token (model.BenchResult.Pairs);
	// the median of the reads, their range and every read.
	BytesPerToken    int64     `json:"weight_bytes_per_token"`
	ProbeBytes       int64     `json:"read_probe_bytes"`
	BandwidthGBs     float64   `json:"read_bandwidth_gb_per_s"`
	BandwidthMin     float64   `json:"read_bandwidth_min_gb_per_s"`
	BandwidthMax     float64   `json:"read_bandwidth_max_gb_per_s"`
	BandwidthSamples []float64 `json:"read_bandwidth_samples_gb_per_s"`
	// What the tokens right before the reads read per second (weights and
	// KV cache rows): median and range.
	TGReadGBs float64 `json:"tg_read_gb_per_s"`
	TGReadMin float64 `json:"tg_read_min_gb_per_s"`
	TGReadMax float64 `json:"tg_read_max_gb_per_s"`
	// TGFraction is the median over the pairs of a token's bytes/s over the
	// read's right after it, with the range: not the ratio of the medians.
	TGFraction    float64 `json:"tg_bandwidth_fraction"`
	TGFractionMin float64 `json:"tg_bandwidth_fraction_min"`
	TGFractionMax float64 `json:"tg_bandwidth_fraction_max"`
	// AfterProbe is the median speed of a token right after a read over that
	// of the token after it (which follows a token): 1 when the reads do
	// not slow the tokens that tg counts.
	AfterProbe float64 `json:"tg_after_probe_ratio"`
}

func (b BenchResult) String() string {
	at := ""
	if b.Depth > 0 {
		at = fmt.Sprintf(" @ d%d", b.Depth)
	}
	var rates []string
	of0 := func(ratio, rate0 float64) string {
		if ratio == 0 {
			return ""
		}
		return fmt.Sprintf(" (%.0f%% of d0's %.2f, interleaved)", 100*ratio, rate0)
	}
	if b.PromptTokens > 0 {
		rates = append(rates, fmt.Sprintf("pp%d%s %.2f tok/s%s", b.PromptTokens, at, b.PromptRate, of0(b.PromptOfDepth, b.PromptRate0)))
	}
	if b.GenTokens > 0 {
		rates = append(rates, fmt.Sprintf("tg%d%s %.2f tok/s%s", b.GenTokens, at, b.GenRate, of0(b.GenOfDepth, b.GenRate0)))
	}
	out := fmt.Sprintf("%s · median of %d · kernels %s · %s · weights %s",
		strings.Join(rates, " · "), b.Reps, b.Kernels, plural(b.Threads, "thread"), b.Memory)
	if len(b.BandwidthSamples) == 0 {
		return out
	}
	kv := ""
	if b.Depth > 0 && b.KVBytesPerToken > 0 {
		kv = fmt.Sprintf(" and %.0f MB of %s KV cache", float64(b.KVBytesPerToken)/1e6, b.KVCache)
	}
	return out + fmt.Sprintf("\n%.0f MB of weights%s per token: tg reads %.1f GB/s (%.1f-%.1f), %.0f%% (%.0f-%.0f%%) of the machine's read bandwidth, %.1f GB/s (%.1f-%.1f)"+
		"\n(medians and ranges over %d pairs: a read of %.0f MB right after every second tg token, each against that token; tokens right after a read ran at %.0f%% of the next one's speed)",
		float64(b.BytesPerToken)/1e6, kv, b.TGReadGBs, b.TGReadMin, b.TGReadMax, 100*b.TGFraction, 100*b.TGFractionMin, 100*b.TGFractionMax,
		b.BandwidthGBs, b.BandwidthMin, b.BandwidthMax, len(b.BandwidthSamples), float64(b.ProbeBytes)/1e6, 100*b.AfterProbe)
}

// medianRatio is the median of a[i]/b[i] (0 when b is empty).
func medianRatio(a, b []float64) float64 {
	var q []float64
	for i := range min(len(a), len(b)) {
		q = append(q, a[i]/b[i])
	}
	return model.Median(q)
}

// kvBytes is what a generated token reads of the KV cache on average when
// tg tokens are generated after depth: the keys and values of every
// position up to its own, in a cache of type t.
func kvBytes(m *model.Model, t kvcache.Type, depth, tg int) int64 {
	if tg == 0 {
		return 0
	}
	c := m.Config
	row := int64(t.RowBytes(c.HeadDim)) * int64(c.KVHeads)
	return int64(c.Layers) * row * 2 * int64(2*depth+tg+1) / 2
}

// benchArgs are bitrepl bench's arguments, as llama-bench's -p, -n, -r, -t.
type benchArgs struct{ pp, tg, reps, threads, depth int }

// parseBenchArgs reads "-p N -n N -r N -t N -d N" and the older positional
// "[PROMPT_TOKENS [GEN_TOKENS]]". Errors name the flag.
func parseBenchArgs(args []string) (benchArgs, error) {
	b := benchArgs{pp: 128, tg: 64, reps: 5}
	var pos []int
	for i := 0; i < len(args); i++ {
		a, flag := args[i], ""
		dst := map[string]*int{"-p": &b.pp, "-n": &b.tg, "-r": &b.reps, "-t": &b.threads, "-d": &b.depth}[a]
		if dst != nil {
			if i+1 == len(args) {
				return b, fmt.Errorf("%s needs a number", a)
			}
			i++
			flag, a = args[i-1], args[i]
		}
		v, err := strconv.Atoi(a)
		switch {
		case flag == "" && (err != nil || v < 0):
			return b, fmt.Errorf("%q is not a count", a)
		case err != nil || v < 0:
			return b, fmt.Errorf("%s %s: not a count (a whole number, 0 or more)", flag, a)
		case flag == "-r" && v < 1:
			return b, fmt.Errorf("-r %d: at least one repetition", v)
		case flag == "-t" && (v < 1 || v > cpu.MaxThreads()):
			return b, fmt.Errorf("-t %d: threads must be 1 to %d (4 per CPU: more only wait for a CPU)", v, cpu.MaxThreads())
		case dst != nil:
			*dst = v
		default:
			pos = append(pos, v)
		}
	}
	switch len(pos) {
	case 2:
		b.tg = pos[1]
		fallthrough
	case 1:
		b.pp = pos[0]
	case 0:
	default:
		return b, fmt.Errorf("too many arguments")
	}
	if b.pp+b.tg == 0 {
		return b, fmt.Errorf("nothing to measure: -p and -n are both 0")
	}
	return b, nil
}

const benchUsage = "bench [-p PROMPT_TOKENS] [-n GEN_TOKENS] [-r REPS] [-t THREADS] [-d DEPTH]   (llama-bench's -p 128 -n 64 -r 5 -d 0)"

// probeBytes is the size of the bandwidth probe's read for a model that
// streams perToken bytes per token: the same, so that a read lasts about as
// long as the token it is paired with and sees the host over the same time,
// but at least 128 MiB (4x this machine's 32 MiB L3 cache: nothing of it is
// found in a cache) and at most 1 GiB.
func probeBytes(perToken int64) int {
	return int(min(max(perToken, 128<<20), 1<<30)) &^ (64<<10 - 1)
}

// bench runs model.Bench with a.threads threads (0: the current setting).
func (s *session) bench(ctx context.Context, a benchArgs) (BenchResult, error) {
	if a.threads > 0 {
		defer cpu.SetThreads(cpu.SetThreads(a.threads))
	}
	s.model.KVCache = s.set.CacheType
	r, err := model.Bench(ctx, s.model, model.BenchOptions{Prompt: a.pp, Gen: a.tg, Reps: a.reps, Depth: a.depth, Device: s.device,
		BandwidthBytes: probeBytes(s.model.BytesPerToken())})
	if err != nil {
		return BenchResult{}, err
	}
	res := BenchResult{Model: s.spec, Kernels: cpu.CurrentLevel().String(), Threads: cpu.Threads(), Memory: s.model.Memory(),
		Depth: a.depth, KVCache: s.set.CacheType.String(), KVBytesPerToken: kvBytes(s.model, s.set.CacheType, a.depth, a.tg),
		PromptTokens: a.pp, PromptRate: model.Median(r.PP), PromptRates: r.PP,
		GenTokens: a.tg, GenRate: model.Median(r.TG), GenRates: r.TG, Reps: a.reps,
		BytesPerToken: r.BytesPerToken, AfterProbe: model.Median(r.AfterProbe)}
	if len(r.Pairs) > 0 {
		res.ProbeBytes = int64(probeBytes(r.BytesPerToken))
		for _, p := range r.Pairs {
			res.BandwidthSamples = append(res.BandwidthSamples, p.Probe/1e9)
		}
		probe, token, frac := r.Bandwidth()
		res.BandwidthGBs, res.BandwidthMin, res.BandwidthMax = probe.Median/1e9, probe.Min/1e9, probe.Max/1e9
		res.TGReadGBs, res.TGReadMin, res.TGReadMax = token.Median/1e9, token.Min/1e9, token.Max/1e9
		res.TGFraction, res.TGFractionMin, res.TGFractionMax = frac.Median, frac.Min, frac.Max
	}
	res.PromptRate0, res.PromptOfDepth = model.Median(r.PP0), medianRatio(r.PP, r.PP0)
	res.GenRate0, res.GenOfDepth = model.Median(r.TG0), medianRatio(r.TG, r.TG0)
	return res, nil
}

func cmdBench(s *session, ctx context.Context, c *command, a call) error {
	args, err := parseBenchArgs(a.args)
	if err != nil {
		return usagef(c, "%v", err)
	}
	r, err := s.bench(ctx, args)
	if err != nil {
		return err
	}
	s.results["bench"] = r
	s.p.println(r.String())
	return nil
}

// parseDType finds a metal/cpu weight type (cpu.DType) by its name, case-insensitively.
func parseDType(name string) (cpu.DType, bool) {
	for t := cpu.DType(0); t < 64; t++ {
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
		opt.Format, opt.Ternary = "gguf", cpu.I2_S
	}
	if len(types) > 0 {
		switch t := strings.ToLower(types[0]); {
		case opt.Format == "gguf":
			dt, ok := parseDType(t)
			if !ok || dt == cpu.Q6_K {
				return opt, fmt.Errorf("GGUF layer weight type %q: want i2_s, tq2_0, tq1_0, tq1_s, or f16, q8_0, q4_0 (plain layers)", types[0])
			}
			opt.Ternary = dt
		case t == "latent":
			opt.Latent = true
		case t != "packed":
			return opt, fmt.Errorf("safetensors type %q: want packed or latent", types[0])
		}
	}
	if len(types) > 2 {
		// "blockscales": TQ files as llama-quantize writes them (scale in every block's f16 d).
		if strings.ToLower(types[2]) != "blockscales" || len(types) > 3 {
			return opt, fmt.Errorf("unknown convert option %q (blockscales)", strings.Join(types[2:], ","))
		}
		opt.BlockScales = true
	}
	if len(types) > 1 {
		dt, ok := parseDType(types[1])
		if !ok {
			return opt, fmt.Errorf("unknown embedding type %q", types[1])
		}
		opt.Embed = dt
	} else if opt.Format == "safetensors" && opt.Embed != cpu.F32 && opt.Embed != cpu.F16 && opt.Embed != cpu.BF16 {
		opt.Embed = cpu.F16
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
	if len(a.args) < 1 || len(a.args) > 4 {
		return usagef(c, "/convert needs an output path")
	}
	return s.convert(s.expand(a.args[0]), a.args[1:], s.p.w, s.st.profile > colorprofile.NoTTY)
}
