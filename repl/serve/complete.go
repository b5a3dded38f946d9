package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/sample"
)

// job is a validated completion request.
type job struct {
	chat        bool
	msgs        []model.Message // chat
	prompt      []int32         // the prompt's tokens (chat: as formatted, to pick a slot)
	opt         model.GenOptions
	stream      bool
	usage       bool // stream: a last chunk with the usage
	logprobs    bool
	topLogprobs int
	topLogits   int // bitrepl_top_logits
	echo        string
}

// event is what a generation sends its handler: a token, or the end.
type event struct {
	text      string
	id        int32
	logprob   float64
	top       []tokenLogprob // top_logprobs
	topLogits []topLogit
	done      bool
	st        model.Stats
	err       error
}

// events is an unbounded queue from a generation to its handler, so that the
// generation, and with it every slot decoding in the same step, never waits
// for a client.
type events struct {
	mu   sync.Mutex
	q    []event
	wake chan struct{} // (cap 1)
}

func (e *events) push(ev event) {
	e.mu.Lock()
	e.q = append(e.q, ev)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *events) take() []event {
	<-e.wake
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.q
	e.q = nil
	return q
}

// options validates the fields both endpoints share.
func (s *Server) options(c *common) (model.GenOptions, *apiError) {
	var opt model.GenOptions
	switch {
	case c.Model == "":
		return opt, badRequest("model", "model is required: this server serves %q", s.cfg.ModelName)
	case c.Model != s.cfg.ModelName:
		return opt, withCode(&apiError{status: http.StatusNotFound, Type: "invalid_request_error",
			Message: fmt.Sprintf("the model %q does not exist: this server serves %q", c.Model, s.cfg.ModelName)}, "model_not_found")
	case c.N != nil && *c.N != 1:
		return opt, badRequest("n", "n must be 1: one choice per request")
	case len(c.LogitBias) > 0:
		return opt, badRequest("logit_bias", "logit_bias is not supported")
	case len(c.Tools) > 0 && string(c.Tools) != "null" && string(c.Tools) != "[]":
		return opt, badRequest("tools", "tools are not supported")
	case c.ResponseFormat != nil && c.ResponseFormat.Type != "" && c.ResponseFormat.Type != "text":
		return opt, badRequest("response_format", "response_format %q is not supported (text only)", c.ResponseFormat.Type)
	}
	max := c.MaxCompletionTokens
	param := "max_completion_tokens"
	if max == nil {
		max, param = c.MaxTokens, "max_tokens"
	}
	opt.MaxTokens = s.ctxLen // a chat would otherwise go on for ever, its oldest turns dropped
	if max != nil {
		if *max < 1 || *max > int64(s.ctxLen) {
			return opt, badRequest(param, "%s is %d: it must be 1 to %d, the context of a slot", param, *max, s.ctxLen)
		}
		opt.MaxTokens = int(*max)
	}
	p := sample.Params{Temperature: 1, TopP: 1, Seed: newSeed()}
	if t := c.Temperature; t != nil {
		if !(*t >= 0 && *t <= 2) {
			return opt, badRequest("temperature", "temperature is %v: it must be 0 to 2", *t)
		}
		p.Temperature = float32(*t)
	}
	if t := c.TopP; t != nil {
		if !(*t > 0 && *t <= 1) {
			return opt, badRequest("top_p", "top_p is %v: it must be above 0 and at most 1", *t)
		}
		p.TopP = float32(*t)
	}
	if c.Seed != nil {
		p.Seed = uint64(*c.Seed)
	}
	for _, f := range []struct {
		name string
		v    *float64
		dst  *float32
	}{{"presence_penalty", c.PresencePenalty, &p.PresencePenalty}, {"frequency_penalty", c.FrequencyPenalty, &p.FrequencyPenalty}} {
		if f.v == nil {
			continue
		}
		if !(*f.v >= -2 && *f.v <= 2) {
			return opt, badRequest(f.name, "%s is %v: it must be -2 to 2", f.name, *f.v)
		}
		*f.dst = float32(*f.v)
		// Over the last 64 tokens, the prompt's included, as llama-server.
		p.RepeatLastN = 64
	}
	opt.Sampling = p
	if len(c.Stop) > 4 {
		return opt, badRequest("stop", "stop has %d strings: at most 4", len(c.Stop))
	}
	opt.Stop = c.Stop
	return opt, nil
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if e := readJSON(w, r, s.cfg.MaxBody, &req); e != nil {
		s.refuse(w, e)
		return
	}
	opt, e := s.options(&req.common)
	if e != nil {
		s.refuse(w, e)
		return
	}
	j := &job{chat: true, opt: opt, stream: req.Stream}
	if len(req.Messages) == 0 {
		s.refuse(w, badRequest("messages", "messages is empty"))
		return
	}
	for i, m := range req.Messages {
		role := m.Role
		switch role {
		case "developer":
			role = "system"
		case "system", "user", "assistant":
		default:
			s.refuse(w, badRequest("messages", "messages[%d]: role %q is not supported (system, developer, user, assistant)", i, m.Role))
			return
		}
		if role == "system" && i > 0 {
			s.refuse(w, badRequest("messages", "messages[%d]: a system message comes first", i))
			return
		}
		j.msgs = append(j.msgs, model.Message{Role: role, Content: m.Content.text})
	}
	if req.Logprobs != nil && *req.Logprobs {
		j.logprobs = true
	}
	if t := req.TopLogprobs; t != nil {
		if *t < 0 || *t > 20 {
			s.refuse(w, badRequest("top_logprobs", "top_logprobs is %d: it must be 0 to 20", *t))
			return
		}
		if *t > 0 && !j.logprobs {
			s.refuse(w, badRequest("top_logprobs", "top_logprobs needs logprobs: true"))
			return
		}
		j.topLogprobs = int(*t)
	}
	if e := s.extension(&req.common, j); e != nil {
		s.refuse(w, e)
		return
	}
	var err error
	if j.prompt, err = s.m.FormatChat(j.msgs, true); err != nil {
		s.refuse(w, badRequest("messages", "%v", err))
		return
	}
	s.run(w, r, j)
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	var req completionRequest
	if e := readJSON(w, r, s.cfg.MaxBody, &req); e != nil {
		s.refuse(w, e)
		return
	}
	opt, e := s.options(&req.common)
	if e != nil {
		s.refuse(w, e)
		return
	}
	j := &job{opt: opt, stream: req.Stream}
	switch {
	case !req.Prompt.set:
		s.refuse(w, badRequest("prompt", "prompt is required"))
		return
	case req.BestOf != nil && *req.BestOf != 1:
		s.refuse(w, badRequest("best_of", "best_of must be 1: one candidate per request"))
		return
	case req.Suffix != nil && *req.Suffix != "":
		s.refuse(w, badRequest("suffix", "suffix is not supported"))
		return
	case req.Prompt.isIDs:
		j.prompt = req.Prompt.tokens
		for i, id := range j.prompt {
			if id < 0 || int(id) >= s.m.Config.VocabSize {
				s.refuse(w, badRequest("prompt", "prompt[%d]: token %d is outside the vocabulary (%d)", i, id, s.m.Config.VocabSize))
				return
			}
		}
	default:
		j.prompt = s.m.Tokenizer.Encode(req.Prompt.text, true)
	}
	if len(j.prompt) == 0 {
		s.refuse(w, badRequest("prompt", "prompt is empty"))
		return
	}
	if len(j.prompt) >= s.ctxLen {
		s.refuse(w, withCode(badRequest("prompt", "the prompt has %d tokens and a slot's context %d positions; it must leave room for one new token",
			len(j.prompt), s.ctxLen), "context_length_exceeded"))
		return
	}
	if l := req.Logprobs; l != nil {
		if *l < 0 || *l > 5 {
			s.refuse(w, badRequest("logprobs", "logprobs is %d: it must be 0 to 5", *l))
			return
		}
		j.logprobs, j.topLogprobs = true, int(*l)
	}
	if e := s.extension(&req.common, j); e != nil {
		s.refuse(w, e)
		return
	}
	if req.Echo {
		j.echo = s.m.Tokenizer.Decode(j.prompt, false)
	}
	s.run(w, r, j)
}

func (s *Server) extension(c *common, j *job) *apiError {
	if t := c.TopLogits; t != nil {
		if *t < 1 || *t > 20 {
			return badRequest("bitrepl_top_logits", "bitrepl_top_logits is %d: it must be 1 to 20", *t)
		}
		j.topLogits = int(*t)
	}
	j.usage = c.StreamOptions != nil && c.StreamOptions.IncludeUsage
	return nil
}

// refuse answers a request with an error before any generation.
func (s *Server) refuse(w http.ResponseWriter, e *apiError) {
	s.metrics.request(strconv.Itoa(e.status))
	writeError(w, e)
}

// run takes a slot for j, generates in it and answers as j asks.
func (s *Server) run(w http.ResponseWriter, r *http.Request, j *job) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.gen, cancel)()
	if s.gen.Err() != nil {
		s.refuse(w, &apiError{status: http.StatusServiceUnavailable, Type: "server_error", Message: "the server is shutting down"})
		return
	}
	sl, err := s.pool.acquire(ctx, j.prompt)
	switch {
	case errors.Is(err, errQueueFull):
		s.refuse(w, &apiError{status: http.StatusTooManyRequests, Type: "server_error",
			Message: fmt.Sprintf("the server is busy: %d slots generating and %d requests waiting; try again later", s.cfg.Parallel, s.cfg.Queue)})
		return
	case err != nil: // the client left, or the server shuts down
		s.metrics.request("canceled")
		return
	}
	ev := &events{wake: make(chan struct{}, 1)}
	s.wg.Add(1)
	generated := make(chan struct{})
	go func() {
		defer close(generated)
		s.generate(ctx, sl, j, ev)
	}()
	a := newAnswer(s, w, j)
	for {
		for _, e := range ev.take() {
			if !e.done {
				if err := a.token(e); err != nil {
					cancel() // the client is gone: stop within a token
				}
				continue
			}
			a.finish(e.st, e.err)
			// The slot is free when the answer ends, not a moment after: a
			// client's next request finds it (FuzzRequests saw 1 busy).
			<-generated
			return
		}
	}
}

// generate runs j in sl and sends its tokens and end to ev.
func (s *Server) generate(ctx context.Context, sl *slot, j *job, ev *events) {
	defer s.wg.Done()
	defer s.pool.release(sl)
	joined := false
	opt := j.opt
	opt.Step = func(sess *model.Session, id int32) ([]float32, error) {
		if !joined {
			s.batch.join()
			joined = true
		}
		return s.batch.step(sl, id)
	}
	emit := func(t model.Token) error {
		e := event{text: t.Text, id: t.ID}
		if t.ID >= 0 && t.Logits != nil {
			if j.logprobs {
				e.logprob = logSoftmaxAt(t.Logits, t.ID)
			}
			if j.topLogprobs > 0 {
				for _, c := range top(t.Logits, j.topLogprobs) {
					e.top = append(e.top, s.tokenLogprob(c.ID, logSoftmaxAt(t.Logits, c.ID)))
				}
			}
			if j.topLogits > 0 {
				e.topLogits = top(t.Logits, j.topLogits)
				for i := range e.topLogits {
					e.topLogits[i].Token = s.m.Tokenizer.Decode([]int32{e.topLogits[i].ID}, false)
				}
			}
		}
		ev.push(e)
		return nil
	}
	var st model.Stats
	var err error
	if j.chat {
		st, err = s.m.GenerateChat(ctx, sl.sess, j.msgs, opt, emit)
	} else {
		st, err = s.m.Generate(ctx, sl.sess, j.prompt, opt, emit)
	}
	if joined {
		s.batch.leave()
	}
	s.metrics.generation(st)
	ev.push(event{done: true, st: st, err: err})
}

// logSoftmaxAt is log softmax(logits)[id], at least OpenAI's -9999.
func logSoftmaxAt(logits []float32, id int32) float64 {
	mx := float32(math.Inf(-1))
	for _, v := range logits {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v - mx))
	}
	return max(float64(logits[id]-mx)-math.Log(sum), -9999)
}

// top returns the k largest logits, largest first (the lower id first
// among equals).
func top(logits []float32, k int) []topLogit {
	out := make([]topLogit, 0, k+1)
	for i, v := range logits {
		if v != v || len(out) == k && !(v > out[k-1].Logit) { // NaN never ranks
			continue
		}
		j := len(out)
		if j < k {
			out = append(out, topLogit{})
		} else {
			j = k - 1
		}
		for j > 0 && v > out[j-1].Logit {
			out[j] = out[j-1]
			j--
		}
		out[j] = topLogit{ID: int32(i), Logit: v}
	}
	return out
}

func (s *Server) tokenLogprob(id int32, lp float64) tokenLogprob {
	text := s.m.Tokenizer.Decode([]int32{id}, false)
	b := make([]int, len(text))
	for i := range len(text) {
		b[i] = int(text[i])
	}
	return tokenLogprob{Token: text, Logprob: lp, Bytes: b}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
