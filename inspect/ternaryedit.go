package inspect

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// EditableMatrix is a private copy of a packed ternary matrix (TQ1_0,
// TQ2_0, I2_S, TQ1_S) whose codes and scale can be changed. The model's
// matrix (often a view into a memory-mapped file) is never written; run
// the edited copy with a ProjectionEdit, and undo by dropping it or with
// Undo.
type EditableMatrix struct {
	orig *cpu.Matrix
	m    cpu.Matrix // the copy: own Data
	row  []int8     // scratch: one row of codes
	undo []undoStep
}

type undoStep struct {
	row   int // -1: the scale
	codes []int8
	scale float32
}

// NewEditableMatrix copies w. It fails unless w is ternary.
func NewEditableMatrix(w *cpu.Matrix) (*EditableMatrix, error) {
	if !w.Type.Ternary() {
		return nil, fmt.Errorf("%v matrix: ternary edits need TQ1_0, TQ2_0, I2_S or TQ1_S weights", w.Type)
	}
	e := &EditableMatrix{orig: w, m: *w, row: make([]int8, w.Cols)}
	e.m.Data = append([]byte(nil), w.Data...)
	return e, nil
}

// Matrix is the edited copy, for ProjectionEdit.Matrix.
func (e *EditableMatrix) Matrix() *cpu.Matrix { return &e.m }

// Edits is the number of edits Undo can take back.
func (e *EditableMatrix) Edits() int { return len(e.undo) }

// Code returns the code at (r, c).
func (e *EditableMatrix) Code(r, c int) (int8, error) {
	if err := e.check(r, c); err != nil {
		return 0, err
	}
	e.m.TernaryRow(e.row, r)
	return e.row[c], nil
}

func (e *EditableMatrix) check(r, c int) error {
	if r < 0 || r >= e.m.Rows || c < 0 || c >= e.m.Cols {
		return fmt.Errorf("(%d, %d) is outside the %d x %d matrix", r, c, e.m.Rows, e.m.Cols)
	}
	return nil
}

// Set writes code (-1, 0 or +1) at (r, c).
func (e *EditableMatrix) Set(r, c int, code int8) error {
	if err := e.check(r, c); err != nil {
		return err
	}
	return e.editRow(r, func(row []int8) { row[c] = code })
}

// Flip negates the weight at (r, c) (+1 and -1 swap; 0 stays 0).
func (e *EditableMatrix) Flip(r, c int) error {
	if err := e.check(r, c); err != nil {
		return err
	}
	return e.editRow(r, func(row []int8) { row[c] = -row[c] })
}

// FlipRow negates row r; ZeroRow sets it to 0.
func (e *EditableMatrix) FlipRow(r int) error {
	if err := e.check(r, 0); err != nil {
		return err
	}
	return e.editRow(r, func(row []int8) {
		for i := range row {
			row[i] = -row[i]
		}
	})
}

// ZeroRow sets every weight of row r to 0.
func (e *EditableMatrix) ZeroRow(r int) error {
	if err := e.check(r, 0); err != nil {
		return err
	}
	return e.editRow(r, func(row []int8) { clear(row) })
}

// ZeroCols sets the weights of columns [c0, c1) to 0 in every row (one
// undo step per row).
func (e *EditableMatrix) ZeroCols(c0, c1 int) error {
	if c0 < 0 || c1 > e.m.Cols || c0 >= c1 {
		return fmt.Errorf("columns [%d, %d) are outside the %d columns", c0, c1, e.m.Cols)
	}
	for r := range e.m.Rows {
		if err := e.editRow(r, func(row []int8) { clear(row[c0:c1]) }); err != nil {
			return err
		}
	}
	return nil
}

// FlipCol negates column c in every row.
func (e *EditableMatrix) FlipCol(c int) error {
	if err := e.check(0, c); err != nil {
		return err
	}
	for r := range e.m.Rows {
		if err := e.editRow(r, func(row []int8) { row[c] = -row[c] }); err != nil {
			return err
		}
	}
	return nil
}

// SetScale sets the per-tensor scale every output is multiplied by
// (cpu.Matrix.Scale; TQ blocks keep their d).
func (e *EditableMatrix) SetScale(s float32) error {
	if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
		return fmt.Errorf("scale %v is not finite", s)
	}
	e.undo = append(e.undo, undoStep{row: -1, scale: e.m.Scale})
	e.m.Scale = s
	return nil
}

// Scale is the current per-tensor scale.
func (e *EditableMatrix) Scale() float32 { return e.m.Scale }

// Undo takes back the last n edits (all when n < 0 or n > Edits).
func (e *EditableMatrix) Undo(n int) {
	if n < 0 || n > len(e.undo) {
		n = len(e.undo)
	}
	for range n {
		u := e.undo[len(e.undo)-1]
		e.undo = e.undo[:len(e.undo)-1]
		if u.row < 0 {
			e.m.Scale = u.scale
			continue
		}
		_ = e.writeRow(u.row, u.codes) // codes read from this matrix: they pack
	}
}

func (e *EditableMatrix) editRow(r int, fn func(row []int8)) error {
	e.m.TernaryRow(e.row, r)
	before := append([]int8(nil), e.row...)
	fn(e.row)
	if err := e.writeRow(r, e.row); err != nil {
		return err
	}
	e.undo = append(e.undo, undoStep{row: r, codes: before})
	return nil
}

// writeRow packs codes into row r of the copy, block by block, keeping
// each TQ block's d (the I2_S and TQ1_S scale is per tensor, in
// Matrix.Scale).
func (e *EditableMatrix) writeRow(r int, codes []int8) error {
	t := e.m.Type
	bs, bb := t.BlockSize(), t.BlockBytes()
	rowBytes := e.m.Cols / bs * bb
	dst := e.m.Data[r*rowBytes : (r+1)*rowBytes]
	for b := 0; b < e.m.Cols/bs; b++ {
		blk := dst[b*bb : (b+1)*bb]
		var d float32 = 1
		switch t {
		case cpu.TQ2_0, cpu.TQ1_0: // f16 d in the block's last two bytes
			d = cpu.F16ToF32(binary.LittleEndian.Uint16(blk[bb-2:]))
		}
		packed, err := cpu.PackTernary(t, codes[b*bs:(b+1)*bs], 1, bs, d)
		if err != nil {
			return fmt.Errorf("row %d block %d: %w", r, b, err)
		}
		copy(blk, packed[:bb])
	}
	return nil
}
