package notebook

import (
	"image/color"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/train"
	"github.com/bitrepl/bitrepl/model/train/bpe"
)

// TestTrainerLatents trains a tiny model two steps and checks each latent
// tensor TrainerLatents finds against the ternary model the trainer builds:
// ternarised, it must give that model's codes and scale for the same name.
func TestTrainerLatents(t *testing.T) {
	text, err := os.ReadFile("../model/train/testdata/sample-val.txt")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	bpe.WordCounts(counts, string(text))
	tok, err := bpe.Train(counts, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokJSON, err := tok.JSON()
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.Config{Model: train.ModelConfig{Vocab: len(tok.Vocab), Dim: 64, Layers: 2, Heads: 2, KVHeads: 1, FFN: 96,
		Context: 16, RopeTheta: 10000, NormEps: 1e-5}, BatchSeqs: 2, MicroSeqs: 2, Workers: 1, Warmup: 1}
	tr, err := train.NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode(string(text))
	d := &train.Data{Train: ids, Val: ids, Vocab: len(tok.Vocab), TokBytes: make([]int, len(tok.Vocab))}
	before := slices.Clone(tr.Params())
	for range 2 {
		tr.TrainStep(d)
	}
	if slices.Equal(before, tr.Params()) {
		t.Fatal("training changed no weight")
	}
	m, err := tr.Model(tokJSON)
	if err != nil {
		t.Fatal(err)
	}
	lats := TrainerLatents(tr)
	var want []string
	for _, w := range m.Weights() {
		if w.Matrix.Type.Ternary() {
			want = append(want, w.Name)
		}
	}
	var got []string
	for _, l := range lats {
		got = append(got, l.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("latent tensors %v, the model's projections %v", got, want)
	}
	weights := m.Weights()
	for _, l := range lats {
		w := weights[slices.IndexFunc(weights, func(w model.Weight) bool { return w.Name == l.Name })]
		if l.Rows != w.Matrix.Rows || l.Cols > w.Matrix.Cols || len(l.Values) != l.Rows*l.Cols { // the engine may pad columns to whole blocks
			t.Fatalf("%s: latent %dx%d (%d values), matrix %dx%d", l.Name, l.Rows, l.Cols, len(l.Values), w.Matrix.Rows, w.Matrix.Cols)
		}
		codes, _ := inspect.Ternarise(l.Values)
		row := make([]int8, w.Matrix.Cols)
		for r := range l.Rows {
			w.Matrix.TernaryRow(row, r)
			if !slices.Equal(row[:l.Cols], codes[r*l.Cols:(r+1)*l.Cols]) {
				t.Fatalf("%s row %d: the latent weights ternarise to other codes than the trained model's", l.Name, r)
			}
		}
	}

	if n := lats[0].Distinct(); n < len(lats[0].Values)*9/10 {
		t.Errorf("%d distinct values among %d trained latent weights", n, len(lats[0].Values))
	}
	fig, err := LatentVsTernary(lats[0], 0, 0, 8, 16)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "trained_latent.svg", svg)
	if imgs := images(t, svg); len(imgs) != 2 {
		t.Fatalf("%d images", len(imgs))
	}
	if !hasText(svg, strings.TrimSuffix(lats[0].Name, ".weight")+": latent") {
		t.Errorf("no title naming %s: %v", lats[0].Name, texts(svg))
	}
	// a histogram of trained latent weights is a spread, not three spikes: many bins hold weights
	nonEmpty := 0
	for _, b := range fills(svg, color.RGBA{0x99, 0x99, 0x99, 0xFF}) {
		if b.maxY-b.minY > 0.5 {
			nonEmpty++
		}
	}
	if nonEmpty < 20 {
		t.Errorf("%d visible histogram bins of 60", nonEmpty)
	}
}
