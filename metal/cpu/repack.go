package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// Repack returns m, a ternary matrix, converted to the ternary layout t
// (TQ1_S or I2_S) in new memory, with the same weights:
//
//   - from I2_S or TQ1_S: exactly, and MatVecTernary gives the same bits
//     (both types compute scale * float32(integer row sum)).
//   - from TQ1_0 or TQ2_0: when every block has the same d (blocks of zero
//     weights, or with d = 0, aside). The result's scale is m.Scale*d; its
//     outputs can differ from the TQ ones in the last bits (one float
//     product per row instead of one per 256-element block).
//
// TQ1_S, bitrepl's compute layout, stores 1.625 bits per weight (I2_S: 2,
// TQ1_0: 1.6875, TQ2_0: 2.0625) and has no per-block scale, so its kernels
// do no per-block float work. It fails with an error wrapping ErrValue when
// the weights do not fit t: TQ blocks with different d, the invalid 2-bit
// code 3 (weight +2), a scale that is not finite; with ErrShape when t is
// not TQ1_S or I2_S, or m.Cols does not suit t.
func Repack(m *Matrix, t DType) (*Matrix, error) {
	m.check("Repack")
	if !m.Type.Ternary() {
		return nil, fmt.Errorf("metal: repack %v matrix: not ternary: %w", m.Type, ErrShape)
	}
	if t != TQ1_S && t != I2_S {
		return nil, fmt.Errorf("metal: repack %v matrix to %v: only TQ1_S and I2_S: %w", m.Type, t, ErrShape)
	}
	size, err := MatrixBytes(t, m.Rows, m.Cols)
	if err != nil {
		return nil, err
	}
	scale := m.Scale
	if m.Type == TQ1_0 || m.Type == TQ2_0 {
		d, err := commonBlockScale(m)
		if err != nil {
			return nil, err
		}
		scale *= d
	}
	if math.IsNaN(float64(scale)) || math.IsInf(float64(scale), 0) {
		return nil, fmt.Errorf("metal: repack %v matrix: scale %v: %w", m.Type, scale, ErrValue)
	}
	j := &repackJob{src: m, dst: make([]byte, size), t: t}
	j.bad.row = -1
	p := thePool
	p.mu.Lock()
	p.parallel(repackRun, j, m.Rows, 1)
	p.mu.Unlock()
	if j.bad.row >= 0 {
		return nil, fmt.Errorf("metal: repack %v matrix: row %d, column %d: weight %d is not -1, 0 or 1: %w", m.Type, j.bad.row, j.bad.col, j.bad.code, ErrValue)
	}
	binary.LittleEndian.PutUint32(j.dst[size-I2STrailer:], math.Float32bits(scale))
	return NewMatrix(t, m.Rows, m.Cols, j.dst)
}

// commonBlockScale returns the d shared by every TQ block of m that holds
// a non-zero weight (1 when there is none), or an error.
func commonBlockScale(m *Matrix) (float32, error) {
	bb := m.Type.BlockBytes()
	var codes [256]int8
	d, found := float32(1), false
	for b := 0; b < m.Rows*m.Cols/256; b++ {
		blk := m.Data[b*bb : (b+1)*bb]
		db := getF16(blk[bb-2:])
		if db == 0 {
			continue
		}
		if found && db == d {
			continue
		}
		if m.Type == TQ1_0 {
			unpackTQ1(&codes, blk)
		} else {
			unpackTQ2(&codes, blk)
		}
		if codes == [256]int8{} {
			continue
		}
		if found {
			return 0, fmt.Errorf("metal: repack %v matrix: block %d (row %d) has d %v, block scales differ (%v before): %w", m.Type, b, b/(m.Cols/256), db, d, ErrValue)
		}
		d, found = db, true
	}
	return d, nil
}

type repackJob struct {
	src *Matrix
	dst []byte
	t   DType
	mu  sync.Mutex
	bad struct{ row, col, code int } // the first bad weight (row -1: none)
}

func repackRun(arg any, r0, r1 int) {
	j := arg.(*repackJob)
	m := j.src
	rbDst := j.t.BlockBytes() * m.Cols / j.t.BlockSize()
	codes := make([]int8, m.Cols)
	for r := r0; r < r1; r++ {
		m.TernaryRow(codes, r)
		if m.Type == TQ1_0 || m.Type == TQ2_0 {
			// Blocks with d = 0 hold zero weights whatever their codes.
			bb := m.Type.BlockBytes()
			row := m.row(r)
			for b := 0; b < m.Cols/256; b++ {
				if getF16(row[b*bb+bb-2:]) == 0 {
					clear(codes[256*b : 256*b+256])
				}
			}
		}
		for c, v := range codes {
			if v < -1 || v > 1 {
				j.fail(r, c, int(v))
				return
			}
		}
		out := j.dst[r*rbDst : (r+1)*rbDst]
		if j.t == I2_S {
			for b := 0; b < m.Cols/128; b++ {
				packI2S(out[32*b:], codes[128*b:128*b+128])
			}
			continue
		}
		for b := 0; b < m.Cols/256; b++ {
			packTQ1Codes(out[52*b:], (*[256]int8)(codes[256*b:]))
		}
	}
}

func (j *repackJob) fail(r, c, code int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.bad.row < 0 || r < j.bad.row {
		j.bad.row, j.bad.col, j.bad.code = r, c, code
	}
}
