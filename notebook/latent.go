package notebook

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/train"
)

// Latent is one tensor of latent weights: the full-precision weights that
// quantization-aware training keeps and ternarises in every forward pass.
type Latent struct {
	Name       string    // GGUF name, e.g. "blk.0.ffn_up.weight"
	Rows, Cols int       // outputs x inputs
	Values     []float32 // rows*cols, row-major
}

// Distinct counts the distinct values of l: a handful when the latent
// weights were rebuilt from ternary codes (model.Save with Latent: true
// writes code·s/p), nearly one per weight for trained ones.
func (l Latent) Distinct() int {
	seen := make(map[float32]struct{}, len(l.Values))
	for _, v := range l.Values {
		seen[v] = struct{}{}
	}
	return len(seen)
}

// WeightLatent returns the latent weights a file held for w (a 1bitLLM-style
// safetensors checkpoint, or one written by model.Save with Latent: true).
func WeightLatent(w model.Weight) (Latent, error) {
	v, err := w.Latent()
	if err != nil {
		return Latent{}, fmt.Errorf("notebook: %w", err)
	}
	m := w.Matrix
	// the loader pads some widths to whole blocks; the latent tensor is not padded
	if m.Rows == 0 || len(v)%m.Rows != 0 || len(v)/m.Rows > m.Cols {
		return Latent{}, fmt.Errorf("notebook: %s: %d latent weights for a %dx%d matrix", w.Name, len(v), m.Rows, m.Cols)
	}
	return Latent{Name: w.Name, Rows: m.Rows, Cols: len(v) / m.Rows, Values: v}, nil
}

// TrainerLatents returns the latent weights of the BitLinear projections of a
// model being trained by model/train, in file order (blk.0.attn_q … the last
// block's ffn_down). The values are the trainer's own: they change as it
// trains.
func TrainerLatents(t *train.Trainer) []Latent {
	// Trainer.Params is laid out as model/train's layout() writes it: the
	// embedding, then per block attn_norm, q, k, v, attn_sub_norm, output,
	// ffn_norm, gate, up, ffn_sub_norm, down, then output_norm.
	// TestTrainerLatents checks this against the model the trainer builds.
	c := t.Cfg.Model
	params := t.Params()
	d, f, kvd := c.Dim, c.FFN, c.KVHeads*c.HeadDim()
	var out []Latent
	off := c.Vocab * d
	for l := range c.Layers {
		for _, ten := range []struct {
			name       string
			rows, cols int
			linear     bool
		}{{"attn_norm", 1, d, false}, {"attn_q", d, d, true}, {"attn_k", kvd, d, true}, {"attn_v", kvd, d, true},
			{"attn_sub_norm", 1, d, false}, {"attn_output", d, d, true}, {"ffn_norm", 1, d, false},
			{"ffn_gate", f, d, true}, {"ffn_up", f, d, true}, {"ffn_sub_norm", 1, f, false}, {"ffn_down", d, f, true}} {
			n := ten.rows * ten.cols
			if ten.linear {
				name := fmt.Sprintf("blk.%d.%s.weight", l, ten.name)
				out = append(out, Latent{Name: name, Rows: ten.rows, Cols: ten.cols, Values: params[off : off+n : off+n]})
			}
			off += n
		}
	}
	return out
}

// LatentVsTernary shows a block of latent weights beside the ternary codes
// BitNet's absmean rule makes of them (round(W / mean|W|), clipped to ±1:
// what the engine runs), and the histogram of all the tensor's latent values
// with the rounding thresholds ±mean|W|/2. Latent colours run from red
// (-2 mean|W|) through white to blue (+2 mean|W|).
func LatentVsTernary(l Latent, row0, col0, rows, cols int) (*Figure, error) {
	if len(l.Values) != l.Rows*l.Cols || l.Rows <= 0 {
		return nil, fmt.Errorf("notebook: %s: %d latent weights for %dx%d", l.Name, len(l.Values), l.Rows, l.Cols)
	}
	if rows <= 0 || cols <= 0 || row0 < 0 || col0 < 0 || row0+rows > l.Rows || col0+cols > l.Cols {
		return nil, fmt.Errorf("notebook: block %dx%d at (%d,%d) is outside the %dx%d latent tensor %s", rows, cols, row0, col0, l.Rows, l.Cols, l.Name)
	}
	all, scale := inspect.Ternarise(l.Values)
	codes := make([]int8, rows*cols)
	for r := range rows {
		copy(codes[r*cols:], all[(row0+r)*l.Cols+col0:][:cols])
	}
	img := cellImage(rows, cols, cellPixels(rows, cols), func(r, c int) color.RGBA {
		return diverging(float64(l.Values[(row0+r)*l.Cols+col0+c]) / (2 * scale))
	})
	left := heatPlot(shortName(l.Name)+": latent", img, rows, cols)
	left.X.Tick.Marker = indexTicks(cols, col0, false)
	left.Y.Tick.Marker = indexTicks(rows, row0, true)
	left.X.Label.Text, left.Y.Label.Text = "column (input)", "row (output)"
	mid := codePlot(fmt.Sprintf("ternary (scale %.3g)", scale), codes, row0, col0, rows, cols)
	mid.Y.Label.Text = ""

	vals := make(plotter.Values, len(l.Values))
	for i, v := range l.Values {
		vals[i] = float64(v)
	}
	right := newPlot("all latent weights", "value", "count")
	h, err := plotter.NewHist(vals, 60)
	if err != nil {
		return nil, fmt.Errorf("notebook: %s: %w", l.Name, err)
	}
	h.FillColor = color.Gray{0x99}
	h.LineStyle.Width = 0
	right.Add(h)
	top := maxBin(h)
	right.Y.Min, right.Y.Max = 0, top*1.06
	for _, x := range []float64{-scale / 2, scale / 2} {
		line, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: top * 1.06}})
		if err != nil {
			return nil, err
		}
		line.Color = color.Black
		line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		right.Add(line)
	}
	cl := cellLength(rows, cols, 4*vg.Inch)
	pw, ph := vg.Length(cols)*cl+vg.Inch, vg.Length(rows)*cl+vg.Inch
	return renderGrid(shortName(l.Name)+": latent vs ternary", [][]*plot.Plot{{left, mid, right}}, 3*pw, max(ph, 3*vg.Inch))
}
