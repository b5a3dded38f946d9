package model

import (
	"bufio"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/kvcache"
)

var (
	big2B4TOnce sync.Once
	big2B4TPath string
	big2B4TErr  error
)

// big2B4T writes (once per process) a 2B-4T-shaped GGUF with random ternary
// weights (I2_S) and an F16 embedding, as bitnet.cpp's converter makes it.
// BITREPL_BENCH_GGUF names an existing file to use instead.
func big2B4T(b *testing.B) string {
	if p := os.Getenv("BITREPL_BENCH_GGUF"); p != "" {
		return p
	}
	big2B4TOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bitrepl-bench-")
		if err != nil {
			big2B4TErr = err
			return
		}
		m, err := Random(Shapes["2b4t"], 1, nil, nil)
		if err != nil {
			big2B4TErr = err
			return
		}
		big2B4TPath = filepath.Join(dir, "2b4t-i2_s.gguf")
		big2B4TErr = m.Save(big2B4TPath, SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F16})
	})
	if big2B4TErr != nil {
		b.Fatal(big2B4TErr)
	}
	return big2B4TPath
}

// rssBytes is this process's resident memory (Linux; 0 elsewhere).
func rssBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkLoadGGUF2B4T loads a 2B-4T-shaped GGUF (1.2 GB) and reports the
// load time and the resident memory the load added, beside the file size,
// for each way of holding the weights: mapped (not copied), and read into
// huge pages (the default for large files on Linux).
func BenchmarkLoadGGUF2B4T(b *testing.B) {
	path := big2B4T(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, mem := range []struct {
		name string
		m    Memory
	}{{"mapped", MemoryMapped}, {"hugepages", MemoryHugePages}} {
		b.Run(mem.name, func(b *testing.B) {
			var worst time.Duration
			var added int64
			for range b.N {
				before := rssBytes()
				start := time.Now()
				m, err := Load(path, WithMemory(mem.m))
				if err != nil {
					b.Fatal(err)
				}
				worst = max(worst, time.Since(start))
				added = max(added, rssBytes()-before)
				m.Close()
			}
			b.ReportMetric(float64(worst.Milliseconds()), "ms/load")
			b.ReportMetric(float64(added)/(1<<20), "MB-rss-added")
			b.ReportMetric(float64(st.Size())/(1<<20), "MB-file")
		})
	}
}

// BenchmarkDecode2B4T measures generation speed on the 2B-4T shape: one
// token per op, after a 16-token prompt.
func BenchmarkDecode2B4T(b *testing.B) {
	m, err := Load(big2B4T(b))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	s := m.NewSession(512)
	if _, err := s.Forward(make([]int32, 16)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if s.Pos() == s.ContextLen() {
			s.Truncate(16)
		}
		if _, err := s.Forward([]int32{int32(i % 1000)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkDecodeTiny is the forward pass of a tiny model: the overhead of
// everything but the big matrices.
func BenchmarkDecodeTiny(b *testing.B) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 1, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := m.NewSession(64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if s.Pos() == s.ContextLen() {
			s.Reset()
		}
		if _, err := s.Forward([]int32{int32(i % 90)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func TestBenchCountsRepetitions(t *testing.T) {
	m, err := Random(tinyConfig("bitnet"), 3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Bench(context.Background(), m, BenchOptions{Prompt: 16, Gen: 8, Reps: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.PP) != 3 || len(r.TG) != 3 || Median(r.PP) <= 0 || Median(r.TG) <= 0 || r.Pairs != nil || r.AfterProbe != nil {
		t.Fatalf("%+v", r)
	}
	// The read bandwidth, measured after every second tg token.
	r, err = Bench(context.Background(), m, BenchOptions{Gen: 4, Reps: 3, BandwidthBytes: 1 << 20})
	if probe, token, _ := r.Bandwidth(); err != nil || len(r.Pairs) != 6 || len(r.AfterProbe) != 3 || !(probe.Min > 1e6) || !(token.Min > 1e6) {
		t.Fatalf("bandwidth: %+v, %v", r, err)
	}
	if got := Median([]float64{5, 1, 3, 2}); got != 2.5 {
		t.Fatalf("median %v", got)
	}
	if _, err := Bench(context.Background(), m, BenchOptions{Prompt: 100}); err == nil {
		t.Fatal("prompt longer than the context accepted")
	}
	// With a depth, runs start after that many tokens: they must fit too.
	r, err = Bench(context.Background(), m, BenchOptions{Prompt: 4, Gen: 8, Reps: 2, Depth: 50})
	if err != nil || len(r.PP) != 2 || len(r.TG) != 2 {
		t.Fatalf("depth 50: %+v, %v", r, err)
	}
	// ... and the same runs at depth 0 are interleaved with them; without a
	// depth there are none.
	if len(r.PP0) != 2 || len(r.TG0) != 2 || !(Median(r.PP0) > 0) || !(Median(r.TG0) > 0) {
		t.Fatalf("depth 50, runs at depth 0: %+v", r)
	}
	if r, err := Bench(context.Background(), m, BenchOptions{Prompt: 4, Gen: 8, Reps: 1}); err != nil || r.PP0 != nil || r.TG0 != nil {
		t.Fatalf("no depth, runs at depth 0: %+v, %v", r, err)
	}
	if _, err := Bench(context.Background(), m, BenchOptions{Gen: 8, Depth: 60}); err == nil || !strings.Contains(err.Error(), "depth 60") {
		t.Fatalf("depth 60 + 8 tokens in a context of 64: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Bench(ctx, m, BenchOptions{Gen: 2, Depth: 40}); err == nil {
		t.Fatal("a cancelled bench ran")
	}
}

// fakeClock advances by a millisecond at every reading: every interval
// Bench times (two readings in a row) lasts exactly 1 ms.
func fakeClock() func() time.Time {
	t := time.Unix(0, 0)
	return func() time.Time {
		t = t.Add(time.Millisecond)
		return t
	}
}

// TestBenchBandwidthPairs checks the probes' arithmetic with a clock where
// every token and every probe take 1 ms: a pair's rates are the token's
// bytes (weights and KV cache rows up to its position) and the probe's per
// millisecond, tg does not count the probes' time, and the tokens after a
// probe run as fast as the others.
func TestBenchBandwidthPairs(t *testing.T) {
	m, err := Random(tinyConfig("bitnet"), 3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	for _, tc := range []struct {
		kv       kvcache.Type
		rowBytes int64 // one head's keys at one position
		depth    int
	}{{kvcache.F16, 2 * int64(c.HeadDim), 0}, {kvcache.F32, 4 * int64(c.HeadDim), 10}} {
		m.KVCache = tc.kv
		r, err := Bench(context.Background(), m, BenchOptions{Gen: 7, Reps: 2, Depth: tc.depth, BandwidthBytes: 1 << 20, now: fakeClock()})
		if err != nil {
			t.Fatal(err)
		}
		// Probes after tokens 1, 3 and 5 of each run; tokens 2 and 4 follow one.
		if len(r.Pairs) != 6 || len(r.AfterProbe) != 4 || !slices.Equal(r.TG, []float64{1000, 1000}) {
			t.Fatalf("%v: %d pairs, %v after a probe, tg %v", tc.kv, len(r.Pairs), r.AfterProbe, r.TG)
		}
		if r.TG0 == nil != (tc.depth == 0) || tc.depth > 0 && !slices.Equal(r.TG0, []float64{1000, 1000}) {
			t.Fatalf("%v: tg at depth 0 %v", tc.kv, r.TG0)
		}
		for _, v := range r.AfterProbe {
			if v != 1 {
				t.Fatalf("%v: after a probe %v", tc.kv, r.AfterProbe)
			}
		}
		var fracs []float64
		for k, p := range r.Pairs {
			pos := tc.depth + 1 + 2*(k%3)
			kv := int64(c.Layers) * int64(c.KVHeads) * tc.rowBytes * 2 * int64(pos+1)
			want := BandwidthPair{Token: float64(r.BytesPerToken+kv) * 1000, Probe: (1 << 20) * 1000}
			if math.Abs(p.Token-want.Token) > 1e-9*want.Token || math.Abs(p.Probe-want.Probe) > 1e-9*want.Probe {
				t.Fatalf("%v: pair %d (position %d) %+v, want %+v", tc.kv, k, pos, p, want)
			}
			fracs = append(fracs, want.Token/want.Probe)
		}
		probe, token, frac := r.Bandwidth()
		slices.Sort(fracs)
		if want := (Spread{fracs[2], fracs[0], fracs[5]}); math.Abs(frac.Median-want.Median) > 1e-12 || frac.Min != want.Min || frac.Max != want.Max {
			t.Fatalf("%v: fraction %+v, want %+v", tc.kv, frac, want)
		}
		if probe.Median != (1<<20)*1000 || token.Min != r.Pairs[0].Token || token.Max != r.Pairs[2].Token {
			t.Fatalf("%v: probe %+v, token %+v", tc.kv, probe, token)
		}
	}
	m.KVCache = kvcache.F16
	// Without probes, no pairs; an empty spread is zero.
	r, err := Bench(context.Background(), m, BenchOptions{Gen: 7, now: fakeClock()})
	if err != nil || r.Pairs != nil || r.AfterProbe != nil || r.TG[0] != 1000 {
		t.Fatalf("no probes: %+v, %v", r, err)
	}
	if s := SpreadOf(nil); s != (Spread{}) {
		t.Fatalf("SpreadOf(nil) %+v", s)
	}
	if s := SpreadOf([]float64{3, 1, 4, 1, 5}); s != (Spread{3, 1, 5}) {
		t.Fatalf("SpreadOf %+v", s)
	}
}

func TestLoadRandom(t *testing.T) {
	m, err := Load("random:tiny:7")
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.Dim != Shapes["tiny"].Dim || m.Source != "random(seed=7)" {
		t.Fatalf("%+v from %s", m.Config, m.Source)
	}
	for _, bad := range []string{"random:huge", "random:tiny:x", "tiny"} {
		if _, err := Load(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for name, cfg := range Shapes {
		if cfg.HeadDim*cfg.Heads != cfg.Dim {
			t.Errorf("%s: head dim", name)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// BenchmarkDecodeHookCost decodes with one thread, for counting instructions
// under callgrind: the hooks' cost is this benchmark's instruction count in
// the default build against a build with -tags nohooks (hooks compiled out).
// One thread keeps the count free of the worker pool's spinning:
//
//	go test -c -o hooks.test ./model/ && go test -c -tags nohooks -o nohooks.test ./model/
//	GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind NAME.test -test.run='^$' \
//	    -test.bench=DecodeHookCost -test.benchtime=400x   (and 800x; the difference is 400 tokens)
//
// Measured 2026-11-26 (tiny model: dim 256, 2 layers, where the hooks weigh
// most): 352,115 instructions per token with hooks compiled in and no hook
// set, 352,123 with hooks compiled out: no difference above the noise (<0.01%).
func BenchmarkDecodeHookCost(b *testing.B) {
	defer cpu.SetThreads(cpu.SetThreads(1))
	m, err := Random(tinyConfig("bitnet-b1.58"), 1, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := m.NewSession(64)
	b.ResetTimer()
	for i := range b.N {
		if s.Pos() == s.ContextLen() {
			s.Reset()
		}
		if _, err := s.Forward([]int32{int32(i % 90)}); err != nil {
			b.Fatal(err)
		}
	}
}
