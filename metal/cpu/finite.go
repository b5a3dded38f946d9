package cpu

import (
	"encoding/binary"
	"sync/atomic"
)

// FirstNonFinite returns the row and column of the first value of m that is
// NaN or ±Inf, and false when every value is finite. Float matrices are read
// whole; for block types it reads the f16 block scales d, since their codes
// are small integers (the column is then the block's first); the per-tensor
// scale of I2_S and TQ1_S is checked by NewMatrix already. The rows are
// scanned in parallel on the pool's threads, 8 bytes at a time: a 2B-4T
// embedding (656 MB of F16) takes a few tens of milliseconds. For a TQ1_0 or
// TQ2_0 matrix whose scales are all finite it also does UseUniformScale's work,
// in the same pass over the same bytes.
func FirstNonFinite(m *Matrix) (row, col int, found bool) {
	m.check("FirstNonFinite")
	// TQ1_0, TQ2_0: the same pass looks for one d in every block
	// (UseUniformScale).
	var first uint16
	var mixed atomic.Bool
	off, uniform := blockDOffset(m.Type)
	if uniform {
		first = binary.LittleEndian.Uint16(m.Data[off:])
	}
	var lowest atomic.Int64 // lowest row found, or rows
	lowest.Store(int64(m.Rows))
	Parallel(m.Rows, 64, func(lo, hi int) {
		for r := lo; r < hi && int64(r) < lowest.Load(); r++ {
			b := m.row(r)
			if uniform && !mixed.Load() && !sameBlockD(b, first, off, m.Type.BlockBytes()) {
				mixed.Store(true)
			}
			if c := nonFiniteInRow(m.Type, b); c >= 0 {
				for {
					cur := lowest.Load()
					if int64(r) >= cur || lowest.CompareAndSwap(cur, int64(r)) {
						break
					}
				}
				return
			}
		}
	})
	r := int(lowest.Load())
	if r == m.Rows {
		if uniform {
			m.setBlockD(first, !mixed.Load())
		}
		return 0, 0, false
	}
	return r, nonFiniteInRow(m.Type, m.row(r)), true
}

// nonFiniteInRow returns the column of the first non-finite value of a row of
// type t, or -1.
func nonFiniteInRow(t DType, b []byte) int {
	switch t {
	case F32:
		return firstAllOnes(b, 0x7f800000_7f800000, 0x00000001_00000001, 4)
	case F16:
		return firstAllOnes(b, 0x7c00_7c00_7c00_7c00, 0x0001_0001_0001_0001, 2)
	case BF16:
		return firstAllOnes(b, 0x7f80_7f80_7f80_7f80, 0x0001_0001_0001_0001, 2)
	case Q8_0, Q4_0, Q6_K, TQ1_0, TQ2_0:
		bs, bb := dtypeInfo[t].block, dtypeInfo[t].blockBytes
		off := 0 // where d sits in a block
		if t == Q6_K || t == TQ1_0 || t == TQ2_0 {
			off = bb - 2
		}
		for i := 0; i+bb <= len(b); i += bb {
			if binary.LittleEndian.Uint16(b[i+off:])&0x7c00 == 0x7c00 {
				return i / bb * bs
			}
		}
	}
	return -1
}

// firstAllOnes returns the index of the first lane (of size bytes, little
// endian) of b whose exponent bits, exp (repeated per lane in a word), are all
// set: a NaN or an infinity. one holds 1 in every lane. A lane of
// t = (x & exp) ^ exp is zero exactly when its exponent is all ones, and
// since exp leaves the top bit of each lane clear, (t - one) & ^t has the top
// bit of some lane set exactly when some lane of t is zero.
func firstAllOnes(b []byte, exp, one uint64, size int) int {
	top := one << (8*size - 1)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		t := binary.LittleEndian.Uint64(b[i:])&exp ^ exp
		if (t-one)&^t&top != 0 {
			break
		}
	}
	lane := uint64(1)<<(8*size) - 1
	for ; i+size <= len(b); i += size {
		var x uint64
		for j := size - 1; j >= 0; j-- {
			x = x<<8 | uint64(b[i+j])
		}
		if x&exp&lane == exp&lane {
			return i / size
		}
	}
	return -1
}
