package model

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bitrepl/bitrepl/model/sample"
)

// GenOptions controls a generation.
type GenOptions struct {
	MaxTokens int           // stop after this many tokens; 0 means until EOS or the context is full
	Sampling  sample.Params // temperature 0 is greedy
	Stop      []string      // stop when the text contains one of these (it is not emitted)
	IgnoreEOS bool          // keep going past end-of-text tokens (benchmarks)
}

// Token is one generated token as it is streamed.
type Token struct {
	ID   int32
	Text string  // text made complete by this token; "" while a UTF-8 character or a possible stop string is pending
	Prob float32 // probability of ID under the model's raw distribution (temperature 1)
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
	PromptTokens int
	Generated    int
	PromptTime   time.Duration // evaluating the prompt
	FirstToken   time.Duration // from the start to the first generated token
	GenTime      time.Duration // from the first to the last generated token
	Reason       StopReason
	Text         string // the generated text, stop string excluded
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

// Generate evaluates prompt in s after what s already holds, then samples
// tokens and streams them to emit until EOS, a stop string, MaxTokens, a full
// context, or ctx is canceled. Whatever happens, s stays consistent: every
// token evaluated is in its cache, so a conversation can go on. A prompt that
// does not fit in the context is an error and leaves s unchanged. When ctx is
// canceled the stats so far are returned with ctx's error.
func (m *Model) Generate(ctx context.Context, s *Session, prompt []int32, opt GenOptions, emit func(Token) error) (Stats, error) {
	st := Stats{PromptTokens: len(prompt)}
	if len(prompt) == 0 {
		return st, fmt.Errorf("generate: empty prompt")
	}
	if free := s.ContextLen() - s.Pos(); len(prompt) >= free {
		return st, fmt.Errorf("%w: the prompt has %d tokens and %d of %d positions are free; it must leave room for at least one new token",
			ErrContextFull, len(prompt), free, s.ContextLen())
	}
	if err := s.checkTokens(prompt); err != nil {
		return st, err
	}
	start := time.Now()
	var logits []float32
	for i := 0; i < len(prompt); i += maxBatch {
		if err := ctx.Err(); err != nil {
			st.Reason = StopCanceled
			return st, err
		}
		l, err := s.Forward(prompt[i:min(i+maxBatch, len(prompt))])
		if err != nil {
			return st, err
		}
		logits = l
	}
	st.PromptTime = time.Since(start)

	sampler := sample.New(m.Config.VocabSize, opt.Sampling)
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
		recent := hist
		if n := opt.Sampling.RepeatLastN; n > 0 && len(recent) > n {
			recent = recent[len(recent)-n:]
		}
		id := sampler.Sample(logits, recent)
		prob := softmaxAt(logits, id)
		st.Generated++
		if st.Generated == 1 {
			first = time.Now()
			st.FirstToken = first.Sub(start)
		}
		hist = append(hist, id)
		if !opt.IgnoreEOS && m.IsEOS(id) {
			return finish(StopEOS)
		}
		text, stopped := dec.add(id)
		if err := emit(Token{ID: id, Text: text, Prob: prob}); err != nil {
			return st, err
		}
		switch {
		case stopped:
			return finish(StopString)
		case opt.MaxTokens > 0 && st.Generated >= opt.MaxTokens:
			return finish(StopLength)
		case s.Pos() >= s.ContextLen():
			return finish(StopContext)
		}
		l, err := s.Forward([]int32{id})
		if err != nil {
			return st, err
		}
		logits = l
	}
}

// softmaxAt is the probability of token id under softmax(logits).
func softmaxAt(logits []float32, id int32) float32 {
	mx := float32(math.Inf(-1))
	for _, v := range logits {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v - mx))
	}
	return float32(math.Exp(float64(logits[id]-mx)) / sum)
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
