package notebook

import (
	"errors"
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/bitrepl/bitrepl/inspect"
)

// Bars draws one bar per label.
func Bars(title, yLabel string, labels []string, values []float64) (*Figure, error) {
	if len(labels) != len(values) {
		return nil, fmt.Errorf("notebook: Bars: %d labels for %d values", len(labels), len(values))
	}
	return bars(title, yLabel, labels, values, seriesColor(0))
}

func bars(title, yLabel string, labels []string, values plotter.Values, c color.RGBA) (*Figure, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("notebook: %s: no values", title)
	}
	p := newPlot(title, "", yLabel)
	addGrid(p)
	w := width(len(values), vg.Inch/3, 5*vg.Inch, 14*vg.Inch)
	b, err := plotter.NewBarChart(values, min(vg.Points(24), (w-vg.Inch)/vg.Length(len(values))*0.7))
	if err != nil {
		return nil, fmt.Errorf("notebook: %s: %w", title, err)
	}
	b.Color = c
	b.LineStyle.Width = 0
	p.Add(b)
	if slices.Min(values) >= 0 {
		p.Y.Min = 0
	}
	if top := slices.Max(values); top > 0 {
		p.Y.Max = top * 1.06 // the tallest bar ends visibly below the top of the axis
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.6, float64(len(values))-0.4 // a margin beside the first and last bars
	// a label wider than its slot (the plot less about an inch of y axis, per bar) would run into its neighbours
	slot := (w - vg.Inch) / vg.Length(len(labels))
	for _, l := range labels {
		if p.X.Tick.Label.Width(l)+vg.Points(4) > slot {
			rotateX(p)
			break
		}
	}
	return render(p, w, 4*vg.Inch)
}

// TopTokens draws the probabilities of the most likely next tokens of one
// position; name turns a TokenProb without Text into a label (may be nil).
func TopTokens(title string, st inspect.LogitStats) (*Figure, error) {
	if len(st.Top) == 0 {
		return nil, errors.New("notebook: TopTokens: no candidates")
	}
	labels := make([]string, len(st.Top))
	vals := make(plotter.Values, len(st.Top))
	for i, t := range st.Top {
		labels[i] = tokenLabel(t.Text)
		if t.Text == "" {
			labels[i] = fmt.Sprint(t.ID)
		}
		vals[i] = 100 * t.Prob
	}
	return bars(title, "probability (%)", labels, vals, seriesColor(1))
}
