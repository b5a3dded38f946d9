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
	var lp *chatLogprobs
	var compLP *completionLogprobs
	if e.id >= 0 && a.j.logprobs {
		t := a.s.tokenLogprob(e.id, e.logprob)
		if a.j.chat {
			t.TopLogprobs = e.top
			if t.TopLogprobs == nil {
				t.TopLogprobs = []tokenLogprob{}
			}
			lp = &chatLogprobs{Content: []tokenLogprob{t}}
			a.lps = append(a.lps, t)
		} else {
			top := map[string]float64{}
			for _, c := range e.top {
				top[c.Token] = c.Logprob
			}
			a.tokens, a.tokenLPs = append(a.tokens, t.Token), append(a.tokenLPs, t.Logprob)
			a.topLPs, a.offsets = append(a.topLPs, top), append(a.offsets, offset)
			compLP = &completionLogprobs{Tokens: []string{t.Token}, TokenLogprobs: []float64{t.Logprob},
				TopLogprobs: []map[string]float64{top}, TextOffset: []int{offset}}
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
	if a.j.chat {
		return a.send(a.chatChunk(&chatChoice{Delta: &chatDelta{Content: &e.text}, Logprobs: lp, TopLogits: tl}))
	}
	return a.send(a.completionChunk(&completionChoice{Text: e.text, Logprobs: compLP, TopLogits: tl}))
}

// chatChunk is a streamed chat chunk holding choice (nil for none).
func (a *answer) chatChunk(c *chatChoice) *response[chatChoice] {
	r := &response[chatChoice]{ID: a.id, Object: "chat.completion.chunk", Created: a.created, Model: a.s.cfg.ModelName, Choices: []chatChoice{}}
	if c != nil {
		r.Choices = append(r.Choices, *c)
	}
	return r
}

// completionChunk is a streamed completion chunk holding choice (nil for
// none).
func (a *answer) completionChunk(c *completionChoice) *response[completionChoice] {
	r := &response[completionChoice]{ID: a.id, Object: "text_completion", Created: a.created, Model: a.s.cfg.ModelName, Choices: []completionChoice{}}
	if c != nil {
		r.Choices = append(r.Choices, *c)
	}
	return r
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
		empty := ""
		return a.send(a.chatChunk(&chatChoice{Delta: &chatDelta{Role: "assistant", Content: &empty}}))
	}
	if a.j.echo != "" {
		return a.send(a.completionChunk(&completionChoice{Text: a.j.echo}))
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
			a.send(struct {
				Error *apiError `json:"error"`
			}{e})
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
		var err error
		if a.j.chat {
			err = a.send(a.chatChunk(&chatChoice{Delta: &chatDelta{}, FinishReason: &reason}))
		} else {
			err = a.send(a.completionChunk(&completionChoice{FinishReason: &reason}))
		}
		if err != nil {
			return
		}
		if a.j.usage {
			if a.j.chat {
				c := a.chatChunk(nil)
				c.Usage = &u
				err = a.send(c)
			} else {
				c := a.completionChunk(nil)
				c.Usage = &u
				err = a.send(c)
			}
			if err != nil {
				return
			}
		}
		a.sendRaw("data: [DONE]\n\n")
		return
	}
	var tl []tokenTopLogits
	if a.j.topLogits > 0 {
		tl = a.topLogits
	}
	if a.j.chat {
		c := chatChoice{Message: &chatMessage{Role: "assistant", Content: a.text.String()}, FinishReason: &reason, TopLogits: tl}
		if a.j.logprobs {
			c.Logprobs = &chatLogprobs{Content: a.lps}
		}
		writeJSON(a.w, response[chatChoice]{ID: a.id, Object: "chat.completion", Created: a.created, Model: a.s.cfg.ModelName,
			Choices: []chatChoice{c}, Usage: &u})
		return
	}
	c := completionChoice{Text: a.text.String(), FinishReason: &reason, TopLogits: tl}
	if a.j.logprobs {
		c.Logprobs = &completionLogprobs{Tokens: a.tokens, TokenLogprobs: a.tokenLPs, TopLogprobs: a.topLPs, TextOffset: a.offsets}
	}
	writeJSON(a.w, response[completionChoice]{ID: a.id, Object: "text_completion", Created: a.created, Model: a.s.cfg.ModelName,
		Choices: []completionChoice{c}, Usage: &u})
}
