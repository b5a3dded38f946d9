package inspect

import (
	"math"
	"testing"

	"github.com/bitrepl/bitrepl/model"
)

func tinyModel(t *testing.T) *model.Model {
	t.Helper()
	cfg := model.Config{Arch: "bitnet-b1.58", VocabSize: 64, Dim: 128, FFNDim: 256, Layers: 3, Heads: 4, KVHeads: 2,
		HeadDim: 32, ContextLen: 64, RopeTheta: 10000, NormEps: 1e-5, Act: model.ReLU2, SubNorms: true, TiedEmbedding: true}
	m, err := model.Random(cfg, 5, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The lens of the last layer is the model's own output; every site is recorded
// once per layer and token; stats agree with the kept values.
func TestRecorderOnModel(t *testing.T) {
	m := tinyModel(t)
	ids := []int32{1, 7, 3, 9, 2}
	r := &Recorder{Keep: []model.Site{model.SiteResidual, model.SiteAttnWeights, model.SiteFFNSubNorm}, TopK: 4, Tokens: ids}
	sess := m.NewSession(0)
	sess.SetHook(r)
	logits, err := sess.ForwardAll(ids)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := LogitLens(m, r, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[2].Layer != 2 {
		t.Fatalf("lens rows %+v", rows)
	}
	final := Logits(4, logits[4], 4, -1, nil)
	for i := range final.Top {
		a, b := final.Top[i], rows[2].Top[i]
		if a.ID != b.ID || math.Abs(float64(a.Logit-b.Logit)) > 1e-4*math.Max(1, math.Abs(float64(a.Logit))) {
			t.Errorf("last-layer lens %+v != model output %+v", b, a)
		}
	}
	// the recorder's logits stats are the same
	if len(r.Logits) != len(ids) || r.Logits[4].Top[0].ID != final.Top[0].ID || !near(r.Logits[4].Entropy, final.Entropy) {
		t.Errorf("recorded logits %+v", r.Logits[4])
	}
	if l := r.Logits[0]; l.Chosen != 7 || !near(l.Prob, Logits(0, logits[0], 1, 7, nil).Prob) || r.Logits[4].Chosen != -1 || !math.IsNaN(r.Logits[4].Prob) {
		t.Errorf("chosen %+v, last %+v", l, r.Logits[4])
	}
	// sites per layer and token
	per := map[string]int{}
	for _, a := range r.Stats {
		per[a.Site]++
		if a.Site == "ffn_sub_norm" && a.Layer == 1 && a.Pos == 3 {
			v, _ := r.Values(model.SiteFFNSubNorm, 1, 3)
			want := Activations("ffn_sub_norm", 1, 3, v, true)
			if a.Std != want.Std || a.SQNR != want.SQNR || math.IsNaN(a.SQNR) {
				t.Errorf("stats %+v, recomputed %+v", a, want)
			}
		}
	}
	for _, site := range []string{"attn_norm", "attn_q", "attn_k", "attn_v", "attn_sub_norm", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_sub_norm", "ffn_down", "residual"} {
		if per[site] != 3*len(ids) {
			t.Errorf("%s observed %d times, want %d", site, per[site], 3*len(ids))
		}
	}
	if per["output_norm"] != len(ids) {
		t.Errorf("output_norm observed %d times", per["output_norm"])
	}
	// attention rows are distributions over keys 0..pos
	_, att, err := r.Attention(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	for p, row := range att {
		var sum float64
		for _, w := range row {
			sum += float64(w)
		}
		if len(row) != p+1 || math.Abs(sum-1) > 1e-5 {
			t.Errorf("attention row %d: %d weights summing to %v", p, len(row), sum)
		}
	}
	if _, err := LogitLens(m, &Recorder{}, 0, 3); err == nil {
		t.Error("lens without a recorded residual")
	}
}

func TestWeightStatsOnModel(t *testing.T) {
	m := tinyModel(t)
	ws, err := WeightStats(m, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1+7*3 {
		t.Fatalf("%d tensors", len(ws))
	}
	for _, w := range ws[1:] {
		if w.Neg+w.Zero+w.Pos != w.Count() || w.Invalid != 0 || w.MagMin != float64(w.Scale) {
			t.Errorf("%s: %+v", w.Name, w)
		}
	}
	only, err := WeightStats(m, 4, func(n string) bool { return n == "blk.1.ffn_up.weight" })
	if err != nil || len(only) != 1 || only[0].Layer() != 1 {
		t.Errorf("filter: %v %v", only, err)
	}
}
