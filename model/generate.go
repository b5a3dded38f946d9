package model

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/sample"
)

// GenOptions controls a generation.
type GenOptions struct {
	MaxTokens int           // stop after this many tokens; 0 means until EOS or the context is full
	Sampling  sample.Params // temperature 0 is greedy
	Stop      []string      // stop when the text contains one of these (it is not emitted)
	IgnoreEOS bool          // keep going past end-of-text tokens (benchmarks)

	// Shift makes room when the context is full and the generation goes on:
	// it gets the tokens the session holds followed by the token just
	// sampled, and returns a shorter sequence to go on from (GenerateChat: the
	// conversation without its oldest turns, then the answer so far), or
	// nil to stop with StopContext. Nil stops at a full context.
	Shift func(held []int32) ([]int32, error)

	// Step, when set, evaluates each generated token in place of
	// s.Forward([]int32{id}) and returns the logits after it: a server
	// gathers the steps of its sessions into one Model.Step.
	Step func(s *Session, id int32) ([]float32, error)
}

// Token is one generated token as it is streamed.
type Token struct {
	ID   int32
	Text string  // text made complete by this token; "" while a UTF-8 character or a possible stop string is pending
	Prob float32 // probability of ID under the model's raw distribution (temperature 1)

	// Logits is the distribution ID was drawn from, before sampling's
	// penalties (nil for the text flushed at the end). It is only valid
	// during the call to emit.
	Logits []float32
}

// StopReason says why a generation ended.
type StopReason string

const (
	StopEOS      StopReason = "eos"      // the model ended its text or turn
	StopString   StopReason = "stop"     // a stop string appeared
	StopLength   StopReason = "length"   // MaxTokens were generated
	StopContext  StopReason = "context"  // the session's context is full (no sliding window)
	StopCanceled StopReason = "canceled" // the context was canceled (Ctrl-C)
)

// Stats describes a finished generation.
type Stats struct {
	PromptTokens int // prompt tokens evaluated
	Cached       int // prompt tokens the session already held, not evaluated again
	Dropped      int // GenerateChat: messages dropped to make room
	Generated    int
	PromptTime   time.Duration // evaluating the prompt
	FirstToken   time.Duration // from the start to the first generated token
	GenTime      time.Duration // from the first to the last generated token
	Reason       StopReason
	Text         string // the generated text, stop string excluded

	// Where the time of the generated tokens went (run --timings):
	// Steps holds the evaluation of every generated token but the last (the
	// forward pass, or GenOptions.Step), in order; Sampling is the time spent
	// sampling, computing Token.Prob and detokenizing, and Emit the time in
	// emit (printing), over all the generated tokens.
	Steps          []time.Duration
	Sampling, Emit time.Duration
	// Moving is the part of the evaluations' time (the prompt's and the
	// Steps) spent moving the weights into huge pages (see Memory).
	Moving time.Duration
}

// PromptRate is prompt tokens per second.
func (s Stats) PromptRate() float64 { return rate(s.PromptTokens, s.PromptTime) }

// GenRate is generated tokens per second after the first.
func (s Stats) GenRate() float64 { return rate(s.Generated-1, s.GenTime) }

func rate(n int, d time.Duration) float64 {
	if n <= 0 || d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Generate makes s hold prompt, then samples tokens and streams them to emit
// until EOS, a stop string, MaxTokens, a full context, or ctx is canceled.
//
// The session's cache is reused: the longest prefix of prompt that s
// already holds (Session.Tokens) is kept and only the rest is evaluated
// (Stats.Cached counts the kept tokens), so a conversation that grows by a
// turn evaluates only that turn. Whatever happens, s stays consistent: its
// Tokens are what its cache holds. A prompt that does not fit in the
// context, or holds a token outside the vocabulary, is an error and leaves s
// unchanged. When ctx is canceled the stats so far are returned with ctx's
// error.
func (m *Model) Generate(ctx context.Context, s *Session, prompt []int32, opt GenOptions, emit func(Token) error) (Stats, error) {
	st := Stats{}
	if len(prompt) == 0 {
		return st, fmt.Errorf("generate: empty prompt")
	}
	if len(prompt) >= s.ContextLen() {
		return st, fmt.Errorf("%w: the prompt has %d tokens and the context %d positions; it must leave room for at least one new token",
			ErrContextFull, len(prompt), s.ContextLen())
	}
	if err := s.checkVocab(prompt); err != nil {
		return st, err
	}
	start := time.Now()
	moved := m.move.moved()
	logits, cached, err := s.prefill(ctx, prompt)
	st.Cached, st.PromptTokens = cached, len(prompt)-cached
	if err != nil {
		if ctx.Err() != nil {
			st.Reason = StopCanceled
		}
		return st, err
	}
	st.PromptTime = time.Since(start)

	sampler := sample.New(m.Config.VocabSize, opt.Sampling)
	var probs []float32 // softmaxAt's scratch
	hist := append(make([]int32, 0, len(prompt)+64), prompt...)
	var dec textStream
	if m.Tokenizer != nil {
		dec.d = m.Tokenizer.NewStreamDecoder()
	}
	dec.stops = opt.Stop
	var first time.Time
	finish := func(r StopReason) (Stats, error) {
		st.Reason = r
		st.Text = dec.text()
		st.Moving = m.move.moved() - moved
		if !first.IsZero() {
			st.GenTime = time.Since(first)
		}
		if tail := dec.flush(); tail != "" && r != StopString {
			if err := emit(Token{ID: -1, Text: tail}); err != nil {
				return st, err
			}
		}
		return st, nil
	}
	for {
		if err := ctx.Err(); err != nil {
			st, _ = finish(StopCanceled)
			return st, err
		}
		t0 := time.Now()
		recent := hist
		if n := opt.Sampling.RepeatLastN; n > 0 && len(recent) > n {
			recent = recent[len(recent)-n:]
		}
		id := sampler.Sample(logits, recent)
		if len(probs) != len(logits) {
			probs = make([]float32, len(logits))
		}
		prob := softmaxAt(probs, logits, id)
		st.Generated++
		if st.Generated == 1 {
			first = time.Now()
			st.FirstToken = first.Sub(start)
		}
		hist = append(hist, id)
		if !opt.IgnoreEOS && m.IsEOS(id) {
			st.Sampling += time.Since(t0)
			return finish(StopEOS)
		}
		text, stopped := dec.add(id)
		t1 := time.Now()
		st.Sampling += t1.Sub(t0)
		err := emit(Token{ID: id, Text: text, Prob: prob, Logits: logits})
		t2 := time.Now()
		st.Emit += t2.Sub(t1)
		if err != nil {
			return st, err
		}
		stepped := true
		switch {
		case stopped:
			return finish(StopString)
		case opt.MaxTokens > 0 && st.Generated >= opt.MaxTokens:
			return finish(StopLength)
		case s.Pos() < s.ContextLen() && opt.Step != nil:
			logits, err = opt.Step(s, id)
		case s.Pos() < s.ContextLen():
			logits, err = s.Forward([]int32{id})
		case opt.Shift == nil:
			return finish(StopContext)
		default:
			var next []int32
			if next, err = opt.Shift(append(s.Tokens(), id)); err != nil {
				return st, err
			}
			if next == nil {
				return finish(StopContext)
			}
			if len(next) >= s.ContextLen() {
				return st, fmt.Errorf("generate: Shift returned %d tokens for a context of %d", len(next), s.ContextLen())
			}
			if err = s.checkVocab(next); err == nil {
				logits, _, err = s.prefill(ctx, next)
			}
			stepped = false // a new prompt, not one token's step
		}
		if stepped && err == nil {
			st.Steps = append(st.Steps, time.Since(t2))
		}
		if err != nil {
			if ctx.Err() != nil {
				st, _ = finish(StopCanceled)
			}
			return st, err
		}
	}
}

// prefill makes s hold tokens (which the caller checked: they fit and are
// in the vocabulary) and returns the logits after the last one, and how
// many positions it kept: the longest prefix s already held, short of the
// last token, whose logits are needed. The rest of the cache is dropped.
func (s *Session) prefill(ctx context.Context, tokens []int32) ([]float32, int, error) {
	held := s.tokens[:s.cache.Len()]
	kept := 0
	for kept < len(tokens)-1 && kept < len(held) && held[kept] == tokens[kept] {
		kept++
	}
	s.Truncate(kept)
	var logits []float32
	for i := kept; i < len(tokens); i += maxBatch {
		if err := ctx.Err(); err != nil {
			return nil, kept, err
		}
		l, err := s.Forward(tokens[i:min(i+maxBatch, len(tokens))])
		if err != nil {
			return nil, kept, err
		}
		logits = l
	}
	return logits, kept, nil
}

// softmaxAt is the probability of token id under softmax(logits), computed
// in buf (len(logits)) with cpu.Softmax's SIMD exp: every generated token
// pays it, and math.Exp over a 128K vocabulary cost about as much as the
// sampling itself.
func softmaxAt(buf, logits []float32, id int32) float32 {
	copy(buf, logits)
	cpu.Softmax(buf)
	return buf[id]
}

// textStream turns tokens into text for streaming: it never splits a UTF-8
// character (the tokenizer's stream decoder) and holds back any tail that
// could be the start of a stop string, so stop strings are never emitted.
type textStream struct {
	d     interface{ Add(int32) string }
	stops []string
	out   strings.Builder // all text decoded
	sent  int             // bytes of out already emitted
}

// add decodes id and returns the text that can be emitted now, and whether a
// stop string was completed (the text is then cut before it).
func (t *textStream) add(id int32) (string, bool) {
	if t.d == nil {
		return "", false
	}
	t.out.WriteString(t.d.Add(id))
	all := t.out.String()
	for _, s := range t.stops {
		if s == "" {
			continue
		}
		if i := strings.Index(all[max(0, t.sent-len(s)):], s); i >= 0 {
			cut := max(0, t.sent-len(s)) + i
			chunk := ""
			if cut > t.sent {
				chunk = all[t.sent:cut]
			}
			t.sent = cut
			t.out.Reset()
			t.out.WriteString(all[:cut])
			return chunk, true
		}
	}
	keep := 0
	for _, s := range t.stops {
		for k := min(len(s)-1, len(all)-t.sent); k > keep; k-- {
			if strings.HasSuffix(all, s[:k]) {
				keep = k
				break
			}
		}
	}
	chunk := all[t.sent : len(all)-keep]
	t.sent += len(chunk)
	return chunk, false
}

// flush returns what was held back.
func (t *textStream) flush() string {
	all := t.out.String()
	chunk := all[t.sent:]
	t.sent = len(all)
	return chunk
}

func (t *textStream) text() string { return t.out.String() }
