package notebook

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/metal/cpu"
)

// TernaryCounts draws, for each tensor, three bars: the shares of its -1, 0
// and +1 weights (codes for ternary types, signs of the values otherwise).
func TernaryCounts(title string, ts []inspect.TensorStats) (*Figure, error) {
	if len(ts) == 0 {
		return nil, errors.New("notebook: TernaryCounts: no tensors")
	}
	labels := make([]string, len(ts))
	neg, zero, pos := make(plotter.Values, len(ts)), make(plotter.Values, len(ts)), make(plotter.Values, len(ts))
	for i := range ts {
		labels[i] = shortName(ts[i].Name)
		n, z, p := ts[i].Share()
		neg[i], zero[i], pos[i] = 100*n, 100*z, 100*p
	}
	return codeBars(title, "", labels, neg, zero, pos)
}

// LayerTernary draws, for each decoder block, the shares of its -1, 0 and +1
// weights; tensors outside the blocks (embedding, LM head) form the group
// "other" when present.
func LayerTernary(title string, ls []inspect.LayerSummary) (*Figure, error) {
	if len(ls) == 0 {
		return nil, errors.New("notebook: LayerTernary: no layers")
	}
	labels := make([]string, len(ls))
	neg, zero, pos := make(plotter.Values, len(ls)), make(plotter.Values, len(ls)), make(plotter.Values, len(ls))
	for i, l := range ls {
		labels[i] = "other"
		if l.Layer >= 0 {
			labels[i] = fmt.Sprint(l.Layer)
		}
		n := float64(max(l.Params, 1))
		neg[i], zero[i], pos[i] = 100*float64(l.Neg)/n, 100*float64(l.Zero)/n, 100*float64(l.Pos)/n
	}
	return codeBars(title, "decoder block", labels, neg, zero, pos)
}

// codeBars draws groups of three bars (-1, 0, +1) in the code colours.
func codeBars(title, xLabel string, labels []string, neg, zero, pos plotter.Values) (*Figure, error) {
	p := newPlot(title, xLabel, "share of weights (%)")
	addGrid(p)
	n := len(labels)
	w := width(n, vg.Inch/2, 6*vg.Inch, 16*vg.Inch)
	barW := (w - vg.Inch) / vg.Length(n) / 4
	top := 0.0
	for k, s := range []struct {
		name string
		vals plotter.Values
		col  color.RGBA
	}{{"-1", neg, ColorNeg}, {"0", zero, ColorZero}, {"+1", pos, ColorPos}} {
		b, err := plotter.NewBarChart(s.vals, barW)
		if err != nil {
			return nil, fmt.Errorf("notebook: %s: %w", title, err)
		}
		b.Color = s.col
		b.LineStyle.Width = 0
		b.Offset = vg.Length(k-1) * barW
		p.Add(b)
		p.Legend.Add(s.name, b)
		top = math.Max(top, slices.Max(s.vals))
	}
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, math.Min(100, top*1.25+1)
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.6, float64(n)-0.4 // a margin beside the first and last groups
	if n > 6 {
		rotateX(p)
	}
	return render(p, w, 4*vg.Inch)
}

// projectionOf returns "attn_q" for "blk.3.attn_q.weight" (ok false outside the blocks).
func projectionOf(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return "", false
	}
	_, proj, ok := strings.Cut(rest, ".")
	return shortName(proj), ok
}

// Sparsity draws the share of zero weights of each projection (attn_q ...
// ffn_down) across the decoder blocks, one line per projection.
func Sparsity(title string, ts []inspect.TensorStats) (*Figure, error) {
	byProj := map[string]plotter.XYs{}
	var order []string
	for i := range ts {
		proj, ok := projectionOf(ts[i].Name)
		if !ok {
			continue
		}
		if _, seen := byProj[proj]; !seen {
			order = append(order, proj)
		}
		_, z, _ := ts[i].Share()
		byProj[proj] = append(byProj[proj], plotter.XY{X: float64(ts[i].Layer()), Y: 100 * z})
	}
	if len(order) == 0 {
		return nil, errors.New("notebook: Sparsity: no tensors of decoder blocks (blk.N.*)")
	}
	p := newPlot(title, "layer", "zero weights (%)")
	addGrid(p)
	for i, proj := range order {
		xys := byProj[proj]
		slices.SortFunc(xys, func(a, b plotter.XY) int { return int(a.X - b.X) })
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("notebook: %s: %w", title, err)
		}
		l.Color, s.Color = seriesColor(i), seriesColor(i)
		l.Width = vg.Points(1.5)
		s.Shape = draw.CircleGlyph{}
		s.Radius = vg.Points(2)
		p.Add(l, s)
		p.Legend.Add(proj, l, s)
	}
	p.Legend.Top = true
	p.X.Tick.Marker = integerTicks{}
	legendRoom(p, len(order), 4*vg.Inch)
	return render(p, 7*vg.Inch, 4*vg.Inch)
}

// codeColor is the colour of a ternary code.
func codeColor(c int8) color.RGBA {
	switch {
	case c < 0:
		return ColorNeg
	case c > 0:
		return ColorPos
	}
	return ColorZero
}

// blockCodes reads the codes of rows x cols weights of m from (row0, col0).
func blockCodes(m *cpu.Matrix, row0, col0, rows, cols int) ([]int8, error) {
	if !m.Type.Ternary() {
		return nil, fmt.Errorf("notebook: a %v matrix has no ternary codes", m.Type)
	}
	if rows <= 0 || cols <= 0 || row0 < 0 || col0 < 0 || row0+rows > m.Rows || col0+cols > m.Cols {
		return nil, fmt.Errorf("notebook: block %dx%d at (%d,%d) is outside the %dx%d matrix", rows, cols, row0, col0, m.Rows, m.Cols)
	}
	row := make([]int8, m.Cols)
	out := make([]int8, rows*cols)
	for r := range rows {
		m.TernaryRow(row, row0+r)
		copy(out[r*cols:], row[col0:col0+cols])
	}
	return out, nil
}

// TernaryBlock draws rows x cols weights of a ternary matrix from (row0,
// col0) as a three-colour heat map (-1 red, 0 grey, +1 blue), row row0 at
// the top.
func TernaryBlock(title string, m *cpu.Matrix, row0, col0, rows, cols int) (*Figure, error) {
	codes, err := blockCodes(m, row0, col0, rows, cols)
	if err != nil {
		return nil, err
	}
	p := codePlot(title, codes, row0, col0, rows, cols)
	cl := cellLength(rows, cols, 6*vg.Inch)
	return render(p, vg.Length(cols)*cl+vg.Inch, vg.Length(rows)*cl+vg.Inch)
}

func codePlot(title string, codes []int8, row0, col0, rows, cols int) *plot.Plot {
	img := cellImage(rows, cols, cellPixels(rows, cols), func(r, c int) color.RGBA { return codeColor(codes[r*cols+c]) })
	p := heatPlot(title, img, rows, cols)
	p.X.Label.Text, p.Y.Label.Text = "column (input)", "row (output)"
	p.X.Tick.Marker = indexTicks(cols, col0, false)
	p.Y.Tick.Marker = indexTicks(rows, row0, true)
	return p
}

func maxBin(h *plotter.Histogram) float64 {
	m := 0.0
	for _, b := range h.Bins {
		m = math.Max(m, b.Weight)
	}
	return m
}
