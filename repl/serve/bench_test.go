package serve

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

// benchModel is the built-in model, or the one BITREPL_BENCH_MODEL names:
// a model file or directory, or "2b4t" for a 2B-4T-shaped GGUF with random
// ternary weights (I2_S, F16 embedding, as the published file), written to
// a temporary directory. A model without a tokenizer gets the built-in one.
func benchModel(b *testing.B) *model.Model {
	spec := os.Getenv("BITREPL_BENCH_MODEL")
	if spec == "" {
		return builtin(b)
	}
	if spec == "2b4t" {
		r, err := model.Random(model.Shapes["2b4t"], 1, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		spec = filepath.Join(b.TempDir(), "2b4t-i2_s.gguf")
		if err := r.Save(spec, model.SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F16}); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	m, err := model.Load(spec)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	if m.Tokenizer == nil {
		m.Tokenizer = builtin(b).Tokenizer
	}
	return m
}

// BenchmarkServeStreams measures the aggregate generated tokens per second
// of 1, 2, 4 and 8 concurrent streams through the server (8 slots of 1024
// positions, the completions endpoint over loopback, greedy, 64 tokens a
// request): the steps of the streams are batched, so that while decoding is
// memory-bound the aggregate grows with the streams.
func BenchmarkServeStreams(b *testing.B) {
	m := benchModel(b)
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			s, url := startModel(b, m, Config{Parallel: 8, Context: 1024})
			c := client(url)
			var mu sync.Mutex
			tokens := int64(0)
			for b.Loop() {
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						r, err := c.Completions.New(context.Background(), openai.CompletionNewParams{Model: "bitrepl",
							Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String(fmt.Sprintf("Stream %d says", i))},
							MaxTokens: openai.Int(64), Temperature: openai.Float(0)})
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						tokens += r.Usage.CompletionTokens
						mu.Unlock()
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tok/s")
			b.ReportMetric(float64(s.metrics.stepSlots)/float64(max(s.metrics.steps, 1)), "batch")
		})
	}
}
