package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bitrepl/bitrepl/model/kvcache"
)

// BenchmarkAttendDepth times the attention of one generated token over a
// filled cache with 2B-4T's heads (20 query heads, 5 KV heads of 128): all
// a decode step does that grows with depth, for each cache type; and that
// of a prompt batch of maxBatch tokens after 2048 (pp). The cache is
// filled with random rows directly (no layers run).
func BenchmarkAttendDepth(b *testing.B) {
	cfg := tinyConfig("bitnet-b1.58")
	cfg.Layers, cfg.Heads, cfg.KVHeads, cfg.HeadDim, cfg.Dim, cfg.ContextLen = 1, 20, 5, 128, 2560, 4096
	m, err := Random(cfg, 1, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, kv := range []kvcache.Type{kvcache.F32, kvcache.F16, kvcache.Q8_0} {
		for _, c := range [][2]int{{2048, 1}, {4095, 1}, {2048, maxBatch}} {
			depth, batch := c[0], c[1]
			m.KVCache = kv
			s := m.NewSession(4096)
			k, v := make([]float32, cfg.KVDim()), make([]float32, cfg.KVDim())
			for p := range depth + batch {
				for i := range k {
					k[i], v[i] = r.Float32()-0.5, r.Float32()-0.5
				}
				s.cache.Put(0, p, k, v)
			}
			for i := range s.q {
				s.q[i] = r.Float32() - 0.5
			}
			commitAll(s, depth)
			s.layer, s.pos0, s.batch = 0, depth, batch
			name := fmt.Sprintf("%v/d%d", kv, depth)
			if batch > 1 {
				name += fmt.Sprintf("/pp%d", batch)
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					s.attend()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch)*30/1e6, "ms/token-30-layers")
			})
		}
	}
}

// BenchmarkAttendLayers times the attention of one generated token through
// 30 layers of 2B-4T's heads over a cache filled to depth 4064: 300 MB of
// F16 rows, which no cache holds (BenchmarkAttendDepth's one layer stays in
// the L3 cache), as in a real decode step.
func BenchmarkAttendLayers(b *testing.B) {
	const layers, depth = 30, 4064
	cfg := tinyConfig("bitnet-b1.58")
	cfg.Layers, cfg.Heads, cfg.KVHeads, cfg.HeadDim, cfg.Dim, cfg.ContextLen = layers, 20, 5, 128, 2560, 4096
	m, err := Random(cfg, 1, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, kv := range []kvcache.Type{kvcache.F16, kvcache.Q8_0} {
		m.KVCache = kv
		s := m.NewSession(4096)
		k, v := make([]float32, cfg.KVDim()), make([]float32, cfg.KVDim())
		for p := range depth + 1 {
			for i := range k {
				k[i], v[i] = r.Float32()-0.5, r.Float32()-0.5
			}
			for l := range layers {
				s.cache.Put(l, p, k, v)
			}
		}
		for i := range s.q {
			s.q[i] = r.Float32() - 0.5
		}
		commitAll(s, depth+1)
		b.Run(fmt.Sprintf("%v/d%d", kv, depth), func(b *testing.B) {
			for b.Loop() {
				for l := range layers {
					s.layer, s.pos0, s.batch = l, depth, 1
					s.attend()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/token")
		})
	}
}

// commitAll commits the first n positions of s's cache as a session does
// over many steps: a Commit collapses a few of the cache's huge pages, so
// a benchmark that filled the cache directly calls it until all are, to
// read the cache as a long conversation does (BenchmarkAttendLayers' F16
// cache in huge pages takes 0.92x the time it takes in 4 KiB pages).
func commitAll(s *Session, n int) {
	for range 1 + int(s.cache.Bytes()>>20) {
		s.cache.Commit(n)
	}
}
