package inspect

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/embedded"
)

// tinyCfg is a small model with grouped-query attention and sub-norms.
func tinyCfg() model.Config {
	return model.Config{Arch: "bitnet-b1.58", VocabSize: 96, Dim: 256, FFNDim: 512, Layers: 2, Heads: 4, KVHeads: 2,
		HeadDim: 64, ContextLen: 64, RopeTheta: 10000, NormEps: 1e-5, Act: model.ReLU2, SubNorms: true}
}

// randomParams are random plain weights for cfg, so that a test can make
// the same model with and without an edit.
func randomParams(cfg model.Config, seed uint64) model.Params {
	rng := rand.New(rand.NewPCG(seed, 9))
	vec := func(n int, base, spread float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(base + spread*rng.NormFloat64())
		}
		return v
	}
	tern := func(rows, cols int) model.Ternary {
		c := make([]int8, rows*cols)
		for i := range c {
			c[i] = int8(rng.IntN(3)) - 1
		}
		return model.Ternary{Codes: c, Scale: float32(0.5+rng.Float64()) / float32(math.Sqrt(float64(cols)))}
	}
	q, kv := cfg.Heads*cfg.HeadDim, cfg.KVHeads*cfg.HeadDim
	p := model.Params{Embed: vec(cfg.VocabSize*cfg.Dim, 0, 1), OutputNorm: vec(cfg.Dim, 1, 0.1)}
	for range cfg.Layers {
		p.Layers = append(p.Layers, model.LayerParams{
			AttnNorm: vec(cfg.Dim, 1, 0.1), FFNNorm: vec(cfg.Dim, 1, 0.1),
			AttnSubNorm: vec(q, 1, 0.1), FFNSubNorm: vec(cfg.FFNDim, 1, 0.1),
			Q: tern(q, cfg.Dim), K: tern(kv, cfg.Dim), V: tern(kv, cfg.Dim), O: tern(cfg.Dim, q),
			Gate: tern(cfg.FFNDim, cfg.Dim), Up: tern(cfg.FFNDim, cfg.Dim), Down: tern(cfg.Dim, cfg.FFNDim),
		})
	}
	return p
}

func build(t *testing.T, cfg model.Config, p model.Params) *model.Model {
	t.Helper()
	m, err := model.Build(cfg, p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// viaFile writes m as a GGUF file (I2_S, F32 embedding) and loads it back.
func viaFile(t *testing.T, m *model.Model) *model.Model {
	return viaFileAs(t, m, model.SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F32})
}

func viaFileAs(t *testing.T, m *model.Model, opt model.SaveOptions) *model.Model {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := m.Save(path, opt); err != nil {
		t.Fatal(err)
	}
	l, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

var testTokens = []int32{3, 17, 42, 5, 5, 60, 11, 90, 2, 33}

func run(t *testing.T, m *model.Model, h *Hooks) [][]float32 {
	t.Helper()
	out, err := RunEdited(m, testTokens, h)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameBits(t *testing.T, what string, got, want [][]float32) {
	t.Helper()
	for i := range want {
		for j := range want[i] {
			if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
				t.Fatalf("%s: position %d logit %d: %v, want %v", what, i, j, got[i][j], want[i][j])
			}
		}
	}
}

func differ(a, b [][]float32) bool {
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			return true
		}
	}
	return false
}

// Patching the clean run's own values into the clean run, at every site,
// layer and position (and head), leaves the logits bit for bit.
func TestPatchCleanIntoCleanChangesNothing(t *testing.T) {
	cfg := tinyCfg()
	m := build(t, cfg, randomParams(cfg, 1))
	tokens := testTokens[:6]
	cache := &Cache{}
	s := m.NewSession(0)
	clean, err := RunWithCache(s, tokens, cache)
	if err != nil {
		t.Fatal(err)
	}
	last := clean[len(tokens)-1]
	for _, site := range model.Sites() {
		layers := []int{0, 1}
		if site == model.SiteOutputNorm || site == model.SiteLogits {
			layers = []int{-1}
		}
		heads := []int{AllHeads}
		if headsOf(&cfg, site) > 0 {
			heads = append(heads, headsOf(&cfg, site)-1)
		}
		for _, l := range layers {
			for p := range tokens {
				for _, h := range heads {
					got, err := Patch(s, tokens, cache, site, l, p, h)
					if err != nil {
						t.Fatal(err)
					}
					sameBits(t, site.String(), [][]float32{got}, [][]float32{last})
				}
			}
		}
	}
	// And the whole table restores exactly 1 where the prompts differ:
	// a corrupted last token patched at the last residual.
	corrupt := slices.Clone(tokens)
	corrupt[len(corrupt)-1] = 77
	res, err := ActivationPatching(m, tokens, corrupt, 10, 20, PatchOptions{Sites: []model.Site{model.SiteResidual}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.At(model.SiteResidual, 1, len(tokens)-1, 0); math.Abs(r-1) > 1e-12 {
		t.Errorf("patching the last residual of the last token restores %v, want 1", r)
	}
	if r := res.At(model.SiteResidual, 0, 0, 0); r != 0 {
		t.Errorf("patching position 0 (the same token in both) restores %v, want 0", r)
	}
}

// Ablating a head equals a model file whose attn_output columns of that
// head are zero, bit for bit.
func TestAblateHeadEqualsZeroedWeightsInTheFile(t *testing.T) {
	cfg := tinyCfg()
	p := randomParams(cfg, 2)
	m := build(t, cfg, p)
	const layer, head = 1, 2
	ab, err := AblateHead(m, layer, head)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, m, &Hooks{Config: &m.Config, Projections: []*ProjectionEdit{ab}})

	q := cfg.Heads * cfg.HeadDim
	codes := slices.Clone(p.Layers[layer].O.Codes)
	for r := range cfg.Dim {
		clear(codes[r*q+head*cfg.HeadDim : r*q+(head+1)*cfg.HeadDim])
	}
	p.Layers[layer].O.Codes = codes
	want := run(t, viaFile(t, build(t, cfg, p)), nil)
	sameBits(t, "ablated head", got, want)
	if !differ(got, run(t, m, nil)) {
		t.Fatal("ablating the head changed nothing")
	}
}

// A flipped weight (and a zeroed row, a column, a scale) equals the same
// edit made in the file, in every packed layout, and Undo gives back the
// model.
func TestTernaryEditsEqualTheFile(t *testing.T) {
	cfg := tinyCfg()
	p := randomParams(cfg, 3)
	const layer = 0
	codes := p.Layers[layer].Down.Codes
	r, c := 7, 0
	for codes[r*cfg.FFNDim+c] == 0 {
		c++
	}
	edits := []struct {
		name  string
		edit  func(e *EditableMatrix) error
		param func(t *model.Ternary)
	}{
		{"flip", func(e *EditableMatrix) error { return e.Flip(r, c) }, func(t *model.Ternary) { t.Codes[r*cfg.FFNDim+c] *= -1 }},
		{"zero row", func(e *EditableMatrix) error { return e.ZeroRow(r) }, func(t *model.Ternary) { clear(t.Codes[r*cfg.FFNDim : (r+1)*cfg.FFNDim]) }},
		{"flip column", func(e *EditableMatrix) error { return e.FlipCol(300) }, func(t *model.Ternary) {
			for i := range cfg.Dim {
				t.Codes[i*cfg.FFNDim+300] *= -1
			}
		}},
		{"zero columns", func(e *EditableMatrix) error { return e.ZeroCols(250, 260) }, func(t *model.Ternary) {
			for i := range cfg.Dim {
				clear(t.Codes[i*cfg.FFNDim+250 : i*cfg.FFNDim+260])
			}
		}},
		{"scale", func(e *EditableMatrix) error { return e.SetScale(3 * e.Scale()) }, func(t *model.Ternary) { t.Scale *= 3 }},
	}
	for _, opt := range []model.SaveOptions{
		{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F32},
		{Format: "gguf", Ternary: cpu.TQ2_0, Embed: cpu.F32},
		{Format: "gguf", Ternary: cpu.TQ2_0, Embed: cpu.F32, BlockScales: true},
		{Format: "gguf", Ternary: cpu.TQ1_0, Embed: cpu.F32, BlockScales: true},
		{Format: "gguf", Ternary: cpu.TQ1_S, Embed: cpu.F32},
	} {
		m := viaFileAs(t, build(t, cfg, p), opt)
		if got := m.Layers()[layer].Down.Type; got != opt.Ternary {
			t.Fatalf("%v file loaded as %v", opt.Ternary, got)
		}
		base := run(t, m, nil)
		for _, tc := range edits {
			if tc.name == "scale" && opt.BlockScales {
				continue // the scale is in every block's d, rounded to f16: Matrix.Scale is 1
			}
			what := fmt.Sprintf("%v (block scales %v) %s", opt.Ternary, opt.BlockScales, tc.name)
			pe, err := NewProjectionEdit(m, layer, "ffn_down")
			if err != nil {
				t.Fatal(err)
			}
			em, err := NewEditableMatrix(m.Layers()[layer].Down)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.edit(em); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			pe.Matrix = em.Matrix()
			h := &Hooks{Config: &m.Config, Projections: []*ProjectionEdit{pe}}
			got := run(t, m, h)

			edited := p
			edited.Layers = slices.Clone(p.Layers)
			down := edited.Layers[layer].Down
			down.Codes = slices.Clone(down.Codes)
			tc.param(&down)
			edited.Layers[layer].Down = down
			sameBits(t, what, got, run(t, viaFileAs(t, build(t, cfg, edited), opt), nil))
			if !differ(got, base) {
				t.Fatalf("%s changed nothing", what)
			}
			em.Undo(-1)
			sameBits(t, what+" undone", run(t, m, h), base)
		}
	}
	m := build(t, cfg, p)
	if _, err := NewEditableMatrix(m.Embedding()); err == nil {
		t.Error("the F32 embedding accepted as ternary")
	}
	em, _ := NewEditableMatrix(m.Layers()[0].Q)
	for _, err := range []error{em.Flip(-1, 0), em.Set(0, 256, 1), em.ZeroRow(256), em.ZeroCols(5, 5), em.FlipCol(999), em.SetScale(float32(math.Inf(1)))} {
		if err == nil {
			t.Error("an edit outside the matrix accepted")
		}
	}
	if em.Edits() != 0 {
		t.Errorf("%d edits recorded from refused ones", em.Edits())
	}
}

// The parts of a direct logit attribution add up to the logit, on a random
// model and on the built-in one; each layer's heads add up to its
// attn_output.
func TestAttributionSumsToTheLogit(t *testing.T) {
	cfg := tinyCfg()
	rnd := build(t, cfg, randomParams(cfg, 4))
	tiny, err := model.LoadBytes(embedded.GGUF(), "builtin")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*model.Model{rnd, tiny} {
		for _, tok := range []int32{0, 5, 61} {
			a, err := DirectLogitAttribution(m, testTokens, 7, tok, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(a.Sum() - a.Logit); d > 1e-4 {
				t.Errorf("%s token %d: parts sum to %v, logit %v (off by %g)\n%v", m.Source, tok, a.Sum(), a.Logit, d, a)
			}
			if len(a.Parts) != 1+m.Config.Layers*(m.Config.Heads+1) {
				t.Errorf("%d parts", len(a.Parts))
			}
		}
	}
	// Each layer's heads against the recorded attn_output, through the same u.
	c := &Cache{Sites: []model.Site{model.SiteAttnSubNorm, model.SiteAttnOut}}
	if _, err := RunWithCache(rnd.NewSession(0), testTokens, c); err != nil {
		t.Fatal(err)
	}
	u := make([]float64, cfg.Dim)
	u[3], u[100] = 1, -2
	for l := range cfg.Layers {
		in, _ := c.Get(model.SiteAttnSubNorm, l, 4)
		out, _ := c.Get(model.SiteAttnOut, l, 4)
		heads, err := headParts(rnd.Layers()[l].O, in, u, cfg.Heads, cfg.HeadDim)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, h := range heads {
			sum += h
		}
		if want := float64(out[3]) - 2*float64(out[100]); math.Abs(sum-want) > 1e-5 {
			t.Errorf("layer %d: heads sum to %v, attn_output gives %v", l, sum, want)
		}
	}
}

// Steering with strength 0 is the identity; with strength 1 the residual
// after the layer is the unsteered one plus the vector.
func TestSteering(t *testing.T) {
	cfg := tinyCfg()
	m := build(t, cfg, randomParams(cfg, 5))
	v, err := SteeringVector(m, []int32{1, 2, 3}, []int32{4, 5}, 1)
	if err != nil {
		t.Fatal(err)
	}
	h0, err := Steer(m, 1, v, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "strength 0", run(t, m, h0), run(t, m, nil))

	plain := &Cache{Sites: []model.Site{model.SiteResidual}}
	RunWithCache(m.NewSession(0), testTokens, plain)
	h1, _ := Steer(m, 1, v, 1)
	steered := &Cache{Sites: []model.Site{model.SiteResidual}}
	h1.Then = steered
	if _, err := RunEdited(m, testTokens, h1); err != nil {
		t.Fatal(err)
	}
	a, _ := plain.Get(model.SiteResidual, 1, 3)
	b, _ := steered.Get(model.SiteResidual, 1, 3)
	for i := range a {
		if b[i] != a[i]+v[i] {
			t.Fatalf("channel %d: steered %v, want %v + %v", i, b[i], a[i], v[i])
		}
	}
	if _, err := Steer(m, 2, v, 1); err == nil {
		t.Error("layer 2 of 2 accepted")
	}
}

// With every query weight zero, attention is uniform: position i gives
// 1/(i+1) to each earlier position, so both scores are means of 1/(i+1).
func TestHeadScoresOfUniformAttention(t *testing.T) {
	cfg := tinyCfg()
	p := randomParams(cfg, 6)
	for l := range p.Layers {
		clear(p.Layers[l].Q.Codes)
	}
	m := build(t, cfg, p)
	const n = 5
	tokens := RepeatedTokens([]int32{1}, n, 10, 90, 7)
	if len(tokens) != 11 || !slices.Equal(tokens[1:6], tokens[6:]) {
		t.Fatalf("tokens %v", tokens)
	}
	scores, err := HeadScores(m, tokens, n)
	if err != nil {
		t.Fatal(err)
	}
	var prev, ind float64
	for i := 1; i < 11; i++ {
		prev += 1 / float64(i+1)
	}
	for i := 6; i < 11; i++ {
		ind += 1 / float64(i+1)
	}
	prev, ind = prev/10, ind/5
	if len(scores) != cfg.Layers*cfg.Heads {
		t.Fatalf("%d scores", len(scores))
	}
	for _, s := range scores {
		if math.Abs(s.PrevToken-prev) > 1e-6 || math.Abs(s.Induction-ind) > 1e-6 {
			t.Errorf("%v, want previous-token %.4f induction %.4f", s, prev, ind)
		}
	}
	if _, err := HeadScores(m, tokens, 6); err == nil {
		t.Error("a repeated run longer than half the tokens accepted")
	}
}

// The cache keeps what fits and says when something did not.
func TestCacheIsBounded(t *testing.T) {
	cfg := tinyCfg()
	m := build(t, cfg, randomParams(cfg, 7))
	c := &Cache{Sites: []model.Site{model.SiteResidual}, MaxBytes: 3 * 4 * int64(cfg.Dim)}
	_, err := RunWithCache(m.NewSession(0), testTokens[:2], c)
	if !errors.Is(err, ErrCacheFull) || c.Bytes != 3*4*int64(cfg.Dim) {
		t.Fatalf("err %v, %d bytes", err, c.Bytes)
	}
	if _, ok := c.Get(model.SiteResidual, 1, 0); !ok {
		t.Error("position 0 layer 1 was not kept")
	}
	if _, ok := c.Get(model.SiteResidual, 1, 1); ok {
		t.Error("a value past the bound was kept")
	}
	dir := filepath.Join(t.TempDir(), "res.safetensors")
	if err := c.Export(model.SiteResidual, dir); err != nil {
		t.Fatal(err)
	}
}

// Rows are ranked by the effect of flipping them, largest first, and a
// row whose flip is the identity (all zero) has no effect.
func TestRankRows(t *testing.T) {
	cfg := tinyCfg()
	p := randomParams(cfg, 8)
	clear(p.Layers[1].Down.Codes[5*cfg.FFNDim : 6*cfg.FFNDim])
	m := build(t, cfg, p)
	got, err := RankRows(m, testTokens[:4], 1, "ffn_down", []int{4, 5, 6})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Row != 5 || got[2].KL != 0 || got[2].MaxDelta != 0 || got[0].KL < got[1].KL || got[1].KL <= 0 {
		t.Fatalf("%v", got)
	}
}

func FuzzParseWeightName(f *testing.F) {
	for _, s := range []string{"blk.0.attn_q.weight", "3.ffn_down", "blk.12.attn_output", "blk.-1.ffn_up.weight", "blk.x.attn_q", "", "blk..weight"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, p, err := ParseWeightName(s)
		if err != nil {
			return
		}
		if !slices.Contains(Projections, p) {
			t.Errorf("%q: projection %q", s, p)
		}
		if l2, p2, err := ParseWeightName(fmt.Sprintf("blk.%d.%s.weight", l, p)); err != nil || l2 != l || p2 != p {
			t.Errorf("%q: layer %d %s does not read back: %d %s %v", s, l, p, l2, p2, err)
		}
	})
}

// Latent weights written by Save are codes times scale*n/nonzero (mean|W|
// is the scale): a zero code is 0.5γ below the threshold, a non-zero one
// n/nonzero - 0.5 above; none is near it.
func TestRoundingMargins(t *testing.T) {
	cfg := tinyCfg()
	p := randomParams(cfg, 9)
	dir := filepath.Join(t.TempDir(), "latent")
	if err := build(t, cfg, p).Save(dir, model.SaveOptions{Format: "safetensors", Latent: true, Embed: cpu.F32}); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var w model.Weight
	for _, x := range m.Weights() {
		if x.Name == "blk.1.attn_v.weight" {
			w = x
		}
	}
	ms, err := RoundingMargins(w, 8, 5)
	if err != nil {
		t.Fatal(err)
	}
	tern := p.Layers[1].V
	nz := 0
	for _, c := range tern.Codes {
		if c != 0 {
			nz++
		}
	}
	n := len(tern.Codes)
	if math.Abs(ms.Gamma-float64(tern.Scale)) > 1e-6*float64(tern.Scale) || ms.Hist.Total() != int64(n) {
		t.Fatalf("γ %v, want %v; %d counted of %d", ms.Gamma, tern.Scale, ms.Hist.Total(), n)
	}
	for i, share := range ms.Within {
		if share != 0 {
			t.Errorf("%.2f%% within %v of the threshold", 100*share, MarginSteps[i])
		}
	}
	if len(ms.Nearest) != 5 || ms.Nearest[0].Code != 0 || math.Abs(ms.Nearest[0].Margin+0.5) > 1e-6 || ms.Nearest[0].Latent != 0 {
		t.Errorf("nearest %+v", ms.Nearest)
	}
	if hi := float64(n)/float64(nz) - 0.5; ms.Hist.Counts[int((hi+0.5)/0.25)] != int64(nz) {
		t.Errorf("histogram %v: want the %d non-zero codes at %.3f", ms.Hist, nz, hi)
	}
	if _, err := RoundingMargins(build(t, cfg, p).Weights()[1], 8, 5); err == nil {
		t.Error("a model without latent weights gave margins")
	}
}

// Flipping a weight whose code is 0 changes nothing; rankWeights puts it last.
func TestRankWeights(t *testing.T) {
	cfg := tinyCfg()
	p := randomParams(cfg, 10)
	row := p.Layers[0].O.Codes[3*cfg.Dim : 4*cfg.Dim]
	zero, one := slices.Index(row, 0), slices.Index(row, 1)
	m := build(t, cfg, p)
	got, err := rankWeights(m, testTokens[:5], 0, "attn_output", 3, []int{zero, one})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Col != one || got[0].MaxDelta <= 0 || got[1].Col != zero || got[1].MaxDelta != 0 || got[1].KL != 0 || got[1].Row != 3 {
		t.Fatalf("%v", got)
	}
}

// p = (1/3, 2/3), q = (2/3, 1/3): KL = 1/3 ln(1/2) + 2/3 ln 2 = ln(2)/3.
func TestCompareHandComputed(t *testing.T) {
	ln2 := float32(math.Ln2)
	e := Compare([][]float32{{0, ln2}, {1, 1}}, [][]float32{{ln2, 0}, {1, 1}})
	if math.Abs(e.KL-math.Ln2/3/2) > 1e-7 || math.Abs(e.MaxDelta-float64(ln2)) > 1e-7 {
		t.Fatalf("%+v, want KL %v (the mean of ln2/3 and 0), max delta ln 2", e, math.Ln2/6)
	}
}

// An intervention on a projection's input is seen by an edited projection,
// and one on its output applies to the edited projection's result: zeroing
// attn_sub_norm or attn_output with a head ablated gives what zeroing alone
// gives.
func TestInterventionsAndProjectionEditsCompose(t *testing.T) {
	cfg := tinyCfg()
	m := build(t, cfg, randomParams(cfg, 11))
	for _, site := range []model.Site{model.SiteAttnSubNorm, model.SiteAttnOut} {
		zero := []Intervention{{Site: site, Layer: 1, Pos: AllPositions, Head: AllHeads, Apply: Zero}}
		ab, _ := AblateHead(m, 1, 0)
		want := run(t, m, &Hooks{Config: &m.Config, Interventions: zero})
		got := run(t, m, &Hooks{Config: &m.Config, Interventions: zero, Projections: []*ProjectionEdit{ab}})
		sameBits(t, site.String()+" zeroed, a head ablated", got, want)
	}
	// Mean ablation: a cache's mean over positions, set at every position.
	c := &Cache{Sites: []model.Site{model.SiteFFNDown}, Layers: []int{0}}
	if _, err := RunWithCache(m.NewSession(0), testTokens, c); err != nil {
		t.Fatal(err)
	}
	mean, err := c.Mean(model.SiteFFNDown, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.Get(model.SiteFFNDown, 0, 0)
	b, _ := c.Get(model.SiteFFNDown, 0, 9)
	var sum float64
	for p := range testTokens {
		v, _ := c.Get(model.SiteFFNDown, 0, p)
		sum += float64(v[17])
	}
	if math.Abs(float64(mean[17])-sum/float64(len(testTokens))) > 1e-6 || mean[17] == a[17] || mean[17] == b[17] {
		t.Errorf("mean %v of %v, %v, ...", mean[17], a[17], b[17])
	}
	if _, err := c.Mean(model.SiteResidual, 0); err == nil {
		t.Error("the mean of a site not kept")
	}
}

// Logits (0, ln 3) give the second token p = 3/4: loss ln(4/3); the first ln 4.
func TestCrossEntropy(t *testing.T) {
	l := [][]float32{{0, float32(math.Log(3))}, {0, float32(math.Log(3))}}
	got, err := CrossEntropy(l, []int32{9, 1, 0}, 1, 3)
	if want := (math.Log(4.0/3) + math.Log(4)) / 2; err != nil || math.Abs(got-want) > 1e-7 {
		t.Fatalf("%v %v, want %v", got, err, want)
	}
	for _, r := range [][2]int{{0, 2}, {1, 4}, {2, 2}} {
		if _, err := CrossEntropy(l, []int32{9, 1, 0}, r[0], r[1]); err == nil {
			t.Errorf("[%d, %d) accepted", r[0], r[1])
		}
	}
}

// In a model with plain (F32) layer weights, which multiply the float
// input, ablating a head still equals zeroing its columns in the file.
func TestAblateHeadPlainLayers(t *testing.T) {
	cfg := tinyCfg()
	p := randomParams(cfg, 2)
	opt := model.SaveOptions{Format: "gguf", Ternary: cpu.F32, Embed: cpu.F32}
	m := viaFileAs(t, build(t, cfg, p), opt)
	const layer, head = 1, 2
	ab, err := AblateHead(m, layer, head)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, m, &Hooks{Config: &m.Config, Projections: []*ProjectionEdit{ab}})
	q := cfg.Heads * cfg.HeadDim
	codes := slices.Clone(p.Layers[layer].O.Codes)
	for r := range cfg.Dim {
		clear(codes[r*q+head*cfg.HeadDim : r*q+(head+1)*cfg.HeadDim])
	}
	p.Layers[layer].O.Codes = codes
	want := run(t, viaFileAs(t, build(t, cfg, p), opt), nil)
	sameBits(t, "ablated head, plain layers", got, want)
	if !differ(got, run(t, m, nil)) {
		t.Fatal("ablating the head changed nothing")
	}
}
