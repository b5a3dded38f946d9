package notebook

import (
	"math"
	"testing"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

// Head scores: a layers x heads map coloured from 0 to the largest score,
// each cell labelled with its value.
func TestHeadScores(t *testing.T) {
	scores := []inspect.HeadScore{{Layer: 0, Head: 0, Induction: 0.5}, {Layer: 0, Head: 1, Induction: 0}, {Layer: 1, Head: 0, Induction: 0.25}, {Layer: 1, Head: 1, Induction: 0.125, PrevToken: 0.9}}
	fig, err := HeadScores("induction", scores, true)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	checkSVG(t, svg)
	for _, s := range []string{"induction (colour 0 … 0.500)", "0.50", "0.25", "0.12", "0.00", "head", "layer"} {
		if !hasText(svg, s) {
			t.Errorf("no text %q in %v", s, texts(svg))
		}
	}
	img := images(t, svg)[0]
	for _, c := range []struct {
		r, c int
		want float64
	}{{0, 0, 1}, {0, 1, 0}, {1, 0, 0.5}} {
		if got := cellColor(img, 2, 2, c.r, c.c); got != viridis(c.want) {
			t.Errorf("cell (%d,%d): %v, want %v", c.r, c.c, got, viridis(c.want))
		}
	}
	if _, err := HeadScores("none", nil, true); err == nil {
		t.Error("no scores: no error")
	}
}

// Attribution bars and head map, and a patching map, from real results.
func TestAttributionAndPatchingFigures(t *testing.T) {
	m := randomModel(t)
	tokens := []int32{1, 2, 3, 4, 5}
	a, err := inspect.DirectLogitAttribution(m, tokens, 4, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	fig, err := Attribution("dla", a)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	checkSVG(t, svg)
	for _, s := range []string{"embed", "L0 attn", "L2 ffn", "contribution to the logit"} {
		if !hasText(svg, s) {
			t.Errorf("attribution: no text %q", s)
		}
	}
	fig, err = AttributionHeads("heads", a)
	if err != nil {
		t.Fatal(err)
	}
	img := images(t, fig.SVG())[0]
	var top inspect.Part // the head of largest magnitude: a full colour
	for _, p := range a.Parts {
		if p.Kind == "attn" && math.Abs(p.Value) > math.Abs(top.Value) {
			top = p
		}
	}
	want := diverging(1)
	if top.Value < 0 {
		want = diverging(-1)
	}
	if got := cellColor(img, 3, 4, top.Layer, top.Head); got != want {
		t.Errorf("the largest head (%v) is %v, want %v", top, got, want)
	}

	res, err := inspect.ActivationPatching(m, tokens, []int32{1, 2, 3, 9, 5}, 7, 8, inspect.PatchOptions{Sites: []model.Site{model.SiteResidual}})
	if err != nil {
		t.Fatal(err)
	}
	fig, err = Patching("patch", res, []string{"a", "b", "c", "d", "e"})
	if err != nil {
		t.Fatal(err)
	}
	svg = fig.SVG()
	checkSVG(t, svg)
	for _, s := range []string{"L0 residual", "L2 residual", `"d"`, "position", "1.00", "0.00"} {
		if !hasText(svg, s) {
			t.Errorf("patching: no text %q in %v", s, texts(svg))
		}
	}
}
