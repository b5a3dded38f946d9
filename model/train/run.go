// Package train trains bitrepl's own BitNet b1.58 model: latent fp32 weights, absmean ternary weights and per-token
// int8 activations in the forward pass with the straight-through estimator (W_eff = W + stopgrad(q(W) - W)), a
// hand-written backward pass, AdamW with warmup and cosine decay, gradient clipping, checkpoints that resume
// exactly, and the same architecture in full precision as a baseline.
//
// Run is the whole loop; `bitrepl train` (model/train/cli) is a thin wrapper around it.
//
// It imports model (to export and score through bitrepl's engine), metal/cpu
// (weight types for the export, CPU features for its gemm), model/tokenizer, model/atomicfile, and its own
// model/train/bpe and model/train/corpus; model/train/cli is its command line.
package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/train/bpe"
	"github.com/bitrepl/bitrepl/model/train/corpus"
)

// Config is one training run. Zero fields take the values of DefaultConfig.
type Config struct {
	Model         ModelConfig `json:"model"`
	FullPrecision bool        `json:"full_precision"` // train the same architecture without quantization (baseline)

	TrainFile string `json:"train_file"` // corpus file (corpus.Encode format)
	ValFile   string `json:"val_file"`
	Tokenizer string `json:"tokenizer"` // tokenizer.json written by package bpe
	Dir       string `json:"dir"`       // run directory: checkpoint.bin, eval.json

	Steps       int     `json:"steps"`
	BatchSeqs   int     `json:"batch_seqs"` // sequences of Model.Context tokens per optimizer step
	MicroSeqs   int     `json:"micro_seqs"` // sequences per forward/backward pass (memory bound)
	LR          float64 `json:"lr"`
	MinLR       float64 `json:"min_lr"`
	Warmup      int     `json:"warmup"`
	WeightDecay float64 `json:"weight_decay"` // decoupled, on the linear weights only
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`
	AdamEps     float64 `json:"adam_eps"`
	Clip        float64 `json:"clip"` // global gradient norm
	Seed        uint64  `json:"seed"`

	Workers         int `json:"-"` // threads of cpu's worker pool during Run (0: as set; not part of the run's identity)
	LogEvery        int `json:"log_every"`
	CheckpointEvery int `json:"checkpoint_every"`
	EvalEvery       int `json:"eval_every"`
	EvalWindows     int `json:"eval_windows"` // validation windows of periodic evaluations (the final one uses all)

	// InitFrom starts from the weights of another checkpoint (fine-tuning; the optimizer starts fresh). A
	// checkpoint in Dir takes precedence: the run resumes.
	InitFrom string `json:"init_from,omitempty"`
}

// DefaultConfig is the recipe of the shipped model, short of file names.
func DefaultConfig() Config {
	return Config{
		Model: DefaultModel(), Steps: 1200, BatchSeqs: 16, MicroSeqs: 4, LR: 3e-3, MinLR: 3e-4, Warmup: 100,
		WeightDecay: 0.05, Beta1: 0.9, Beta2: 0.95, AdamEps: 1e-8, Clip: 1, Seed: 1, Workers: 2,
		LogEvery: 10, CheckpointEvery: 50, EvalEvery: 200, EvalWindows: 48,
	}
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.Model == (ModelConfig{}) {
		c.Model = d.Model
	}
	setI := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setF := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	setI(&c.Steps, d.Steps)
	setI(&c.BatchSeqs, d.BatchSeqs)
	setI(&c.MicroSeqs, d.MicroSeqs)
	setI(&c.Warmup, d.Warmup)
	setI(&c.Workers, d.Workers)
	setI(&c.LogEvery, d.LogEvery)
	setI(&c.CheckpointEvery, d.CheckpointEvery)
	setI(&c.EvalEvery, d.EvalEvery)
	setI(&c.EvalWindows, d.EvalWindows)
	setF(&c.LR, d.LR)
	setF(&c.MinLR, d.MinLR)
	setF(&c.Beta1, d.Beta1)
	setF(&c.Beta2, d.Beta2)
	setF(&c.AdamEps, d.AdamEps)
	setF(&c.Clip, d.Clip)
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	c.MicroSeqs = min(c.MicroSeqs, c.BatchSeqs)
}

// lr is the learning rate of a step: linear warmup, then cosine decay to MinLR at Steps.
func (c *Config) lr(step int) float64 {
	if step < c.Warmup {
		return c.LR * float64(step+1) / float64(c.Warmup)
	}
	p := float64(step-c.Warmup) / float64(max(c.Steps-c.Warmup, 1))
	p = min(p, 1)
	return c.MinLR + 0.5*(c.LR-c.MinLR)*(1+math.Cos(math.Pi*p))
}

// Data is a tokenized corpus split: documents as [BOS] text [EOS], concatenated.
type Data struct {
	Train, Val []int32
	TokBytes   []int // bytes of text per token id (0 for special tokens), for bits per byte
	Vocab      int
}

// LoadData tokenizes the corpus files with the tokenizer.
func LoadData(trainFile, valFile, tokenizer string) (*Data, error) {
	tok, err := bpe.ReadFile(tokenizer)
	if err != nil {
		return nil, err
	}
	bos, ok1 := tok.ID(bpe.BeginOfText)
	eos, ok2 := tok.ID(bpe.EndOfText)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("train: %s lacks %s or %s", tokenizer, bpe.BeginOfText, bpe.EndOfText)
	}
	d := &Data{Vocab: len(tok.Vocab), TokBytes: make([]int, len(tok.Vocab))}
	nSpec := len(tok.Vocab) - len(tok.Specials)
	for id := 0; id < nSpec; id++ {
		d.TokBytes[id] = len(tok.Decode([]int32{int32(id)}))
	}
	load := func(path string) ([]int32, error) {
		docs, err := corpus.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var out []int32
		for _, doc := range docs {
			out = append(out, bos)
			out = append(out, tok.Encode(doc)...)
			out = append(out, eos)
		}
		return out, nil
	}
	if d.Train, err = load(trainFile); err != nil {
		return nil, err
	}
	if d.Val, err = load(valFile); err != nil {
		return nil, err
	}
	return d, nil
}

// Eval is a validation result.
type Eval struct {
	Loss         float64 `json:"loss"`          // mean cross-entropy per token, nats
	BitsPerByte  float64 `json:"bits_per_byte"` // total bits / bytes of the predicted text
	Tokens       int     `json:"tokens"`        // predicted tokens
	Bytes        int     `json:"bytes"`         // bytes they spell
	BytesPerTok  float64 `json:"bytes_per_token"`
	Perplexity   float64 `json:"perplexity"`
	Windows      int     `json:"windows"`
	ContextLen   int     `json:"context"`
	Quantization string  `json:"quantization"`
}

func (e Eval) String() string {
	return fmt.Sprintf("val loss %.4f  ppl %.2f  bits/byte %.4f  (%d tokens, %s)", e.Loss, e.Perplexity, e.BitsPerByte, e.Tokens, e.Quantization)
}

func finishEval(e Eval, nats float64) Eval {
	e.Loss = nats / float64(e.Tokens)
	e.Perplexity = math.Exp(e.Loss)
	e.BitsPerByte = nats / math.Ln2 / float64(max(e.Bytes, 1))
	e.BytesPerTok = float64(e.Bytes) / float64(e.Tokens)
	return e
}

// UnigramEval is the unigram baseline: token frequencies of the training stream (add-one smoothed), scored on the
// same validation windows as the models (every target token of windows of T+1 tokens).
func UnigramEval(d *Data, T, windows int) Eval {
	counts := make([]float64, d.Vocab)
	for _, t := range d.Train {
		counts[t]++
	}
	total := float64(len(d.Train) + d.Vocab)
	var nats float64
	e := Eval{ContextLen: T, Quantization: "unigram"}
	forWindows(d.Val, T, windows, func(w []int32) {
		for _, t := range w[1:] {
			nats -= math.Log((counts[t] + 1) / total)
			e.Tokens++
			e.Bytes += d.TokBytes[t]
		}
		e.Windows++
	})
	return finishEval(e, nats)
}

// forWindows calls f on consecutive non-overlapping windows of T+1 tokens (targets never overlap).
func forWindows(s []int32, T, max int, f func([]int32)) {
	for i, n := 0, 0; i+T+1 <= len(s) && (max <= 0 || n < max); i, n = i+T, n+1 {
		f(s[i : i+T+1])
	}
}

// Trainer holds a model being trained.
type Trainer struct {
	Cfg    Config
	Step   int     // optimizer steps done
	Tokens int64   // training tokens seen
	Time   float64 // seconds of training so far (over resumes)
	params []float32
	grads  []float32
	m, v   []float32
	net    *net
}

// NewTrainer allocates a trainer with freshly initialized weights.
func NewTrainer(cfg Config) (*Trainer, error) {
	cfg.fill()
	if err := cfg.Model.Validate(); err != nil {
		return nil, err
	}
	np := cfg.Model.Params()
	t := &Trainer{Cfg: cfg, params: make([]float32, np), grads: make([]float32, np), m: make([]float32, np), v: make([]float32, np)}
	initParams(cfg.Model, t.params, cfg.Seed)
	t.net = newNet(cfg.Model, !cfg.FullPrecision, cfg.MicroSeqs, cfg.Model.Context, t.params, t.grads)
	return t, nil
}

// Params returns the latent weights (layout order; see Tensors).
func (t *Trainer) Params() []float32 { return t.params }

// TrainStep runs one optimizer step on the batch of the step (drawn from data with an RNG seeded by (Seed, Step),
// so a resumed run sees the same batches) and returns the mean training loss and the gradient norm before
// clipping.
func (t *Trainer) TrainStep(d *Data) (loss, gnorm float64) {
	c := &t.Cfg
	T := c.Model.Context
	n := t.net
	r := rand.New(rand.NewPCG(c.Seed, uint64(t.Step)))
	clear(t.grads)
	n.prepare()
	total := c.BatchSeqs * T
	scale := 1 / float32(total)
	for done := 0; done < c.BatchSeqs; done += c.MicroSeqs {
		for b := 0; b < c.MicroSeqs; b++ {
			start := r.IntN(len(d.Train) - T - 1)
			copy(n.tokens[b*T:(b+1)*T], d.Train[start:start+T])
			copy(n.target[b*T:(b+1)*T], d.Train[start+1:start+T+1])
		}
		loss += n.forward(scale)
		n.backward()
	}
	loss /= float64(total)
	gnorm = t.adamw(c.lr(t.Step))
	t.Step++
	t.Tokens += int64(total)
	return loss, gnorm
}

// adamw clips the gradient to norm Clip and applies one AdamW update; returns the norm before clipping.
func (t *Trainer) adamw(lr float64) float64 {
	c := &t.Cfg
	var ss float64
	for _, g := range t.grads {
		ss += float64(g) * float64(g)
	}
	norm := math.Sqrt(ss)
	clip := 1.0
	if c.Clip > 0 && norm > c.Clip {
		clip = c.Clip / norm
	}
	step := float64(t.Step + 1)
	bc1 := 1 - math.Pow(c.Beta1, step)
	bc2 := 1 - math.Pow(c.Beta2, step)
	b1, b2 := float32(c.Beta1), float32(c.Beta2)
	ts := layout(c.Model)
	cpu.ParallelPark(len(ts), 1, func(lo, hi int) {
		for _, ten := range ts[lo:hi] {
			wd := float32(0)
			if ten.Linear {
				wd = float32(lr * c.WeightDecay)
			}
			stepSize := float32(lr / bc1)
			isq := float32(1 / math.Sqrt(bc2))
			eps := float32(c.AdamEps)
			end := ten.Off + ten.Rows*ten.Cols
			p, g, m, v := t.params[ten.Off:end], t.grads[ten.Off:end], t.m[ten.Off:end], t.v[ten.Off:end]
			for i := range p {
				gi := g[i] * float32(clip)
				m[i] = b1*m[i] + (1-b1)*gi
				v[i] = b2*v[i] + (1-b2)*gi*gi
				denom := float32(math.Sqrt(float64(v[i])))*isq + eps
				p[i] -= stepSize*m[i]/denom + wd*p[i]
			}
		}
	})
	return norm
}

// Evaluate scores the model on up to windows validation windows (0: all).
func (t *Trainer) Evaluate(d *Data, windows int) Eval {
	n := t.net
	T := t.Cfg.Model.Context
	n.prepare()
	e := Eval{ContextLen: T, Quantization: "ternary weights, int8 activations"}
	if t.Cfg.FullPrecision {
		e.Quantization = "full precision"
	}
	var nats float64
	b := 0
	flush := func() {
		if b == 0 {
			return
		}
		// pad unused sequences with copies of the first; count only the used ones
		for i := b; i < n.B; i++ {
			copy(n.tokens[i*T:(i+1)*T], n.tokens[:T])
			copy(n.target[i*T:(i+1)*T], n.target[:T])
		}
		n.forward(0)
		nats += n.rowLoss(b * T)
		b = 0
	}
	forWindows(d.Val, T, windows, func(w []int32) {
		copy(n.tokens[b*T:(b+1)*T], w[:T])
		copy(n.target[b*T:(b+1)*T], w[1:])
		for _, tg := range w[1:] {
			e.Bytes += d.TokBytes[tg]
		}
		e.Tokens += T
		e.Windows++
		b++
		if b == n.B {
			flush()
		}
	})
	flush()
	return finishEval(e, nats)
}

// rowLoss sums the per-token losses of the first rows of the last forward pass.
func (n *net) rowLoss(rows int) float64 {
	var sum float64
	for _, v := range n.rowLosses[:rows] {
		sum += v
	}
	return sum
}

// CheckpointPath is where Run keeps the latest checkpoint of a run directory.
func CheckpointPath(dir string) string { return filepath.Join(dir, "checkpoint.bin") }

// Run trains (or resumes) the run of cfg. When Dir holds a checkpoint, the run continues with the checkpoint's
// configuration, except Steps (when non-zero: the cosine schedule is lengthened or shortened) and Workers. It
// writes progress lines to progress, a checkpoint every CheckpointEvery steps and at the end, and the final
// validation result to Dir/eval.json. Cancel ctx to stop after the current step with a checkpoint.
func Run(ctx context.Context, cfg Config, progress io.Writer) error {
	if cfg.Dir == "" {
		return errors.New("train: Config.Dir is empty")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return err
	}
	workers := cfg.Workers
	if workers > 0 { // the run uses cpu's worker pool with this many threads, then puts it back
		defer cpu.SetThreads(cpu.SetThreads(workers))
	}
	var t *Trainer
	ck := CheckpointPath(cfg.Dir)
	if _, err := os.Stat(ck); err == nil {
		if t, err = LoadCheckpoint(ck, workers); err != nil {
			return err
		}
		fmt.Fprintf(progress, "resuming %s at step %d (%d tokens seen)\n", ck, t.Step, t.Tokens)
		if cfg.Steps > 0 && cfg.Steps != t.Cfg.Steps { // the schedule may be lengthened or shortened on resume
			if cfg.Steps < t.Step {
				return fmt.Errorf("train: %s is at step %d, past the %d steps asked for", ck, t.Step, cfg.Steps)
			}
			fmt.Fprintf(progress, "schedule changed from %d to %d steps\n", t.Cfg.Steps, cfg.Steps)
			t.Cfg.Steps = cfg.Steps
		}
	} else {
		var err error
		if t, err = NewTrainer(cfg); err != nil {
			return err
		}
		if cfg.InitFrom != "" {
			src, err := LoadCheckpoint(cfg.InitFrom, workers)
			if err != nil {
				return err
			}
			if src.Cfg.Model != t.Cfg.Model {
				return fmt.Errorf("train: %s has model %+v, the run asks for %+v", cfg.InitFrom, src.Cfg.Model, t.Cfg.Model)
			}
			copy(t.params, src.params)
			fmt.Fprintf(progress, "fine-tuning from %s (step %d)\n", cfg.InitFrom, src.Step)
		}
	}
	c := &t.Cfg
	d, err := LoadData(c.TrainFile, c.ValFile, c.Tokenizer)
	if err != nil {
		return err
	}
	if d.Vocab != c.Model.Vocab {
		return fmt.Errorf("train: tokenizer %s has %d tokens, model vocab is %d", c.Tokenizer, d.Vocab, c.Model.Vocab)
	}
	if len(d.Train) < c.Model.Context+2 || len(d.Val) < c.Model.Context+1 {
		return fmt.Errorf("train: corpus too short for context %d (%d train, %d val tokens)", c.Model.Context, len(d.Train), len(d.Val))
	}
	mode := "ternary (b1.58)"
	if c.FullPrecision {
		mode = "full precision"
	}
	fmt.Fprintf(progress, "model %s: %d params, dim %d, %d layers, %d/%d heads, ffn %d, vocab %d, context %d\n",
		mode, c.Model.Params(), c.Model.Dim, c.Model.Layers, c.Model.Heads, c.Model.KVHeads, c.Model.FFN, c.Model.Vocab, c.Model.Context)
	fmt.Fprintf(progress, "data: %d train tokens, %d val tokens; %d steps x %d tokens\n", len(d.Train), len(d.Val), c.Steps, c.BatchSeqs*c.Model.Context)
	start := time.Now()
	base := t.Time
	var ema float64
	lastLog, lastTokens := time.Now(), t.Tokens
	for t.Step < c.Steps {
		if err := ctx.Err(); err != nil {
			t.Time = base + time.Since(start).Seconds()
			if err2 := t.SaveCheckpoint(ck); err2 != nil {
				return err2
			}
			fmt.Fprintf(progress, "stopped at step %d; checkpoint %s\n", t.Step, ck)
			return err
		}
		loss, gnorm := t.TrainStep(d)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("train: loss %v at step %d", loss, t.Step)
		}
		if ema == 0 {
			ema = loss
		}
		ema = 0.9*ema + 0.1*loss
		if t.Step%c.LogEvery == 0 || t.Step == c.Steps {
			now := time.Now()
			tps := float64(t.Tokens-lastTokens) / now.Sub(lastLog).Seconds()
			lastLog, lastTokens = now, t.Tokens
			el := base + now.Sub(start).Seconds()
			left := time.Duration(float64(c.Steps-t.Step)*float64(c.BatchSeqs*c.Model.Context)/max(tps, 1)) * time.Second
			fmt.Fprintf(progress, "step %5d/%d %s loss %.4f (avg %.4f) lr %.2e gnorm %.2f | %5.0f tok/s | %d tokens | %s elapsed, %s left\n",
				t.Step, c.Steps, bar(t.Step, c.Steps, 20), loss, ema, c.lr(t.Step-1), gnorm, tps, t.Tokens,
				(time.Duration(el) * time.Second).Round(time.Second), left.Round(time.Second))
		}
		if t.Step%c.EvalEvery == 0 && t.Step < c.Steps {
			fmt.Fprintf(progress, "step %d: %s\n", t.Step, t.Evaluate(d, c.EvalWindows))
		}
		if t.Step%c.CheckpointEvery == 0 || t.Step == c.Steps {
			t.Time = base + time.Since(start).Seconds()
			if err := t.SaveCheckpoint(ck); err != nil {
				return err
			}
		}
	}
	ev := t.Evaluate(d, 0)
	uni := UnigramEval(d, c.Model.Context, 0)
	fmt.Fprintf(progress, "final %s\nunigram baseline: %s\n", ev, uni)
	return writeJSON(filepath.Join(c.Dir, "eval.json"), evalFile{Config: c, Model: ev, Seconds: t.Time, Step: t.Step, Tokens: t.Tokens, Unigram: uni})
}

// evalFile is a run's eval.json: the final evaluation and what produced it.
type evalFile struct {
	Config  *Config `json:"config"`
	Model   Eval    `json:"model"`
	Seconds float64 `json:"seconds"`
	Step    int     `json:"step"`
	Tokens  int64   `json:"tokens"`
	Unigram Eval    `json:"unigram"`
}

func bar(i, n, width int) string {
	f := i * width / max(n, 1)
	b := make([]byte, 0, width+2)
	b = append(b, '[')
	for k := 0; k < width; k++ {
		if k < f {
			b = append(b, '#')
		} else {
			b = append(b, '.')
		}
	}
	return string(append(b, ']'))
}
