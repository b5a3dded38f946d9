package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Matrix is a rows x cols weight matrix, row-major, in its storage layout
// (ggml order: a row is ne0 = cols elements).
type Matrix struct {
	Type       DType
	Rows, Cols int
	Data       []byte  // MatrixBytes(Type, Rows, Cols) bytes, usually a view into an mmapped file (never copied)
	Scale      float32 // per-tensor factor applied to every output (1 when unused; for I2_S and TQ1_S read from the trailer)
}

// NewMatrix wraps data (not copied) as a rows x cols matrix of type t. It
// fails unless len(data) == MatrixBytes(t, rows, cols). Scale is the
// trailer's f32 (which must be finite) for I2_S and TQ1_S, else 1.
func NewMatrix(t DType, rows, cols int, data []byte) (*Matrix, error) {
	n, err := MatrixBytes(t, rows, cols)
	if err != nil {
		return nil, err
	}
	if len(data) != n {
		return nil, fmt.Errorf("metal: %v matrix %d x %d: %d bytes, want %d: %w", t, rows, cols, len(data), n, ErrShape)
	}
	m := &Matrix{Type: t, Rows: rows, Cols: cols, Data: data, Scale: 1}
	if t.tensorScale() {
		off := n - I2STrailer
		s := math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			return nil, fmt.Errorf("metal: %v matrix %d x %d: scale at byte offset %d is %v: %w", t, rows, cols, off, s, ErrValue)
		}
		m.Scale = s
	}
	return m, nil
}

// rowBytes returns RowBytes(m.Type, m.Cols) without the checks (m was built
// by NewMatrix or is otherwise consistent).
func (m *Matrix) rowBytes() int {
	return m.Cols / dtypeInfo[m.Type].block * dtypeInfo[m.Type].blockBytes
}

// row returns the bytes of row i.
func (m *Matrix) row(i int) []byte {
	rb := m.rowBytes()
	return m.Data[i*rb : (i+1)*rb : (i+1)*rb]
}

// check panics unless m is consistent: a valid type, a positive multiple of
// the block size as Cols, and enough Data.
func (m *Matrix) check(op string) {
	if !m.Type.Valid() || m.Rows <= 0 || m.Cols <= 0 || m.Cols%m.Type.BlockSize() != 0 || len(m.Data) < m.Rows*m.rowBytes() {
		panic(fmt.Sprintf("metal: %s: inconsistent %v matrix %d x %d with %d bytes", op, m.Type, m.Rows, m.Cols, len(m.Data)))
	}
}

// Row dequantizes row i into dst (len(dst) == m.Cols), Scale included: for
// every j, dst[j] = m.Scale * w[i, j] where w is the ggml dequantization
// (d * q for the block types, the code -1/0/+1 for I2_S). It panics when i
// is out of range or len(dst) != m.Cols.
func (m *Matrix) Row(dst []float32, i int) {
	m.check("Row")
	if i < 0 || i >= m.Rows || len(dst) != m.Cols {
		panic(fmt.Sprintf("metal: Row(%d) of %d x %d matrix into %d floats", i, m.Rows, m.Cols, len(dst)))
	}
	dequantize(m.Type, dst, m.row(i))
	if m.Scale != 1 {
		for j := range dst {
			dst[j] *= m.Scale
		}
	}
}

// TernaryRow writes the codes -1/0/+1 of row i into dst (len(dst) ==
// m.Cols). The invalid 2-bit code 3 of TQ2_0 and I2_S reads as +2, the value
// the reference kernels give it. It panics unless m.Type is ternary, i is in
// range and len(dst) == m.Cols.
func (m *Matrix) TernaryRow(dst []int8, i int) {
	m.check("TernaryRow")
	if !m.Type.Ternary() || i < 0 || i >= m.Rows || len(dst) != m.Cols {
		panic(fmt.Sprintf("metal: TernaryRow(%d) of %v %d x %d matrix into %d codes", i, m.Type, m.Rows, m.Cols, len(dst)))
	}
	src := m.row(i)
	switch m.Type {
	case TQ1_0:
		for b := 0; b < m.Cols/256; b++ {
			unpackTQ1((*[256]int8)(dst[256*b:]), src[54*b:])
		}
	case TQ2_0:
		for b := 0; b < m.Cols/256; b++ {
			unpackTQ2((*[256]int8)(dst[256*b:]), src[66*b:])
		}
	case I2_S:
		for b := 0; b < m.Cols/128; b++ {
			unpackI2S(dst[128*b:], src[32*b:])
		}
	case TQ1_S:
		for b := 0; b < m.Cols/256; b++ {
			unpackTQ1((*[256]int8)(dst[256*b:]), src[52*b:])
		}
	}
}
