package serve

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/wire.golden")

// The bytes the server writes, key order included, for every kind of answer:
// chat and completions, streamed and not, with log-probabilities and the
// bitrepl_top_logits extension, and the other endpoints. Answer ids, times and
// fractional numbers (log-probabilities and logits, which differ in the last
// bits between kernel paths) are masked.
func TestWireFormat(t *testing.T) {
	_, url := start(t, Config{Parallel: 1})
	reqs := []struct{ method, path, body string }{
		{"POST", "/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"temperature":0}`},
		{"POST", "/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"temperature":0,"logprobs":true,"top_logprobs":2,"bitrepl_top_logits":2}`},
		{"POST", "/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"temperature":0,"stream":true}`},
		{"POST", "/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"temperature":0,"stream":true,"stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":1,"bitrepl_top_logits":1}`},
		{"POST", "/v1/completions", `{"model":"bitrepl","prompt":"The whale","max_tokens":2,"temperature":0}`},
		{"POST", "/v1/completions", `{"model":"bitrepl","prompt":"The whale","max_tokens":2,"temperature":0,"logprobs":2,"echo":true,"bitrepl_top_logits":1}`},
		{"POST", "/v1/completions", `{"model":"bitrepl","prompt":"The whale","max_tokens":2,"temperature":0,"stream":true,"echo":true}`},
		{"POST", "/v1/completions", `{"model":"bitrepl","prompt":"The whale","max_tokens":2,"temperature":0,"stream":true,"stream_options":{"include_usage":true},"logprobs":1}`},
		{"GET", "/v1/models", ``},
		{"GET", "/health", ``},
		{"POST", "/tokenize", `{"content":"The whale"}`},
		{"POST", "/tokenize", `{"content":"The whale","with_pieces":true}`},
		{"POST", "/detokenize", `{"tokens":[1,2,3]}`},
		{"POST", "/v1/completions", `{"model":"bitrepl","prompt":"The whale","max_tokens":-1}`},
	}
	mask := []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`"(chatcmpl|cmpl)-[0-9a-f]{16}"`), `"$1-ID"`},
		{regexp.MustCompile(`"created":\d+`), `"created":TIME`},
		{regexp.MustCompile(`-?\d+\.\d+(e[-+]?\d+)?`), `FRAC`},
	}
	var got bytes.Buffer
	for _, r := range reqs {
		req, err := http.NewRequest(r.method, url+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mask {
			b = m.re.ReplaceAll(b, []byte(m.with))
		}
		got.WriteString("> " + r.method + " " + r.path + " " + r.body + "\n")
		got.WriteString(resp.Status + " " + resp.Header.Get("Content-Type") + "\n")
		got.Write(b)
		got.WriteString("\n")
	}
	const golden = "testdata/wire.golden"
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("the answers differ from %s (go test -run TestWireFormat -update rewrites it):\n%s", golden, got.Bytes())
	}
}
