package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/bitrepl/bitrepl/metal"
)

// ErrNotFinite is wrapped by the load error for a weight that is NaN or
// infinite: such a model prints garbage and its logits are not JSON.
var ErrNotFinite = errors.New("weight is not finite")

// checkFinite refuses NaN and infinite weights, naming the tensor: every
// norm vector, and every matrix (floats read whole, block types by their
// scales; see metal.FirstNonFinite). It reads the embedding once, in
// parallel; on a 2B-4T file that adds a few tens of milliseconds to the load.
func (m *Model) checkFinite() error {
	vec := func(name string, v []float32) error {
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("tensor %s: element %d is %v: %w", name, i, x, ErrNotFinite)
			}
		}
		return nil
	}
	if err := vec("output_norm.weight", m.outNorm); err != nil {
		return err
	}
	for i, l := range m.layers {
		p := fmt.Sprintf("blk.%d.", i)
		for _, e := range []error{
			vec(p+"attn_norm.weight", l.AttnNorm), vec(p+"ffn_norm.weight", l.FFNNorm),
			vec(p+"attn_sub_norm.weight", l.AttnSubNorm), vec(p+"ffn_sub_norm.weight", l.FFNSubNorm),
		} {
			if e != nil {
				return e
			}
		}
	}
	for _, w := range m.Weights() {
		r, c, found := metal.FirstNonFinite(w.Matrix)
		if !found {
			continue
		}
		switch w.Matrix.Type {
		case metal.F32, metal.F16, metal.BF16:
			row := make([]float32, w.Matrix.Cols)
			w.Matrix.Row(row, r)
			return fmt.Errorf("tensor %s: row %d, column %d is %v: %w", w.Name, r, c, row[c], ErrNotFinite)
		}
		return fmt.Errorf("tensor %s: the %v block scale at row %d, column %d is NaN or infinite: %w", w.Name, w.Matrix.Type, r, c, ErrNotFinite)
	}
	return nil
}
