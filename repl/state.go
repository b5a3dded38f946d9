package repl

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/kvcache"
	"github.com/bitrepl/bitrepl/model/regfile"
	"github.com/bitrepl/bitrepl/model/sample"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// state is what a session knows about the loaded model, the conversation and
// the last results (for /export).
type state struct {
	model     *model.Model
	tok       *tokenizer.Tokenizer // --tokenizer: a tokenizer without a model (for /tokens, /assert tokens)
	spec      string               // what /load was given
	sess      *model.Session       // KV cache of the conversation (or the last completion)
	sessCache kvcache.Type         // the cache_type sess was made with

	history []model.Message // chat turns so far (no system message)
	dropped int             // how many of them the model no longer sees (dropped to make room)
	lastIn  string          // the last user text or completion prompt (for /regen)
	lastIDs []int32         // the last prompt as evaluated (for /acts, /lens, /attn)
	gens    int             // generations so far (varies the seed of /regen)
	lastGen []model.Token   // the tokens of the last generation
	lastSt  *model.Stats

	interv  interventions         // /ablate, /edit, /steer in effect (intervene.go)
	weights []inspect.TensorStats // cached /weights result
	results map[string]any        // last result of each kind, for /export: typed values, looked up by the kind the user names
}

// initialSpec is the model to start with: -m, else $BITREPL_MODEL.
func (s *session) initialSpec() string {
	if s.cfg.Model != "" {
		return s.cfg.Model
	}
	return envGet(s.cfg.Env, "BITREPL_MODEL")
}

// loadInitial loads -m or $BITREPL_MODEL, else the default model when there
// is one (a script or the prompt can also start without a model).
func (s *session) loadInitial(ctx context.Context) error {
	if spec := s.initialSpec(); spec != "" {
		return s.load(ctx, spec)
	}
	if s.cfg.DefaultModel == nil {
		return nil
	}
	m, name, err := s.cfg.DefaultModel()
	if err != nil {
		return fmt.Errorf("the built-in model: %w", err)
	}
	s.use(m, name, time.Time{})
	if s.interactive {
		s.p.println(s.st.hint.Render("a tiny model for trying bitrepl out; for a real one: /load microsoft/bitnet-b1.58-2B-4T-gguf (/help load)"))
	}
	return nil
}

// load opens a model (a file, a directory or a Hugging Face repo id) and makes
// it current; the previous model stays loaded if this fails.
func (s *session) load(ctx context.Context, spec string) error {
	if strings.HasPrefix(spec, model.RandomSpec) {
		// random:SHAPE: random ternary weights of a real model's shape, for speed runs and conversions.
		// With --tokenizer the model gets that vocabulary (files written from
		// it then load in other engines too).
		start := time.Now()
		var tok *tokenizer.Tokenizer
		var tokJSON []byte
		if s.cfg.Tokenizer != "" {
			var err error
			if tokJSON, err = regfile.ReadFile(s.expand(s.cfg.Tokenizer), tokenizer.MaxFileBytes); err != nil {
				return err
			}
			if tok, err = tokenizer.FromJSON(tokJSON); err != nil {
				return fmt.Errorf("%s: %w", s.cfg.Tokenizer, err)
			}
		}
		m, err := model.Load(spec, model.WithTokenizer(tok, tokJSON))
		if err != nil {
			return err
		}
		s.use(m, spec, start)
		return nil
	}
	path, err := resolveModel(s.expand(spec), s.cfg.Env)
	if err != nil {
		return err
	}
	start := time.Now()
	if s.interactive {
		s.p.printf("%s", s.st.dim.Render("loading "+path+" …"))
	}
	m, err := model.Load(path, model.WithMemory(s.memory))
	if s.interactive {
		s.p.printf("\r\x1b[K")
	}
	if err != nil {
		return err
	}
	s.use(m, spec, start)
	return nil
}

// use makes m the current model (closing the previous one) and says so.
func (s *session) use(m *model.Model, spec string, start time.Time) {
	s.unload()
	s.model, s.spec = m, spec
	s.results = map[string]any{}
	if s.cfg.Command == "" {
		c := m.Config
		took := ""
		if s.interactive && !start.IsZero() {
			took = fmt.Sprintf(" (%.1fs)", time.Since(start).Seconds())
		}
		s.p.println(s.st.ok.Render("loaded ") + s.st.bold.Render(spec) + s.st.dim.Render(fmt.Sprintf(
			" — %s, %d layers, dim %d, vocab %d, %s, chat template %s%s",
			c.Arch, c.Layers, c.Dim, c.VocabSize, m.Format, m.Chat, took)))
	}
}

func (s *session) unload() {
	if s.model != nil {
		s.model.Close()
	}
	tok := s.tok
	s.state = state{tok: tok}
}

// tokenizer is the loaded model's tokenizer, else the one given with --tokenizer.
func (s *session) tokenizer() (*tokenizer.Tokenizer, error) {
	if s.model != nil && s.model.Tokenizer != nil {
		return s.model.Tokenizer, nil
	}
	if s.tok != nil {
		return s.tok, nil
	}
	if s.model != nil {
		return nil, errors.New("the model has no tokenizer")
	}
	return nil, errNoModel
}

// applySettings makes settings that act outside a generation take effect.
func (s *session) applySettings() {
	if s.set.Threads != cpu.Threads() && !(s.set.Threads == 0 && s.threadsDefault) {
		cpu.SetThreads(s.set.Threads) // 0: the default (physical cores)
		s.threadsDefault = s.set.Threads == 0
	}
}

// session returns the conversation's session, allocating it on first use
// and again when /set context changed its length.
func (s *session) session() *model.Session {
	if s.sess == nil || s.sess.ContextLen() != s.model.SessionContext(s.set.Context) || s.sessCache != s.set.CacheType {
		if max := s.model.Config.ContextLen; s.set.Context > max {
			fmt.Fprintln(s.errOut, s.st.warn.Render(fmt.Sprintf("context %d is more than the model was trained for: using %d", s.set.Context, max)))
		}
		s.sess, s.sessCache = s.newSession(s.set.Context), s.set.CacheType
		s.sessionHook(s.sess)
		s.dropped = 0 // the model sees the whole conversation again, fitted to the new length
	}
	return s.sess
}

// newSession makes a session on the device asked for (--device), falling
// back to the CPU when it cannot; the reason is printed once.
func (s *session) newSession(ctxLen int) *model.Session {
	s.model.KVCache = s.set.CacheType
	sess, note, err := s.model.NewSessionOn(s.device, ctxLen)
	if err != nil {
		// The device was checked when the flag was parsed; a model it cannot
		// run still runs on the CPU.
		note = err.Error() + "; running on the CPU"
		sess = s.model.NewSession(ctxLen)
	}
	// auto falling back on a machine without Metal is the normal case there:
	// say it only where a GPU could have been used.
	quiet := s.device == model.DeviceAuto && runtime.GOOS != "darwin"
	if note != "" && note != s.deviceNote && !quiet {
		s.deviceNote = note
		fmt.Fprintln(s.errOut, s.st.dim.Render(note))
	}
	return sess
}

// genOptions maps the settings to the engine's; gen varies the seed between generations.
func (s *session) genOptions(stops []string) model.GenOptions {
	return model.GenOptions{
		MaxTokens: s.set.MaxTokens,
		Stop:      stops,
		Sampling: sample.Params{
			Temperature: float32(s.set.Temperature), TopK: s.set.TopK, TopP: float32(s.set.TopP), MinP: float32(s.set.MinP),
			RepeatPenalty: float32(s.set.RepeatPenalty), RepeatLastN: s.set.RepeatLastN, Seed: s.set.Seed + uint64(s.gens),
		},
	}
}

// tokenText is how a token reads in tables: its decoded text, or its vocab entry for specials.
func (s *session) tokenText(id int32) string {
	t, _ := s.tokenizer()
	if t == nil {
		return fmt.Sprintf("<%d>", id)
	}
	if t.IsSpecial(id) {
		return t.Token(id)
	}
	d := t.Decode([]int32{id}, false)
	if strings.ContainsRune(d, utf8.RuneError) {
		return t.Token(id) // part of a UTF-8 character: its vocab entry says more than U+FFFD
	}
	return d
}

// info prints what the loaded model is.
func cmdInfo(s *session, _ context.Context, c *command, a call) error {
	if len(a.args) != 0 {
		return usagef(c, "/info takes no arguments")
	}
	m := s.model
	cfg := m.Config
	kv := func(k string, v any) { s.p.printf("  %s %v\n", s.st.key.Render(fmt.Sprintf("%-16s", k)), v) }
	s.p.println(s.st.title.Render(s.spec))
	kv("source", m.Source)
	kv("format", m.Format)
	kv("architecture", cfg.Arch)
	kv("layers", cfg.Layers)
	kv("dim / ffn", fmt.Sprintf("%d / %d", cfg.Dim, cfg.FFNDim))
	kv("heads / kv heads", fmt.Sprintf("%d / %d (head dim %d)", cfg.Heads, cfg.KVHeads, cfg.HeadDim))
	r := m.Resolved()
	kv("activation", r.Activation)
	kv("norms", r.Norms)
	kv("tied embedding", cfg.TiedEmbedding)
	kv("context", cfg.ContextLen)
	kv("rope", fmt.Sprintf("theta %g, %s, scaling %s", r.RopeTheta, r.RopeLayout, r.RopeScaling))
	kv("norm eps", cfg.NormEps)
	kv("weight scales", r.Scales)
	kv("vocab", cfg.VocabSize)
	kv("chat template", m.Chat)
	var params, bytes int64
	types := map[cpu.DType]int{}
	for _, w := range m.Weights() {
		params += int64(w.Matrix.Rows) * int64(w.Matrix.Cols)
		bytes += int64(len(w.Matrix.Data))
		types[w.Matrix.Type]++
	}
	var ts []string
	for t, n := range types {
		ts = append(ts, fmt.Sprintf("%v×%d", t, n))
	}
	kv("matrices", fmt.Sprintf("%s parameters in %.1f MiB (%s)", humanCount(params), float64(bytes)/(1<<20), strings.Join(sortedStrings(ts), ", ")))
	if m.Tokenizer != nil {
		kv("tokenizer", fmt.Sprintf("%d tokens, BOS %s, EOS %s", m.Tokenizer.VocabSize(), s.special(m.Tokenizer.BOS()), s.special(m.Tokenizer.EOS())))
	}
	var stops []string
	for _, id := range m.EOS() {
		stops = append(stops, s.special(id))
	}
	if len(stops) == 0 {
		stops = []string{"none (generations stop at max_tokens)"}
	}
	kv("stop tokens", strings.Join(stops, ", "))
	kv("kernels", fmt.Sprintf("%v, %s", cpu.CurrentLevel(), plural(cpu.Threads(), "thread")))
	return nil
}

func cmdLoad(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) != 1 {
		if len(a.args) == 0 {
			if repos := cachedRepos(s.cfg.Env); len(repos) > 0 {
				s.p.println(s.st.dim.Render("models in the local Hugging Face cache: " + strings.Join(repos, ", ")))
			}
		}
		return usagef(c, "/load needs one model: a .gguf file, a directory, or a Hugging Face repo id")
	}
	return s.load(ctx, a.args[0])
}

// special names a special token: its id and text, or "none".
func (s *session) special(id int32) string {
	if id < 0 {
		return "none"
	}
	return fmt.Sprintf("%d %q", id, s.tokenText(id))
}

// humanCount writes n with a K/M/B suffix.
func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
