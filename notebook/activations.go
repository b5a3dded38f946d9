package notebook

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

// ActivationHistograms draws, for each layer in layers, the distribution of
// the values a Recorder kept at site (all positions together): one line per
// layer over equal-width bins, counts on a log scale so the rare large
// values (outlier channels) stay visible. Lines run from dark (first layer)
// to yellow (last).
func ActivationHistograms(r *inspect.Recorder, site model.Site, layers []int, bins int) (*Figure, error) {
	if bins <= 0 {
		bins = 80
	}
	type layerVals struct {
		layer int
		vals  [][]float32
	}
	var data []layerVals
	lim := 0.0
	for _, l := range layers {
		var vs [][]float32
		for _, p := range r.Positions(site, l) {
			v, _ := r.Values(site, l, p)
			vs = append(vs, v)
			for _, x := range v {
				lim = math.Max(lim, math.Abs(float64(x)))
			}
		}
		if len(vs) > 0 {
			data = append(data, layerVals{l, vs})
		}
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("notebook: no %s values kept for layers %v (add the site to Recorder.Keep)", site, layers)
	}
	if lim == 0 {
		lim = 1
	}
	p := newPlot(fmt.Sprintf("%s values per layer", site), "value", "count (log)")
	addGrid(p)
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = powerTicks{}
	entries := 0
	for i, d := range data {
		h := inspect.NewHistogram(-lim, lim, bins)
		for _, v := range d.vals {
			for _, x := range v {
				h.Add(float64(x))
			}
		}
		var xys plotter.XYs
		for b, c := range h.Counts {
			if c > 0 {
				lo, hi := h.Bin(b)
				xys = append(xys, plotter.XY{X: (lo + hi) / 2, Y: float64(c)})
			}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color = viridis(float64(i) / float64(max(len(data)-1, 1)))
		l.Width = vg.Points(1.2)
		p.Add(l)
		if len(data) <= 12 || i == 0 || i == len(data)-1 {
			p.Legend.Add(fmt.Sprintf("L%d", d.layer), l)
			entries++
		}
	}
	p.Legend.Top = true
	legendRoom(p, entries, 4.5*vg.Inch)
	return render(p, 7*vg.Inch, 4.5*vg.Inch)
}

// ActivationRanges draws, per layer, the scale of the values at each named
// site (default: every site in sums): the absmax (mean over tokens, solid)
// and the standard deviation (dashed), on a log scale. Their ratio is what
// per-token absmax int8 quantization pays for.
func ActivationRanges(sums []inspect.SiteSummary, sites ...string) (*Figure, error) {
	if len(sites) == 0 {
		for _, s := range sums {
			if s.Layer >= 0 && !slices.Contains(sites, s.Site) {
				sites = append(sites, s.Site)
			}
		}
	}
	p := newPlot("activation scale per layer", "layer", "absmax (solid), std (dashed)")
	addGrid(p)
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = powerTicks{}
	p.X.Tick.Marker = integerTicks{}
	n := 0
	for i, site := range sites {
		var absmax, std plotter.XYs
		for _, s := range sums {
			if s.Site == site && s.Layer >= 0 && s.MeanAbs > 0 && s.MeanStd > 0 {
				absmax = append(absmax, plotter.XY{X: float64(s.Layer), Y: s.MeanAbs})
				std = append(std, plotter.XY{X: float64(s.Layer), Y: s.MeanStd})
			}
		}
		if len(absmax) == 0 {
			continue
		}
		n++
		la, err := plotter.NewLine(absmax)
		if err != nil {
			return nil, err
		}
		ls, err := plotter.NewLine(std)
		if err != nil {
			return nil, err
		}
		la.Color, ls.Color = seriesColor(i), seriesColor(i)
		la.Width, ls.Width = vg.Points(1.5), vg.Points(1.5)
		ls.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(la, ls)
		p.Legend.Add(site, la)
	}
	if n == 0 {
		return nil, fmt.Errorf("notebook: no statistics of the sites %v in decoder blocks", sites)
	}
	p.Legend.Top = true
	legendRoom(p, n, 4.5*vg.Inch)
	return render(p, 7*vg.Inch, 4.5*vg.Inch)
}

// AbsMaxPerToken draws one bar per position: the absmax of the values at
// site and layer for that token (BitLinear scales its int8 input by
// 127/absmax, so one large token costs the others no precision, but one
// large channel costs its whole token). tokens, when not nil, labels the
// positions.
func AbsMaxPerToken(stats []inspect.ActStats, site string, layer int, tokens []string) (*Figure, error) {
	var pos []int
	byPos := map[int]float64{}
	for _, a := range stats {
		if a.Site == site && a.Layer == layer {
			if _, dup := byPos[a.Pos]; !dup {
				pos = append(pos, a.Pos)
			}
			byPos[a.Pos] = a.AbsMax
		}
	}
	if len(pos) == 0 {
		return nil, fmt.Errorf("notebook: no statistics of %s at layer %d", site, layer)
	}
	slices.Sort(pos)
	vals := make(plotter.Values, len(pos))
	labels := make([]string, len(pos))
	for i, p := range pos {
		vals[i] = byPos[p]
		labels[i] = fmt.Sprint(p)
		if p < len(tokens) {
			labels[i] = tokenLabel(tokens[p])
		}
	}
	title := fmt.Sprintf("absmax per token: %s, layer %d", site, layer)
	return bars(title, "absmax", labels, vals, seriesColor(0))
}

// tokenLabel shows a token's text on an axis: quoted, short, spaces visible.
func tokenLabel(t string) string {
	t = strings.ReplaceAll(t, "\n", "⏎")
	if r := []rune(t); len(r) > 12 {
		t = string(r[:11]) + "…"
	}
	return fmt.Sprintf("%q", t)
}

// QuantError draws the signal-to-quantization-noise ratio (dB) of the
// per-token absmax int8 quantization of every BitLinear input, per layer:
// the mean over tokens (solid) and the worst token (dashed). Each 6 dB is
// one bit of precision.
func QuantError(sums []inspect.SiteSummary) (*Figure, error) {
	var sites []string
	for _, s := range sums {
		if s.Layer >= 0 && !math.IsNaN(s.MeanSQNR) && !slices.Contains(sites, s.Site) {
			sites = append(sites, s.Site)
		}
	}
	if len(sites) == 0 {
		return nil, errors.New("notebook: QuantError: no SQNR in the summaries (record the BitLinear inputs: attn_norm, attn_sub_norm, ffn_norm, ffn_sub_norm)")
	}
	p := newPlot("int8 activation quantization per layer", "layer", "SQNR (dB): mean solid, worst dashed")
	addGrid(p)
	p.X.Tick.Marker = integerTicks{}
	for i, site := range sites {
		var mean, worst plotter.XYs
		for _, s := range sums {
			if s.Site == site && s.Layer >= 0 && !math.IsInf(s.MeanSQNR, 0) && !math.IsNaN(s.MeanSQNR) {
				mean = append(mean, plotter.XY{X: float64(s.Layer), Y: s.MeanSQNR})
				worst = append(worst, plotter.XY{X: float64(s.Layer), Y: s.MinSQNR})
			}
		}
		if len(mean) == 0 {
			continue
		}
		lm, err := plotter.NewLine(mean)
		if err != nil {
			return nil, err
		}
		lw, err := plotter.NewLine(worst)
		if err != nil {
			return nil, err
		}
		lm.Color, lw.Color = seriesColor(i), seriesColor(i)
		lm.Width, lw.Width = vg.Points(1.5), vg.Points(1.5)
		lw.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(lm, lw)
		p.Legend.Add(site, lm)
	}
	p.Legend.Top = true
	legendRoom(p, len(sites), 4.5*vg.Inch)
	return render(p, 7*vg.Inch, 4.5*vg.Inch)
}
