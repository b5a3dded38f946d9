package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/kvcache"
)

const (
	tolElem  = 1e-6 // elementwise ops
	tolBlock = 1e-4 // blocks and logits
)

// relErr is max|got-want| / max(max|want|, 1e-12): error relative to the
// magnitude of the reference vector.
func relErr(got []float32, want []float64) float64 {
	var diff, mag float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got[i])-want[i]))
		mag = math.Max(mag, math.Abs(want[i]))
	}
	return diff / math.Max(mag, 1e-12)
}

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

func tinyConfig(arch string) Config {
	c := Config{Arch: arch, VocabSize: 96, Dim: 256, FFNDim: 512, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64,
		ContextLen: 64, RopeTheta: 10000, NormEps: 1e-5, Act: SiLU, SubNorms: true}
	switch arch {
	case "bitnet-b1.58":
		c.Act, c.RopeTheta, c.TiedEmbedding = ReLU2, 500000, true
	case "llama":
		c.SubNorms = false
	}
	return c
}

func TestInteropRMSNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 256, 2560} {
		x, w := randVec(rng, n, 3), randVec(rng, n, 1)
		got := make([]float32, n)
		cpu.RMSNorm(got, x, w, 1e-5)
		if e := relErr(got, refRMSNorm(f64s(x), f64s(w), 1e-5)); e > tolElem {
			t.Errorf("n=%d: rel err %g > %g", n, e, tolElem)
		}
	}
}

func TestInteropActivationQuant(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, x := range [][]float32{randVec(rng, 256, 1), randVec(rng, 1000, 50), make([]float32, 64), {0.5, -1, 127}} {
		q := make([]int8, len(x))
		inv := cpu.QuantizeInt8(q, x)
		wantQ, s := refActQuant(f64s(x))
		for i := range q {
			if float64(q[i]) != wantQ[i] {
				t.Fatalf("len %d: q[%d] = %d, want %v", len(x), i, q[i], wantQ[i])
			}
		}
		if math.Abs(float64(inv)-1/s) > tolElem/s {
			t.Errorf("inv = %v, want %v", inv, 1/s)
		}
		if math.IsNaN(float64(inv)) || math.IsInf(float64(inv), 0) {
			t.Errorf("inv = %v for %v", inv, x[:min(4, len(x))])
		}
	}
}

func TestInteropWeightQuant(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	w := randVec(rng, 4096, 0.02)
	codes := make([]int8, len(w))
	scale := Ternarize(codes, w)
	var sum float64
	for _, v := range w {
		sum += math.Abs(float64(v))
	}
	mean := sum / float64(len(w))
	if math.Abs(float64(scale)-mean) > tolElem*mean {
		t.Fatalf("scale %v, want mean|w| %v", scale, mean)
	}
	for i, v := range w {
		want := math.Max(-1, math.Min(1, math.RoundToEven(float64(v)/mean)))
		if float64(codes[i]) != want {
			t.Fatalf("code[%d] = %d, want %v (w=%v)", i, codes[i], want, v)
		}
	}
	zero := make([]float32, 8)
	if s := Ternarize(make([]int8, 8), zero); s != 1e-5 {
		t.Errorf("all-zero weights: scale %v, want the 1e-5 floor", s)
	}
}

func TestInteropRoPE(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const heads, hd = 4, 64
	for _, pos := range []int{0, 1, 17, 63} {
		x := randVec(rng, heads*hd, 1)
		cos, sin := ropeTables(64, (&Config{HeadDim: hd, RopeTheta: 10000}).ropeFreqs())
		got := append([]float32(nil), x...)
		cpu.RoPE(got, heads, hd, cos[pos*hd/2:(pos+1)*hd/2], sin[pos*hd/2:(pos+1)*hd/2])
		if e := relErr(got, refRoPE(f64s(x), heads, hd, pos, 10000)); e > tolElem {
			t.Errorf("pos %d: rel err %g", pos, e)
		}
	}
}

func TestInteropBitLinear(t *testing.T) {
	m, err := Random(tinyConfig("bitnet"), 11, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref := refFromModel(t, m)
	rng := rand.New(rand.NewPCG(9, 10))
	x := randVec(rng, m.Config.Dim, 2)
	s := m.NewSession(8)
	s.quantize(x, 1, len(x), len(x))
	got := make([]float32, m.Config.FFNDim)
	s.project(got, m.layers[0].Gate, 1)
	if e := relErr(got, refBitLinear(ref.layers[0].gate, f64s(x))); e > tolBlock {
		t.Fatalf("BitLinear rel err %g", e)
	}
}

// recorder keeps every observed vector by site, layer and position.
type recorder map[[3]int][]float32

func (r recorder) Want(Site, int) bool { return true }
func (r recorder) Observe(site Site, layer, pos int, data []float32) {
	r[[3]int{int(site), layer, pos}] = append([]float32(nil), data...)
}

func TestInteropBlocks(t *testing.T) {
	if !hooksCompiled {
		t.Skip("built with -tags nohooks")
	}
	for _, arch := range []string{"bitnet", "bitnet-b1.58", "llama"} {
		t.Run(arch, func(t *testing.T) {
			m, err := Random(tinyConfig(arch), 21, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The reference keeps K and V exact: so does an F32 cache
			// (TestInteropAttentionF16 checks the F16 one).
			m.KVCache = kvcache.F32
			ref := refFromModel(t, m)
			c := m.Config
			tokens := []int32{1, 5, 9, 2, 77, 31, 0, 95}
			s := m.NewSession(32)
			rec := recorder{}
			s.SetHook(rec)
			logits, err := s.ForwardAll(tokens)
			if err != nil {
				t.Fatal(err)
			}
			get := func(site Site, layer, pos int) []float32 {
				v, ok := rec[[3]int{int(site), layer, pos}]
				if !ok {
					t.Fatalf("hook saw no %v at layer %d pos %d", site, layer, pos)
				}
				return v
			}
			// MLP: from the engine's own ffn_norm output.
			for pos := range tokens {
				in := f64s(get(SiteFFNNorm, 0, pos))
				if e := relErr(get(SiteFFNDown, 0, pos), refFFN(ref.layers[0], in, c.Act, float64(c.NormEps))); e > tolBlock {
					t.Errorf("MLP (%v) pos %d: rel err %g", c.Act, pos, e)
				}
			}
			// Attention with GQA: from the engine's own Q, K, V.
			var q, k, v [][]float64
			for pos := range tokens {
				q = append(q, refRoPE(f64s(get(SiteAttnQ, 0, pos)), c.Heads, c.HeadDim, pos, c.RopeTheta))
				k = append(k, refRoPE(f64s(get(SiteAttnK, 0, pos)), c.KVHeads, c.HeadDim, pos, c.RopeTheta))
				v = append(v, f64s(get(SiteAttnV, 0, pos)))
			}
			att := refAttention(q, k, v, c.Heads, c.KVHeads, c.HeadDim)
			if !c.SubNorms {
				for pos := range tokens {
					if e := relErr(get(SiteAttnSubNorm, 0, pos), att[pos]); e > tolBlock {
						t.Errorf("attention pos %d: rel err %g", pos, e)
					}
				}
			}
			// A whole decoder layer from the embeddings.
			var xs [][]float64
			for _, id := range tokens {
				xs = append(xs, ref.embed[id])
			}
			layer0 := refDecoderLayer(ref.layers[0], c, xs)
			for pos := range tokens {
				if e := relErr(get(SiteResidual, 0, pos), layer0[pos]); e > tolBlock {
					t.Errorf("decoder layer pos %d: rel err %g", pos, e)
				}
			}
			// Full-model logits.
			want := ref.logits(tokens)
			for pos := range tokens {
				if e := relErr(logits[pos], want[pos]); e > tolBlock {
					t.Errorf("logits pos %d: rel err %g", pos, e)
				}
			}
		})
	}
}

// The batched prompt path and the one-token decode path must agree.
func TestBatchEqualsSingleTokens(t *testing.T) {
	m, err := Random(tinyConfig("bitnet-b1.58"), 31, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens := []int32{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}
	batch, err := m.NewSession(16).ForwardAll(tokens)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession(16)
	for i, id := range tokens {
		l, err := s.Forward([]int32{id})
		if err != nil {
			t.Fatal(err)
		}
		if e := relErr(l, f64s(batch[i])); e > 1e-6 {
			t.Fatalf("position %d: batch and single-token logits differ by %g", i, e)
		}
	}
}

// With the default F16 cache, attention is the reference attention of the
// engine's own Q and of K and V rounded to half floats, as the cache holds
// them: the rounding of the cache is the only difference from F32.
func TestInteropAttentionF16(t *testing.T) {
	if !hooksCompiled {
		t.Skip("built with -tags nohooks")
	}
	for _, arch := range []string{"llama"} { // no sub-norm: the hook sees the mix
		t.Run(arch, func(t *testing.T) {
			m, err := Random(tinyConfig(arch), 21, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := m.Config
			if c.SubNorms || m.KVCache != kvcache.F16 {
				t.Fatalf("sub-norms %v, cache %v: want a model without sub-norms and an F16 cache by default", c.SubNorms, m.KVCache)
			}
			tokens := []int32{1, 5, 9, 2, 77, 31, 0, 95}
			s := m.NewSession(32)
			rec := recorder{}
			s.SetHook(rec)
			if _, err := s.ForwardAll(tokens); err != nil {
				t.Fatal(err)
			}
			half := func(x []float32) []float32 {
				h := make([]uint16, len(x))
				cpu.ToF16(h, x)
				cpu.FromF16(x, h)
				return x
			}
			var q, k, v [][]float64
			for pos := range tokens {
				// The engine's K after RoPE is what it caches: rotate in
				// float32 as it does, then round.
				kr := slices.Clone(rec[[3]int{int(SiteAttnK), 0, pos}])
				hf := c.HeadDim / 2
				rope := cpu.RoPE
				if c.RopeInterleaved {
					rope = ropeInterleaved
				}
				rope(kr, c.KVHeads, c.HeadDim, s.cos[pos*hf:(pos+1)*hf], s.sin[pos*hf:(pos+1)*hf])
				q = append(q, refRoPE(f64s(rec[[3]int{int(SiteAttnQ), 0, pos}]), c.Heads, c.HeadDim, pos, c.RopeTheta))
				k = append(k, f64s(half(kr)))
				v = append(v, f64s(half(slices.Clone(rec[[3]int{int(SiteAttnV), 0, pos}]))))
			}
			att := refAttention(q, k, v, c.Heads, c.KVHeads, c.HeadDim)
			for pos := range tokens {
				if e := relErr(rec[[3]int{int(SiteAttnSubNorm), 0, pos}], att[pos]); e > tolBlock {
					t.Errorf("attention pos %d: rel err %g", pos, e)
				}
			}
		})
	}
}

// With a Q8_0 cache, attention is the reference attention of K and V
// quantized to Q8_0 per head (llama.cpp's q8_0 blocks, as the cache holds
// them) and of Q quantized the same way (the scores are integer dots of
// Q8_0 blocks, as llama.cpp's vec_dot_q8_0_q8_0): the rounding of the three
// is the only difference from F32.
func TestInteropAttentionQ8_0(t *testing.T) {
	if !hooksCompiled {
		t.Skip("built with -tags nohooks")
	}
	m, err := Random(tinyConfig("llama"), 21, nil, nil) // no sub-norm: the hook sees the mix
	if err != nil {
		t.Fatal(err)
	}
	m.KVCache = kvcache.Q8_0
	c := m.Config
	tokens := []int32{1, 5, 9, 2, 77, 31, 0, 95}
	s := m.NewSession(32)
	rec := recorder{}
	s.SetHook(rec)
	if _, err := s.ForwardAll(tokens); err != nil {
		t.Fatal(err)
	}
	q8 := func(x []float32, heads int) []float64 {
		hd := len(x) / heads
		b := make([]byte, cpu.Q8RowBytes(hd))
		for h := range heads {
			cpu.ToQ8_0(b, x[h*hd:(h+1)*hd])
			cpu.FromQ8_0(x[h*hd:(h+1)*hd], b)
		}
		return f64s(x)
	}
	var q, k, v [][]float64
	hf := c.HeadDim / 2
	for pos := range tokens {
		qr := slices.Clone(rec[[3]int{int(SiteAttnQ), 0, pos}])
		kr := slices.Clone(rec[[3]int{int(SiteAttnK), 0, pos}])
		cpu.RoPE(qr, c.Heads, c.HeadDim, s.cos[pos*hf:(pos+1)*hf], s.sin[pos*hf:(pos+1)*hf])
		cpu.RoPE(kr, c.KVHeads, c.HeadDim, s.cos[pos*hf:(pos+1)*hf], s.sin[pos*hf:(pos+1)*hf])
		q = append(q, q8(qr, c.Heads))
		k = append(k, q8(kr, c.KVHeads))
		v = append(v, q8(slices.Clone(rec[[3]int{int(SiteAttnV), 0, pos}]), c.KVHeads))
	}
	att := refAttention(q, k, v, c.Heads, c.KVHeads, c.HeadDim)
	for pos := range tokens {
		if e := relErr(rec[[3]int{int(SiteAttnSubNorm), 0, pos}], att[pos]); e > tolBlock {
			t.Errorf("attention pos %d: rel err %g", pos, e)
		}
	}
}
