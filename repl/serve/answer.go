package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bitrepl/bitrepl/model"
)

// answer writes a generation's response: server-sent event chunks as the
// tokens come, or one JSON object at the end.
type answer struct {
	s       *Server
	w       http.ResponseWriter
	rc      *http.ResponseController
	j       *job
	id      string
	created int64
	started bool // the stream's headers are sent
	gone    bool // a write failed: the client is not reading

	text      strings.Builder
	lps       []tokenLogprob // chat logprobs.content
	tokens    []string       // completions logprobs
	tokenLPs  []float64
	topLPs    []map[string]float64
	offsets   []int
	topLogits []tokenTopLogits
}

// tokenTopLogits is one generated token in the bitrepl_top_logits extension.
type tokenTopLogits struct {
	ID  int32      `json:"id"`
	Top []topLogit `json:"top"`
}

func newAnswer(s *Server, w http.ResponseWriter, j *job) *answer {
	prefix := "cmpl-"
	if j.chat {
		prefix = "chatcmpl-"
	}
	a := &answer{s: s, w: w, rc: http.NewResponseController(w), j: j, created: time.Now().Unix(),
		id: fmt.Sprintf("%s%016x", prefix, rand.Uint64())}
	a.text.WriteString(j.echo)
	return a
}

// token takes one event of the generation.
func (a *answer) token(e event) error {
	if a.gone {
		return errors.New("client gone")
	}
	withInfo := e.id >= 0 && (a.j.logprobs || a.j.topLogits > 0)
	offset := a.text.Len()
	a.text.WriteString(e.text)
	var lp []tokenLogprob
	var compLP map[string]any
	if e.id >= 0 && a.j.logprobs {
		t := a.s.tokenLogprob(e.id, e.logprob)
		if a.j.chat {
			t.TopLogprobs = e.top
			if t.TopLogprobs == nil {
				t.TopLogprobs = []tokenLogprob{}
			}
			lp = []tokenLogprob{t}
			a.lps = append(a.lps, t)
		} else {
			top := map[string]float64{}
			for _, c := range e.top {
				top[c.Token] = c.Logprob
			}
			a.tokens, a.tokenLPs = append(a.tokens, t.Token), append(a.tokenLPs, t.Logprob)
			a.topLPs, a.offsets = append(a.topLPs, top), append(a.offsets, offset)
			compLP = map[string]any{"tokens": []string{t.Token}, "token_logprobs": []float64{t.Logprob},
				"top_logprobs": []map[string]float64{top}, "text_offset": []int{offset}}
		}
	}
	var tl []tokenTopLogits
	if e.id >= 0 && a.j.topLogits > 0 {
		tl = []tokenTopLogits{{ID: e.id, Top: e.topLogits}}
		a.topLogits = append(a.topLogits, tl...)
	}
	if !a.j.stream || e.text == "" && !withInfo {
		return nil
	}
	if err := a.start(); err != nil {
		return err
	}
	choice := map[string]any{"index": 0, "finish_reason": nil}
	if a.j.chat {
		choice["delta"] = map[string]any{"content": e.text}
		choice["logprobs"] = nil
		if lp != nil {
			choice["logprobs"] = map[string]any{"content": lp}
		}
	} else {
		choice["text"] = e.text
		choice["logprobs"] = compLP
	}
	if tl != nil {
		choice["bitrepl_top_logits"] = tl
	}
	return a.send(a.chunk(choice))
}

// chunk is a streamed chunk holding choice (nil for none).
func (a *answer) chunk(choice map[string]any) map[string]any {
	object := "text_completion"
	if a.j.chat {
		object = "chat.completion.chunk"
	}
	choices := []map[string]any{}
	if choice != nil {
		choices = append(choices, choice)
	}
	return map[string]any{"id": a.id, "object": object, "created": a.created, "model": a.s.cfg.ModelName, "choices": choices}
}

// start sends the stream's headers and first chunk.
func (a *answer) start() error {
	if a.started {
		return nil
	}
	a.started = true
	h := a.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	a.w.WriteHeader(http.StatusOK)
	if a.j.chat {
		return a.send(a.chunk(map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "content": ""}, "logprobs": nil, "finish_reason": nil}))
	}
	if a.j.echo != "" {
		return a.send(a.chunk(map[string]any{"index": 0, "text": a.j.echo, "logprobs": nil, "finish_reason": nil}))
	}
	return nil
}

// send writes one server-sent event and flushes it, giving the client
// Config.WriteTimeout to take it.
func (a *answer) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return a.sendRaw("data: " + string(b) + "\n\n")
}

func (a *answer) sendRaw(s string) error {
	if a.gone {
		return errors.New("client gone")
	}
	a.rc.SetWriteDeadline(time.Now().Add(a.s.cfg.WriteTimeout))
	_, err := a.w.Write([]byte(s))
	if err == nil {
		err = a.rc.Flush()
	}
	if err != nil {
		a.gone = true
	}
	return err
}

func finishReason(r model.StopReason) string {
	if r == model.StopLength || r == model.StopContext {
		return "length"
	}
	return "stop"
}

// finish ends the response after the generation ended with st and err.
func (a *answer) finish(st model.Stats, err error) {
	if err != nil {
		e := &apiError{status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()}
		switch {
		case errors.Is(err, model.ErrContextFull):
			e = withCode(badRequest("messages", "%v", err), "context_length_exceeded")
		case a.s.gen.Err() != nil:
			e = &apiError{status: http.StatusServiceUnavailable, Type: "server_error", Message: "the server is shutting down"}
		case st.Reason == model.StopCanceled:
			a.s.metrics.request("canceled")
			return // the client left
		}
		a.s.metrics.request(strconv.Itoa(e.status))
		if a.started {
			a.send(map[string]any{"error": e})
			return
		}
		writeError(a.w, e)
		return
	}
	a.s.metrics.request("200")
	u := usage{PromptTokens: st.PromptTokens + st.Cached, CompletionTokens: st.Generated}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	u.PromptTokensDetails.CachedTokens = st.Cached
	reason := finishReason(st.Reason)
	if a.j.stream {
		if a.start() != nil {
			return
		}
		last := map[string]any{"index": 0, "finish_reason": reason, "logprobs": nil}
		if a.j.chat {
			last["delta"] = map[string]any{}
		} else {
			last["text"] = ""
		}
		if a.send(a.chunk(last)) != nil {
			return
		}
		if a.j.usage {
			c := a.chunk(nil)
			c["usage"] = u
			if a.send(c) != nil {
				return
			}
		}
		a.sendRaw("data: [DONE]\n\n")
		return
	}
	choice := map[string]any{"index": 0, "finish_reason": reason, "logprobs": nil}
	object := "text_completion"
	if a.j.chat {
		object = "chat.completion"
		choice["message"] = map[string]any{"role": "assistant", "content": a.text.String()}
		if a.j.logprobs {
			choice["logprobs"] = map[string]any{"content": a.lps}
		}
	} else {
		choice["text"] = a.text.String()
		if a.j.logprobs {
			choice["logprobs"] = map[string]any{"tokens": a.tokens, "token_logprobs": a.tokenLPs, "top_logprobs": a.topLPs, "text_offset": a.offsets}
		}
	}
	if a.j.topLogits > 0 {
		choice["bitrepl_top_logits"] = a.topLogits
	}
	writeJSON(a.w, map[string]any{"id": a.id, "object": object, "created": a.created, "model": a.s.cfg.ModelName,
		"choices": []any{choice}, "usage": u})
}
