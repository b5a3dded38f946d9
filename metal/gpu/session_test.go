package gpu_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bitrepl/bitrepl/metal/gpu"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/kvcache"
)

// The engine's sessions on the emulated device against the same model on
// the CPU: whole forward passes (every kernel, the graph's buffers and
// offsets, the KV cache across calls, batches over 64 tokens, per-token
// logits, hooks running on the CPU with the KV cache copied both ways,
// truncation).

var sessionConfigs = []model.Config{
	{Arch: "bitnet-b1.58", VocabSize: 300, Dim: 128, FFNDim: 256, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 32,
		ContextLen: 256, RopeTheta: 10000, NormEps: 1e-5, Act: model.ReLU2, SubNorms: true, TiedEmbedding: true},
	{Arch: "llama", VocabSize: 200, Dim: 192, FFNDim: 320, Layers: 2, Heads: 6, KVHeads: 6, HeadDim: 32,
		ContextLen: 256, RopeTheta: 500000, NormEps: 1e-6, Act: model.SiLU, RopeInterleaved: true},
}

// agreement collects how far the GPU's logits are from the CPU's. The two
// differ by float rounding (RMSNorm sums in float32 instead of float64,
// attention in another order, exp): about 1e-7 of the logit range. Now and
// then that rounding flips an int8 activation by one step (an activation
// within 1e-5 of a rounding boundary), which moves that token's logits by
// about 1e-3..1e-2 of their range and the later tokens' a little. So the
// check is: no comparison off by more than 5%, the argmax the same unless
// the CPU's top two nearly tie, few comparisons beyond rounding level, and
// never two in a row beyond 1e-3 (a flip touches one token; a bug in the
// KV cache or the graph touches every token after it).
type agreement struct {
	t        *testing.T
	n        int
	loose    []string
	lastFlip bool
}

const (
	roundingLevel = 1e-4
	flipLevel     = 1e-3
	grossLevel    = 5e-2
)

func (a *agreement) check(what string, gpuL, cpuL []float32) {
	a.t.Helper()
	var scale, worst float64
	for _, v := range cpuL {
		scale = max(scale, math.Abs(float64(v)))
	}
	for i := range cpuL {
		worst = max(worst, math.Abs(float64(gpuL[i]-cpuL[i])))
	}
	ratio := worst / (scale + 1e-30)
	a.n++
	if ratio > grossLevel || math.IsNaN(ratio) {
		a.t.Fatalf("%s: GPU logits differ from the CPU's by %g (logit scale %g)", what, worst, scale)
	}
	if ratio > roundingLevel {
		a.loose = append(a.loose, fmt.Sprintf("%s: %.2g", what, ratio))
	}
	if ratio > flipLevel && a.lastFlip {
		a.t.Fatalf("%s: GPU logits differ from the CPU's by %.2g of their range, as in the comparison before: %v", what, ratio, a.loose)
	}
	a.lastFlip = ratio > flipLevel
	if g, c := argmax(gpuL), argmax(cpuL); g != c && float64(cpuL[c]-cpuL[g]) > 1e-2*scale {
		a.t.Fatalf("%s: GPU argmax %d, CPU %d (logits %v, %v)", what, g, c, cpuL[g], cpuL[c])
	}
}

// done fails when more than 3 (or 5%) of the comparisons were off by more
// than rounding.
func (a *agreement) done() {
	a.t.Helper()
	a.t.Logf("%d of %d comparisons beyond rounding level %g: %v", len(a.loose), a.n, roundingLevel, a.loose)
	if len(a.loose) > max(3, a.n/20) {
		a.t.Fatalf("%d of %d comparisons beyond rounding level", len(a.loose), a.n)
	}
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

type countHook struct{ n int }

func (h *countHook) Want(model.Site, int) bool               { return true }
func (h *countHook) Observe(model.Site, int, int, []float32) { h.n++ }

func TestSessionMatchesCPU(t *testing.T) {
	for _, dev := range gpu.DevicesForTest(t) {
		t.Run(dev.Name(), func(t *testing.T) { sessionMatchesCPU(t, dev) })
	}
}

func sessionMatchesCPU(t *testing.T, dev *gpu.Device) {
	for ci, cfg := range sessionConfigs {
		t.Run(fmt.Sprintf("%s-%s", cfg.Arch, cfg.Act), func(t *testing.T) {
			m, err := model.Random(cfg, uint64(ci+1), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			const ctx = 192
			m.KVCache = kvcache.F32 // as the GPU's cache
			cpu := m.NewSession(ctx)
			gs, err := m.NewSessionGPU(dev, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if gs.Device() != dev.Name() || cpu.Device() != "cpu" {
				t.Fatalf("devices %q and %q", gs.Device(), cpu.Device())
			}
			agree := &agreement{t: t}
			defer agree.done()
			rng := rand.New(rand.NewPCG(uint64(ci), 7))
			toks := func(n int) []int32 {
				out := make([]int32, n)
				for i := range out {
					out[i] = int32(rng.IntN(cfg.VocabSize))
				}
				return out
			}
			both := func(what string, tokens []int32) {
				t.Helper()
				lc, err := cpu.Forward(tokens)
				if err != nil {
					t.Fatal(err)
				}
				lc = append([]float32(nil), lc...)
				lg, err := gs.Forward(tokens)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				agree.check(what, lg, lc)
				if cpu.Pos() != gs.Pos() {
					t.Fatalf("%s: positions %d (cpu) and %d (gpu)", what, cpu.Pos(), gs.Pos())
				}
				if !slices.Equal(cpu.Tokens(), gs.Tokens()) {
					t.Fatalf("%s: the GPU session holds tokens %v, the CPU's %v", what, gs.Tokens(), cpu.Tokens())
				}
			}
			both("prompt of 70 tokens (two batches)", toks(70))
			for i := range 3 {
				both(fmt.Sprintf("decode %d", i), toks(1))
			}
			// Per-token logits, over two batches.
			each := toks(66)
			var want [][]float32
			if err := cpu.ForwardEach(each, func(i int, l []float32) { want = append(want, append([]float32(nil), l...)) }); err != nil {
				t.Fatal(err)
			}
			n := 0
			if err := gs.ForwardEach(each, func(i int, l []float32) {
				if i != n {
					t.Fatalf("ForwardEach called with %d, want %d", i, n)
				}
				agree.check(fmt.Sprintf("ForwardEach token %d", i), l, want[i])
				n++
			}); err != nil {
				t.Fatal(err)
			}
			if n != len(each) {
				t.Fatalf("ForwardEach gave %d logits, want %d", n, len(each))
			}
			// A hook: these run on the CPU after the GPU's KV cache is copied back.
			h := &countHook{}
			gs.SetHook(h)
			both("with a hook", toks(2))
			both("with a hook, again", toks(1))
			if h.n == 0 {
				t.Fatal("the hook observed nothing")
			}
			gs.SetHook(nil)
			// Back on the GPU: the positions the CPU computed are copied up.
			both("after the hook", toks(2))
			// Rewind into the positions the CPU computed, and further.
			cpu.Truncate(cpu.Pos() - 2)
			gs.Truncate(gs.Pos() - 2)
			both("after Truncate", toks(3))
			cpu.Truncate(10)
			gs.Truncate(10)
			both("after Truncate(10)", toks(4))
			gs.SetHook(h)
			cpu.Truncate(5)
			gs.Truncate(5)
			both("hook after Truncate(5)", toks(1))
			gs.SetHook(nil)
			both("GPU after that", toks(1))
			// Errors leave the session as it was.
			if _, err := gs.Forward(toks(ctx)); err == nil {
				t.Fatal("a forward past the context was accepted")
			}
			both("after the refused forward", toks(1))
			// Moving to the CPU keeps the positions.
			if err := gs.ReleaseGPU(); err != nil {
				t.Fatal(err)
			}
			if gs.Device() != "cpu" {
				t.Fatalf("after ReleaseGPU the session runs on %q", gs.Device())
			}
			both("on the CPU after ReleaseGPU", toks(2))
		})
	}
}

// Model.Close frees the weights uploaded for the model's GPU sessions, and
// ReleaseGPU the session's own buffers: nothing made for them is left.
func TestModelCloseFreesGPUWeights(t *testing.T) {
	dev := gpu.EmulatedDevice(t)
	before := gpu.LiveBuffers(dev)
	m, err := model.Random(sessionConfigs[0], 3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSessionGPU(dev, 32)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Forward([]int32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if len(gpu.LiveBuffers(dev)) <= len(before) {
		t.Fatal("a GPU session made no buffers")
	}
	if err := s.ReleaseGPU(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for id := range gpu.LiveBuffers(dev) {
		if !before[id] {
			t.Errorf("buffer %d is still held after ReleaseGPU and Model.Close", id)
		}
	}
}
