package inspect

import (
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

// idleHook wants nothing: the cost of asking.
type idleHook struct{ observed int }

func (h *idleHook) Want(model.Site, int) bool               { return false }
func (h *idleHook) Observe(model.Site, int, int, []float32) { h.observed++ }

func benchModel(b *testing.B) *model.Model {
	cfg := model.Config{Arch: "bitnet-b1.58", VocabSize: 4096, Dim: 512, FFNDim: 1536, Layers: 4, Heads: 8, KVHeads: 4,
		HeadDim: 64, ContextLen: 512, RopeTheta: 10000, NormEps: 1e-5, Act: model.ReLU2, SubNorms: true, TiedEmbedding: true}
	m, err := model.Random(cfg, 1, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// benchDecode decodes one token at a time with hook h (nil: none) and reports tokens/s.
func benchDecode(b *testing.B, h model.Hook) {
	m := benchModel(b)
	s := m.NewSession(0)
	if h != nil {
		s.SetHook(h)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s.Pos() >= s.ContextLen() {
			s.Reset()
		}
		if _, err := s.Forward([]int32{int32(i % 4096)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}

// The three together show what hooks cost: none, one that declines every
// site (the price of asking), and a recorder of the residual stream.
func BenchmarkDecodeNoHook(b *testing.B)   { benchDecode(b, nil) }
func BenchmarkDecodeIdleHook(b *testing.B) { benchDecode(b, &idleHook{}) }
func BenchmarkDecodeRecorder(b *testing.B) {
	benchDecode(b, &Recorder{Sites: []model.Site{}, Keep: []model.Site{model.SiteResidual}})
}

// A hook that declines is never given data.
func TestIdleHookNeverObserves(t *testing.T) {
	m := tinyModel(t)
	h := &idleHook{}
	s := m.NewSession(0)
	s.SetHook(h)
	if _, err := s.Forward([]int32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if h.observed != 0 {
		t.Errorf("Observe called %d times", h.observed)
	}
}

// BenchmarkWeightsI2S measures weight statistics on a 2B-4T FFN matrix (6912 x 2560).
func BenchmarkWeightsI2S(b *testing.B) {
	rows, cols := 6912, 2560
	codes := make([]int8, rows*cols)
	for i := range codes {
		codes[i] = int8(i%3 - 1)
	}
	data, err := cpu.PackTernary(cpu.I2_S, codes, rows, cols, 0.5)
	if err != nil {
		b.Fatal(err)
	}
	m, err := cpu.NewMatrix(cpu.I2_S, rows, cols, data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Weights("blk.0.ffn_up.weight", m, nil, 10); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*cols)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mweights/s")
}
