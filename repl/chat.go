package repl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/atomicfile"
	"github.com/bitrepl/bitrepl/model/regfile"
)

// prompt sends text to the model: the next chat turn, or a completion.
func (s *session) prompt(ctx context.Context, text string) error {
	if s.model == nil {
		return errNoModel
	}
	if s.model.Tokenizer == nil {
		return errors.New("the model has no tokenizer (no tokenizer.json beside its weights), so it cannot read text; " +
			"give it token ids with `bitrepl logits -m MODEL --ids \"1 2 3\"`")
	}
	s.lastIn = text
	if s.set.Mode == "completion" {
		return s.complete(ctx, text, s.p.w)
	}
	return s.answer(ctx, &model.Message{Role: "user", Content: text}, s.p.w)
}

// messages is the conversation as the model sees it: the system prompt, then
// the turns that were not dropped to make room in the context.
func (s *session) messages() []model.Message {
	var msgs []model.Message
	if strings.TrimSpace(s.set.System) != "" {
		msgs = append(msgs, model.Message{Role: "system", Content: s.set.System})
	}
	return append(msgs, s.history[min(s.dropped, len(s.history)):]...)
}

// answer generates the assistant's reply to the conversation followed by
// user (nil for /regen, whose history ends with the user's message) and adds
// both to the history. A turn that fails or is interrupted leaves the
// conversation as it was.
func (s *session) answer(ctx context.Context, user *model.Message, w io.Writer) error {
	msgs := s.messages()
	if user != nil {
		msgs = append(msgs, *user)
	}
	sess := s.session()
	text, st, err := s.stream(ctx, w, func(emit func(model.Token) error) (model.Stats, error) {
		return s.model.GenerateChat(ctx, sess, msgs, s.genOptions(nil), emit)
	})
	if st.Generated > 0 { // the prompt as the model saw it, for /probs, /acts, /lens, /attn
		sys := 0
		if msgs[0].Role == "system" {
			sys = 1
		}
		seen := append(msgs[:sys:sys], msgs[sys+st.Dropped:]...)
		s.lastIDs, _ = s.model.FormatChat(seen, true)
	}
	kept := err == nil && st.Reason != model.StopCanceled
	if kept {
		if user != nil {
			s.history = append(s.history, *user)
		}
		s.history = append(s.history, model.Message{Role: "assistant", Content: text})
		s.dropped += st.Dropped
	}
	if w != s.p.w || (err != nil && st.Generated == 0) {
		return err
	}
	if kept && st.Dropped > 0 {
		what := "the oldest message"
		if st.Dropped > 1 {
			what = fmt.Sprintf("the %d oldest messages", st.Dropped)
		}
		s.p.println(s.st.dim.Render(fmt.Sprintf("the context of %d tokens was full: dropped %s (/history shows all)", sess.ContextLen(), what)))
	}
	if st.Reason == model.StopCanceled {
		s.p.println(s.st.dim.Render("the interrupted turn is not kept in the conversation"))
	}
	if s.set.Stats {
		s.p.println(s.statsLine(st, st.Cached))
	}
	return err
}

// complete continues text as a plain completion, reusing what the session
// holds of it.
func (s *session) complete(ctx context.Context, text string, w io.Writer) error {
	_, err := s.generate(ctx, s.model.Tokenizer.Encode(text, true), nil, w)
	return err
}

// generate evaluates ids (reusing the session's cached prefix) and streams
// the new text to w, then the stats line when w is the session's writer; it
// returns the generated text.
func (s *session) generate(ctx context.Context, ids []int32, stops []string, w io.Writer) (string, error) {
	sess := s.session()
	opt := s.genOptions(stops)
	text, st, err := s.stream(ctx, w, func(emit func(model.Token) error) (model.Stats, error) {
		return s.model.Generate(ctx, sess, ids, opt, emit)
	})
	if st.Generated > 0 {
		s.lastIDs = append([]int32(nil), ids...)
	}
	if w == s.p.w && s.set.Stats && (err == nil || st.Generated > 0) {
		s.p.println(s.statsLine(st, st.Cached))
	}
	return text, err
}

// stream runs gen, printing the text it emits to w, and returns that text.
// It keeps the generated tokens and stats for /probs and /export, and ends
// the line on the session's writer once something was generated. An
// interrupted generation at the interactive prompt is not an error: its
// Reason is StopCanceled and the stats line says "interrupted".
func (s *session) stream(ctx context.Context, w io.Writer, gen func(emit func(model.Token) error) (model.Stats, error)) (string, model.Stats, error) {
	var toks []model.Token
	s.gens++
	var out strings.Builder
	emit := func(t model.Token) error {
		if t.ID >= 0 {
			toks = append(toks, t)
		}
		if t.Text == "" {
			return nil
		}
		out.WriteString(t.Text)
		text := t.Text
		if s.set.ColorProbs && t.ID >= 0 {
			text = s.st.prob(float64(t.Prob), text)
		}
		_, err := io.WriteString(w, text)
		return err
	}
	st, err := gen(emit)
	interrupted := err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil && s.interactive
	if st.Generated == 0 && err != nil && !interrupted {
		return "", st, err // nothing ran: the last generation's results stay
	}
	s.lastGen, s.lastSt = toks, &st
	s.results["generation"] = s.lastGeneration(st)
	if w == s.p.w {
		fmt.Fprintln(w)
	}
	if interrupted {
		return out.String(), st, nil // the stats line says "interrupted"
	}
	return out.String(), st, err
}

// statsLine is the line after a generation: tokens, time to first token, speed.
func (s *session) statsLine(st model.Stats, cached int) string {
	reason := string(st.Reason)
	if st.Reason == model.StopCanceled {
		reason = "interrupted"
	}
	line := fmt.Sprintf("%d tokens · TTFT %s · %.1f tok/s · prompt %d tok at %.1f tok/s",
		st.Generated, roundDur(st.FirstToken), st.GenRate(), st.PromptTokens, st.PromptRate())
	if cached > 0 {
		line += fmt.Sprintf(" (+%d cached)", cached)
	}
	line += " · " + reason
	if st.Reason == model.StopCanceled {
		return s.st.warn.Render(line)
	}
	return s.st.stats.Render(line)
}

func roundDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	default:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
}

// lastGeneration is the last generation as a result.
func (s *session) lastGeneration(st model.Stats) *generationResult {
	toks := make([]genToken, len(s.lastGen))
	for i, t := range s.lastGen {
		toks[i] = genToken{Index: i, ID: t.ID, Text: s.tokenText(t.ID), Prob: num32(t.Prob)}
	}
	return &generationResult{PromptTokens: st.PromptTokens, Generated: st.Generated, TTFTms: st.FirstToken.Milliseconds(),
		TokPerS: num(st.GenRate()), PromptTokPerS: num(st.PromptRate()), Stop: string(st.Reason), Text: st.Text, Tokens: toks}
}

func cmdRegen(s *session, ctx context.Context, c *command, a call) error {
	if len(a.args) != 0 {
		return usagef(c, "/regen takes no arguments")
	}
	if s.set.Mode == "completion" {
		if s.lastIn == "" {
			return errors.New("nothing to regenerate yet")
		}
		return s.complete(ctx, s.lastIn, s.p.w)
	}
	n := len(s.history)
	if n < 2 || s.history[n-1].Role != "assistant" || s.dropped >= n-1 {
		return errors.New("nothing to regenerate yet: the conversation has no answer")
	}
	last := s.history[n-1]
	s.history = s.history[:n-1]
	err := s.answer(ctx, nil, s.p.w)
	if len(s.history) == n-1 { // failed or interrupted: the answer stays
		s.history = append(s.history, last)
	}
	return err
}

func cmdClear(s *session, _ context.Context, c *command, a call) error {
	if len(a.args) != 0 {
		return usagef(c, "/clear takes no arguments")
	}
	s.history, s.dropped = nil, 0
	if s.sess != nil {
		s.sess.Reset()
	}
	s.p.println(s.st.ok.Render("conversation cleared"))
	return nil
}

func cmdHistory(s *session, _ context.Context, c *command, a call) error {
	if len(a.args) != 0 {
		return usagef(c, "/history takes no arguments")
	}
	if sys := strings.TrimSpace(s.set.System); sys != "" {
		s.p.println(s.st.key.Render("system:") + " " + s.set.System)
	}
	if s.dropped > 0 {
		s.p.println(s.st.dim.Render(fmt.Sprintf("(the model no longer sees the first %d, dropped to make room)", s.dropped)))
	}
	for i, m := range s.history {
		if i < s.dropped {
			s.p.println(s.st.dim.Render(m.Role + ": " + m.Content))
		} else {
			s.p.println(s.st.key.Render(m.Role+":") + " " + m.Content)
		}
	}
	if len(s.history) == 0 {
		s.p.println(s.st.dim.Render("(no turns yet)"))
	}
	return nil
}

// conversation is the file format of /save and /open. Messages have
// OpenAI's shape, {"role", "content"}; files of earlier versions spelled them
// "Role" and "Content", which encoding/json also matches.
type conversation struct {
	Model    string          `json:"model,omitempty"`
	System   string          `json:"system"`
	Mode     string          `json:"mode"`
	Messages []model.Message `json:"messages"`
}

func cmdSave(s *session, _ context.Context, c *command, a call) error {
	if len(a.args) != 1 {
		return usagef(c, "/save needs a file name")
	}
	conv := conversation{Model: s.spec, System: s.set.System, Mode: s.set.Mode, Messages: s.history}
	if conv.Messages == nil {
		conv.Messages = []model.Message{}
	}
	b, err := json.MarshalIndent(conv, "", "  ")
	if err != nil {
		return err
	}
	path := s.expand(a.args[0])
	// Atomically: a crash or a full disk during /save keeps the previous file.
	if err := atomicfile.WriteFile(path, append(b, '\n')); err != nil {
		return err
	}
	s.p.println(s.st.ok.Render(fmt.Sprintf("saved %s to %s", plural(len(conv.Messages), "message"), path)))
	return nil
}

// maxConversationBytes bounds a conversation file read by /open: far more
// text than any model's context holds.
const maxConversationBytes = 64 << 20

func cmdOpen(s *session, _ context.Context, c *command, a call) error {
	if len(a.args) != 1 {
		return usagef(c, "/open needs a file name")
	}
	path := s.expand(a.args[0])
	b, err := regfile.ReadFile(path, maxConversationBytes)
	if err != nil {
		return err
	}
	var conv conversation
	if err := json.Unmarshal(b, &conv); err != nil {
		return fmt.Errorf("%s: not a saved conversation: %v", path, err)
	}
	for i, m := range conv.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Errorf("%s: message %d has role %q (user or assistant)", path, i, m.Role)
		}
	}
	s.history, s.dropped = conv.Messages, 0
	s.set.System = conv.System
	if conv.Mode == "chat" || conv.Mode == "completion" {
		s.set.Mode = conv.Mode
	}
	s.p.println(s.st.ok.Render(fmt.Sprintf("opened %s from %s", plural(len(conv.Messages), "message"), path)))
	if conv.Model != "" && conv.Model != s.spec {
		s.p.println(s.st.hint.Render("saved with model " + conv.Model))
	}
	return nil
}

// cmdProbs shows, for each token of the last generation, its probability, the
// entropy of the distribution it was drawn from and the strongest alternatives.
func cmdProbs(s *session, ctx context.Context, c *command, a call) error {
	k := 3
	if len(a.args) > 1 {
		return usagef(c, "too many arguments")
	}
	if len(a.args) == 1 {
		n, err := strconv.Atoi(a.args[0])
		if err != nil || n < 1 || n > 20 {
			return usagef(c, "K must be in [1, 20]")
		}
		k = n
	}
	if len(s.lastGen) == 0 || len(s.lastIDs) == 0 {
		return errors.New("no generation yet")
	}
	gen := make([]int32, len(s.lastGen))
	for i, t := range s.lastGen {
		gen[i] = t.ID
	}
	ids := append(append([]int32(nil), s.lastIDs...), gen...)
	rec := &inspect.Recorder{Sites: []model.Site{model.SiteLogits}, TopK: k + 1, Tokens: ids, Namer: s.tokenText}
	sess := s.newSession(min(len(ids)+1, s.model.Config.ContextLen))
	sess.SetHook(rec)
	// the logits after the prompt's last token and after each generated token but the last
	if err := sess.ForwardEach(ids[:len(ids)-1], func(int, []float32) {}); err != nil {
		return err
	}
	var rows []inspect.LogitStats
	for _, l := range rec.Logits {
		if l.Pos >= len(s.lastIDs)-1 {
			rows = append(rows, l)
		}
	}
	s.results["probs"] = rows
	s.p.println(s.st.title.Render("the last generation, token by token") + s.st.dim.Render("   p(token) · entropy (nats) · alternatives"))
	for i, l := range rows {
		var alts []string
		for _, t := range l.Top {
			if t.ID != l.Chosen && len(alts) < k {
				alts = append(alts, s.st.prob(t.Prob, strconv.Quote(visible(t.Text)))+fmt.Sprintf(" %.1f%%", 100*t.Prob))
			}
		}
		s.p.printf("%4d %s %6.2f%% %s  H %5.2f  %s\n", i, s.st.prob(l.Prob, padRight(strconv.Quote(visible(s.tokenText(l.Chosen))), 14)),
			100*l.Prob, s.st.bar.Render(bar(l.Prob, 10)), l.Entropy, strings.Join(alts, "  "))
	}
	return nil
}
