package notebook

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/bitrepl/bitrepl/inspect"
)

// colorMasked marks the cells above the diagonal: keys a query cannot see.
var colorMasked = color.RGBA{0xF4, 0xF4, 0xF4, 0xFF}

// attentionCells lays rows (query positions pos[i] over keys 0..pos[i]) on a
// len(pos) x keys grid; cells without a weight are masked.
func attentionCells(pos []int, rows [][]float32) (keys int, at func(r, c int) color.RGBA, err error) {
	if len(pos) != len(rows) || len(rows) == 0 {
		return 0, nil, fmt.Errorf("notebook: attention: %d positions for %d rows", len(pos), len(rows))
	}
	for _, r := range rows {
		keys = max(keys, len(r))
	}
	return keys, func(r, c int) color.RGBA {
		if c >= len(rows[r]) {
			return colorMasked
		}
		return viridis(float64(rows[r][c]))
	}, nil
}

// AttentionMap draws the attention weights of one head as a heat map: row i
// is query position pos[i], column k is key position k, colour from dark
// purple (0) to yellow (1) on an absolute scale; masked (future) keys are
// light grey, with the colour scale at the right. tokens, when long enough,
// labels both axes. pos and rows come from Recorder.Attention.
func AttentionMap(title string, pos []int, rows [][]float32, tokens []string) (*Figure, error) {
	keys, at, err := attentionCells(pos, rows)
	if err != nil {
		return nil, err
	}
	p := attentionPlot(title, pos, keys, at, tokens)
	side := max(4*vg.Inch, min(8*vg.Inch, vg.Length(keys)*vg.Points(18)))
	return newFigure(title, side+vg.Inch+colorBarWidth, side+vg.Inch/2, func(c draw.Canvas) {
		maps, bar := splitColorBar(c)
		p.Draw(maps)
		drawColorBar(bar, p.DataCanvas(maps))
	})
}

// colorBarWidth is the room of the colour scale beside a figure, its labels included.
const colorBarWidth = vg.Inch

// splitColorBar cuts the room of the colour scale off the right of c.
func splitColorBar(c draw.Canvas) (maps, bar draw.Canvas) {
	w := c.Size().X
	return draw.Crop(c, 0, -colorBarWidth, 0, 0), draw.Crop(c, w-colorBarWidth+vg.Points(6), -vg.Points(16), 0, 0)
}

// drawColorBar draws the attention colour scale (viridis, 0 at the bottom, 1
// at the top) in c, as tall as the data area span.
func drawColorBar(c draw.Canvas, span draw.Canvas) {
	const steps = 256
	img := cellImage(steps, 1, 4, func(r, _ int) color.RGBA { return viridis(1 - (float64(r)+0.5)/steps) })
	p := newPlot("", "", "attention weight")
	p.Add(plotter.NewImage(img, 0, 0, 1, 1))
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.X.Padding, p.Y.Padding = 0, 0
	p.HideX()
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.25}, {Value: 0.5, Label: "0.5"}, {Value: 0.75}, {Value: 1, Label: "1"}}
	// the scale spans the maps' data area; the plot's own margins fall outside it
	// the scale is 12 points wide, at the right of c, with its labels to its left
	c.Min.Y, c.Max.Y = span.Min.Y, span.Max.Y
	dc := p.DataCanvas(c)
	c.Min.Y -= dc.Min.Y - c.Min.Y
	c.Max.Y += c.Max.Y - dc.Max.Y
	c.Min.X += max(0, dc.Size().X-vg.Points(12))
	p.Draw(c)
}

func attentionPlot(title string, pos []int, keys int, at func(r, c int) color.RGBA, tokens []string) *plot.Plot {
	img := cellImage(len(pos), keys, cellPixels(len(pos), keys), at)
	p := heatPlot(title, img, len(pos), keys)
	p.X.Label.Text, p.Y.Label.Text = "key", "query"
	if keys <= len(tokens) && keys <= 48 {
		labels := make([]string, keys)
		for k := range labels {
			labels[k] = tokenLabel(tokens[k])
		}
		ql := make([]string, len(pos))
		for i, q := range pos {
			ql[i] = labels[q]
		}
		p.X.Tick.Marker = labelTicks(labels, false)
		p.Y.Tick.Marker = labelTicks(ql, true)
		rotateX(p)
	} else {
		p.X.Tick.Marker = indexTicks(keys, 0, false)
		p.Y.Tick.Marker = indexTicks(len(pos), pos[0], true)
	}
	return p
}

// AttentionHeads draws every head of a layer recorded by r (SiteAttnWeights
// in Keep) in a grid, cols maps per row (0 = 4), with axis titles on the
// outer maps and one colour scale for all.
func AttentionHeads(r *inspect.Recorder, layer, heads, cols int) (*Figure, error) {
	if heads <= 0 {
		return nil, fmt.Errorf("notebook: AttentionHeads: %d heads", heads)
	}
	if cols <= 0 {
		cols = 4
	}
	cols = min(cols, heads)
	grid := make([][]*plot.Plot, (heads+cols-1)/cols)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	for h := range heads {
		pos, rows, err := r.Attention(layer, h)
		if err != nil {
			return nil, fmt.Errorf("notebook: %w", err)
		}
		keys, at, err := attentionCells(pos, rows)
		if err != nil {
			return nil, err
		}
		p := attentionPlot(fmt.Sprintf("layer %d head %d", layer, h), pos, keys, at, nil)
		// axis titles on the outer maps only: the bottom one of each column, the first of each row
		if h+cols < heads {
			p.X.Label.Text = ""
		}
		if h%cols != 0 {
			p.Y.Label.Text = ""
		}
		grid[h/cols][h%cols] = p
	}
	tile := 2.4 * vg.Inch
	title := fmt.Sprintf("layer %d: %d heads", layer, heads)
	return newFigure(title, vg.Length(cols)*tile+colorBarWidth, vg.Length(len(grid))*tile, func(c draw.Canvas) {
		maps, bar := splitColorBar(c)
		canvases := drawGrid(grid, maps)
		top := grid[0][0].DataCanvas(canvases[0][0])
		bottom := grid[len(grid)-1][0].DataCanvas(canvases[len(grid)-1][0])
		span := top
		span.Min.Y = bottom.Min.Y
		drawColorBar(bar, span)
	})
}
