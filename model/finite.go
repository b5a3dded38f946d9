package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// ErrNotFinite is wrapped by the load error for a weight that is NaN or
// infinite: such a model prints garbage and its logits are not JSON.
var ErrNotFinite = errors.New("weight is not finite")

// checkFinite refuses NaN and infinite weights, naming the tensor: every
// norm vector, and every matrix (floats read whole, block types by their
// scales; see cpu.FirstNonFinite). It reads the embedding once, in
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
	for i := range m.layers {
		for _, t := range blockOf(&m.Config) {
			if t.vec == nil {
				continue
			}
			if err := vec(fmt.Sprintf("blk.%d.%s.weight", i, t.GGUF), *t.vec(&m.layers[i])); err != nil {
				return err
			}
		}
	}
	for _, w := range m.Weights() {
		r, c, found := cpu.FirstNonFinite(w.Matrix)
		if !found {
			continue
		}
		switch w.Matrix.Type {
		case cpu.F32, cpu.F16, cpu.BF16:
			row := make([]float32, w.Matrix.Cols)
			w.Matrix.Row(row, r)
			return fmt.Errorf("tensor %s: row %d, column %d is %v: %w", w.Name, r, c, row[c], ErrNotFinite)
		}
		return fmt.Errorf("tensor %s: the %v block scale at row %d, column %d is NaN or infinite: %w", w.Name, w.Matrix.Type, r, c, ErrNotFinite)
	}
	return nil
}
