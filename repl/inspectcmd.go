package repl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

func inspectCommands() []*command {
	sites := []string{"all"}
	for _, st := range model.Sites() {
		sites = append(sites, st.String())
	}
	return []*command{
		{name: "weights", args: "[PATTERN]", summary: "weight statistics: -1/0/+1 shares, scales, sparsity (per layer, or tensors matching PATTERN)", needModel: true, run: cmdWeights,
			help: TensorPatternHelp + ", e.g. /weights blk.0.attn_q or /weights '*ffn_down*'.\nOne matching tensor shows its row and column sparsity histograms."},
		{name: "acts", args: "[SITE [LAYER]]", summary: "activation statistics of the last prompt (std, absmax, int8 SQNR, outliers)", needModel: true, run: cmdActs, complete: argSubTopic, topics: sites,
			help: "Sites: " + strings.Join(sites[1:], ", ") + "."},
		{name: "lens", args: "[POS] [K]", summary: "logit lens: each layer's top tokens at a position of the last prompt", needModel: true, run: cmdLens},
		{name: "attn", args: "LAYER [HEAD]", summary: "attention heatmap of the last prompt (heads averaged unless HEAD)", needModel: true, run: cmdAttn},
		{name: "export", args: "WHAT FILE", summary: "write a result as JSON or CSV (by extension), or hidden states as .safetensors/.npy", complete: argSubTopic,
			topics: exportKinds, run: cmdExport,
			help: "WHAT: " + strings.Join(exportKinds, ", ") + ". hidden SITE FILE writes the last prompt's values at SITE for every layer."},
	}
}

// weightsOf computes the statistics of the tensors matching pattern (all
// when it is ""). Those of every tensor are computed once per model; a
// pattern before that computes only the tensors it selects.
func (s *session) weightsOf(pattern string) (*weightsResult, error) {
	var names []string
	for _, w := range s.model.Weights() {
		names = append(names, w.Name)
	}
	var match map[string]bool
	if pattern != "" {
		var err error
		if match, err = matchingTensors(names, pattern); err != nil {
			return nil, err
		}
	}
	if s.weights == nil && match != nil {
		ws, err := inspect.WeightStats(s.model, 10, func(n string) bool { return match[n] })
		if err != nil {
			return nil, err
		}
		return newWeightsResult(s.model, s.spec, pattern, ws), nil
	}
	if s.weights == nil {
		if s.interactive {
			s.p.printf("%s", s.st.dim.Render("computing weight statistics …"))
			defer s.p.printf("\r\x1b[K")
		}
		ws, err := inspect.WeightStats(s.model, 10, nil)
		if err != nil {
			return nil, err
		}
		s.weights = ws
	}
	ws := s.weights
	if match != nil {
		ws = nil
		for _, t := range s.weights {
			if match[t.Name] {
				ws = append(ws, t)
			}
		}
	}
	return newWeightsResult(s.model, s.spec, pattern, ws), nil
}

// TensorPatternHelp says how /weights and bitrepl inspect select tensors.
const TensorPatternHelp = "PATTERN is a wildcard over tensor names (* any text, ? one character, [abc] one of them); " +
	"a pattern also selects the names it is a dotted prefix of (blk.0 is blk.0.*)"

// matchTensor reports whether the tensor name matches pat (see TensorPatternHelp).
func matchTensor(pat, name string) (bool, error) {
	ok, err := path.Match(pat, name)
	if ok || err != nil {
		return ok, err
	}
	return path.Match(pat+".*", name)
}

// matchingTensors returns the set of names matching pat; none is an error
// naming what there is.
func matchingTensors(names []string, pat string) (map[string]bool, error) {
	sel := map[string]bool{}
	for _, n := range names {
		ok, err := matchTensor(pat, n)
		if err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("bad pattern %q: %v (%s)", pat, err, TensorPatternHelp)}
		}
		if ok {
			sel[n] = true
		}
	}
	if len(sel) > 0 {
		return sel, nil
	}
	msg := fmt.Sprintf("no tensor matches %q", pat)
	if near := nearest(pat, names); near != "" {
		msg += " (did you mean " + near + "?)"
	}
	return nil, errors.New(msg + "; the model has " + describeTensors(names))
}

// describeTensors summarizes tensor names: the per-layer ones once, with the layer count.
func describeTensors(names []string) string {
	var other, perLayer []string
	seen := map[string]bool{}
	layers := 0
	for _, n := range names {
		if rest, ok := strings.CutPrefix(n, "blk."); ok {
			num, suffix, ok := strings.Cut(rest, ".")
			if l, err := strconv.Atoi(num); ok && err == nil {
				layers = max(layers, l+1)
				if !seen[suffix] {
					seen[suffix] = true
					perLayer = append(perLayer, suffix)
				}
				continue
			}
		}
		other = append(other, n)
	}
	d := fmt.Sprintf("%d weight tensors", len(names))
	if len(other) > 0 {
		d += ": " + strings.Join(other, ", ")
	}
	if layers > 0 {
		d += fmt.Sprintf("; %d layers blk.0 to blk.%d, each with %s", layers, layers-1, strings.Join(perLayer, ", "))
	}
	return d
}

// shareBar draws the shares of -1, 0 and +1 as one stacked bar.
func (s *session) shareBar(neg, zero, pos float64, width int) string {
	neg, _ = clamp01(neg)
	zero, _ = clamp01(zero)
	n := int(math.Round(neg * float64(width)))
	z := int(math.Round(zero * float64(width)))
	p := max(0, width-n-z)
	if !s.st.colored() {
		return strings.Repeat("-", n) + strings.Repeat("0", z) + strings.Repeat("+", p)
	}
	return s.st.diffOld.Render(strings.Repeat("█", n)) + s.st.dim.Render(strings.Repeat("█", z)) + s.st.diffNew.Render(strings.Repeat("█", p))
}

func cmdWeights(s *session, _ context.Context, c *command, a call) error {
	r, err := computeWeights(s, c, a)
	if err != nil {
		return err
	}
	s.renderWeights(r)
	if r.Pattern == "" {
		s.p.println(s.st.dim.Render("/weights PATTERN for single tensors (e.g. /weights blk.0.*)"))
	}
	return nil
}

// computeWeights is /weights [PATTERN] without its output: bitrepl inspect
// runs it once.
func computeWeights(s *session, c *command, a call) (*weightsResult, error) {
	if len(a.args) > 1 {
		return nil, usagef(c, "one pattern at most")
	}
	pattern := ""
	if len(a.args) == 1 {
		pattern = a.args[0]
	}
	r, err := s.weightsOf(pattern)
	if err != nil {
		return nil, err
	}
	s.results["weights"] = r
	s.results["layers"] = r.layers
	return r, nil
}

// renderWeights prints a /weights result: the shares per layer, or with a
// pattern one line per tensor (and the details of a single one).
func (s *session) renderWeights(r *weightsResult) {
	if r.Pattern == "" {
		s.p.println(s.st.title.Render("weights per layer") + s.st.dim.Render("   shares of -1 / 0 / +1"))
		barW := 30
		if cols := s.width(); cols > 0 {
			barW = max(10, min(30, cols-49)) // the rest of the line is 48 columns
		}
		for i := range r.layers {
			l := &r.layers[i]
			n := float64(max(l.TernaryParams(), 1))
			neg, zero, pos := float64(l.Neg)/n, float64(l.Zero)/n, float64(l.Pos)/n
			name := "other"
			if l.Layer >= 0 {
				name = "blk." + strconv.Itoa(l.Layer)
			}
			var line string
			if l.TernaryParams() > 0 {
				line = fmt.Sprintf("%-7s %s  %5.1f%% %5.1f%% %5.1f%%  %6.1fM params", name, s.shareBar(neg, zero, pos, barW), 100*neg, 100*zero, 100*pos, float64(l.Params)/1e6)
			} else { // embeddings and heads kept in F16/F32: no codes to count
				line = fmt.Sprintf("%-7s %-*s  %20s  %6.1fM params", name, barW, "(not ternary)", "", float64(l.Params)/1e6)
			}
			if l.FloatParams > 0 && l.TernaryParams() > 0 {
				line += s.st.dim.Render(fmt.Sprintf(" (%.1fM not ternary)", float64(l.FloatParams)/1e6))
			}
			if !math.IsNaN(l.MeanRelErr) {
				line += fmt.Sprintf("  latent rel.err %.3f", l.MeanRelErr)
			}
			if l.Invalid > 0 {
				line += s.st.err.Render(fmt.Sprintf("  %d invalid codes", l.Invalid))
			}
			s.p.println(line)
		}
		return
	}
	for i := range r.stats {
		t := &r.stats[i]
		if !t.Type.Ternary() {
			s.p.printf("%s %s mean %.4g  std %.4g  absmax %.4g\n", s.st.key.Render(padRight(t.Name, 26)), padRight(t.Type.String(), 5), t.Mean, t.Std, t.AbsMax)
			continue
		}
		neg, zero, pos := t.Share()
		s.p.printf("%s %s %s  %5.1f%% %5.1f%% %5.1f%%  scale %.4g  rows %s cols %s\n",
			s.st.key.Render(padRight(t.Name, 26)), padRight(t.Type.String(), 5), s.shareBar(neg, zero, pos, 20),
			100*neg, 100*zero, 100*pos, t.Scale, s.st.bar.Render(sparkline(t.RowSparsity.Counts)), s.st.bar.Render(sparkline(t.ColSparsity.Counts)))
	}
	if len(r.stats) == 1 {
		s.weightDetail(&r.stats[0])
	}
}

// weightDetail shows one tensor's histograms and latent statistics.
func (s *session) weightDetail(t *inspect.TensorStats) {
	if !t.Type.Ternary() {
		s.p.printf("%s %dx%d %v: not ternary; %d negative, %d zero, %d positive\n", t.Name, t.Rows, t.Cols, t.Type, t.Neg, t.Zero, t.Pos)
		s.p.printf("mean %.4g std %.4g absmax %.4g · |w| of non-zero weights: min %.4g mean %.4g max %.4g\n", t.Mean, t.Std, t.AbsMax, t.MagMin, t.MagMean, t.MagMax)
		return
	}
	s.p.printf("%s %dx%d %v: %d × -1, %d × 0, %d × +1", t.Name, t.Rows, t.Cols, t.Type, t.Neg, t.Zero, t.Pos)
	if t.Invalid > 0 {
		s.p.printf(", %s", s.st.err.Render(fmt.Sprintf("%d invalid", t.Invalid)))
	}
	s.p.printf("\n|w| of non-zero weights: min %.4g mean %.4g max %.4g · mean %.4g std %.4g absmax %.4g\n", t.MagMin, t.MagMean, t.MagMax, t.Mean, t.Std, t.AbsMax)
	for _, h := range []struct {
		name string
		h    inspect.Histogram
	}{{"rows", t.RowSparsity}, {"columns", t.ColSparsity}} {
		s.p.println(s.st.title.Render("share of zeros per " + h.name))
		total := float64(max(h.h.Total(), 1))
		for i, n := range h.h.Counts {
			lo, hi := h.h.Bin(i)
			s.p.printf("  %8s %s %d\n", fmt.Sprintf("%.0f–%.0f%%", 100*lo, 100*hi), s.st.bar.Render(bar(float64(n)/total, 40)), n)
		}
	}
	if l := t.Latent; l != nil {
		s.p.println(s.st.title.Render("latent weights") + " " + l.String())
	}
}

// record runs the last prompt through a fresh session with rec as the hook.
func (s *session) record(ctx context.Context, rec *inspect.Recorder) ([]int32, error) {
	ids := s.lastIDs
	if len(ids) == 0 {
		return nil, errors.New("no prompt yet: send a message (or a completion) first")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec.Namer = s.tokenText
	sess := s.newSession(min(len(ids)+1, s.model.Config.ContextLen))
	sess.SetHook(rec)
	err := sess.ForwardEach(ids, func(int, []float32) {})
	return ids, err
}

func cmdActs(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) > 2 {
		return usagef(c, "too many arguments")
	}
	rec := &inspect.Recorder{}
	var site model.Site
	layer := -2
	if len(a.args) > 0 && a.args[0] != "all" {
		st, ok := model.ParseSite(a.args[0])
		if !ok {
			return usagef(c, "unknown site %q; sites: %s", a.args[0], strings.Join(c.topics[1:], ", "))
		}
		site = st
		rec.Sites = []model.Site{st}
	} else {
		rec.Sites = []model.Site{model.SiteAttnNorm, model.SiteAttnSubNorm, model.SiteFFNNorm, model.SiteFFNSubNorm, model.SiteResidual}
	}
	if len(a.args) == 2 {
		n, err := strconv.Atoi(a.args[1])
		if err != nil || n < 0 || n >= s.model.Config.Layers {
			return usagef(c, "layer must be in [0, %d)", s.model.Config.Layers)
		}
		layer = n
		rec.Layers = []int{n}
	}
	ids, err := s.record(ctx, rec)
	if err != nil {
		return err
	}
	sums := inspect.Summarize(rec.Stats)
	s.results["acts"] = rec.Stats
	s.results["acts_summary"] = sums
	switch {
	case site != 0 && layer >= 0:
		s.p.println(s.st.title.Render(fmt.Sprintf("%s at layer %d, per token", site, layer)))
		for _, st := range rec.Stats {
			s.p.printf("%s %s\n", s.st.key.Render(padRight(visible(s.tokenText(ids[st.Pos])), 12)), st.String())
		}
	case site != 0:
		s.p.println(s.st.title.Render(fmt.Sprintf("%s over %s, per layer", site, plural(len(ids), "token"))))
		for _, sm := range sums {
			s.p.println(sm.String())
		}
	default:
		s.p.println(s.st.title.Render(fmt.Sprintf("activations over %s", plural(len(ids), "token"))) + s.st.dim.Render("   int8 SQNR (dB) at BitLinear inputs; residual std and absmax"))
		s.p.printf("%-6s %9s %9s %9s %9s %10s %10s\n", "layer", "attn_norm", "attn_sub", "ffn_norm", "ffn_sub", "resid std", "resid max")
		by := map[string]map[int]inspect.SiteSummary{}
		for _, sm := range sums {
			if by[sm.Site] == nil {
				by[sm.Site] = map[int]inspect.SiteSummary{}
			}
			by[sm.Site][sm.Layer] = sm
		}
		sq := func(site string, l int) string {
			sm, ok := by[site][l]
			if !ok || math.IsNaN(sm.MeanSQNR) {
				return fmt.Sprintf("%9s", "-")
			}
			return fmt.Sprintf("%9.2f", sm.MeanSQNR)
		}
		for l := 0; l < s.model.Config.Layers; l++ {
			if layer >= 0 && l != layer {
				continue
			}
			r := by["residual"][l]
			s.p.printf("%-6d %s %s %s %s %10.4g %10.4g\n", l, sq("attn_norm", l), sq("attn_sub_norm", l), sq("ffn_norm", l), sq("ffn_sub_norm", l), r.MeanStd, r.MaxAbs)
		}
		s.p.println(s.st.dim.Render("/acts SITE [LAYER] for one site; /export acts FILE.csv for every token"))
	}
	return nil
}

func cmdLens(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) > 2 {
		return usagef(c, "too many arguments")
	}
	pos, k := -1, 5
	if len(a.args) > 0 {
		n, err := strconv.Atoi(a.args[0])
		if err != nil {
			return usagef(c, "POS must be an integer (negative counts from the end)")
		}
		pos = n
	}
	if len(a.args) > 1 {
		n, err := strconv.Atoi(a.args[1])
		if err != nil || n < 1 || n > 50 {
			return usagef(c, "K must be in [1, 50]")
		}
		k = n
	}
	if len(s.lastIDs) == 0 {
		return errors.New("no prompt yet: send a message (or a completion) first")
	}
	if pos < 0 {
		pos += len(s.lastIDs)
	}
	if pos < 0 || pos >= len(s.lastIDs) {
		return usagef(c, "the last prompt has positions 0..%d", len(s.lastIDs)-1)
	}
	rec := &inspect.Recorder{Sites: []model.Site{model.SiteLogits}, Keep: []model.Site{model.SiteResidual}, TopK: k}
	ids, err := s.record(ctx, rec)
	if err != nil {
		return err
	}
	rows, err := inspect.LogitLens(s.model, rec, pos, k)
	if err != nil {
		return err
	}
	s.results["lens"] = rows
	next := "(end of prompt)"
	if pos+1 < len(ids) {
		next = strconv.Quote(s.tokenText(ids[pos+1]))
	}
	s.p.println(s.st.title.Render(fmt.Sprintf("logit lens at position %d %q", pos, s.tokenText(ids[pos]))) + s.st.dim.Render(" · next token "+next))
	for _, r := range rows {
		var cells []string
		for _, t := range r.Top {
			cells = append(cells, s.st.prob(t.Prob, padRight(strconv.Quote(visible(t.Text)), 14))+fmt.Sprintf("%5.1f%%", 100*t.Prob))
		}
		s.p.printf("%s %s %s\n", s.st.key.Render(fmt.Sprintf("L%-3d", r.Layer)), s.st.dim.Render(fmt.Sprintf("H %5.2f", r.Entropy)), strings.Join(cells, "  "))
	}
	return nil
}

func cmdAttn(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) < 1 || len(a.args) > 2 {
		return usagef(c, "/attn needs a layer")
	}
	cfg := s.model.Config
	layer, err := strconv.Atoi(a.args[0])
	if err != nil || layer < 0 || layer >= cfg.Layers {
		return usagef(c, "layer must be in [0, %d)", cfg.Layers)
	}
	head := -1
	if len(a.args) == 2 {
		head, err = strconv.Atoi(a.args[1])
		if err != nil || head < 0 || head >= cfg.Heads {
			return usagef(c, "head must be in [0, %d)", cfg.Heads)
		}
	}
	rec := &inspect.Recorder{Sites: []model.Site{}, Layers: []int{layer}, Keep: []model.Site{model.SiteAttnWeights}}
	ids, err := s.record(ctx, rec)
	if err != nil {
		return err
	}
	var rows [][]float32
	if head >= 0 {
		_, rows, err = rec.Attention(layer, head)
	} else {
		for h := 0; h < cfg.Heads && err == nil; h++ {
			var hr [][]float32
			_, hr, err = rec.Attention(layer, h)
			if rows == nil {
				rows = make([][]float32, len(hr))
				for i := range hr {
					rows[i] = make([]float32, len(hr[i]))
				}
			}
			for i := range hr {
				for j, v := range hr[i] {
					rows[i][j] += v / float32(cfg.Heads)
				}
			}
		}
	}
	if err != nil {
		return err
	}
	s.results["attn"] = rows
	title := fmt.Sprintf("attention, layer %d, ", layer)
	if head >= 0 {
		title += fmt.Sprintf("head %d", head)
	} else {
		title += fmt.Sprintf("mean of %d heads", cfg.Heads)
	}
	s.p.println(s.st.title.Render(title) + s.st.dim.Render(" · rows: query tokens, columns: key tokens, each row scaled to its maximum"))
	const maxCols = 40
	first := max(0, len(ids)-maxCols)
	if first > 0 {
		s.p.println(s.st.dim.Render(fmt.Sprintf("(showing the last %d of %d positions)", maxCols, len(ids))))
	}
	for i := first; i < len(rows); i++ {
		row := rows[i]
		mx := float32(0)
		for _, v := range row[first:] {
			mx = max(mx, v)
		}
		var b strings.Builder
		for j := first; j < len(row); j++ {
			v := float64(row[j] / max(mx, 1e-9))
			if s.st.colored() {
				b.WriteString(s.st.heat(v, "  "))
			} else {
				b.WriteString(strings.Repeat(shade(v), 2))
			}
		}
		s.p.printf("%s %s\n", s.st.key.Render(padRight(visible(s.tokenText(ids[i])), 12)), b.String())
	}
	return nil
}
