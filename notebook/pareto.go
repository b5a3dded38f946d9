package notebook

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

// LayerTypes are the layer weight types of the Pareto comparison: the
// ternary ones, then Q4_0 and Q8_0 (plain layers on float activations, as
// llama.cpp runs them) and F16 (the int8 activations, dequantized: see
// model.PlainLayer), smallest first within each.
var LayerTypes = []cpu.DType{cpu.TQ1_S, cpu.TQ1_0, cpu.TQ2_0, cpu.I2_S, cpu.Q4_0, cpu.Q8_0, cpu.F16}

// SpeedPoint is one file of the same model with its layer weights in one
// type: its size and its speed (medians over interleaved rounds, with the
// range).
type SpeedPoint struct {
	Type       cpu.DType
	FileBytes  int64
	LayerBytes int64 // bytes of the layer weights as held in memory
	PP, TG     float64
	PPMin      float64
	PPMax      float64
	TGMin      float64
	TGMax      float64
}

// MeasureSpeed writes m into dir once per layer type (embedding type embed),
// loads every file, and runs model.Bench (one repetition) on each in turn,
// rounds times, so that a slow moment of a shared machine hits every type
// alike. opt sets the prompt and generated tokens (its Reps is ignored).
func MeasureSpeed(ctx context.Context, m *model.Model, dir string, types []cpu.DType, embed cpu.DType, rounds int, opt model.BenchOptions) ([]SpeedPoint, error) {
	if rounds < 1 || len(types) == 0 {
		return nil, fmt.Errorf("notebook: MeasureSpeed: %d rounds of %d types", rounds, len(types))
	}
	var models []*model.Model
	defer func() {
		for _, c := range models {
			c.Close()
		}
	}()
	out := make([]SpeedPoint, len(types))
	for i, t := range types {
		path := filepath.Join(dir, strings.ToLower(t.String())+".gguf")
		if err := m.Save(path, model.SaveOptions{Format: "gguf", Ternary: t, Embed: embed}); err != nil {
			return nil, err
		}
		c, err := model.Load(path)
		if err != nil {
			return nil, err
		}
		models = append(models, c)
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		out[i] = SpeedPoint{Type: t, FileBytes: st.Size(), LayerBytes: layerBytes(c)}
	}
	pp := make([][]float64, len(types))
	tg := make([][]float64, len(types))
	opt.Reps = 1
	for range rounds {
		for i, c := range models {
			r, err := model.Bench(ctx, c, opt)
			if err != nil {
				return nil, fmt.Errorf("notebook: %v: %w", types[i], err)
			}
			pp[i] = append(pp[i], r.PP...)
			tg[i] = append(tg[i], r.TG...)
		}
	}
	for i := range out {
		p := &out[i]
		p.PP, p.PPMin, p.PPMax = model.Median(pp[i]), minOf(pp[i]), maxOf(pp[i])
		p.TG, p.TGMin, p.TGMax = model.Median(tg[i]), minOf(tg[i]), maxOf(tg[i])
	}
	return out, nil
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// layerBytes is the memory the decoder blocks' weight matrices take.
func layerBytes(m *model.Model) int64 {
	var n int64
	for _, w := range m.Weights() {
		if strings.HasPrefix(w.Name, "blk.") {
			n += int64(len(w.Matrix.Data))
		}
	}
	return n
}

// Quality is one trained model's validation loss, and where the figure comes
// from.
type Quality struct {
	Name   string
	Params float64 // parameters, all of them
	Loss   float64 // validation loss, nats per token (perplexity = e^Loss)
	Source string
}

// BuiltinQuality is the built-in model's training report (model/train
// README, `bitrepl train report`): the same architecture (dim 256, 6
// layers, 5.78 M parameters of which 4.72 M in the layers), the same 4.1 M
// training tokens and recipe, scored on the same 125,184 validation tokens;
// the only difference is the quantization. Measured here.
var BuiltinQuality = []Quality{
	{"ternary b1.58", 5.78e6, 4.3224, "measured here (bitrepl train report)"},
	{"full precision", 5.78e6, 4.4841, "measured here (bitrepl train report)"},
}

// Point is one labelled point of a scatter plot; Series picks its colour.
type Point struct {
	Label  string
	X, Y   float64
	Series int
}

// Scatter draws labelled points, one colour per series (named in legend,
// by series index, in the corner given by legendLeft and legendTop).
func Scatter(title, xLabel, yLabel string, pts []Point, legend []string, legendLeft, legendTop bool) (*Figure, error) {
	if len(pts) == 0 {
		return nil, fmt.Errorf("notebook: %s: no points", title)
	}
	p := newPlot(title, xLabel, yLabel)
	addGrid(p)
	bySeries := map[int]plotter.XYs{}
	for _, q := range pts {
		bySeries[q.Series] = append(bySeries[q.Series], plotter.XY{X: q.X, Y: q.Y})
	}
	for s := 0; s <= maxSeries(pts); s++ {
		xy, ok := bySeries[s]
		if !ok {
			continue
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return nil, fmt.Errorf("notebook: %s: %w", title, err)
		}
		sc.GlyphStyle.Color = seriesColor(s)
		sc.GlyphStyle.Radius = vg.Points(4)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		if s < len(legend) {
			p.Legend.Add(legend[s], sc)
		}
	}
	// Labels of points that (nearly) coincide go one line below another.
	xr, yr := spread(pts, func(q Point) float64 { return q.X }), spread(pts, func(q Point) float64 { return q.Y })
	for i, q := range pts {
		line := 0
		for _, o := range pts[:i] {
			if math.Abs(o.X-q.X) <= 0.08*xr && math.Abs(o.Y-q.Y) <= 0.04*yr {
				line++
			}
		}
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: []plotter.XY{{X: q.X, Y: q.Y}}, Labels: []string{q.Label}})
		if err != nil {
			return nil, fmt.Errorf("notebook: %s: %w", title, err)
		}
		l.TextStyle[0].Font.Variant = "Sans"
		l.TextStyle[0].Font.Size = vg.Points(9)
		l.TextStyle[0].XAlign = draw.XLeft
		l.Offset = vg.Point{X: vg.Points(6), Y: vg.Points(-3 - 11*float64(line))}
		p.Add(l)
	}
	// room on the right for the last point's label
	lo, hi := p.X.Min, p.X.Max
	p.X.Min, p.X.Max = lo-0.05*(hi-lo+1e-9), hi+0.3*(hi-lo+1e-9)
	dy := p.Y.Max - p.Y.Min + 1e-9
	p.Y.Min, p.Y.Max = p.Y.Min-0.08*dy, p.Y.Max+0.08*dy
	p.Legend.Left, p.Legend.Top = legendLeft, legendTop
	p.X.Tick.Marker, p.Y.Tick.Marker = exactTicks{}, exactTicks{}
	return render(p, 6.5*vg.Inch, 4*vg.Inch)
}

// spread is the range of f over pts (1 when they all agree).
func spread(pts []Point, f func(Point) float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		lo, hi = min(lo, f(q)), max(hi, f(q))
	}
	if hi > lo {
		return hi - lo
	}
	return 1
}

func maxSeries(pts []Point) int {
	m := 0
	for _, q := range pts {
		m = max(m, q.Series)
	}
	return m
}

// exactTicks are gonum's default ticks labelled with every digit they need
// (the default label of 4.32 can read "4.3").
type exactTicks struct{}

func (exactTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}
