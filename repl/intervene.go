package repl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

// interventions are the edits in effect on the conversation's session
// (/ablate, /edit, /steer): a forward pass with them runs on the CPU.
type interventions struct {
	ablated []headRef
	edits   map[string]*weightEdit // by weight name, in the order made (order)
	order   []string
	steer   *steering
}

// argTopicWeight completes the first word from command.topics (if any),
// then a BitLinear weight name.
const argTopicWeight = argSubTopic + 1

// argTopics completes every argument from command.topics.
const argTopics = argSubTopic + 2

type headRef struct{ layer, head int }

type weightEdit struct {
	layer int
	proj  inspect.Projection
	m     *inspect.EditableMatrix
	log   []string // what was done, for /edit
}

type steering struct {
	layer    int
	strength float32
	a, b     string
	vec      []float32
}

func (iv *interventions) active() bool {
	return len(iv.ablated) > 0 || len(iv.order) > 0 || iv.steer != nil
}

// hooks builds the hook that applies the interventions (nil when none).
func (iv *interventions) hooks(m *model.Model) (*inspect.Hooks, error) {
	if !iv.active() {
		return nil, nil
	}
	h := &inspect.Hooks{Config: &m.Config}
	for _, a := range iv.ablated {
		p, err := inspect.AblateHead(m, a.layer, a.head)
		if err != nil {
			return nil, err
		}
		h.Projections = append(h.Projections, p)
	}
	for _, name := range iv.order {
		e := iv.edits[name]
		p, err := inspect.NewProjectionEdit(m, e.layer, e.proj)
		if err != nil {
			return nil, err
		}
		p.Matrix = e.m.Matrix()
		h.Projections = append(h.Projections, p)
	}
	if st := iv.steer; st != nil {
		sh, err := inspect.Steer(m, st.layer, st.vec, st.strength)
		if err != nil {
			return nil, err
		}
		h.Interventions = sh.Interventions
	}
	return h, nil
}

func (iv *interventions) describe() []string {
	var out []string
	for _, a := range iv.ablated {
		out = append(out, fmt.Sprintf("ablated head %d of layer %d", a.head, a.layer))
	}
	for _, name := range iv.order {
		for _, l := range iv.edits[name].log {
			out = append(out, name+": "+l)
		}
	}
	if st := iv.steer; st != nil {
		out = append(out, fmt.Sprintf("steering at layer %d with strength %g: %q - %q", st.layer, st.strength, st.a, st.b))
	}
	return out
}

var editOps = []string{"flip", "set", "flip-row", "zero-row", "zero-col", "flip-col", "scale", "undo", "off"}

func interveneCommands() []*command {
	const cpu = "\nInterventions run on the CPU (a session on Metal runs its passes with them on the CPU)."
	return []*command{
		{name: "induction", args: "[N]", summary: "induction and previous-token scores of every head, on N random tokens repeated (default 20)", needModel: true, run: cmdHeads,
			help: "Previous-token: the mean attention from each token to the one before. Induction: the mean attention from each token of the\nrepeat to the token after its first occurrence. Then /assert head LAYER HEAD induction|prev MIN." + cpu},
		{name: "attribute", aliases: []string{"dla"}, args: "[TOKEN] [POS]", summary: "direct logit attribution: the logit of TOKEN (default the top one) after position POS of the last prompt, split into embedding, heads and FFNs", needModel: true, run: cmdAttribute,
			help: "TOKEN is its text or #ID. The final norm's scale is frozen (as TransformerLens does); a head's part uses its columns of\nattn_output with the token's int8 scale kept. Then /assert attribution [TOL] checks that the parts sum to the logit." + cpu},
		{name: "patch", args: `"CLEAN" "CORRUPT" ANSWER WRONG [SITE...]`, summary: "activation patching: how much of logit[ANSWER]-logit[WRONG] each site, layer and position restores", needModel: true, run: cmdPatch,
			complete: argTopics, topics: siteNames(),
			help: "CLEAN and CORRUPT are prompts of the same number of tokens; ANSWER and WRONG are token texts or #IDs. Sites default to\nresidual attn_output ffn_down; add 'heads' to patch attention sites per head." + cpu},
		{name: "ablate", args: "[LAYER HEAD | off]", summary: "remove a head's output from the conversation's forward passes (no arguments: list the interventions)", needModel: true, run: cmdAblate,
			help: "The head's columns of attn_output's int8 input are zeroed with the token's scale kept: the same as zeroing the head's\nattn_output weights in the file. The conversation is evaluated again from its start." + cpu},
		{name: "edit", args: "OP WEIGHT ARGS...", summary: "edit ternary weights (a private copy): flip R C, set R C CODE, flip-row R, zero-row R, zero-col C, flip-col C, scale F; undo; off", needModel: true, run: cmdEdit,
			complete: argTopicWeight, topics: editOps,
			help: "WEIGHT is a GGUF name such as blk.0.ffn_down.weight (or 0.ffn_down). Each edit reports its effect on the last prompt's\nnext-token distributions (KL) and applies to the conversation from then on. /edit undo WEIGHT takes back the last edit." + cpu},
		{name: "sensitivity", args: "WEIGHT [ROWS|all]", summary: "rank rows of a ternary matrix by the effect of flipping each on the last prompt (default the first 32 rows)", needModel: true, run: cmdSensitivity,
			complete: argTopicWeight, help: "One forward pass per row." + cpu},
		{name: "margins", args: "WEIGHT [K]", summary: "how close latent weights are to their rounding threshold (files with latent weights)", needModel: true, run: cmdMargins, complete: argTopicWeight},
		{name: "steer", args: `[LAYER STRENGTH "A" "B" | off]`, summary: "add STRENGTH x (residual(A) - residual(B)) after LAYER at every position of the conversation", needModel: true, run: cmdSteer,
			help: "The vector is the difference of the residual streams after LAYER at the last token of prompts A and B." + cpu},
	}
}

func siteNames() []string {
	var n []string
	for _, st := range model.Sites() {
		n = append(n, st.String())
	}
	return append(n, "heads")
}

// weightNames lists the BitLinear weights of the model, for completion.
func (s *session) weightNames() []string {
	if s.model == nil {
		return nil
	}
	var n []string
	for l := range s.model.Config.Layers {
		for _, p := range inspect.Projections {
			n = append(n, fmt.Sprintf("blk.%d.%s.weight", l, p))
		}
	}
	return n
}

// applyInterventions puts the interventions on the conversation's session
// and makes it evaluate the conversation again from the start.
func (s *session) applyInterventions() error {
	h, err := s.interv.hooks(s.model)
	if err != nil {
		return err
	}
	if s.sess != nil {
		if h == nil {
			s.sess.SetHook(nil)
		} else {
			s.sess.SetHook(h)
		}
		s.sess.Reset()
	}
	if s.sess != nil && s.sess.Device() != "cpu" && h != nil {
		s.p.println(s.st.dim.Render("the conversation runs on the CPU while interventions are in effect"))
	}
	return nil
}

// sessionHook is the hook a new conversation session gets.
func (s *session) sessionHook(sess *model.Session) {
	if h, err := s.interv.hooks(s.model); err == nil && h != nil {
		sess.SetHook(h)
	}
}

// cpuNote says, where a GPU could run the model, that these commands
// compute on the CPU.
func (s *session) cpuNote() {
	if s.device != model.DeviceCPU && runtime.GOOS == "darwin" {
		s.p.println(s.st.dim.Render("(computed on the CPU: interventions and their analyses run there)"))
	}
}

func (s *session) needPrompt() ([]int32, error) {
	if len(s.lastIDs) == 0 {
		return nil, errors.New("no prompt yet: send a message (or a completion) first")
	}
	return s.lastIDs, nil
}

// parseToken reads a token given as #ID or as text that is one token.
func (s *session) parseToken(arg string) (int32, error) {
	if rest, ok := strings.CutPrefix(arg, "#"); ok {
		id, err := strconv.Atoi(rest)
		if err != nil || id < 0 || id >= s.model.Config.VocabSize {
			return 0, fmt.Errorf("token %q: want #ID with ID in [0, %d)", arg, s.model.Config.VocabSize)
		}
		return int32(id), nil
	}
	if s.model.Tokenizer == nil {
		return 0, fmt.Errorf("token %q: the model has no tokenizer: give #ID", arg)
	}
	ids := s.model.Tokenizer.Encode(arg, false)
	if len(ids) != 1 {
		return 0, fmt.Errorf("%q is %d tokens, not one: give #ID (see /tokens)", arg, len(ids))
	}
	return ids[0], nil
}

func (s *session) encodePrompt(text string) ([]int32, error) {
	if s.model.Tokenizer == nil {
		return nil, errors.New("the model has no tokenizer")
	}
	ids := s.model.Tokenizer.Encode(text, true)
	if len(ids) == 0 {
		return nil, fmt.Errorf("%q has no tokens", text)
	}
	if len(ids) > s.model.Config.ContextLen {
		return nil, fmt.Errorf("%q is %d tokens, more than the context (%d)", text, len(ids), s.model.Config.ContextLen)
	}
	return ids, nil
}

func atoiIn(c *command, what, arg string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < lo || n >= hi {
		return 0, usagef(c, "%s must be an integer in [%d, %d), not %q", what, lo, hi, arg)
	}
	return n, nil
}

func cmdHeads(s *session, ctx context.Context, c *command, a call) error {
	defer s.cpuNote()
	n := 20
	if len(a.args) > 1 {
		return usagef(c, "one length at most")
	}
	var err error
	if len(a.args) == 1 {
		if n, err = atoiIn(c, "N", a.args[0], 2, s.model.Config.ContextLen/2+1); err != nil {
			return err
		}
	}
	n = min(n, (s.model.Config.ContextLen-1)/2)
	var prefix []int32
	lo, hi := int32(0), int32(s.model.Config.VocabSize)
	if t := s.model.Tokenizer; t != nil {
		if bos := t.Encode("", true); len(bos) > 0 {
			prefix = bos
		}
		hi = min(hi, int32(t.VocabSize()))
		for lo < hi && t.IsSpecial(lo) {
			lo++
		}
	}
	tokens := inspect.RepeatedTokens(prefix, n, lo, hi, 1)
	scores, err := inspect.HeadScores(s.model, tokens, n)
	if err != nil {
		return err
	}
	s.results["induction"] = scores
	s.p.println(s.st.title.Render(fmt.Sprintf("head scores on %d random tokens repeated", n)) + s.st.dim.Render("  (rows: layers, columns: heads)"))
	for _, ind := range []bool{true, false} {
		name := "previous-token"
		if ind {
			name = "induction"
		}
		s.p.println(s.st.key.Render(name))
		s.p.printf("%s", inspect.HeadTable(scores, ind))
	}
	top := slices.Clone(scores)
	slices.SortStableFunc(top, func(x, y inspect.HeadScore) int { return cmpDesc(x.Induction, y.Induction) })
	var names []string
	for _, h := range top[:min(3, len(top))] {
		names = append(names, fmt.Sprintf("L%d.h%d (%.2f)", h.Layer, h.Head, h.Induction))
	}
	s.p.println("strongest induction heads: " + strings.Join(names, ", "))
	return nil
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func cmdAttribute(s *session, ctx context.Context, c *command, a call) error {
	defer s.cpuNote()
	ids, err := s.needPrompt()
	if err != nil {
		return err
	}
	if len(a.args) > 2 {
		return usagef(c, "a token and a position at most")
	}
	pos := len(ids) - 1
	if len(a.args) == 2 {
		if pos, err = atoiIn(c, "POS", a.args[1], 0, len(ids)); err != nil {
			return err
		}
	}
	tok := int32(-1)
	if len(a.args) >= 1 {
		if tok, err = s.parseToken(a.args[0]); err != nil {
			return err
		}
	} else {
		logits, err := inspect.RunEdited(s.model, ids[:pos+1], nil)
		if err != nil {
			return err
		}
		l := logits[pos]
		tok = int32(slices.Index(l, slices.Max(l)))
	}
	at, err := inspect.DirectLogitAttribution(s.model, ids, pos, tok, s.tokenText)
	if err != nil {
		return err
	}
	s.results["attribute"] = at
	s.p.println(s.st.title.Render(fmt.Sprintf("logit of %q (#%d) after position %d: %.4f", visible(at.Text), tok, pos, at.Logit)) +
		s.st.dim.Render(fmt.Sprintf("  parts sum to %.4f; final norm scale %.4g frozen", at.Sum(), at.Scale)))
	max := 0.0
	for _, p := range at.Parts {
		max = math.Max(max, math.Abs(p.Value))
	}
	for _, p := range at.Top(12) {
		b := bar(math.Abs(p.Value)/math.Max(max, 1e-12), 30)
		s.p.printf("  %-12s %+9.4f %s\n", p.Name(), p.Value, s.st.bar.Render(b))
	}
	s.p.println(s.st.dim.Render("per layer (attention, FFN):"))
	for l := range s.model.Config.Layers {
		at2, ffn := at.Layer(l)
		s.p.printf("  L%-3d attn %+9.4f  ffn %+9.4f\n", l, at2, ffn)
	}
	return nil
}

func cmdPatch(s *session, ctx context.Context, c *command, a call) error {
	defer s.cpuNote()
	if len(a.args) < 4 {
		return usagef(c, "want two prompts and two tokens")
	}
	clean, err := s.encodePrompt(a.args[0])
	if err != nil {
		return err
	}
	corrupt, err := s.encodePrompt(a.args[1])
	if err != nil {
		return err
	}
	if len(clean) != len(corrupt) {
		return fmt.Errorf("the prompts are %d and %d tokens: patching needs the same number (see /tokens)", len(clean), len(corrupt))
	}
	answer, err := s.parseToken(a.args[2])
	if err != nil {
		return err
	}
	wrong, err := s.parseToken(a.args[3])
	if err != nil {
		return err
	}
	var opt inspect.PatchOptions
	for _, name := range a.args[4:] {
		if name == "heads" {
			opt.PerHead = true
			continue
		}
		st, ok := model.ParseSite(name)
		if !ok {
			return usagef(c, "unknown site %q; sites: %s", name, strings.Join(c.topics, ", "))
		}
		opt.Sites = append(opt.Sites, st)
	}
	res, err := inspect.ActivationPatching(s.model, clean, corrupt, answer, wrong, opt)
	if err != nil {
		return err
	}
	s.results["patch"] = res
	s.p.println(s.st.title.Render(fmt.Sprintf("logit[%q] - logit[%q]: clean %.4f, corrupt %.4f", visible(s.tokenText(answer)), visible(s.tokenText(wrong)), res.Clean, res.Corrupt)) +
		s.st.dim.Render("  share restored by patching clean into corrupt"))
	s.p.printf("%-20s", "")
	for p := range res.Positions {
		s.p.printf(" %6s", truncate(visible(s.tokenText(clean[p])), 6))
	}
	s.p.println("")
	for _, row := range res.Rows {
		for h := range row.Heads {
			name := fmt.Sprintf("L%d %s", row.Layer, row.Site)
			if row.Heads > 1 {
				name += fmt.Sprintf(" h%d", h)
			}
			s.p.printf("%-20s", name)
			for p := range res.Positions {
				v := row.Restored[p*row.Heads+h]
				s.p.printf(" %s", s.st.bar.Render(shade(math.Max(0, math.Min(1, math.Abs(v))))+fmt.Sprintf("%+5.2f", v)))
			}
			s.p.println("")
		}
	}
	return nil
}

func cmdAblate(s *session, ctx context.Context, c *command, a call) error {
	switch {
	case len(a.args) == 0:
		d := s.interv.describe()
		if len(d) == 0 {
			s.p.println("no interventions in effect")
		}
		for _, l := range d {
			s.p.println(l)
		}
		return nil
	case len(a.args) == 1 && a.args[0] == "off":
		s.interv.ablated = nil
		s.p.println("no head ablated")
		return s.applyInterventions()
	case len(a.args) != 2:
		return usagef(c, "want a layer and a head, or off")
	}
	cfg := &s.model.Config
	l, err := atoiIn(c, "LAYER", a.args[0], 0, cfg.Layers)
	if err != nil {
		return err
	}
	h, err := atoiIn(c, "HEAD", a.args[1], 0, cfg.Heads)
	if err != nil {
		return err
	}
	if slices.Contains(s.interv.ablated, headRef{l, h}) {
		return fmt.Errorf("head %d of layer %d is already ablated", h, l)
	}
	before := s.promptLogits()
	s.interv.ablated = append(s.interv.ablated, headRef{l, h})
	s.p.printf("ablated head %d of layer %d", h, l)
	s.reportEffect(before)
	return s.applyInterventions()
}

// promptLogits evaluates the last prompt with the interventions in effect
// (nil when there is no prompt).
func (s *session) promptLogits() [][]float32 {
	if len(s.lastIDs) == 0 {
		return nil
	}
	h, err := s.interv.hooks(s.model)
	if err != nil {
		return nil
	}
	l, err := inspect.RunEdited(s.model, s.lastIDs, h)
	if err != nil {
		return nil
	}
	return l
}

// reportEffect ends the line with the effect of the last change on the
// last prompt: before are its logits from promptLogits before the change.
func (s *session) reportEffect(before [][]float32) {
	after := s.promptLogits()
	if before == nil || after == nil {
		s.p.println("")
		return
	}
	e := inspect.Compare(before, after)
	s.results["effect"] = e
	top := func(l []float32) string { return visible(s.tokenText(int32(slices.Index(l, slices.Max(l))))) }
	n := len(before) - 1
	s.p.println(s.st.dim.Render(fmt.Sprintf(" — on the last prompt: %v; next token %q → %q", e, top(before[n]), top(after[n]))))
}

func cmdEdit(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) == 0 {
		return usagef(c, "want an operation: %s", strings.Join(editOps, ", "))
	}
	op := a.args[0]
	if op == "off" {
		s.interv.edits, s.interv.order = nil, nil
		s.p.println("every weight edit undone")
		return s.applyInterventions()
	}
	if !slices.Contains(editOps, op) {
		msg := fmt.Sprintf("unknown operation %q", op)
		if near := nearest(op, editOps); near != "" {
			msg += "; did you mean " + near + "?"
		}
		return usagef(c, "%s", msg)
	}
	if len(a.args) < 2 {
		return usagef(c, "want a weight name after %s", op)
	}
	layer, proj, err := inspect.ParseWeightName(a.args[1])
	if err != nil {
		return err
	}
	w, err := proj.Matrix(s.model, layer)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("blk.%d.%s.weight", layer, proj)
	e := s.interv.edits[name]
	if op == "undo" {
		if e == nil || e.m.Edits() == 0 {
			return fmt.Errorf("%s has no edit to undo", name)
		}
		e.m.Undo(1)
		e.log = e.log[:len(e.log)-1]
		if e.m.Edits() == 0 {
			delete(s.interv.edits, name)
			s.interv.order = slices.DeleteFunc(s.interv.order, func(n string) bool { return n == name })
		}
		s.p.println("undid the last edit of " + name)
		return s.applyInterventions()
	}
	fresh := e == nil
	if fresh {
		em, err := inspect.NewEditableMatrix(w)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		e = &weightEdit{layer: layer, proj: proj, m: em}
	}
	args := a.args[2:]
	ints := func(n int) ([]int, error) {
		if len(args) != n {
			return nil, usagef(c, "%s takes %d numbers", op, n)
		}
		out := make([]int, n)
		for i, v := range args {
			var err error
			if out[i], err = strconv.Atoi(v); err != nil {
				return nil, usagef(c, "%q is not an integer", v)
			}
		}
		return out, nil
	}
	before := s.promptLogits()
	var what string
	switch op {
	case "flip", "set":
		n := 2
		if op == "set" {
			n = 3
		}
		v, err := ints(n)
		if err != nil {
			return err
		}
		old, err := e.m.Code(v[0], v[1])
		if err != nil {
			return err
		}
		if op == "flip" {
			err = e.m.Flip(v[0], v[1])
		} else if v[2] < -1 || v[2] > 1 {
			return usagef(c, "a code is -1, 0 or 1, not %d", v[2])
		} else {
			err = e.m.Set(v[0], v[1], int8(v[2]))
		}
		if err != nil {
			return err
		}
		now, _ := e.m.Code(v[0], v[1])
		what = fmt.Sprintf("(%d, %d): %+d → %+d", v[0], v[1], old, now)
	case "flip-row", "zero-row", "zero-col", "flip-col":
		v, err := ints(1)
		if err != nil {
			return err
		}
		switch op {
		case "flip-row":
			err = e.m.FlipRow(v[0])
		case "zero-row":
			err = e.m.ZeroRow(v[0])
		case "zero-col":
			if v[0] < 0 || v[0] >= w.Cols {
				return fmt.Errorf("column %d is outside the %d columns", v[0], w.Cols)
			}
			err = e.m.ZeroCols(v[0], v[0]+1)
		case "flip-col":
			err = e.m.FlipCol(v[0])
		}
		if err != nil {
			return err
		}
		what = fmt.Sprintf("%s %d", op, v[0])
	case "scale":
		if len(args) != 1 {
			return usagef(c, "scale takes a number")
		}
		f, err := strconv.ParseFloat(args[0], 32)
		if err != nil {
			return usagef(c, "%q is not a number", args[0])
		}
		old := e.m.Scale()
		if err := e.m.SetScale(float32(f)); err != nil {
			return err
		}
		what = fmt.Sprintf("scale %.6g → %.6g", old, f)
	}
	e.log = append(e.log, what)
	if fresh {
		if s.interv.edits == nil {
			s.interv.edits = map[string]*weightEdit{}
		}
		s.interv.edits[name] = e
		s.interv.order = append(s.interv.order, name)
	}
	s.p.printf("%s %s (a private copy; the file is unchanged)", name, what)
	s.reportEffect(before)
	return s.applyInterventions()
}

func cmdSensitivity(s *session, ctx context.Context, c *command, a call) error {
	defer s.cpuNote()
	ids, err := s.needPrompt()
	if err != nil {
		return err
	}
	if len(a.args) < 1 || len(a.args) > 2 {
		return usagef(c, "want a weight and optionally how many rows")
	}
	layer, proj, err := inspect.ParseWeightName(a.args[0])
	if err != nil {
		return err
	}
	w, err := proj.Matrix(s.model, layer)
	if err != nil {
		return err
	}
	n := min(32, w.Rows)
	if len(a.args) == 2 {
		if a.args[1] == "all" {
			n = w.Rows
		} else if n, err = atoiIn(c, "ROWS", a.args[1], 1, w.Rows+1); err != nil {
			return err
		}
	}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	got, err := inspect.RankRows(s.model, ids, layer, proj, rows)
	if err != nil {
		return err
	}
	s.results["sensitivity"] = got
	s.p.println(s.st.title.Render(fmt.Sprintf("blk.%d.%s: rows ranked by the effect of flipping each (%d of %d rows) on the last prompt", layer, proj, n, w.Rows)))
	for _, r := range got[:min(10, len(got))] {
		s.p.printf("  row %-6d KL %.4g nats  max |Δlogit| %.4g\n", r.Row, r.KL, r.MaxDelta)
	}
	return nil
}

func cmdMargins(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) < 1 || len(a.args) > 2 {
		return usagef(c, "want a weight and optionally how many weights to list")
	}
	layer, proj, err := inspect.ParseWeightName(a.args[0])
	if err != nil {
		return err
	}
	k := 5
	if len(a.args) == 2 {
		if k, err = atoiIn(c, "K", a.args[1], 0, 1000); err != nil {
			return err
		}
	}
	name := fmt.Sprintf("blk.%d.%s.weight", layer, proj)
	for _, w := range s.model.Weights() {
		if w.Name != name {
			continue
		}
		if !w.HasLatent() {
			return fmt.Errorf("%s: the file holds no latent weights (1bitLLM-style safetensors have them)", name)
		}
		m, err := inspect.RoundingMargins(w, 20, k)
		if err != nil {
			return err
		}
		s.results["margins"] = m
		s.p.printf("%s", m)
		return nil
	}
	return fmt.Errorf("no weight %s", name)
}

func cmdSteer(s *session, ctx context.Context, c *command, a call) error {
	switch {
	case len(a.args) == 1 && a.args[0] == "off":
		s.interv.steer = nil
		s.p.println("steering off")
		return s.applyInterventions()
	case len(a.args) == 0:
		return cmdAblate(s, ctx, c, a)
	case len(a.args) != 4:
		return usagef(c, "want a layer, a strength and two prompts, or off")
	}
	layer, err := atoiIn(c, "LAYER", a.args[0], 0, s.model.Config.Layers)
	if err != nil {
		return err
	}
	f, err := strconv.ParseFloat(a.args[1], 32)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return usagef(c, "STRENGTH must be a number, not %q", a.args[1])
	}
	pa, err := s.encodePrompt(a.args[2])
	if err != nil {
		return err
	}
	pb, err := s.encodePrompt(a.args[3])
	if err != nil {
		return err
	}
	v, err := inspect.SteeringVector(s.model, pa, pb, layer)
	if err != nil {
		return err
	}
	before := s.promptLogits()
	s.interv.steer = &steering{layer: layer, strength: float32(f), a: a.args[2], b: a.args[3], vec: v}
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	s.p.printf("steering after layer %d with %g x a vector of norm %.4g", layer, f, math.Sqrt(norm))
	s.reportEffect(before)
	return s.applyInterventions()
}

// interveneAssertions are the /assert kinds of these commands.
func interveneAssertions() []*assertion {
	return []*assertion{
		{name: "attribution", args: "[TOL]", summary: "the parts of the last /attribute sum to the logit within TOL (default 1e-4)", check: assertAttribution},
		{name: "head", args: "LAYER HEAD induction|prev MIN", summary: "a head's score in the last /induction is at least MIN", check: assertHead},
		{name: "effect", args: "MAX_KL", summary: "the last /edit, /ablate or /steer changed the last prompt's distributions by at most MAX_KL nats", check: assertEffect},
	}
}

func assertAttribution(s *session, _ context.Context, a *assertion, args []string, _ string) error {
	at, ok := s.results["attribute"].(*inspect.Attribution)
	if !ok {
		return errors.New("no attribution yet: run /attribute first")
	}
	tol := 1e-4
	if len(args) > 1 {
		return a.usage("one tolerance at most")
	}
	if len(args) == 1 {
		var err error
		if tol, err = strconv.ParseFloat(args[0], 64); err != nil || !(tol >= 0) {
			return a.usage("TOL must be a number >= 0")
		}
	}
	if d := math.Abs(at.Sum() - at.Logit); !(d <= tol) {
		return a.fail(fmt.Sprintf("the parts sum to %.6g, the logit is %.6g: off by %.3g > %.3g", at.Sum(), at.Logit, d, tol))
	}
	return nil
}

func assertHead(s *session, _ context.Context, a *assertion, args []string, _ string) error {
	scores, ok := s.results["induction"].([]inspect.HeadScore)
	if !ok {
		return errors.New("no head scores yet: run /induction first")
	}
	if len(args) != 4 || (args[2] != "induction" && args[2] != "prev") {
		return a.usage("want a layer, a head, induction or prev, and a minimum")
	}
	l, err1 := strconv.Atoi(args[0])
	h, err2 := strconv.Atoi(args[1])
	min, err3 := strconv.ParseFloat(args[3], 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return a.usage("LAYER and HEAD are integers, MIN a number")
	}
	for _, sc := range scores {
		if sc.Layer == l && sc.Head == h {
			v := sc.PrevToken
			if args[2] == "induction" {
				v = sc.Induction
			}
			if !(v >= min) {
				return a.fail(fmt.Sprintf("L%d.h%d %s score %.4f < %g", l, h, args[2], v, min))
			}
			return nil
		}
	}
	return a.fail(fmt.Sprintf("no head %d in layer %d", h, l))
}

func assertEffect(s *session, _ context.Context, a *assertion, args []string, _ string) error {
	e, ok := s.results["effect"].(inspect.Effect)
	if !ok {
		return errors.New("no effect measured yet: /edit, /ablate or /steer after a prompt")
	}
	if len(args) != 1 {
		return a.usage("want the largest KL allowed")
	}
	max, err := strconv.ParseFloat(args[0], 64)
	if err != nil {
		return a.usage("MAX_KL must be a number")
	}
	if !(e.KL <= max) {
		return a.fail(fmt.Sprintf("KL %.6g > %g", e.KL, max))
	}
	return nil
}

// The results of these commands /export writes (named after the command).
func init() { exportKinds = append(exportKinds, "induction", "attribute", "patch", "sensitivity") }
