package inspect

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// LayerSummary adds up the statistics of the tensors of one decoder block.
type LayerSummary struct {
	Layer          int // -1 for tensors outside the blocks (embeddings, LM head)
	Tensors        int
	Params         int64
	FloatParams    int64 // params of non-ternary tensors (F16 embeddings...): not in Neg, Zero, Pos
	Neg, Zero, Pos int64 // ternary codes of the ternary tensors
	Invalid        int64
	// MeanRelErr is the mean over the block's tensors with latent weights of
	// their ternarisation error (NaN when none has latent weights).
	MeanRelErr float64
}

// TernaryParams is the number of weights in ternary tensors.
func (l *LayerSummary) TernaryParams() int64 { return l.Params - l.FloatParams }

// ZeroShare is the share of zero codes among the block's ternary weights.
func (l *LayerSummary) ZeroShare() float64 {
	if l.TernaryParams() == 0 {
		return 0
	}
	return float64(l.Zero) / float64(l.TernaryParams())
}

func (l *LayerSummary) String() string {
	name := "other"
	if l.Layer >= 0 {
		name = "blk." + strconv.Itoa(l.Layer)
	}
	n := float64(max(l.TernaryParams(), 1))
	s := fmt.Sprintf("%-7s %2d tensors %11d params", name, l.Tensors, l.Params)
	if l.TernaryParams() > 0 {
		s += fmt.Sprintf("  -1 %5.1f%%  0 %5.1f%%  +1 %5.1f%%", 100*float64(l.Neg)/n, 100*float64(l.Zero)/n, 100*float64(l.Pos)/n)
	}
	if l.FloatParams > 0 {
		s += fmt.Sprintf("  %d float", l.FloatParams)
	}
	if !math.IsNaN(l.MeanRelErr) {
		s += fmt.Sprintf("  latent rel.err %.4f", l.MeanRelErr)
	}
	if l.Invalid > 0 {
		s += fmt.Sprintf("  INVALID %d", l.Invalid)
	}
	return s
}

// Layers groups tensor statistics by decoder block, sorted by layer (-1 first).
func Layers(ts []TensorStats) []LayerSummary {
	by := map[int]*LayerSummary{}
	errSum := map[int]float64{}
	errN := map[int]int{}
	for i := range ts {
		t := &ts[i]
		l := t.Layer()
		s, ok := by[l]
		if !ok {
			s = &LayerSummary{Layer: l}
			by[l] = s
		}
		s.Tensors++
		s.Params += t.Count()
		if !t.Type.Ternary() {
			s.FloatParams += t.Count()
			continue
		}
		s.Neg += t.Neg
		s.Zero += t.Zero
		s.Pos += t.Pos
		s.Invalid += t.Invalid
		if t.Latent != nil {
			errSum[l] += t.Latent.RelErr
			errN[l]++
		}
	}
	out := make([]LayerSummary, 0, len(by))
	for l, s := range by {
		s.MeanRelErr = math.NaN()
		if errN[l] > 0 {
			s.MeanRelErr = errSum[l] / float64(errN[l])
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Layer < out[j].Layer })
	return out
}

// layerOf returns N for a name blk.N.*, else -1.
func layerOf(name string) int {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return -1
	}
	num, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(num)
	if err != nil {
		return -1
	}
	return n
}
