package gpu_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/bitrepl/bitrepl/metal/gpu"
	"github.com/bitrepl/bitrepl/model"
)

// Benchmarks of the engine's sessions on Metal beside the same sessions on
// the CPU, at real model shapes with random weights, or on the model at
// $BITREPL_BENCH_MODEL (a GGUF file or HF directory). They need a Mac:
//
//	go test -run '^$' -bench . -benchtime 64x ./metal/gpu/
//
// Each reports tokens/s (tok/s). Elsewhere they skip: the CPU alone is
// measured by package model's benchmarks.

var benchShapes = []struct {
	name string
	cfg  model.Config
}{
	{"700M", model.Config{Arch: "bitnet", VocabSize: 32002, Dim: 1536, FFNDim: 4096, Layers: 24, Heads: 16, KVHeads: 16,
		HeadDim: 96, ContextLen: 2048, RopeTheta: 10000, NormEps: 1e-5, Act: model.SiLU, SubNorms: true}},
	{"2B-4T", model.Config{Arch: "bitnet-b1.58", VocabSize: 128256, Dim: 2560, FFNDim: 6912, Layers: 30, Heads: 20, KVHeads: 5,
		HeadDim: 128, ContextLen: 4096, RopeTheta: 500000, NormEps: 1e-5, Act: model.ReLU2, SubNorms: true, TiedEmbedding: true}},
}

func benchModels(b *testing.B) (map[string]*model.Model, *gpu.Device) {
	dev, err := gpu.Default()
	if errors.Is(err, gpu.ErrUnavailable) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	ms := map[string]*model.Model{}
	if path := os.Getenv("BITREPL_BENCH_MODEL"); path != "" {
		m, err := model.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		ms["file"] = m
		return ms, dev
	}
	for _, s := range benchShapes {
		m, err := model.Random(s.cfg, 1, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		ms[s.name] = m
	}
	return ms, dev
}

func benchSession(b *testing.B, m *model.Model, dev *gpu.Device, device string, ctx int) *model.Session {
	if device == "cpu" {
		return m.NewSession(ctx)
	}
	s, err := m.NewSessionGPU(dev, ctx)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkDecode: one token per Forward after a 128-token prompt.
func BenchmarkDecode(b *testing.B) {
	ms, dev := benchModels(b)
	for name, m := range ms {
		for _, device := range []string{"cpu", "metal"} {
			b.Run(fmt.Sprintf("%s/%s", name, device), func(b *testing.B) {
				const ctx, prompt = 1024, 128
				s := benchSession(b, m, dev, device, ctx)
				toks := make([]int32, prompt)
				if _, err := s.Forward(toks); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					if s.Pos() == ctx {
						s.Truncate(prompt)
					}
					if _, err := s.Forward(toks[:1]); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tok/s")
			})
		}
	}
}

// BenchmarkPrompt: 512-token prompts (eight 64-token command buffers).
func BenchmarkPrompt(b *testing.B) {
	ms, dev := benchModels(b)
	for name, m := range ms {
		for _, device := range []string{"cpu", "metal"} {
			b.Run(fmt.Sprintf("%s/%s", name, device), func(b *testing.B) {
				const prompt = 512
				s := benchSession(b, m, dev, device, prompt)
				toks := make([]int32, prompt)
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					s.Reset()
					if _, err := s.Forward(toks); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*prompt)/time.Since(start).Seconds(), "tok/s")
			})
		}
	}
}
