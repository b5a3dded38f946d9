// Package serve is bitrepl's OpenAI-compatible HTTP server: /v1/models,
// /v1/chat/completions and /v1/completions (streamed as server-sent events
// or not), with llama-server's /health, /metrics, /tokenize and /detokenize.
//
// The model serves Parallel conversations at once, each in a slot: a
// session with its own KV cache. Requests beyond that wait in a bounded
// queue and are refused with 429 when it is full. The slots that are
// generating decode together, one model.Step for all of them per token, so
// that one pass over the weights serves every stream.
//
// Its answers are typed structs (api.go), encoded once. It imports model and
// model/sample only; package repl starts it (bitrepl serve).
package serve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bitrepl/bitrepl/model"
)

// Config configures a Server. Zero values take the defaults given.
type Config struct {
	ModelName string       // the id /v1/models lists and requests name; default "bitrepl"
	Parallel  int          // slots: conversations generated at once; default 4
	Queue     int          // requests that may wait for a slot; default 4 x Parallel; < 0 none
	Context   int          // positions per slot, as model.NewSession; 0 the default
	Device    model.Device // where the slots' sessions run (model.NewSessionOn)
	APIKey    string       // when set, every endpoint but /health needs "Authorization: Bearer APIKey"

	MaxBody      int64         // request body limit in bytes; default 8 MiB
	WriteTimeout time.Duration // a client not taking a response chunk for this long is dropped; default 30s
	Grace        time.Duration // on shutdown, how long requests in flight may finish; default 10s
}

// Server serves one model. Create it with New.
type Server struct {
	m       *model.Model
	cfg     Config
	pool    *pool
	batch   *batcher
	metrics *metrics
	ctxLen  int
	keyHash [32]byte
	mux     *http.ServeMux
	created int64

	// gen is the parent of every generation's context; shutdown cancels it
	// once the grace period is over.
	gen    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // generations running
}

// New makes the slots' sessions and returns a server for m. The note is
// NewSessionOn's when the sessions did not get the device asked for.
func New(m *model.Model, cfg Config) (*Server, string, error) {
	if m.Tokenizer == nil {
		return nil, "", errors.New("serve: the model has no tokenizer")
	}
	if cfg.ModelName == "" {
		cfg.ModelName = "bitrepl"
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.Parallel > model.MaxStep {
		return nil, "", fmt.Errorf("serve: %d slots; at most %d", cfg.Parallel, model.MaxStep)
	}
	switch {
	case cfg.Queue == 0:
		cfg.Queue = 4 * cfg.Parallel
	case cfg.Queue < 0:
		cfg.Queue = 0
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 8 << 20
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 10 * time.Second
	}
	s := &Server{m: m, cfg: cfg, metrics: newMetrics(), created: time.Now().Unix()}
	var note string
	slots := make([]*slot, cfg.Parallel)
	for i := range slots {
		sess, n, err := m.NewSessionOn(cfg.Device, cfg.Context)
		if err != nil {
			return nil, "", fmt.Errorf("serve: slot %d: %w", i, err)
		}
		note = n
		slots[i] = &slot{id: i, sess: sess, res: make(chan stepResult, 1)}
	}
	s.ctxLen = slots[0].sess.ContextLen()
	s.pool = newPool(slots, cfg.Queue)
	s.batch = &batcher{m: m, onStep: s.metrics.step}
	s.keyHash = sha256.Sum256([]byte(cfg.APIKey))
	s.gen, s.cancel = context.WithCancel(context.Background())

	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /health", s.health)
	s.mux.HandleFunc("GET /metrics", s.authed(s.serveMetrics))
	s.mux.HandleFunc("GET /v1/models", s.authed(s.models))
	s.mux.HandleFunc("POST /v1/chat/completions", s.authed(s.chat))
	s.mux.HandleFunc("POST /v1/completions", s.authed(s.completions))
	s.mux.HandleFunc("POST /tokenize", s.authed(s.tokenize))
	s.mux.HandleFunc("POST /detokenize", s.authed(s.detokenize))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, Type: "invalid_request_error",
			Message: fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path)})
	})
	return s, note, nil
}

// Slots is the number of conversations served at once.
func (s *Server) Slots() int { return s.cfg.Parallel }

// ContextLen is the number of positions of each slot.
func (s *Server) ContextLen() int { return s.ctxLen }

// Serve answers requests on ln until ctx is canceled, then shuts down: it
// stops accepting, lets the requests in flight finish for the grace period,
// cancels those still generating, and returns once every one has ended.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second, // the whole request, body included
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		// No WriteTimeout: a stream may last minutes; each chunk has its
		// own deadline (Config.WriteTimeout).
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.cancel()
		s.wg.Wait()
		return err
	case <-ctx.Done():
	}
	grace, done := context.WithTimeout(context.Background(), s.cfg.Grace)
	defer done()
	err := hs.Shutdown(grace)
	s.cancel() // what is still generating stops within a token
	if err != nil {
		// Handlers end once their generation has: wait for them.
		err = hs.Shutdown(context.Background())
	}
	s.wg.Wait()
	<-errc
	return err
}

// Close cancels every generation and waits for them to end. The server
// serves no completion afterwards.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// authed checks the API key, when one is set, in constant time.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	if s.cfg.APIKey == "" {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(key))
		if subtle.ConstantTimeCompare(got[:], s.keyHash[:]) != 1 || !ok {
			msg := "invalid API key"
			if !ok {
				msg = "missing API key: send the header Authorization: Bearer KEY"
			}
			s.metrics.request("unauthorized")
			writeError(w, withCode(&apiError{status: http.StatusUnauthorized, Type: "invalid_request_error", Message: msg}, "invalid_api_key"))
			return
		}
		h(w, r)
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, struct {
		Status string `json:"status"`
	}{"ok"})
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	type meta struct {
		NCtx   int `json:"n_ctx"`
		NVocab int `json:"n_vocab"`
		Slots  int `json:"slots"`
	}
	type modelInfo struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
		Meta    meta   `json:"meta"` // llama-server's extension
	}
	writeJSON(w, struct {
		Object string      `json:"object"`
		Data   []modelInfo `json:"data"`
	}{"list", []modelInfo{{s.cfg.ModelName, "model", s.created, "bitrepl", meta{s.ctxLen, s.m.Config.VocabSize, s.cfg.Parallel}}}})
}

// newSeed is the seed of a request that gives none.
func newSeed() uint64 { return rand.Uint64() }
