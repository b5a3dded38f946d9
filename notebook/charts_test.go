package notebook

import (
	"image/color"
	"math"
	"regexp"
	"strconv"
	"testing"

	"github.com/bitrepl/bitrepl/inspect"
)

// tickLabel is a text of an SVG: its left end and baseline, and whether it
// is drawn rotated.
type tickLabel struct {
	text    string
	x, y    float64
	rotated bool
}

var labelRE = regexp.MustCompile(`(<g transform="rotate\([^)]*\)">\s*)?<text x="([^"]+)" y="([^"]+)"[^>]*>([^<]*)</text>`)

func svgTexts(svg string) []tickLabel {
	var out []tickLabel
	for _, m := range labelRE.FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.ParseFloat(m[2], 64)
		y, _ := strconv.ParseFloat(m[3], 64)
		out = append(out, tickLabel{unescape(m[4]), x, y, m[1] != ""})
	}
	return out
}

// checkXLabels checks that the labels of a bar chart (in order) do not
// overlap: side by side, each ends before the next begins; rotated, adjacent
// labels are at least a line height apart across their slant.
func checkXLabels(t *testing.T, svg string, labels []string, centres []float64) {
	t.Helper()
	style := newPlot("", "", "").X.Tick.Label
	var got []tickLabel
	for _, l := range svgTexts(svg) {
		for _, want := range labels {
			if l.text == want {
				got = append(got, l)
				break
			}
		}
	}
	if len(got) != len(labels) {
		t.Fatalf("%d of the %d labels found: %v", len(got), len(labels), got)
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if a.rotated != b.rotated {
			t.Fatalf("labels %q and %q: one rotated, one not", a.text, b.text)
		}
		if !a.rotated {
			if end := a.x + style.Width(a.text).Points(); end > b.x-2 {
				t.Errorf("label %q ends at %.1f, %q begins at %.1f", a.text, end, b.text, b.x)
			}
			continue
		}
		gap := (centres[i] - centres[i-1]) * math.Sin(math.Pi/3)
		if gap < 1.1*style.Font.Size.Points() {
			t.Errorf("rotated labels %q and %q only %.1f points apart", a.text, b.text, gap)
		}
	}
}

// yAxis returns the bottom and top of the y axis line of a plot (the
// leftmost vertical black line).
func yAxis(t *testing.T, svg string) (lo, hi float64) {
	t.Helper()
	left := math.Inf(1)
	for _, m := range pathRE.FindAllStringSubmatch(svg, -1) {
		if m[2] != "fill:none;stroke:#000000;stroke-width:0.5" {
			continue
		}
		x0, y0, x1, y1 := bbox(m[1])
		if x0 == x1 && y1-y0 > 20 && x0 < left {
			left, lo, hi = x0, y0, y1
		}
	}
	if math.IsInf(left, 1) {
		t.Fatal("no y axis")
	}
	return lo, hi
}

// checkHeadroom checks that the tallest bar ends below the top of the y axis,
// with room to see that it ends there.
func checkHeadroom(t *testing.T, svg string, bars []fillPath) {
	t.Helper()
	lo, hi := yAxis(t, svg)
	top := 0.0
	for _, b := range bars {
		top = math.Max(top, b.maxY)
	}
	if room := (hi - top) / (hi - lo); room < 0.04 {
		t.Errorf("the tallest bar ends at %.1f, the axis at %.1f: %.1f%% of the axis above it", top, hi, 100*room)
	}
}

func centres(bars []fillPath) []float64 {
	out := make([]float64, len(bars))
	for i, b := range bars {
		out[i] = (b.minX + b.maxX) / 2
	}
	return out
}

func TestBarsLabelsAndHeadroom(t *testing.T) {
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"formats", []string{"GGUF TQ1_0", "GGUF TQ2_0", "GGUF I2_S", "safetensors packed", "safetensors latent"}},
		{"short", []string{"a", "b", "c"}},
		{"many", []string{"0%", "5%", "10%", "15%", "20%", "25%", "30%", "35%", "40%", "45%", "50%", "55%", "60%", "65%", "70%", "75%", "80%", "85%", "90%", "95%"}},
		{"tokens", []string{`"<|begin_of_…"`, `"C"`, `"all"`, `" me"`, `" Is"`, `"hm"`, `"a"`, `"el"`, `"."`, `" Some"`, `" years"`, `" ago"`,
			`","`, `" never"`, `" mind"`, `" how"`, `" long"`, `" prec"`, `"ise"`, `"ly"`, `","`, `" having"`, `" little"`, `" or"`,
			`" no"`, `" money"`, `" in"`, `" my"`, `" pur"`, `"se"`, `","`, `" I"`, `" thought"`, `" I"`, `" would"`, `" sail"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			vals := make([]float64, len(c.labels))
			for i := range vals {
				vals[i] = float64(1 + i%7)
			}
			fig, err := Bars(c.name, "value", c.labels, vals)
			if err != nil {
				t.Fatal(err)
			}
			svg := fig.SVG()
			dump(t, "bars_"+c.name+".svg", svg)
			bars := fills(svg, seriesColor(0))
			if len(bars) != len(vals) {
				t.Fatalf("%d bars for %d values", len(bars), len(vals))
			}
			checkXLabels(t, svg, c.labels, centres(bars))
			if width := fills(svg, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF})[0].maxX; bars[len(bars)-1].maxX > width-4 {
				t.Errorf("the last bar ends at %.1f, the figure at %.1f", bars[len(bars)-1].maxX, width)
			}
			checkHeadroom(t, svg, bars)
		})
	}
	// the probabilities of the next token: the first bar is the tallest
	st := inspect.LogitStats{Top: []inspect.TokenProb{{ID: 4, Text: " The", Prob: 0.09}, {ID: 9, Text: " But", Prob: 0.07}, {ID: 2, Text: " It", Prob: 0.05}}}
	fig, err := TopTokens("after the sentence", st)
	if err != nil {
		t.Fatal(err)
	}
	checkHeadroom(t, fig.SVG(), fills(fig.SVG(), seriesColor(1)))
}
