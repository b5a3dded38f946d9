package notebook

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

// codeColors are the expected colours of -1, 0, +1.
var codeColors = [3]color.RGBA{ColorNeg, ColorZero, ColorPos}

func blockStats(t *testing.T, m *model.Model, prefix string) []inspect.TensorStats {
	t.Helper()
	ts, err := inspect.WeightStats(m, 8, func(name string) bool { return strings.HasPrefix(name, prefix) })
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// checkCodeBars checks groups of three bars (-1, 0, +1) whose heights are
// proportional to the shares in want, plus one legend swatch per colour.
func checkCodeBars(t *testing.T, svg string, want [][3]float64) {
	t.Helper()
	checkSVG(t, svg)
	unit := math.NaN() // SVG points per percent
	width := fills(svg, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF})[0].maxX
	for k, c := range []color.RGBA{ColorNeg, ColorZero, ColorPos} {
		got := fills(svg, c)
		if len(got) != len(want)+1 {
			t.Fatalf("colour %s: %d filled paths, want %d bars and a legend swatch", hexColor(c), len(got), len(want))
		}
		if last := got[len(want)-1]; last.maxX > width-4 {
			t.Errorf("colour %s: the last bar ends at %.1f, the figure at %.1f", hexColor(c), last.maxX, width)
		}
		for i, w := range want {
			h := got[i].maxY - got[i].minY
			if w[k] < 1 {
				continue
			}
			if math.IsNaN(unit) {
				unit = h / w[k]
			}
			if math.Abs(h/w[k]-unit) > 0.01*unit {
				t.Errorf("bar %d colour %s: height %.2f for %.2f%%, other bars have %.3f per %%", i, hexColor(c), h, w[k], unit)
			}
			if i > 0 && got[i].minX <= got[i-1].minX {
				t.Errorf("bar %d colour %s is not right of bar %d", i, hexColor(c), i-1)
			}
		}
	}
}

func TestTernaryCounts(t *testing.T) {
	m := randomModel(t)
	ts := blockStats(t, m, "blk.0.")
	if len(ts) != 7 {
		t.Fatalf("%d tensors in blk.0", len(ts))
	}
	fig, err := TernaryCounts("blk.0", ts)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "ternary_counts.svg", string(svg))
	want := make([][3]float64, len(ts))
	for i := range ts {
		n, z, p := ts[i].Share()
		want[i] = [3]float64{100 * n, 100 * z, 100 * p}
		if !hasText(svg, "blk.0.attn_q") || !hasText(svg, shortName(ts[i].Name)) {
			t.Errorf("no label %q", shortName(ts[i].Name))
		}
	}
	checkCodeBars(t, svg, want)
	if _, err := TernaryCounts("none", nil); err == nil {
		t.Error("no error without tensors")
	}
}

func TestLayerTernary(t *testing.T) {
	m := randomModel(t)
	ls := inspect.Layers(blockStats(t, m, "blk."))
	if len(ls) != 3 {
		t.Fatalf("%d layers", len(ls))
	}
	fig, err := LayerTernary("layers", ls)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "layer_ternary.svg", string(svg))
	want := make([][3]float64, len(ls))
	for i, l := range ls {
		n := float64(l.Params)
		want[i] = [3]float64{100 * float64(l.Neg) / n, 100 * float64(l.Zero) / n, 100 * float64(l.Pos) / n}
	}
	checkCodeBars(t, svg, want)
	for _, s := range []string{"0", "1", "2", "-1", "+1"} {
		if !hasText(svg, s) {
			t.Errorf("no text %q", s)
		}
	}
}

func TestSparsity(t *testing.T) {
	m := randomModel(t)
	ts := blockStats(t, m, "") // the embedding is skipped
	fig, err := Sparsity("zeros", ts)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "sparsity.svg", string(svg))
	checkSVG(t, svg)
	for i, proj := range []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"} {
		if !hasText(svg, proj) {
			t.Errorf("no legend entry %s", proj)
		}
		solid, _ := strokes(svg, seriesColor(i))
		lines := 0
		for _, d := range solid {
			if points(d) == 3 { // one vertex per layer
				lines++
			}
		}
		if lines != 1 {
			t.Errorf("%s: %d lines through 3 layers (paths %v)", proj, lines, solid)
		}
	}
	if _, err := Sparsity("x", blockStats(t, m, "token_embd")); err == nil {
		t.Error("no error without block tensors")
	}
}

func TestTernaryBlock(t *testing.T) {
	m := randomModel(t)
	w := m.Layers()[1].Down // 128 x 256
	const r0, c0, rows, cols = 5, 100, 16, 24
	fig, err := TernaryBlock("blk.1.ffn_down", w, r0, c0, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "ternary_block.svg", string(svg))
	checkSVG(t, svg)
	imgs := images(t, svg)
	if len(imgs) != 1 {
		t.Fatalf("%d images", len(imgs))
	}
	row := make([]int8, w.Cols)
	var counts [3]int
	for r := range rows {
		w.TernaryRow(row, r0+r)
		for c := range cols {
			code := row[c0+c]
			counts[code+1]++
			if got, want := cellColor(imgs[0], rows, cols, r, c), codeColors[code+1]; got != want {
				t.Fatalf("cell (%d,%d) code %d has colour %v, want %v", r, c, code, got, want)
			}
		}
	}
	if counts[0] == 0 || counts[1] == 0 || counts[2] == 0 {
		t.Errorf("block codes %v: the test needs all three", counts)
	}
	if !hasText(svg, "5") || !hasText(svg, "100") {
		t.Errorf("axes do not start at row 5, column 100: %v", texts(svg))
	}
	for _, bad := range [][4]int{{-1, 0, 4, 4}, {0, 250, 4, 8}, {120, 0, 9, 4}, {0, 0, 0, 4}} {
		if _, err := TernaryBlock("x", w, bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("block %v: no error", bad)
		}
	}
	if _, err := TernaryBlock("embedding", m.Embedding(), 0, 0, 4, 4); err == nil {
		t.Error("F32 matrix: no error")
	}
}

func TestLatentVsTernary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "latent")
	if err := randomModel(t).Save(dir, model.SaveOptions{Format: "safetensors", Embed: cpu.F32, Latent: true}); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var w model.Weight
	for _, x := range m.Weights() {
		if x.Name == "blk.2.attn_v.weight" {
			w = x
		}
	}
	if !w.HasLatent() {
		t.Fatal("reloaded model has no latent blk.2.attn_v")
	}
	l, err := WeightLatent(w)
	if err != nil {
		t.Fatal(err)
	}
	latent := l.Values
	if l.Name != w.Name || l.Rows != w.Matrix.Rows || l.Cols != w.Matrix.Cols {
		t.Fatalf("latent %s %dx%d for %s %dx%d", l.Name, l.Rows, l.Cols, w.Name, w.Matrix.Rows, w.Matrix.Cols)
	}
	if n := l.Distinct(); n > 5 {
		t.Errorf("latent weights rebuilt from codes take %d distinct values, want at most 5 (0, ±m, and the first nonzero one)", n)
	}
	const r0, c0, rows, cols = 3, 8, 12, 20
	fig, err := LatentVsTernary(l, r0, c0, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "latent.svg", string(svg))
	checkSVG(t, svg)
	imgs := images(t, svg)
	if len(imgs) != 2 {
		t.Fatalf("%d images, want latent and ternary", len(imgs))
	}
	row := make([]int8, w.Matrix.Cols)
	white := color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
	for r := range rows {
		w.Matrix.TernaryRow(row, r0+r)
		for c := range cols {
			code := row[c0+c]
			if got := cellColor(imgs[1], rows, cols, r, c); got != codeColors[code+1] {
				t.Fatalf("ternary cell (%d,%d): %v for code %d", r, c, got, code)
			}
			v := latent[(r0+r)*w.Matrix.Cols+c0+c]
			got := cellColor(imgs[0], rows, cols, r, c)
			switch {
			case v == 0 && got != white, v < 0 && !(got.R > got.B), v > 0 && !(got.B > got.R):
				t.Fatalf("latent cell (%d,%d) = %v has colour %v", r, c, v, got)
			}
			if (v > 0) != (code > 0) || (v < 0) != (code < 0) {
				t.Fatalf("latent %v and stored code %d disagree in sign", v, code)
			}
		}
	}
	if _, dashed := strokes(svg, color.RGBA{0, 0, 0, 0xFF}); len(dashed) != 2 {
		t.Errorf("%d dashed threshold lines, want 2", len(dashed))
	}
	if _, err := WeightLatent(randomModel(t).Weights()[1]); err == nil {
		t.Error("weight without latent: no error")
	}
	if _, err := LatentVsTernary(l, l.Rows-2, 0, 4, 4); err == nil {
		t.Error("block outside the tensor: no error")
	}
}

func TestTernaryBlockPNG(t *testing.T) {
	m := randomModel(t)
	w := m.Layers()[0].Gate
	const rows, cols = 20, 30
	fig, err := TernaryBlock("gate", w, 0, 0, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fig.PNG()
	if err != nil {
		t.Fatal(err)
	}
	dump(t, "ternary_block.png", string(b))
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	fw, fh := fig.Size()
	if got, want := img.Bounds().Size(), (image.Point{int(fw.Dots(PNGDPI) + 0.5), int(fh.Dots(PNGDPI) + 0.5)}); got != want {
		t.Errorf("PNG is %v pixels, want %v", got, want)
	}
	// The pixels of each code colour are proportional to the codes in the block.
	var codes [3]int
	row := make([]int8, w.Cols)
	for r := range rows {
		w.TernaryRow(row, r)
		for _, c := range row[:cols] {
			codes[c+1]++
		}
	}
	var pixels [3]int
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			c := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xFF}
			for k := range codeColors {
				if c == codeColors[k] {
					pixels[k]++
				}
			}
		}
	}
	total := pixels[0] + pixels[1] + pixels[2]
	for k := range 3 {
		got, want := float64(pixels[k])/float64(total), float64(codes[k])/float64(rows*cols)
		if math.Abs(got-want) > 0.02 {
			t.Errorf("code %d: %.3f of the coloured pixels, %.3f of the weights", k-1, got, want)
		}
	}
}
