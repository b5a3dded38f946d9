package notebook

import (
	"context"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

func TestMeasureSpeed(t *testing.T) {
	// every projection 256 wide: the TQ types pack rows in blocks of 256
	cfg := testConfig()
	cfg.Dim, cfg.FFNDim, cfg.HeadDim, cfg.Layers = 256, 256, 64, 2
	m, err := model.Random(cfg, 7, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := MeasureSpeed(context.Background(), m, t.TempDir(), LayerTypes, cpu.F16, 2, model.BenchOptions{Prompt: 4, Gen: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != len(LayerTypes) {
		t.Fatalf("%d points for %d types", len(pts), len(LayerTypes))
	}
	by := map[cpu.DType]SpeedPoint{}
	for i, p := range pts {
		if p.Type != LayerTypes[i] {
			t.Errorf("point %d is %v, want %v", i, p.Type, LayerTypes[i])
		}
		if !(p.PPMin <= p.PP && p.PP <= p.PPMax && p.PPMin > 0 && p.TGMin <= p.TG && p.TG <= p.TGMax && p.TGMin > 0) {
			t.Errorf("%v: pp %v (%v-%v), tg %v (%v-%v)", p.Type, p.PP, p.PPMin, p.PPMax, p.TG, p.TGMin, p.TGMax)
		}
		by[p.Type] = p
	}
	// 2 layers of 2*256*256 + 2*128*256 + 3*256*256 weights
	n := int64(2 * (2*256*256 + 2*128*256 + 3*256*256))
	for typ, bits := range map[cpu.DType]float64{cpu.TQ2_0: 66 * 8 / 256.0, cpu.Q4_0: 4.5, cpu.Q8_0: 8.5, cpu.F16: 16} {
		if want := int64(float64(n) * bits / 8); by[typ].LayerBytes != want {
			t.Errorf("%v: %d layer bytes, want %d", typ, by[typ].LayerBytes, want)
		}
	}
	order := []cpu.DType{cpu.TQ1_S, cpu.TQ1_0, cpu.TQ2_0, cpu.Q4_0, cpu.Q8_0, cpu.F16}
	for i := 1; i < len(order); i++ {
		if by[order[i-1]].FileBytes >= by[order[i]].FileBytes {
			t.Errorf("%v file (%d bytes) is not smaller than %v (%d)", order[i-1], by[order[i-1]].FileBytes, order[i], by[order[i]].FileBytes)
		}
	}
	if _, err := MeasureSpeed(context.Background(), m, t.TempDir(), nil, cpu.F16, 1, model.BenchOptions{Gen: 1}); err == nil {
		t.Error("no types: no error")
	}
}

func TestScatter(t *testing.T) {
	pts := []Point{{"TQ2_0", 3.5, 4.32, 0}, {"F16", 11.6, 4.48, 1}, {"Q8_0", 6.2, 4.49, 1}}
	fig, err := Scatter("bytes against loss", "MB", "loss", pts, []string{"ternary", "plain"}, false, true)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	for _, want := range []string{"TQ2_0", "F16", "Q8_0", "ternary", "plain", "bytes against loss"} {
		if !strings.Contains(svg, ">"+want+"<") {
			t.Errorf("the figure has no text %q", want)
		}
	}
	// one circle per point, plus one per legend entry
	if got := len(fills(svg, seriesColor(0))); got != 2 {
		t.Errorf("%d marks of series 0, want 2 (a point and its legend)", got)
	}
	if got := len(fills(svg, seriesColor(1))); got != 3 {
		t.Errorf("%d marks of series 1, want 3", got)
	}
	if _, err := Scatter("empty", "", "", nil, nil, false, true); err == nil {
		t.Error("no points: no error")
	}
}
