package inspect

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/safetensors"
)

// x = [1 -2 3 -4]: mean -0.5, E[x²] 7.5, std sqrt(7.25), absmax 4; sorted -4 -2 1 3,
// p50 = (-2+1)/2 = -0.5, p1 = -4 + 0.03*2 = -3.94, p99 = 1 + 0.97*2 = 2.94.
func TestActivationsHandComputed(t *testing.T) {
	a := Activations("ffn_norm", 2, 5, []float32{1, -2, 3, -4}, false)
	if a.N != 4 || !near(a.Mean, -0.5) || !near(a.Std, math.Sqrt(7.25)) || a.AbsMax != 4 {
		t.Errorf("%+v", a)
	}
	if !near(a.P50, -0.5) || !near(a.P1, -3.94) || !near(a.P99, 2.94) {
		t.Errorf("percentiles %v %v %v", a.P1, a.P50, a.P99)
	}
	if !math.IsNaN(a.SQNR) || len(a.Outliers) != 0 {
		t.Errorf("SQNR %v outliers %v", a.SQNR, a.Outliers)
	}
	// one channel far out: 63 zeros... and a 100 at channel 9 (std ≈ 12.4 < 100/6)
	x := make([]float32, 64)
	x[9] = 100
	x[3] = 1
	a = Activations("residual", 0, 0, x, false)
	if !reflect.DeepEqual(a.Outliers, []int{9}) {
		t.Errorf("outliers %v (std %v)", a.Outliers, a.Std)
	}
}

// Values on the int8 grid quantize exactly: SQNR +Inf. [127, 0.5]: s = 1, 0.5 rounds
// half to even to 0, error 0.5: SQNR = 10 log10((127²+0.25)/0.25).
func TestQuantSQNR(t *testing.T) {
	if q := QuantSQNR([]float32{127, -64, 1, 0}); !math.IsInf(q, 1) {
		t.Errorf("exact grid: %v", q)
	}
	want := 10 * math.Log10((127*127+0.25)/0.25)
	if q := QuantSQNR([]float32{127, 0.5}); !near(q, want) {
		t.Errorf("SQNR %v, want %v", q, want)
	}
	if a := Activations("attn_norm", 0, 0, []float32{127, 0.5}, true); !near(a.SQNR, want) {
		t.Errorf("Activations SQNR %v", a.SQNR)
	}
}

// logits [0, ln 2, ln 3] (shifted): probabilities 1/6, 2/6, 3/6.
func TestLogitsHandComputed(t *testing.T) {
	l := []float32{5, 5 + float32(math.Log(2)), 5 + float32(math.Log(3))}
	st := Logits(4, l, 2, 1, func(id int32) string { return string(rune('a' + id)) })
	wantH := -(1.0/6*math.Log(1.0/6) + 2.0/6*math.Log(2.0/6) + 3.0/6*math.Log(3.0/6))
	if !near(st.Entropy, wantH) || !near(st.Prob, 2.0/6) || st.Chosen != 1 {
		t.Errorf("%+v (entropy want %v)", st, wantH)
	}
	if len(st.Top) != 2 || st.Top[0].ID != 2 || st.Top[1].ID != 1 || !near(st.Top[0].Prob, 0.5) || st.Top[0].Text != "c" {
		t.Errorf("top %+v", st.Top)
	}
	// ties keep the lower id first; k larger than the vocabulary
	st = Logits(0, []float32{1, 3, 3, 0}, 10, -1, nil)
	var ids []int32
	for _, c := range st.Top {
		ids = append(ids, c.ID)
	}
	if !reflect.DeepEqual(ids, []int32{1, 2, 0, 3}) || !math.IsNaN(st.Prob) {
		t.Errorf("order %v prob %v", ids, st.Prob)
	}
}

func TestSummarize(t *testing.T) {
	stats := []ActStats{
		{Site: "attn_norm", Layer: 0, Std: 1, AbsMax: 2, SQNR: 30, Outliers: []int{5, 7}},
		{Site: "attn_norm", Layer: 0, Std: 3, AbsMax: 6, SQNR: 40, Outliers: []int{7}},
		{Site: "residual", Layer: 0, Std: 2, AbsMax: 1, SQNR: math.NaN()},
	}
	s := Summarize(stats)
	if len(s) != 2 || s[0].Site != "attn_norm" || s[0].Tokens != 2 || s[0].MeanStd != 2 || s[0].MeanAbs != 4 || s[0].MaxAbs != 6 ||
		s[0].MeanSQNR != 35 || s[0].MinSQNR != 30 || !reflect.DeepEqual(s[0].TopOutliers, []int{7, 5}) {
		t.Errorf("%+v", s[0])
	}
	if !math.IsNaN(s[1].MeanSQNR) {
		t.Errorf("residual SQNR %v", s[1].MeanSQNR)
	}
}

// fakeForward drives a Recorder like a session would.
func TestRecorderFiltersAndKeeps(t *testing.T) {
	r := &Recorder{Sites: []model.Site{model.SiteFFNNorm}, Layers: []int{1}, Keep: []model.Site{model.SiteResidual, model.SiteAttnWeights}}
	if r.Want(model.SiteFFNNorm, 0) || !r.Want(model.SiteFFNNorm, 1) || !r.Want(model.SiteResidual, 1) || r.Want(model.SiteAttnQ, 1) {
		t.Error("Want ignores the filters")
	}
	if r.Want(model.SiteLogits, -1) {
		t.Error("logits are neither recorded nor kept")
	}
	for pos := 0; pos < 3; pos++ {
		r.Observe(model.SiteFFNNorm, 1, pos, []float32{1, 2})
		data := []float32{float32(pos), 0, 1, 2}
		r.Observe(model.SiteResidual, 1, pos, data)
		data[0] = 99 // the recorder copied it
		// 2 heads over pos+1 keys
		att := make([]float32, 2*(pos+1))
		for i := range att {
			att[i] = float32(i)
		}
		r.Observe(model.SiteAttnWeights, 1, pos, att)
	}
	if len(r.Stats) != 3 || r.Stats[2].Pos != 2 || r.Stats[0].Site != "ffn_norm" {
		t.Errorf("stats %+v", r.Stats)
	}
	if v, ok := r.Values(model.SiteResidual, 1, 2); !ok || v[0] != 2 {
		t.Errorf("kept %v %v", v, ok)
	}
	pos, rows, err := r.Attention(1, 1)
	if err != nil || !reflect.DeepEqual(pos, []int{0, 1, 2}) || !reflect.DeepEqual(rows[2], []float32{3, 4, 5}) || !reflect.DeepEqual(rows[0], []float32{1}) {
		t.Errorf("attention %v %v %v", pos, rows, err)
	}
	if _, _, err := r.Attention(1, 2); err == nil {
		t.Error("head 2 of 2 accepted")
	}
	ts, err := r.HiddenStates(model.SiteResidual)
	if err != nil || len(ts) != 1 || ts[0].Name != "residual.1" || !reflect.DeepEqual(ts[0].Shape, []int64{3, 4}) {
		t.Fatalf("%+v %v", ts, err)
	}
	if v := math.Float32frombits(binary.LittleEndian.Uint32(ts[0].Data[4*4:])); v != 1 {
		t.Errorf("row 1 starts with %v", v)
	}
	r.Reset()
	if len(r.Stats) != 0 || len(r.Positions(model.SiteResidual, 1)) != 0 {
		t.Error("Reset kept data")
	}
}

// A byte-exact .npy header, as numpy.save writes it for a (2, 3) float32 array.
func TestWriteNPY(t *testing.T) {
	var b bytes.Buffer
	if err := WriteNPY(&b, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}); err != nil {
		t.Fatal(err)
	}
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	if !bytes.HasPrefix(b.Bytes(), []byte("\x93NUMPY\x01\x00")) || !bytes.Contains(b.Bytes(), []byte(hdr)) {
		t.Fatalf("header %q", b.Bytes()[:80])
	}
	n := int(binary.LittleEndian.Uint16(b.Bytes()[8:]))
	if (10+n)%64 != 0 || b.Bytes()[10+n-1] != '\n' || b.Len() != 10+n+24 {
		t.Errorf("header length %d, total %d", n, b.Len())
	}
	if math.Float32frombits(binary.LittleEndian.Uint32(b.Bytes()[10+n+20:])) != 6 {
		t.Error("data")
	}
	if err := WriteNPY(&b, []int{4}, []float32{1}); err == nil {
		t.Error("shape mismatch accepted")
	}
}

func TestExportHiddenStates(t *testing.T) {
	r := &Recorder{Sites: []model.Site{}, Keep: []model.Site{model.SiteAttnNorm}}
	for l := 0; l < 2; l++ {
		for p := 0; p < 2; p++ {
			r.Observe(model.SiteAttnNorm, l, p, []float32{float32(10*l + p), 1})
		}
	}
	dir := t.TempDir()
	st := filepath.Join(dir, "h.safetensors")
	if err := r.ExportHiddenStates(model.SiteAttnNorm, st); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ten, ok := f.Tensor("attn_norm.1")
	if !ok {
		t.Fatalf("tensors %v", f.Names())
	}
	v, err := ten.Float32s()
	if err != nil || !reflect.DeepEqual(v, []float32{10, 1, 11, 1}) {
		t.Errorf("attn_norm.1 = %v %v", v, err)
	}
	// .npy: one array (layers, positions, width), 128 bytes of header
	npy := filepath.Join(dir, "h.npy")
	if err := r.ExportHiddenStates(model.SiteAttnNorm, npy); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(npy)
	if err != nil || len(b) != 128+2*2*2*4 || !bytes.Contains(b[:128], []byte("'shape': (2, 2, 2)")) {
		t.Errorf("npy: %d bytes, header %q, %v", len(b), b[:min(len(b), 128)], err)
	}
	if fi, err := os.Stat(npy); err != nil || fi.Mode().Perm() != 0o644 || !fi.Mode().IsRegular() {
		t.Errorf("npy: %v %v, want a 0644 file", fi, err)
	}
	// any other extension is refused, naming what is accepted, and writes nothing
	for _, name := range []string{"npy", "h.txt", "h.json"} {
		p := filepath.Join(dir, name)
		err := r.ExportHiddenStates(model.SiteAttnNorm, p)
		if err == nil || !strings.Contains(err.Error(), ".npy or .safetensors") {
			t.Errorf("%s: error %v, want one listing .npy or .safetensors", name, err)
		}
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was written", name)
		}
	}
	if err := r.ExportHiddenStates(model.SiteFFNUp, st); err == nil {
		t.Error("exporting an unrecorded site succeeded")
	}
}
