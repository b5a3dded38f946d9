package serve

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Whatever the body, the endpoints answer 200 or a 4xx with an OpenAI error
// object: never a panic, a 5xx or a hang.
func FuzzRequests(f *testing.F) {
	for _, seed := range []string{
		`{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`,
		`{"model":"bitrepl","messages":[{"role":"system","content":[{"type":"text","text":"x"}]},{"role":"user","content":"hi"}],"max_tokens":2,"stream":true,"logprobs":true,"top_logprobs":2}`,
		`{"model":"bitrepl","prompt":"Once","max_tokens":2,"stop":["a","b"],"logprobs":2,"echo":true}`,
		`{"model":"bitrepl","prompt":[1,2,3],"max_tokens":2,"stream":true,"bitrepl_top_logits":3,"seed":5,"top_p":0.5}`,
		`{"model":"bitrepl","prompt":"x","max_tokens":2,"presence_penalty":1,"frequency_penalty":-1,"temperature":1.5}`,
		`{"content":"Hello","with_pieces":true}`, `{"tokens":[1,2,3]}`,
		`{"model":1}`, `[`, `null`, `{"max_tokens":1e400}`, "\xff",
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(1))
	}
	s, _, err := New(builtin(f), Config{Parallel: 2, MaxBody: 1 << 12})
	if err != nil {
		f.Fatal(err)
	}
	paths := []string{"/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize"}
	f.Fuzz(func(t *testing.T, body string, path uint8) {
		// Keep generations short: the fuzzer is after the parsing.
		if !strings.Contains(body, `"max_tokens"`) && !strings.Contains(body, `"max_completion_tokens"`) {
			body = strings.Replace(body, "{", `{"max_tokens":2,`, 1)
		}
		p := paths[int(path)%len(paths)]
		req := httptest.NewRequest("POST", p, strings.NewReader(body))
		rec := httptest.NewRecorder()
		s.mux.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code >= 400 && rec.Code < 500:
			var e struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
				t.Fatalf("%s %q: %d without an error object: %q", p, body, rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("%s %q: %d %q", p, body, rec.Code, rec.Body.String())
		}
		if busy, queued := s.pool.counts(); busy != 0 || queued != 0 {
			t.Fatalf("%s %q left %d slots busy, %d queued", p, body, busy, queued)
		}
	})
}
