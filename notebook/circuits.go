package notebook

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/bitrepl/bitrepl/inspect"
)

// HeadScores draws one score of every head (induction, else previous-token)
// as a layers x heads heat map, the colour scaled from 0 to the largest
// score, which the title gives; each cell is labelled with its value.
func HeadScores(title string, scores []inspect.HeadScore, induction bool) (*Figure, error) {
	if len(scores) == 0 {
		return nil, fmt.Errorf("notebook: HeadScores: no scores")
	}
	layers, heads := 0, 0
	top := 0.0
	val := func(s inspect.HeadScore) float64 {
		if induction {
			return s.Induction
		}
		return s.PrevToken
	}
	for _, s := range scores {
		layers, heads = max(layers, s.Layer+1), max(heads, s.Head+1)
		top = math.Max(top, val(s))
	}
	grid := make([][]float64, layers)
	for l := range grid {
		grid[l] = make([]float64, heads)
	}
	for _, s := range scores {
		grid[s.Layer][s.Head] = val(s)
	}
	full := fmt.Sprintf("%s (colour 0 … %.3f)", title, top)
	return cellMap(full, "head", "layer", grid, func(v float64) color.RGBA { return viridis(v / math.Max(top, 1e-12)) }, "%.2f")
}

// Attribution draws the parts of a direct logit attribution: the embedding,
// then each layer's attention (heads summed) and FFN, as signed bars.
func Attribution(title string, a *inspect.Attribution) (*Figure, error) {
	if a == nil || len(a.Parts) == 0 {
		return nil, fmt.Errorf("notebook: Attribution: no parts")
	}
	labels, values := []string{"embed"}, []float64{a.Parts[0].Value}
	layers := 0
	for _, p := range a.Parts {
		layers = max(layers, p.Layer+1)
	}
	for l := range layers {
		attn, ffn := a.Layer(l)
		labels = append(labels, fmt.Sprintf("L%d attn", l), fmt.Sprintf("L%d ffn", l))
		values = append(values, attn, ffn)
	}
	return bars(title, "contribution to the logit", labels, values, seriesColor(0))
}

// AttributionHeads draws each head's part of a direct logit attribution as
// a layers x heads map: blue adds to the logit, red takes from it, on a
// scale of the largest magnitude.
func AttributionHeads(title string, a *inspect.Attribution) (*Figure, error) {
	layers, heads := 0, 0
	top := 0.0
	for _, p := range a.Parts {
		if p.Kind == "attn" {
			layers, heads = max(layers, p.Layer+1), max(heads, p.Head+1)
			top = math.Max(top, math.Abs(p.Value))
		}
	}
	if layers == 0 {
		return nil, fmt.Errorf("notebook: AttributionHeads: no heads")
	}
	grid := make([][]float64, layers)
	for l := range grid {
		grid[l] = make([]float64, heads)
	}
	for _, p := range a.Parts {
		if p.Kind == "attn" {
			grid[p.Layer][p.Head] = p.Value
		}
	}
	return cellMap(title, "head", "layer", grid, func(v float64) color.RGBA { return diverging(v / math.Max(top, 1e-12)) }, "%+.2f")
}

// Patching draws an activation-patching result as a map: one row per
// patched site and layer (and head), one column per position (labelled by
// tokens when given), blue where the patch restores the clean logit
// difference (1 = all of it), red where it moves it the other way.
func Patching(title string, r *inspect.PatchResult, tokens []string) (*Figure, error) {
	if r == nil || len(r.Rows) == 0 {
		return nil, fmt.Errorf("notebook: Patching: no result")
	}
	var grid [][]float64
	var names []string
	for _, row := range r.Rows {
		for h := range row.Heads {
			vals := make([]float64, r.Positions)
			for p := range vals {
				vals[p] = row.Restored[p*row.Heads+h]
			}
			grid = append(grid, vals)
			name := fmt.Sprintf("L%d %s", row.Layer, row.Site)
			if row.Heads > 1 {
				name += fmt.Sprintf(".h%d", h)
			}
			names = append(names, name)
		}
	}
	f, err := cellMapLabels(title, grid, names, tokens, func(v float64) color.RGBA { return diverging(v) }, "%.2f")
	return f, err
}

// cellMap draws grid (rows x cols) with numbered axes.
func cellMap(title, xLabel, yLabel string, grid [][]float64, col func(float64) color.RGBA, format string) (*Figure, error) {
	rows := make([]string, len(grid))
	for i := range rows {
		rows[i] = fmt.Sprint(i)
	}
	cols := make([]string, len(grid[0]))
	for i := range cols {
		cols[i] = fmt.Sprint(i)
	}
	f, err := cellMapAxes(title, xLabel, yLabel, grid, rows, cols, col, format)
	return f, err
}

func cellMapLabels(title string, grid [][]float64, rows, cols []string, col func(float64) color.RGBA, format string) (*Figure, error) {
	if len(cols) < len(grid[0]) {
		cols = make([]string, len(grid[0]))
		for i := range cols {
			cols[i] = fmt.Sprint(i)
		}
	}
	labels := make([]string, len(grid[0]))
	for i := range labels {
		labels[i] = tokenLabel(cols[i])
	}
	return cellMapAxes(title, "position", "", grid, rows, labels, col, format)
}

// cellMapAxes draws grid with labelled rows (top to bottom) and columns,
// each cell's value written in it when the cells are large enough.
func cellMapAxes(title, xLabel, yLabel string, grid [][]float64, rows, cols []string, col func(float64) color.RGBA, format string) (*Figure, error) {
	nr, nc := len(grid), len(grid[0])
	img := cellImage(nr, nc, cellPixels(nr, nc), func(r, c int) color.RGBA { return col(grid[r][c]) })
	p := heatPlot(title, img, nr, nc)
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.X.Tick.Marker = labelTicks(cols, false)
	p.Y.Tick.Marker = labelTicks(rows, true)
	if nc > 8 {
		rotateX(p)
	}
	cell := vg.Points(34)
	if nc > 16 {
		cell = vg.Points(22)
	}
	w := max(4*vg.Inch, vg.Length(nc)*cell+2*vg.Inch)
	h := max(2.5*vg.Inch, vg.Length(nr)*vg.Points(20)+1.5*vg.Inch)
	return newFigure(title, w, h, func(c draw.Canvas) {
		p.Draw(c)
		if nc > 16 {
			return // the values would not fit
		}
		dc := p.DataCanvas(c)
		cw, ch := dc.Size().X/vg.Length(nc), dc.Size().Y/vg.Length(nr)
		sty := p.X.Tick.Label
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
		sty.Rotation = 0
		for r := range nr {
			for k := range nc {
				v := grid[r][k]
				bg := col(v)
				sty.Color = color.Black
				if 0.299*float64(bg.R)+0.587*float64(bg.G)+0.114*float64(bg.B) < 110 {
					sty.Color = color.White
				}
				at := vg.Point{X: dc.Min.X + cw*(vg.Length(k)+0.5), Y: dc.Max.Y - ch*(vg.Length(r)+0.5)}
				dc.FillText(sty, at, fmt.Sprintf(format, v))
			}
		}
	})
}
