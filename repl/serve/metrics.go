package serve

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bitrepl/bitrepl/model"
)

// ttftBuckets are the upper bounds, in seconds, of the time-to-first-token
// histogram.
var ttftBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// metrics are the counters /metrics shows in Prometheus' text format.
type metrics struct {
	mu        sync.Mutex
	requests  map[string]int64 // by outcome: HTTP status, "canceled", "unauthorized"
	prompt    int64            // prompt tokens evaluated
	cached    int64            // prompt tokens reused from a slot's cache
	generated int64
	genTime   float64   // seconds from first to last token, summed over requests
	lastRate  float64   // tokens per second of the last finished generation
	ttft      []int64   // per bucket, then +Inf
	ttftSum   float64   // seconds
	ttftCount int64     //
	steps     int64     // batched steps
	stepSlots int64     // sessions over all steps
	started   time.Time //
}

func newMetrics() *metrics {
	return &metrics{requests: map[string]int64{}, ttft: make([]int64, len(ttftBuckets)+1), started: time.Now()}
}

func (m *metrics) request(outcome string) {
	m.mu.Lock()
	m.requests[outcome]++
	m.mu.Unlock()
}

func (m *metrics) step(n int) {
	m.mu.Lock()
	m.steps++
	m.stepSlots += int64(n)
	m.mu.Unlock()
}

func (m *metrics) generation(st model.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prompt += int64(st.PromptTokens)
	m.cached += int64(st.Cached)
	m.generated += int64(st.Generated)
	m.genTime += st.GenTime.Seconds()
	if r := st.GenRate(); r > 0 {
		m.lastRate = r
	}
	if st.Generated > 0 {
		s := st.FirstToken.Seconds()
		i, _ := slices.BinarySearch(ttftBuckets, s)
		m.ttft[i]++
		m.ttftSum += s
		m.ttftCount++
	}
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	m := s.metrics
	busy, queued := s.pool.counts()
	m.mu.Lock()
	var b strings.Builder
	metric := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	metric("bitrepl_requests_total", "counter", "Completion requests by outcome: HTTP status, canceled (the client left) or unauthorized.")
	outcomes := make([]string, 0, len(m.requests))
	for k := range m.requests {
		outcomes = append(outcomes, k)
	}
	slices.Sort(outcomes)
	for _, k := range outcomes {
		fmt.Fprintf(&b, "bitrepl_requests_total{outcome=%q} %d\n", k, m.requests[k])
	}
	metric("bitrepl_prompt_tokens_total", "counter", "Prompt tokens evaluated.")
	fmt.Fprintf(&b, "bitrepl_prompt_tokens_total %d\n", m.prompt)
	metric("bitrepl_prompt_tokens_cached_total", "counter", "Prompt tokens a slot already held (not evaluated again).")
	fmt.Fprintf(&b, "bitrepl_prompt_tokens_cached_total %d\n", m.cached)
	metric("bitrepl_generated_tokens_total", "counter", "Tokens generated.")
	fmt.Fprintf(&b, "bitrepl_generated_tokens_total %d\n", m.generated)
	metric("bitrepl_generation_seconds_total", "counter", "Seconds from first to last token, summed over requests.")
	fmt.Fprintf(&b, "bitrepl_generation_seconds_total %g\n", m.genTime)
	metric("bitrepl_tokens_per_second", "gauge", "Generated tokens per second of the last finished request (after its first token).")
	fmt.Fprintf(&b, "bitrepl_tokens_per_second %g\n", m.lastRate)
	metric("bitrepl_time_to_first_token_seconds", "histogram", "Time from a request taking its slot to its first token.")
	var cum int64
	for i, le := range ttftBuckets {
		cum += m.ttft[i]
		fmt.Fprintf(&b, "bitrepl_time_to_first_token_seconds_bucket{le=\"%g\"} %d\n", le, cum)
	}
	cum += m.ttft[len(ttftBuckets)]
	fmt.Fprintf(&b, "bitrepl_time_to_first_token_seconds_bucket{le=\"+Inf\"} %d\n", cum)
	fmt.Fprintf(&b, "bitrepl_time_to_first_token_seconds_sum %g\nbitrepl_time_to_first_token_seconds_count %d\n", m.ttftSum, m.ttftCount)
	metric("bitrepl_queue_length", "gauge", "Requests waiting for a slot.")
	fmt.Fprintf(&b, "bitrepl_queue_length %d\n", queued)
	metric("bitrepl_slots_busy", "gauge", "Slots generating.")
	fmt.Fprintf(&b, "bitrepl_slots_busy %d\n", busy)
	metric("bitrepl_slots", "gauge", "Slots (--parallel).")
	fmt.Fprintf(&b, "bitrepl_slots %d\n", s.cfg.Parallel)
	metric("bitrepl_decode_steps_total", "counter", "Batched decoding steps.")
	fmt.Fprintf(&b, "bitrepl_decode_steps_total %d\n", m.steps)
	metric("bitrepl_decode_step_sessions_total", "counter", "Sessions decoded over all steps (divided by the steps: the mean batch).")
	fmt.Fprintf(&b, "bitrepl_decode_step_sessions_total %d\n", m.stepSlots)
	m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}
