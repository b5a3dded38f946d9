package notebook

import (
	"math"
	"slices"
	"testing"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

var testTokens = []int32{1, 17, 33, 2, 60, 8, 8, 41, 12, 5}

// record runs testTokens through m with a Recorder keeping the residual
// stream and the attention weights.
func record(t *testing.T, m *model.Model) *inspect.Recorder {
	t.Helper()
	r := &inspect.Recorder{Keep: []model.Site{model.SiteResidual, model.SiteAttnWeights}, Tokens: testTokens}
	s := m.NewSession(0)
	s.SetHook(r)
	if _, err := s.ForwardAll(testTokens); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestActivationHistograms(t *testing.T) {
	m := randomModel(t)
	r := record(t, m)
	const bins = 40
	fig, err := ActivationHistograms(r, model.SiteResidual, []int{0, 1, 2}, bins)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "act_hist.svg", string(svg))
	checkSVG(t, svg)
	for i, l := range []string{"L0", "L1", "L2"} {
		if !hasText(svg, l) {
			t.Errorf("no legend entry %s", l)
		}
		solid, _ := strokes(svg, viridis(float64(i)/2))
		var line string
		for _, d := range solid {
			if points(d) > 2 {
				line = d
			}
		}
		// one vertex per non-empty bin: the values of 10 tokens x 128 channels fill most bins
		if n := points(line); n < bins/4 || n > bins {
			t.Errorf("layer %d: line with %d vertices for %d bins", i, n, bins)
		}
	}
	if _, err := ActivationHistograms(r, model.SiteFFNUp, []int{0}, bins); err == nil {
		t.Error("site not kept: no error")
	}
}

func TestActivationRangesAndQuantError(t *testing.T) {
	m := randomModel(t)
	r := record(t, m)
	sums := inspect.Summarize(r.Stats)
	fig, err := ActivationRanges(sums, "attn_norm", "residual")
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "act_ranges.svg", string(svg))
	for i := range 2 {
		solid, dashed := strokes(svg, seriesColor(i))
		if !slices.ContainsFunc(solid, func(d string) bool { return points(d) == 3 }) || len(dashed) != 1 || points(dashed[0]) != 3 {
			t.Errorf("site %d: solid %v dashed %v, want one absmax and one std line through 3 layers", i, solid, dashed)
		}
	}
	if _, err := ActivationRanges(sums, "nothing"); err == nil {
		t.Error("unknown site: no error")
	}

	fig, err = QuantError(sums)
	if err != nil {
		t.Fatal(err)
	}
	svg = fig.SVG()
	dump(t, "quant_error.svg", string(svg))
	// the four BitLinear inputs, in forward order
	for i, site := range []string{"attn_norm", "attn_sub_norm", "ffn_norm", "ffn_sub_norm"} {
		if !hasText(svg, site) {
			t.Errorf("no legend entry %s", site)
		}
		_, dashed := strokes(svg, seriesColor(i))
		if len(dashed) != 1 || points(dashed[0]) != 3 {
			t.Errorf("%s: worst-token lines %v", site, dashed)
		}
	}
	if hasText(svg, "residual") {
		t.Error("the residual stream is not a BitLinear input")
	}
	if _, err := QuantError(inspect.Summarize(nil)); err == nil {
		t.Error("no SQNR: no error")
	}
}

func TestAbsMaxPerToken(t *testing.T) {
	m := randomModel(t)
	r := record(t, m)
	names := make([]string, len(testTokens))
	for i, id := range testTokens {
		names[i] = string(rune('a' + id%26))
	}
	fig, err := AbsMaxPerToken(r.Stats, "ffn_sub_norm", 1, names)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "absmax.svg", string(svg))
	bars := fills(svg, seriesColor(0))
	if len(bars) != len(testTokens) {
		t.Fatalf("%d bars for %d tokens", len(bars), len(testTokens))
	}
	unit := math.NaN()
	for _, a := range r.Stats {
		if a.Site != "ffn_sub_norm" || a.Layer != 1 {
			continue
		}
		h := bars[a.Pos].maxY - bars[a.Pos].minY
		if math.IsNaN(unit) {
			unit = h / a.AbsMax
		}
		if math.Abs(h/a.AbsMax-unit) > 0.01*unit {
			t.Errorf("position %d: bar height %.2f for absmax %.4g (%.2f per unit elsewhere)", a.Pos, h, a.AbsMax, unit)
		}
		if !hasText(svg, tokenLabel(names[a.Pos])) {
			t.Errorf("no label for token %d", a.Pos)
		}
	}
	if _, err := AbsMaxPerToken(r.Stats, "ffn_sub_norm", 9, nil); err == nil {
		t.Error("missing layer: no error")
	}
}
