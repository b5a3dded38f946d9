package notebook

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

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
// light grey. tokens, when long enough, labels both axes. pos and rows come
// from Recorder.Attention.
func AttentionMap(title string, pos []int, rows [][]float32, tokens []string) (*Figure, error) {
	keys, at, err := attentionCells(pos, rows)
	if err != nil {
		return nil, err
	}
	p := attentionPlot(title, pos, keys, at, tokens)
	side := max(4*vg.Inch, min(8*vg.Inch, vg.Length(keys)*vg.Points(18)))
	return render(p, side+vg.Inch, side+vg.Inch/2)
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
// in Keep) in a grid, cols maps per row (0 = 4).
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
		p.X.Label.Text, p.Y.Label.Text = "", ""
		grid[h/cols][h%cols] = p
	}
	tile := 2.4 * vg.Inch
	return renderGrid(fmt.Sprintf("layer %d: %d heads", layer, heads), grid, vg.Length(cols)*tile, vg.Length(len(grid))*tile)
}
