package model

import (
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// idleHook asks for nothing.
type idleHook struct{}

func (idleHook) Want(Site, int) bool               { return false }
func (idleHook) Observe(Site, int, int, []float32) {}
func (idleHook) Edit(Site, int, int, []float32)    {}

// recordHook keeps the last residual stream of every layer, in buffers
// allocated once.
type recordHook struct{ res [][]float32 }

func (r *recordHook) Want(site Site, _ int) bool { return site == SiteResidual }
func (r *recordHook) Observe(_ Site, layer, _ int, data []float32) {
	copy(r.res[layer], data)
}

// decodeHooks is the decode loop of BenchmarkDecode2B4T and
// BenchmarkDecodeTiny with a hook: none, one that asks for nothing (a Hook,
// and an Editor), one that records the residual stream after every layer.
func decodeHooks(b *testing.B, m *Model, prompt, vocab int) {
	rec := &recordHook{res: make([][]float32, m.Config.Layers)}
	for i := range rec.res {
		rec.res[i] = make([]float32, m.Config.Dim)
	}
	for _, c := range []struct {
		name string
		hook Hook
	}{{"none", nil}, {"idle", struct{ Hook }{idleHook{}}}, {"idle-editor", idleHook{}}, {"recording", rec}} {
		b.Run(c.name, func(b *testing.B) {
			s := m.NewSession(512)
			s.SetHook(c.hook)
			if _, err := s.Forward(make([]int32, prompt)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if s.Pos() == s.ContextLen() {
					s.Truncate(prompt)
				}
				if _, err := s.Forward([]int32{int32(i % vocab)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkDecodeHooks2B4T is BenchmarkDecode2B4T with each kind of hook,
// in one run: the cost of hooks on a real shape.
func BenchmarkDecodeHooks2B4T(b *testing.B) {
	m, err := Load(big2B4T(b))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	decodeHooks(b, m, 16, 1000)
}

// BenchmarkDecodeHooksTiny is BenchmarkDecodeTiny with each kind of hook,
// where the hooks weigh most, on one thread so that callgrind can count its
// instructions (see BenchmarkDecodeHookCost):
//
//	valgrind --tool=callgrind --toggle-collect='*Session*Forward' NAME.test -test.run='^$' \
//	    -test.bench='DecodeHooksTiny/idle$' -test.benchtime=400x   (and 100x; the difference is 300 tokens)
//
// Measured 2026-12-04, instructions per token, the build before Editor
// existed -> with it: none 316,558 -> 317,420; idle Hook 319,786 ->
// 314,876; idle Editor 319,880 -> 317,715; recording 319,756 -> 317,756.
// The differences (under 1.6%, both signs) are this measure's noise; 0
// allocations per token everywhere, on the 2B-4T shape too.
func BenchmarkDecodeHooksTiny(b *testing.B) {
	defer cpu.SetThreads(cpu.SetThreads(1))
	m, err := Random(tinyConfig("bitnet-b1.58"), 1, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	decodeHooks(b, m, 1, 90)
}
