package inspect

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

func f32Matrix(t *testing.T, rows, cols int, v []float32) *cpu.Matrix {
	t.Helper()
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	m, err := cpu.NewMatrix(cpu.F32, rows, cols, b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ternaryMatrix(t *testing.T, typ cpu.DType, rows, cols int, codes []int8, scale float32) *cpu.Matrix {
	t.Helper()
	b, err := cpu.PackTernary(typ, codes, rows, cols, scale)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cpu.NewMatrix(typ, rows, cols, b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-4*math.Max(1, math.Abs(b)) }

// A 2x3 float matrix, every number computed by hand.
func TestWeightsFloat(t *testing.T) {
	m := f32Matrix(t, 2, 3, []float32{1, -2, 0, 0, 0, 3})
	st, err := Weights("output.weight", m, nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	if st.Neg != 1 || st.Zero != 3 || st.Pos != 2 || st.Invalid != 0 {
		t.Errorf("counts -1/0/+1/invalid = %d/%d/%d/%d, want 1/3/2/0", st.Neg, st.Zero, st.Pos, st.Invalid)
	}
	// mean 2/6; E[x²] 14/6; std sqrt(14/6 - 1/9)
	if !near(st.Mean, 1.0/3) || !near(st.Std, math.Sqrt(14.0/6-1.0/9)) || st.AbsMax != 3 {
		t.Errorf("mean/std/absmax = %v/%v/%v", st.Mean, st.Std, st.AbsMax)
	}
	if st.MagMin != 1 || st.MagMean != 2 || st.MagMax != 3 || st.Scale != 1 {
		t.Errorf("|w| min/mean/max = %v/%v/%v scale %v", st.MagMin, st.MagMean, st.MagMax, st.Scale)
	}
	// rows: 1/3 and 2/3 zeros; columns: 1/2 each
	if want := []int64{0, 1, 1, 0}; !reflect.DeepEqual(st.RowSparsity.Counts, want) {
		t.Errorf("row sparsity %v, want %v", st.RowSparsity.Counts, want)
	}
	if want := []int64{0, 0, 3, 0}; !reflect.DeepEqual(st.ColSparsity.Counts, want) {
		t.Errorf("column sparsity %v, want %v", st.ColSparsity.Counts, want)
	}
	if st.Layer() != -1 {
		t.Errorf("layer %d", st.Layer())
	}
}

// An I2_S 2x128 matrix: row 0 cycles -1,0,+1; row 1 is +1 in its first 10 columns.
func TestWeightsI2S(t *testing.T) {
	codes := make([]int8, 256)
	for j := 0; j < 128; j++ {
		codes[j] = int8(j%3 - 1)
	}
	for j := 0; j < 10; j++ {
		codes[128+j] = 1
	}
	m := ternaryMatrix(t, cpu.I2_S, 2, 128, codes, 0.5)
	st, err := Weights("blk.3.ffn_up.weight", m, nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	// row 0: 43 × -1 (j%3==0), 43 × 0, 42 × +1; row 1: 10 × +1, 118 × 0
	if st.Neg != 43 || st.Zero != 161 || st.Pos != 52 {
		t.Errorf("counts -1/0/+1 = %d/%d/%d, want 43/161/52", st.Neg, st.Zero, st.Pos)
	}
	if st.Scale != 0.5 || st.MagMin != 0.5 || st.MagMax != 0.5 || st.MagMean != 0.5 {
		t.Errorf("scale %v, |w| %v/%v/%v, want all 0.5", st.Scale, st.MagMin, st.MagMean, st.MagMax)
	}
	// row zero shares 43/128 (bin 1) and 118/128 (bin 3)
	if want := []int64{0, 1, 0, 1}; !reflect.DeepEqual(st.RowSparsity.Counts, want) {
		t.Errorf("row sparsity %v, want %v", st.RowSparsity.Counts, want)
	}
	// columns 0-9: 0 zeros (7) or 1 of 2 (j=1,4,7); columns 10-127: 1 of 2 (78) or 2 of 2 (j%3==1: 40)
	if want := []int64{7, 0, 81, 40}; !reflect.DeepEqual(st.ColSparsity.Counts, want) {
		t.Errorf("column sparsity %v, want %v", st.ColSparsity.Counts, want)
	}
	if st.Layer() != 3 {
		t.Errorf("layer %d", st.Layer())
	}
	if s := st.String(); !strings.Contains(s, "blk.3.ffn_up.weight") || !strings.Contains(s, "0  62.9%") {
		t.Errorf("String() = %q", s)
	}
}

// TQ2_0 1x256 with d = 2: 64 × -1 then 192 × +1; mean (192-64)*2/256 = 1, E[x²] = 4.
func TestWeightsTQ2(t *testing.T) {
	codes := make([]int8, 256)
	for j := range codes {
		codes[j] = 1
		if j < 64 {
			codes[j] = -1
		}
	}
	st, err := Weights("blk.0.attn_q.weight", ternaryMatrix(t, cpu.TQ2_0, 1, 256, codes, 2), nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Neg != 64 || st.Zero != 0 || st.Pos != 192 || !near(st.Mean, 1) || !near(st.Std, math.Sqrt(3)) || st.MagMean != 2 {
		t.Errorf("got %+v", st)
	}
}

func TestTernarise(t *testing.T) {
	// mean|w| = 2; 1/2 = 0.5 rounds half to even (0); -5/2 = -2.5 -> -2 -> clamp -1
	codes, scale := Ternarise([]float32{1, 1, 1, -5})
	if scale != 2 || !reflect.DeepEqual(codes, []int8{0, 0, 0, -1}) {
		t.Errorf("codes %v scale %v", codes, scale)
	}
	// all zero: the scale is clamped to 1e-5
	if codes, scale := Ternarise([]float32{0, 0}); scale != 1e-5 || codes[0] != 0 {
		t.Errorf("zeros: codes %v scale %v", codes, scale)
	}
}

// Latent weights [0.5 -1.5 0.1 0 2 -0.3]: mean|W| = 4.4/6, codes [1 -1 0 0 1 0],
// ||W||² = 6.6, ||W - Wq·s||² = 2.346667 (computed by hand).
func TestWeightsLatent(t *testing.T) {
	latent := []float32{0.5, -1.5, 0.1, 0, 2, -0.3}
	m := f32Matrix(t, 2, 3, latent)
	st, err := Weights("blk.1.attn_k.weight", m, latent, 4)
	if err != nil {
		t.Fatal(err)
	}
	l := st.Latent
	if l == nil {
		t.Fatal("no latent stats")
	}
	if !near(l.MeanAbs, 4.4/6) || l.Neg != 1 || l.Zero != 3 || l.Pos != 2 {
		t.Errorf("latent %+v", l)
	}
	if !near(l.RelErr, math.Sqrt(2.346667/6.6)) || !near(l.SQNR, 10*math.Log10(6.6/2.346667)) || !math.IsNaN(l.Agree) {
		t.Errorf("rel.err %v SQNR %v agree %v", l.RelErr, l.SQNR, l.Agree)
	}
	if _, err := Weights("x", m, latent[:5], 4); err == nil {
		t.Error("wrong latent length accepted")
	}
}

// Latent weights that ternarise to the stored codes agree fully; one flipped sign costs 1/256.
func TestLatentAgree(t *testing.T) {
	codes := make([]int8, 256)
	latent := make([]float32, 256)
	for j := range codes {
		codes[j] = int8(j%3 - 1)
		latent[j] = 0.7 * float32(codes[j])
	}
	m := ternaryMatrix(t, cpu.I2_S, 2, 128, codes, 1)
	st, err := Weights("w", m, latent, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Latent.Agree != 1 {
		t.Errorf("agree %v, want 1", st.Latent.Agree)
	}
	latent[0] = -latent[0]
	latent[2] = 0.7 // was +0.7 already: no change
	st, _ = Weights("w", m, latent, 2)
	if !near(st.Latent.Agree, 255.0/256) {
		t.Errorf("agree %v, want 255/256", st.Latent.Agree)
	}
}

func TestLayers(t *testing.T) {
	ts := []TensorStats{
		{Name: "token_embd.weight", Type: cpu.F16, Rows: 2, Cols: 2, Neg: 1, Zero: 1, Pos: 2},
		{Name: "blk.0.attn_q.weight", Type: cpu.I2_S, Rows: 1, Cols: 4, Neg: 1, Zero: 2, Pos: 1, Latent: &LatentStats{RelErr: 0.2}},
		{Name: "blk.0.attn_k.weight", Type: cpu.TQ2_0, Rows: 1, Cols: 4, Neg: 2, Zero: 2, Latent: &LatentStats{RelErr: 0.4}},
		{Name: "blk.10.ffn_up.weight", Type: cpu.TQ1_0, Rows: 2, Cols: 2, Zero: 4},
		{Name: "blk.10.ffn_down.weight", Type: cpu.F32, Rows: 2, Cols: 2, Neg: 4},
	}
	ls := Layers(ts)
	if len(ls) != 3 || ls[0].Layer != -1 || ls[1].Layer != 0 || ls[2].Layer != 10 {
		t.Fatalf("layers %+v", ls)
	}
	if l := ls[1]; l.Tensors != 2 || l.Params != 8 || l.Neg != 3 || l.Zero != 4 || l.Pos != 1 || !near(l.MeanRelErr, 0.3) || l.ZeroShare() != 0.5 {
		t.Errorf("blk.0 %+v", l)
	}
	// a float tensor counts in Params, not in the ternary shares
	if l := ls[2]; !math.IsNaN(l.MeanRelErr) || l.ZeroShare() != 1 || l.Params != 8 || l.FloatParams != 4 || l.Neg != 0 {
		t.Errorf("blk.10 %+v", l)
	}
	if l := ls[0]; l.FloatParams != 4 || l.Neg+l.Zero+l.Pos != 0 || strings.Contains(l.String(), "-1") {
		t.Errorf("other %+v %q", l, l.String())
	}
	if s := ls[1].String(); !strings.Contains(s, "blk.0") || !strings.Contains(s, "rel.err 0.3000") {
		t.Errorf("String() = %q", s)
	}
}

func TestHistogram(t *testing.T) {
	h := NewHistogram(0, 1, 4)
	for _, x := range []float64{-1, 0, 0.24, 0.25, 0.99, 1, 2} {
		h.Add(x)
	}
	if want := []int64{3, 1, 0, 3}; !reflect.DeepEqual(h.Counts, want) || h.Total() != 7 {
		t.Errorf("counts %v", h.Counts)
	}
	if lo, hi := h.Bin(1); lo != 0.25 || hi != 0.5 {
		t.Errorf("bin 1 = [%v,%v)", lo, hi)
	}
}

// The reserved I2_S code 3 reads as +2: counted as invalid, valued 2*scale.
func TestWeightsInvalidCode(t *testing.T) {
	data := make([]byte, 128/4+32)
	for i := 0; i < 32; i++ {
		data[i] = 0x55 // four zeros
	}
	data[0] = 0xD5 // x[0] = code 3, x[32], x[64], x[96] = 0
	binary.LittleEndian.PutUint32(data[32:], math.Float32bits(0.25))
	m, err := cpu.NewMatrix(cpu.I2_S, 1, 128, data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Weights("bad", m, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Invalid != 1 || st.Zero != 127 || st.Neg+st.Pos != 0 || st.AbsMax != 0.5 || !near(st.Mean, 0.5/128) || st.MagMean != 0.5 {
		t.Errorf("%+v", st)
	}
	if !strings.Contains(st.String(), "INVALID 1") {
		t.Errorf("String() = %q", st.String())
	}
}

// TQ1_0 1x256 with d = 0.5: codes cycle +1, 0, -1; 86 + 85 + 85.
func TestWeightsTQ1(t *testing.T) {
	codes := make([]int8, 256)
	for j := range codes {
		codes[j] = int8(1 - j%3)
	}
	st, err := Weights("t", ternaryMatrix(t, cpu.TQ1_0, 1, 256, codes, 0.5), nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pos != 86 || st.Zero != 85 || st.Neg != 85 || st.MagMin != 0.5 || st.MagMax != 0.5 || !near(st.Mean, 0.5/256) {
		t.Errorf("%+v", st)
	}
}
