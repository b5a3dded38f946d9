package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/embedded"
)

var (
	tinyOnce sync.Once
	tiny     *model.Model
	tinyErr  error
)

// builtin is the model embedded in bitrepl, loaded once for all tests (the
// server never changes it).
func builtin(t testing.TB) *model.Model {
	t.Helper()
	tinyOnce.Do(func() { tiny, tinyErr = model.LoadBytes(embedded.GGUF(), embedded.Name) })
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tiny
}

// start serves a new Server over loopback until the test ends.
func start(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	return startModel(t, builtin(t), cfg)
}

func startModel(t testing.TB, m *model.Model, cfg Config) (*Server, string) {
	t.Helper()
	cfg.Device = model.DeviceCPU
	s, _, err := New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, "http://" + ln.Addr().String()
}

func client(url string, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{option.WithBaseURL(url + "/v1/"), option.WithAPIKey("none"), option.WithMaxRetries(0)}, opts...)...)
}

func chatParams(prompt string, maxTokens int64) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:       "bitrepl",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
		MaxTokens:   openai.Int(maxTokens),
		Temperature: openai.Float(0),
	}
}

// The OpenAI client gets the same greedy answer streamed and not, for chat
// and plain completions, with usage, finish reasons and log-probabilities.
func TestOpenAIClient(t *testing.T) {
	_, url := start(t, Config{Parallel: 2})
	c := client(url)
	ctx := context.Background()

	models, err := c.Models.List(ctx)
	if err != nil || len(models.Data) != 1 || models.Data[0].ID != "bitrepl" {
		t.Fatalf("models: %+v, %v", models, err)
	}

	p := chatParams("Tell me about the economy.", 24)
	p.Logprobs, p.TopLogprobs = openai.Bool(true), openai.Int(3)
	resp, err := c.Chat.Completions.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	ch := resp.Choices[0]
	if ch.Message.Content == "" || ch.FinishReason != "length" || resp.Usage.CompletionTokens != 24 || resp.Usage.PromptTokens == 0 {
		t.Fatalf("chat: %q, finish %q, usage %+v", ch.Message.Content, ch.FinishReason, resp.Usage)
	}
	if len(ch.Logprobs.Content) != 24 || len(ch.Logprobs.Content[0].TopLogprobs) != 3 ||
		ch.Logprobs.Content[0].Logprob != ch.Logprobs.Content[0].TopLogprobs[0].Logprob || ch.Logprobs.Content[0].Logprob > 0 {
		t.Errorf("chat logprobs: %+v", ch.Logprobs.Content[:1])
	}

	stream := c.Chat.Completions.NewStreaming(ctx, p, option.WithJSONSet("stream_options", map[string]any{"include_usage": true}))
	var acc openai.ChatCompletionAccumulator
	var text strings.Builder
	for stream.Next() {
		chunk := stream.Current()
		acc.AddChunk(chunk)
		if len(chunk.Choices) > 0 {
			text.WriteString(chunk.Choices[0].Delta.Content)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != ch.Message.Content {
		t.Errorf("streamed %q, not streamed %q", text.String(), ch.Message.Content)
	}
	if acc.Usage.CompletionTokens != 24 || acc.Usage.PromptTokensDetails.CachedTokens == 0 {
		// The second request repeats the first's prompt in the same slot.
		t.Errorf("streamed usage %+v", acc.Usage)
	}
	if len(acc.Choices) != 1 || acc.Choices[0].FinishReason != "length" {
		t.Errorf("streamed choices %+v", acc.Choices)
	}

	cp := openai.CompletionNewParams{Model: "bitrepl", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Once upon a time")},
		MaxTokens: openai.Int(16), Temperature: openai.Float(0), Stop: openai.CompletionNewParamsStopUnion{OfString: openai.String("zzzz")}}
	cr, err := c.Completions.New(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	if cr.Choices[0].Text == "" || cr.Usage.CompletionTokens != 16 {
		t.Fatalf("completion %+v", cr)
	}
	cs := c.Completions.NewStreaming(ctx, cp)
	text.Reset()
	for cs.Next() {
		if ch := cs.Current().Choices; len(ch) > 0 {
			text.WriteString(ch[0].Text)
		}
	}
	if err := cs.Err(); err != nil || text.String() != cr.Choices[0].Text {
		t.Errorf("streamed completion %q (%v), not streamed %q", text.String(), err, cr.Choices[0].Text)
	}

	// A frequency penalty steers a greedy decode away from repeating.
	cp.FrequencyPenalty = openai.Float(2)
	if pr, err := c.Completions.New(ctx, cp); err != nil || pr.Choices[0].Text == cr.Choices[0].Text {
		t.Errorf("with frequency_penalty 2: %v, the same text %q", err, cr.Choices[0].Text)
	}
	cp.FrequencyPenalty = openai.Float(0)

	// A stop string ends the text before it.
	stop := cr.Choices[0].Text[len(cr.Choices[0].Text)/2:]
	cp.Stop = openai.CompletionNewParamsStopUnion{OfString: openai.String(stop)}
	cr2, err := c.Completions.New(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	if want := cr.Choices[0].Text[:strings.Index(cr.Choices[0].Text, stop)]; cr2.Choices[0].Text != want || cr2.Choices[0].FinishReason != "stop" {
		t.Errorf("with stop %q: %q (%s), want %q", stop, cr2.Choices[0].Text, cr2.Choices[0].FinishReason, want)
	}
}

// post sends body to path and returns the status and the decoded answer.
func post(t *testing.T, url, path, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", path, body, b)
	}
	return resp.StatusCode, v
}

// Bad requests get a 4xx and an OpenAI error object naming what is wrong.
func TestBadRequests(t *testing.T) {
	s, url := start(t, Config{Parallel: 1, MaxBody: 4096})
	long := strings.Repeat("economy ", 4*s.ContextLen())
	for _, tc := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[`, 400, "malformed JSON"},
		{"/v1/chat/completions", `[1,2]`, 400, "must be a JSON object"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[]}{}`, 400, "data after the JSON value"},
		{"/v1/chat/completions", `{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}`, 404, `"gpt-4" does not exist`},
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, 400, "model is required"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}`, 400, "max_tokens: expected an integer"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"temperature":true}`, 400, "temperature: expected a number"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":"hi"}`, 400, "messages: expected an array"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":7}]}`, 400, "content: expected a string"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"tool","content":"x"}]}`, 400, `role "tool"`},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[]}`, 400, "messages is empty"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"max_tokens":-1}`, 400, "max_tokens is -1"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":1000000000000}`, 400, "max_completion_tokens is 1000000000000"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"n":2}`, 400, "n must be 1"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"temperature":3}`, 400, "temperature is 3"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"top_p":0}`, 400, "top_p is 0"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"presence_penalty":3}`, 400, "presence_penalty is 3"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"frequency_penalty":-2.5}`, 400, "frequency_penalty is -2.5"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"stop":5}`, 400, "stop: expected a string or an array"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"top_logprobs":2}`, 400, "top_logprobs needs logprobs"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"hi"}],"logit_bias":{"1":5}}`, 400, "logit_bias is not supported"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"` + long[:3000] + `"}]}`, 400, "context"},
		{"/v1/chat/completions", `{"model":"bitrepl","messages":[{"role":"user","content":"` + long + `"}]}`, 413, "over the limit of 4096 bytes"},
		{"/v1/chat/completions", "{\"model\":\"bitrepl\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}", 400, "not valid UTF-8"},
		{"/v1/completions", `{"model":"bitrepl","prompt":"` + long[:3000] + `"}`, 400, "the prompt has"},
		{"/v1/completions", `{"model":"bitrepl"}`, 400, "prompt is required"},
		{"/v1/completions", `{"model":"bitrepl","prompt":["a","b"]}`, 400, "2 prompts"},
		{"/v1/completions", `{"model":"bitrepl","prompt":[1,99999999]}`, 400, "outside the vocabulary"},
		{"/v1/completions", `{"model":"bitrepl","prompt":"a","logprobs":9}`, 400, "logprobs is 9"},
		{"/v1/completions", `{"model":"bitrepl","prompt":"a","bitrepl_top_logits":0}`, 400, "bitrepl_top_logits is 0"},
		{"/detokenize", `{"tokens":[-1]}`, 400, "outside the vocabulary"},
		{"/tokenize", `{}`, 400, "content is required"},
		{"/v1/nothing", `{}`, 404, "no endpoint"},
	} {
		status, v := post(t, url, tc.path, tc.body)
		e, _ := v["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if status != tc.status || !strings.Contains(msg, tc.want) || e["type"] == nil {
			t.Errorf("%s %.80s: %d %v, want %d and a message with %q", tc.path, tc.body, status, v, tc.status, tc.want)
		}
	}
	// Nothing is left busy.
	if busy, queued := s.pool.counts(); busy != 0 || queued != 0 {
		t.Errorf("%d slots busy, %d queued", busy, queued)
	}
}

// With --api-key, a missing or wrong key gets 401 on every endpoint but
// /health; the right one passes.
func TestAPIKey(t *testing.T) {
	_, url := start(t, Config{Parallel: 1, APIKey: "s3cret"})
	body := `{"model":"bitrepl","prompt":"a","max_tokens":2}`
	for _, h := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", "s3cret"}, {"Authorization", "Bearer s3cret2"}} {
		if status, v := post(t, url, "/v1/completions", body, h...); status != 401 || !strings.Contains(fmt.Sprint(v), "invalid_api_key") {
			t.Errorf("with %q: %d %v", h, status, v)
		}
	}
	if status, v := post(t, url, "/v1/completions", body, "Authorization", "Bearer s3cret"); status != 200 {
		t.Errorf("with the key: %d %v", status, v)
	}
	cl := client(url)
	if _, err := cl.Models.List(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("the client with a wrong key: %v", err)
	}
	cl = client(url, option.WithAPIKey("s3cret"))
	if _, err := cl.Models.List(context.Background()); err != nil {
		t.Errorf("the client with the key: %v", err)
	}
	resp, err := http.Get(url + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("/health: %v %v", resp, err)
	}
	resp.Body.Close()
}

// /tokenize and /detokenize answer as llama-server's.
func TestTokenize(t *testing.T) {
	_, url := start(t, Config{Parallel: 1})
	_, v := post(t, url, "/tokenize", `{"content":"Hello world"}`)
	ids, _ := v["tokens"].([]any)
	if len(ids) == 0 {
		t.Fatalf("tokenize: %v", v)
	}
	b, _ := json.Marshal(map[string]any{"tokens": ids})
	if _, v := post(t, url, "/detokenize", string(b)); v["content"] != "Hello world" {
		t.Errorf("detokenize: %v", v)
	}
	_, v = post(t, url, "/tokenize", `{"content":"Hello world","with_pieces":true}`)
	pieces, _ := v["tokens"].([]any)
	var text strings.Builder
	for _, p := range pieces {
		text.WriteString(p.(map[string]any)["piece"].(string))
	}
	if text.String() != "Hello world" {
		t.Errorf("pieces: %v", v)
	}
}

// When every slot is busy requests wait in the queue; beyond it they get 429.
func TestQueueFull(t *testing.T) {
	s, url := start(t, Config{Parallel: 1, Queue: 1})
	held, err := s.pool.acquire(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"model":"bitrepl","prompt":"Once","max_tokens":3}`
	waited := make(chan int)
	go func() {
		status, _ := post(t, url, "/v1/completions", body)
		waited <- status
	}()
	for _, q := s.pool.counts(); q != 1; _, q = s.pool.counts() {
		runtime.Gosched()
	}
	status, v := post(t, url, "/v1/completions", body)
	if status != 429 || !strings.Contains(fmt.Sprint(v), "busy") {
		t.Errorf("with the queue full: %d %v", status, v)
	}
	s.pool.release(held)
	if status := <-waited; status != 200 {
		t.Errorf("the queued request: %d", status)
	}
}

// Eight concurrent greedy streams, decoded together, produce exactly the
// texts and the logits (bitrepl_top_logits) of eight requests one after the
// other.
func TestConcurrentMatchesSerial(t *testing.T) {
	s, url := start(t, Config{Parallel: 8})
	c := client(url)
	prompts := []string{"Once upon a time", "The economy", "Our nation", "We must", "In the year", "Tonight I", "The people of", "Freedom is"}
	run := func(i int) (string, string) {
		var top any
		cp := openai.CompletionNewParams{Model: "bitrepl", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(prompts[i])},
			MaxTokens: openai.Int(int64(20 + 3*i)), Temperature: openai.Float(0)}
		r, err := c.Completions.New(context.Background(), cp, option.WithJSONSet("bitrepl_top_logits", 5))
		if err != nil {
			t.Error(err)
			return "", ""
		}
		if err := json.Unmarshal([]byte(r.Choices[0].JSON.ExtraFields["bitrepl_top_logits"].Raw()), &top); err != nil {
			t.Error(err)
		}
		b, _ := json.Marshal(top)
		return r.Choices[0].Text, string(b)
	}
	serial := make([][2]string, len(prompts))
	for i := range prompts {
		serial[i][0], serial[i][1] = run(i)
		for _, sl := range s.pool.all {
			sl.sess.Reset() // each starts from an empty cache, like the concurrent ones
		}
	}
	var wg sync.WaitGroup
	conc := make([][2]string, len(prompts))
	for i := range prompts {
		wg.Go(func() { conc[i][0], conc[i][1] = run(i) })
	}
	wg.Wait()
	for i := range prompts {
		if conc[i] != serial[i] {
			t.Errorf("prompt %d: concurrent %q\nserial %q", i, conc[i], serial[i])
		}
	}
	steps, sessions := s.metrics.steps, s.metrics.stepSlots
	t.Logf("%d batched steps of %.2f sessions on average", steps, float64(sessions)/float64(max(steps, 1)))
}

// A step waits for every slot that joined the batch and runs once for all.
func TestBatcherStepsJoinedSlotsTogether(t *testing.T) {
	m := builtin(t)
	var sizes []int
	b := &batcher{m: m, onStep: func(n int) { sizes = append(sizes, n) }}
	slots := make([]*slot, 3)
	for i := range slots {
		slots[i] = &slot{id: i, sess: m.NewSession(32), res: make(chan stepResult, 1)}
		if _, err := slots[i].sess.Forward([]int32{1, int32(2 + i)}); err != nil {
			t.Fatal(err)
		}
		b.join()
	}
	var wg sync.WaitGroup
	for _, sl := range slots[:2] {
		wg.Go(func() {
			if _, err := b.step(sl, 5); err != nil {
				t.Error(err)
			}
		})
	}
	for {
		b.mu.Lock()
		n := len(b.pending)
		b.mu.Unlock()
		if n == 2 {
			break
		}
		runtime.Gosched()
	}
	if len(sizes) != 0 {
		t.Fatalf("a step ran while a joined slot had not asked: %v", sizes)
	}
	b.leave() // the third leaves: the two go on
	wg.Wait()
	if len(sizes) != 1 || sizes[0] != 2 {
		t.Errorf("steps %v, want one of 2", sizes)
	}
	for _, sl := range slots[:2] {
		if sl.sess.Pos() != 3 {
			t.Errorf("slot %d at %d", sl.id, sl.sess.Pos())
		}
	}
}

// waitIdle waits until the server holds no request and the goroutines are
// back to base (a stuck one fails the test after a while).
func waitIdle(t *testing.T, s *Server, base int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		busy, queued := s.pool.counts()
		s.batch.mu.Lock()
		joined, pending := s.batch.joined, len(s.batch.pending)
		s.batch.mu.Unlock()
		g := runtime.NumGoroutine()
		if busy == 0 && queued == 0 && joined == 0 && pending == 0 && g <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("not idle: %d slots busy, %d queued, %d joined, %d pending, %d goroutines (base %d)\n%s",
				busy, queued, joined, pending, g, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Load on loopback: 8 concurrent streams of 20 requests each, then 50
// clients that leave mid-stream. Every request is answered (200) or refused
// (429), and afterwards no slot, queue entry or goroutine is left.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	s, url := start(t, Config{Parallel: 4, Queue: 64})
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	c := client(url, option.WithHTTPClient(hc))
	// The base: the server waiting, and the kernels' threads started.
	if _, err := c.Completions.New(context.Background(), openai.CompletionNewParams{Model: "bitrepl",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("a")}, MaxTokens: openai.Int(2)}); err != nil {
		t.Fatal(err)
	}
	hc.CloseIdleConnections()
	waitIdle(t, s, 1<<30)
	base := runtime.NumGoroutine()
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	count := func(k string) { mu.Lock(); outcomes[k]++; mu.Unlock() }
	for w := range 8 {
		wg.Go(func() {
			for r := range 20 {
				p := chatParams(fmt.Sprintf("Request %d of client %d", r, w), int64(4+r%8))
				stream := c.Chat.Completions.NewStreaming(context.Background(), p)
				n := 0
				for stream.Next() {
					n++
				}
				switch err := stream.Err(); {
				case err == nil && n > 0:
					count("200")
				case err != nil && strings.Contains(err.Error(), "429"):
					count("429")
				default:
					t.Errorf("client %d request %d: %v after %d chunks", w, r, err, n)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("streams: %v", outcomes)
	if outcomes["200"] == 0 {
		t.Fatal("no request answered")
	}

	body := `{"model":"bitrepl","messages":[{"role":"user","content":"Tell me a long story"}],"max_tokens":200,"stream":true}`
	for i := range 50 {
		wg.Go(func() {
			resp, err := hc.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				buf := make([]byte, 1+i*7) // leave after a few bytes
				io.ReadFull(resp.Body, buf)
				count("left")
			case 429:
				count("429 (leaving)")
			default:
				t.Errorf("leaving client %d: status %d", i, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	t.Logf("all: %v", outcomes)
	hc.CloseIdleConnections()
	waitIdle(t, s, base)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("heap in use afterwards: %d MiB", ms.HeapInuse>>20)
	for _, sl := range s.pool.all {
		if sl.sess.Pos() > sl.sess.ContextLen() {
			t.Errorf("slot %d holds %d positions", sl.id, sl.sess.Pos())
		}
	}
}

// A client that disconnects mid-stream stops its generation: the slot is
// free again long before max_tokens.
func TestDisconnectFreesSlot(t *testing.T) {
	s, url := start(t, Config{Parallel: 1})
	body := `{"model":"bitrepl","prompt":"Once upon a time","max_tokens":250,"stream":true,"temperature":0}`
	resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	waitIdle(t, s, runtime.NumGoroutine())
	s.metrics.mu.Lock()
	canceled, gen := s.metrics.requests["canceled"], s.metrics.generated
	s.metrics.mu.Unlock()
	if canceled != 1 || gen >= 250 {
		t.Errorf("%d canceled, %d tokens generated", canceled, gen)
	}
}

// Shutdown lets a request in flight finish, refuses new ones, and Serve
// returns once every generation has ended.
func TestShutdown(t *testing.T) {
	s, _, err := New(builtin(t), Config{Parallel: 1, Device: model.DeviceCPU, Grace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()
	body := `{"model":"bitrepl","prompt":"Once upon a time","max_tokens":100,"stream":true,"temperature":0}`
	resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Errorf("the stream in flight ended with %v: %q", err, rest)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(body)); err == nil {
		resp.Body.Close()
		t.Errorf("a request after shutdown got %s", resp.Status)
	}
}
