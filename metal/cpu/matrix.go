package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"
)

// Matrix is a rows x cols weight matrix, row-major, in its storage layout
// (ggml order: a row is ne0 = cols elements).
type Matrix struct {
	Type       DType
	Rows, Cols int
	Data       []byte  // MatrixBytes(Type, Rows, Cols) bytes, usually a view into an mmapped file (never copied)
	Scale      float32 // per-tensor factor applied to every output (1 when unused; for I2_S and TQ1_S read from the trailer)

	// blockD is, for a TQ1_0 or TQ2_0 matrix whose blocks all carry this one f16 d
	// (see UseUniformScale), that d as float32; 0 otherwise.
	blockD float32
}

// UseUniformScale looks, once at load, at the f16 block scales d of a TQ1_0
// or TQ2_0 matrix. When every block has the same d (bit for bit, finite, non-zero;
// true of ternary weights quantized by their absmax, BitNet's), it reports
// true, and from then on the ternary kernels sum each row's integer
// products whole and multiply by m.Scale*d once, as for TQ1_S and I2_S,
// instead of converting and scaling every 256-element block: the decode of
// TQ1_0 is compute-bound, TQ2_0's too where memory is fast, and this is
// faster. The outputs can differ from the
// per-block sums in the last bits (one rounding instead of one per block).
// Other types and mixed scales report false and keep the per-block
// arithmetic. It reads the scales on the pool's threads (FirstNonFinite
// does the same in its pass) and must not run concurrently with a kernel on
// m. Edits that keep every block's d (such as inspect's) keep it valid.
func (m *Matrix) UseUniformScale() bool {
	m.check("UseUniformScale")
	m.blockD = 0
	off, ok := blockDOffset(m.Type)
	if !ok {
		return false
	}
	first := binary.LittleEndian.Uint16(m.Data[off:])
	var mixed atomic.Bool
	Parallel(m.Rows, 64, func(lo, hi int) {
		for r := lo; r < hi && !mixed.Load(); r++ {
			if !sameBlockD(m.row(r), first, off, m.Type.BlockBytes()) {
				mixed.Store(true)
			}
		}
	})
	return m.setBlockD(first, !mixed.Load())
}

// blockDOffset returns where a block's f16 d is in the types whose rows
// UseUniformScale can sum whole.
func blockDOffset(t DType) (int, bool) {
	switch t {
	case TQ1_0:
		return 52, true
	case TQ2_0:
		return 64, true
	}
	return 0, false
}

// sameBlockD reports whether every block (bb bytes, its d at off) of row b
// has the f16 d h.
func sameBlockD(b []byte, h uint16, off, bb int) bool {
	for i := off; i < len(b); i += bb {
		if binary.LittleEndian.Uint16(b[i:]) != h {
			return false
		}
	}
	return true
}

// setBlockD sets m.blockD to the f16 h when every block has it (same) and
// it is finite and not zero, else to 0, and reports which.
func (m *Matrix) setBlockD(h uint16, same bool) bool {
	d := F16ToF32(h)
	if !same || d == 0 || math.IsNaN(float64(d)) || math.IsInf(float64(d), 0) {
		m.blockD = 0
		return false
	}
	m.blockD = d
	return true
}

// wholeRow reports whether the kernels sum m's rows whole (one integer sum
// per row and token, scaled once): I2_S, TQ1_S, TQ1_0 and TQ2_0 with one d.
func (m *Matrix) wholeRow() bool {
	return m.Type == I2_S || m.Type == TQ1_S || m.blockD != 0
}

// outScale is the factor of the whole-row kernels' integer sums, before
// the token's: m.Scale, times the one d of a uniform TQ1_0 matrix.
func (m *Matrix) outScale() float32 {
	if m.blockD != 0 {
		return m.Scale * m.blockD
	}
	return m.Scale
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
