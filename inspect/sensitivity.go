package inspect

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/bitrepl/bitrepl/model"
)

// Effect compares two runs' logits (one slice per position): the mean
// over positions of KL(p_base || p_edited) in nats, and the largest change
// of any logit.
type Effect struct {
	KL       float64
	MaxDelta float64
}

func (e Effect) String() string {
	return fmt.Sprintf("KL %.4g nats, max |Δlogit| %.4g", e.KL, e.MaxDelta)
}

// Compare measures how edited differs from base.
func Compare(base, edited [][]float32) Effect {
	var e Effect
	n := min(len(base), len(edited))
	for i := range n {
		lp, lq := logSoftmax(base[i]), logSoftmax(edited[i])
		var kl float64
		for j := range lp {
			kl += math.Exp(lp[j]) * (lp[j] - lq[j])
			e.MaxDelta = max(e.MaxDelta, math.Abs(float64(base[i][j])-float64(edited[i][j])))
		}
		e.KL += max(kl, 0) // rounding can leave a tiny negative sum
	}
	e.KL /= float64(max(n, 1))
	return e
}

// logSoftmax returns log p in float64 (no underflow for unlikely tokens).
func logSoftmax(x []float32) []float64 {
	top := float64(slices.Max(x))
	var z float64
	for _, v := range x {
		z += math.Exp(float64(v) - top)
	}
	lse := top + math.Log(z)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) - lse
	}
	return out
}

// RunEdited evaluates tokens on a fresh CPU session of m with the hooks set
// (nil: none) and returns the logits after every token.
func RunEdited(m *model.Model, tokens []int32, h *Hooks) ([][]float32, error) {
	s := m.NewSession(len(tokens))
	var hook model.Hook
	if h != nil {
		hook = h
	}
	return runWith(s, tokens, hook, func() error {
		if h != nil {
			return h.Err
		}
		return nil
	})
}

// Sensitivity is the effect of one edit of a matrix: of row Row (Col -1)
// or of the weight (Row, Col).
type Sensitivity struct {
	Row, Col int
	Effect
}

func (s Sensitivity) String() string {
	if s.Col < 0 {
		return fmt.Sprintf("row %-5d %v", s.Row, s.Effect)
	}
	return fmt.Sprintf("(%d, %d)  %v", s.Row, s.Col, s.Effect)
}

// RankRows flips (negates) each of rows (nil: every row) of projection p in
// layer, one at a time, evaluates tokens, and ranks the rows by the KL
// divergence of the next-token distributions from the unedited run, largest
// first (then by the largest logit change). One forward pass per row.
func RankRows(m *model.Model, tokens []int32, layer int, p Projection, rows []int) ([]Sensitivity, error) {
	return rank(m, tokens, layer, p, rows, nil)
}

// rankWeights flips each weight (row, c) of cols (nil: every column) in
// turn and ranks them as RankRows. Nothing but its test calls it yet:
// /sensitivity ranks rows.
func rankWeights(m *model.Model, tokens []int32, layer int, p Projection, row int, cols []int) ([]Sensitivity, error) {
	w, err := p.Matrix(m, layer)
	if err != nil {
		return nil, err
	}
	if cols == nil {
		for c := range w.Cols {
			cols = append(cols, c)
		}
	}
	return rank(m, tokens, layer, p, []int{row}, cols)
}

func rank(m *model.Model, tokens []int32, layer int, p Projection, rows, cols []int) ([]Sensitivity, error) {
	base, err := RunEdited(m, tokens, nil)
	if err != nil {
		return nil, err
	}
	pe, err := NewProjectionEdit(m, layer, p)
	if err != nil {
		return nil, err
	}
	w, _ := p.Matrix(m, layer)
	em, err := NewEditableMatrix(w)
	if err != nil {
		return nil, fmt.Errorf("blk.%d.%s: %w", layer, p, err)
	}
	pe.Matrix = em.Matrix()
	h := &Hooks{Config: &m.Config, Projections: []*ProjectionEdit{pe}}
	if rows == nil {
		for r := range w.Rows {
			rows = append(rows, r)
		}
	}
	var out []Sensitivity
	try := func(r, c int, edit func() error) error {
		if err := edit(); err != nil {
			return err
		}
		logits, err := RunEdited(m, tokens, h)
		em.Undo(-1)
		if err != nil {
			return err
		}
		out = append(out, Sensitivity{Row: r, Col: c, Effect: Compare(base, logits)})
		return nil
	}
	for _, r := range rows {
		if cols == nil {
			if err := try(r, -1, func() error { return em.FlipRow(r) }); err != nil {
				return nil, err
			}
			continue
		}
		for _, c := range cols {
			if err := try(r, c, func() error { return em.Flip(r, c) }); err != nil {
				return nil, err
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].KL > out[j].KL || out[i].KL == out[j].KL && out[i].MaxDelta > out[j].MaxDelta
	})
	return out, nil
}

// Margin is one latent weight's distance to the rounding threshold of
// BitNet's ternarisation: code = round(w/γ) clamped to ±1, with γ =
// mean|W|, switches between 0 and ±1 at |w|/γ = 0.5. Margin is |w|/γ - 0.5:
// negative rounds to 0, positive to ±1; near 0, a small change flips it.
type Margin struct {
	Row, Col int
	Latent   float32
	Code     int8 // the code stored in the model
	Margin   float64
}

// Margins describes how close the latent weights of a matrix are to their
// rounding threshold.
type Margins struct {
	Name    string
	Gamma   float64   // mean |W|
	Hist    Histogram // of Margin over [-0.5, 1.5)
	Within  []float64 // share of weights with |Margin| below each of MarginSteps
	Nearest []Margin  // the weights closest to the threshold, closest first
}

// MarginSteps are the distances Margins.Within counts.
var MarginSteps = []float64{0.01, 0.05, 0.1}

func (m *Margins) String() string {
	s := fmt.Sprintf("%s: γ = mean|W| = %.4g;", m.Name, m.Gamma)
	for i, d := range MarginSteps {
		s += fmt.Sprintf(" %.2f%% within %.2fγ", 100*m.Within[i], d)
		if i < len(MarginSteps)-1 {
			s += ","
		}
	}
	s += " of the threshold\n"
	for _, n := range m.Nearest {
		s += fmt.Sprintf("  (%d, %d) latent %+.5g  stored code %+d  margin %+.5f\n", n.Row, n.Col, n.Latent, n.Code, n.Margin)
	}
	return s
}

// RoundingMargins computes Margins for w, which must hold latent weights
// (model.Weight.HasLatent), keeping the k nearest.
func RoundingMargins(w model.Weight, bins, k int) (*Margins, error) {
	latent, err := w.Latent()
	if err != nil {
		return nil, err
	}
	mat := w.Matrix
	cols := mat.Cols
	if len(latent) != mat.Rows*cols {
		if mat.Rows == 0 || len(latent)%mat.Rows != 0 {
			return nil, fmt.Errorf("%s: %d latent weights for a %d x %d matrix", w.Name, len(latent), mat.Rows, mat.Cols)
		}
		cols = len(latent) / mat.Rows // the matrix is padded
	}
	_, gamma := Ternarise(latent)
	ms := &Margins{Name: w.Name, Gamma: gamma, Hist: NewHistogram(-0.5, 1.5, bins), Within: make([]float64, len(MarginSteps))}
	row := make([]int8, mat.Cols)
	var near []Margin
	for r := range mat.Rows {
		if mat.Type.Ternary() {
			mat.TernaryRow(row, r)
		}
		for c := range cols {
			v := latent[r*cols+c]
			mg := math.Abs(float64(v))/gamma - 0.5
			ms.Hist.Add(mg)
			for i, d := range MarginSteps {
				if math.Abs(mg) < d {
					ms.Within[i]++
				}
			}
			near = append(near, Margin{Row: r, Col: c, Latent: v, Code: row[c], Margin: mg})
			if len(near) > 4*k+64 { // keep the candidates few
				sort.Slice(near, func(i, j int) bool { return math.Abs(near[i].Margin) < math.Abs(near[j].Margin) })
				near = near[:k]
			}
		}
	}
	sort.Slice(near, func(i, j int) bool { return math.Abs(near[i].Margin) < math.Abs(near[j].Margin) })
	ms.Nearest = near[:min(k, len(near))]
	for i := range ms.Within {
		ms.Within[i] /= float64(len(latent))
	}
	return ms, nil
}

// CrossEntropy is the mean loss in nats of predicting tokens[i] from the
// logits after position i-1 (logits[i-1], as ForwardAll returns them), for
// i in [from, to); from >= 1.
func CrossEntropy(logits [][]float32, tokens []int32, from, to int) (float64, error) {
	if from < 1 || to > len(tokens) || to > len(logits)+1 || from >= to {
		return 0, fmt.Errorf("cross-entropy of tokens [%d, %d) with %d tokens and %d logits", from, to, len(tokens), len(logits))
	}
	var sum float64
	for i := from; i < to; i++ {
		t := tokens[i]
		if t < 0 || int(t) >= len(logits[i-1]) {
			return 0, fmt.Errorf("cross-entropy: token %d at %d is outside the %d logits", t, i, len(logits[i-1]))
		}
		sum -= logSoftmax(logits[i-1])[t]
	}
	return sum / float64(to-from), nil
}
