package notebook

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The colours of the ternary codes, shared by every figure.
var (
	ColorNeg  = color.RGBA{0xD6, 0x27, 0x28, 0xFF} // -1: red
	ColorZero = color.RGBA{0xC7, 0xC7, 0xC7, 0xFF} // 0: grey
	ColorPos  = color.RGBA{0x1F, 0x77, 0xB4, 0xFF} // +1: blue
)

// series are the colours of lines and bar groups (matplotlib's tab10 without
// the code colours).
var series = []color.RGBA{
	{0xFF, 0x7F, 0x0E, 0xFF}, {0x2C, 0xA0, 0x2C, 0xFF}, {0x94, 0x67, 0xBD, 0xFF}, {0x8C, 0x56, 0x4B, 0xFF},
	{0xE3, 0x77, 0xC2, 0xFF}, {0x17, 0xBE, 0xCF, 0xFF}, {0xBC, 0xBD, 0x22, 0xFF}, {0x7F, 0x7F, 0x7F, 0xFF},
	{0x1F, 0x77, 0xB4, 0xFF}, {0xD6, 0x27, 0x28, 0xFF},
}

func seriesColor(i int) color.RGBA { return series[i%len(series)] }

// hexColor is c as it appears in gonum's SVG output (#RRGGBB, upper case).
func hexColor(c color.RGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

// newPlot returns a plot with sans-serif text and a grid.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, s := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		s.Font.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	return p
}

func addGrid(p *plot.Plot) {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{0xE0}
	g.Horizontal.Color = color.Gray{0xE0}
	p.Add(g)
}

// render draws p as a figure of the given size.
func render(p *plot.Plot, w, h vg.Length) (*Figure, error) {
	return newFigure(p.Title.Text, w, h, func(c draw.Canvas) { p.Draw(c) })
}

// renderGrid draws plots in a grid of rows x cols tiles (nil entries stay empty).
func renderGrid(title string, plots [][]*plot.Plot, w, h vg.Length) (*Figure, error) {
	return newFigure(title, w, h, func(dc draw.Canvas) { drawGrid(plots, dc) })
}

// drawGrid draws plots in a grid of tiles filling dc, their data areas
// aligned, and returns the tiles' canvases.
func drawGrid(plots [][]*plot.Plot, dc draw.Canvas) [][]draw.Canvas {
	tiles := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j, p := range plots[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	return canvases
}

// newFigure renders paint as SVG now (PNG when asked).
func newFigure(title string, w, h vg.Length, paint func(draw.Canvas)) (*Figure, error) {
	c := vgsvg.New(w, h)
	paint(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("notebook: %s: %w", title, err)
	}
	return &Figure{svg: svgFixes.Replace(b.String()), w: w, h: h, paint: paint, title: title}, nil
}

// svgFixes adjusts gonum's SVG output: heat maps are images of a few pixels
// per cell, stretched to their cells and kept sharp when the browser scales
// them; their data is PNG (gonum labels it image/jpg); text falls back to the
// fonts with Liberation Sans's metrics (Arial, Helvetica) where Liberation is
// not installed.
var svgFixes = strings.NewReplacer(
	"<image ", `<image preserveAspectRatio="none" style="image-rendering:pixelated" `,
	"data:image/jpg;base64,", "data:image/png;base64,",
	"font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;",
)

// width grows with the number of items on the x axis, between lo and hi.
func width(items int, per, lo, hi vg.Length) vg.Length {
	return max(lo, min(hi, vg.Length(items)*per))
}

// shortName drops the ".weight" suffix of a GGUF tensor name.
func shortName(name string) string { return strings.TrimSuffix(name, ".weight") }

// rotateX turns the x tick labels so long names do not overlap.
func rotateX(p *plot.Plot) {
	p.X.Tick.Label.Rotation = math.Pi / 3
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
}

// indexTicks labels integer positions 0..n-1 (shown as first+i) with about
// at most 10 labels, at the centres of unit cells; flip counts from the top
// (a matrix drawn with row 0 at the top, the y axis going up).
func indexTicks(n, first int, flip bool) plot.Ticker {
	step := 1
	for _, s := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000} {
		step = s
		if n/s <= 10 {
			break
		}
	}
	var ts plot.ConstantTicks
	for i := 0; i < n; i += step {
		v := float64(i) + 0.5
		if flip {
			v = float64(n-i) - 0.5
		}
		ts = append(ts, plot.Tick{Value: v, Label: strconv.Itoa(first + i)})
	}
	return ts
}

// labelTicks puts labels[i] at the centre of cell i (flip as in indexTicks).
func labelTicks(labels []string, flip bool) plot.Ticker {
	var ts plot.ConstantTicks
	n := len(labels)
	for i, l := range labels {
		v := float64(i) + 0.5
		if flip {
			v = float64(n-i) - 0.5
		}
		ts = append(ts, plot.Tick{Value: v, Label: l})
	}
	return ts
}

// cellImage builds an image of rows x cols cells, px x px pixels each, with
// the colour of cell (r, c) from at; row 0 is at the top.
func cellImage(rows, cols, px int, at func(r, c int) color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, cols*px, rows*px))
	for r := range rows {
		for c := range cols {
			col := at(r, c)
			for y := r * px; y < (r+1)*px; y++ {
				for x := c * px; x < (c+1)*px; x++ {
					i := img.PixOffset(x, y)
					img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = col.R, col.G, col.B, col.A
				}
			}
		}
	}
	return img
}

// cellLength is the side of one heat map cell: the map is about side long on
// its longer side, cells between 2 and 20 points.
func cellLength(rows, cols int, side vg.Length) vg.Length {
	return max(vg.Points(2), min(vg.Points(20), side/vg.Length(max(rows, cols, 1))))
}

// cellPixels chooses the pixels per cell so the image is about 1200 pixels
// on its longer side: more than the PNG shows, so scaling it down blurs no
// more than a pixel at the cell edges.
func cellPixels(rows, cols int) int { return max(1, 1200/max(rows, cols, 1)) }

// heatPlot places an image of rows x cols cells on a plot with unit cells,
// row 0 at the top.
func heatPlot(title string, img image.Image, rows, cols int) *plot.Plot {
	p := newPlot(title, "", "")
	p.Add(plotter.NewImage(img, 0, 0, float64(cols), float64(rows)))
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, float64(cols), 0, float64(rows)
	p.X.Padding, p.Y.Padding = 0, 0
	return p
}

// lerp blends a into b by t in [0,1].
func lerp(a, b color.RGBA, t float64) color.RGBA {
	t = math.Max(0, math.Min(1, t))
	f := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + t*(float64(y)-float64(x)))) }
	return color.RGBA{f(a.R, b.R), f(a.G, b.G), f(a.B, b.B), 0xFF}
}

// viridis maps t in [0,1] to matplotlib's viridis colour map (9 anchors).
func viridis(t float64) color.RGBA {
	anchors := []color.RGBA{{0x44, 0x01, 0x54, 0xFF}, {0x47, 0x2C, 0x7A, 0xFF}, {0x3B, 0x51, 0x8B, 0xFF},
		{0x2C, 0x71, 0x8E, 0xFF}, {0x21, 0x90, 0x8C, 0xFF}, {0x27, 0xAD, 0x81, 0xFF}, {0x5C, 0xC8, 0x63, 0xFF},
		{0xAA, 0xDC, 0x32, 0xFF}, {0xFD, 0xE7, 0x25, 0xFF}}
	t = math.Max(0, math.Min(1, t)) * float64(len(anchors)-1)
	i := min(int(t), len(anchors)-2)
	return lerp(anchors[i], anchors[i+1], t-float64(i))
}

// diverging maps t in [-1,1] to red (negative), white (0) and blue (positive).
func diverging(t float64) color.RGBA {
	white := color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
	if t < 0 {
		return lerp(white, ColorNeg, -t)
	}
	return lerp(white, ColorPos, t)
}

// legendRoom raises the top of the y axis so a legend of n entries at the
// top of a plot of height h does not cover the data (log axes in log space).
func legendRoom(p *plot.Plot, n int, h vg.Length) {
	f := math.Min(0.6, (float64(n)*13+10)/(h.Points()-70))
	lo, hi := p.Y.Min, p.Y.Max
	if _, isLog := p.Y.Scale.(plot.LogScale); isLog && lo > 0 {
		p.Y.Max = math.Exp(math.Log(lo) + (math.Log(hi)-math.Log(lo))/(1-f))
		return
	}
	p.Y.Max = lo + (hi-lo)/(1-f)
}

// integerTicks labels whole numbers only (layers), about 10 of them.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000} {
		step = s
		if (hi-lo)/s <= 10 {
			break
		}
	}
	var out []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		if v == 0 {
			v = 0 // not -0
		}
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return out
}

// powerTicks labels the powers of ten of a log axis compactly (1, 10, 100,
// 1k, …, 0.1, 0.01), with unlabelled minor ticks at 2…9 times each power.
type powerTicks struct{}

func (powerTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		p := math.Pow(10, e)
		if p >= lo && p <= hi {
			out = append(out, plot.Tick{Value: p, Label: powerLabel(e)})
		}
		for k := 2.0; k < 10; k++ {
			if v := k * p; v >= lo && v <= hi {
				out = append(out, plot.Tick{Value: v})
			}
		}
	}
	return out
}

func powerLabel(e float64) string {
	switch {
	case e >= 12:
		return fmt.Sprintf("1e%d", int(e))
	case e >= 9:
		return "1" + strings.Repeat("0", int(e)-9) + "G"
	case e >= 6:
		return "1" + strings.Repeat("0", int(e)-6) + "M"
	case e >= 3:
		return "1" + strings.Repeat("0", int(e)-3) + "k"
	case e >= 0:
		return "1" + strings.Repeat("0", int(e))
	case e >= -4:
		return strconv.FormatFloat(math.Pow(10, e), 'f', -1, 64)
	}
	return fmt.Sprintf("1e%d", int(e))
}
