package cpu

import (
	"errors"
	"fmt"
	"math"
)

// DType is the storage type of a weight matrix.
type DType uint8

// Storage types. Block layouts follow ggml (ggml-common.h) and, for I2_S,
// microsoft/BitNet's x86 layout.
const (
	F32   DType = iota // 4-byte IEEE float, little endian
	F16                // 2-byte IEEE half
	BF16               // 2-byte bfloat16
	Q8_0               // 32 elements: f16 d, int8 qs[32]; x = d*q
	Q4_0               // 32 elements: f16 d, qs[16] (x[j] low nibble, x[j+16] high); x = d*(q-8)
	Q6_K               // 256 elements: ql[128], qh[64], int8 scales[16], f16 d
	TQ1_0              // 256 elements: qs[48] (5 trits/byte), qh[4] (4 trits/byte), f16 d
	TQ2_0              // 256 elements: qs[64] (4 x 2-bit codes/byte, strided by 32), f16 d
	I2_S               // 128 elements: 32 bytes (4 x 2-bit codes/byte, strided by 32); one f32 scale per tensor
	TQ1_S              // bitrepl's compute layout: TQ1_0's 256-element blocks without d (52 bytes); one f32 scale per tensor
	numDTypes
)

var dtypeInfo = [numDTypes]struct {
	name       string
	block      int // elements per block
	blockBytes int // bytes per block
}{
	F32:   {"F32", 1, 4},
	F16:   {"F16", 1, 2},
	BF16:  {"BF16", 1, 2},
	Q8_0:  {"Q8_0", 32, 34},
	Q4_0:  {"Q4_0", 32, 18},
	Q6_K:  {"Q6_K", 256, 210},
	TQ1_0: {"TQ1_0", 256, 54},
	TQ2_0: {"TQ2_0", 256, 66},
	I2_S:  {"I2_S", 128, 32},
	TQ1_S: {"TQ1_S", 256, 52},
}

// I2STrailer is the number of bytes after the packed I2_S (and TQ1_S) codes
// of a whole tensor; its first 4 hold the per-tensor f32 scale (little
// endian).
const I2STrailer = 32

// ErrShape is wrapped by the errors about sizes and shapes returned by this
// package (RowBytes, MatrixBytes, NewMatrix, Quantize, PackTernary).
var ErrShape = errors.New("bad shape")

// ErrValue is wrapped by the errors about values: a ternary code outside
// {-1, 0, 1}, a scale that is not finite or does not fit the format.
var ErrValue = errors.New("bad value")

// String returns the ggml name of t ("Q8_0", "TQ2_0", "I2_S").
func (t DType) String() string {
	if t < numDTypes {
		return dtypeInfo[t].name
	}
	return fmt.Sprintf("DType(%d)", uint8(t))
}

// Valid reports whether t is one of the defined storage types.
func (t DType) Valid() bool { return t < numDTypes }

// Ternary reports whether t stores ternary weights (TQ1_0, TQ2_0, I2_S,
// TQ1_S).
func (t DType) Ternary() bool { return t == TQ1_0 || t == TQ2_0 || t == I2_S || t == TQ1_S }

// tensorScale reports whether t keeps one f32 scale per tensor in a trailer
// (I2_S, TQ1_S).
func (t DType) tensorScale() bool { return t == I2_S || t == TQ1_S }

// BlockSize returns the number of elements per block: 1 for F32/F16/BF16, 32
// for Q8_0/Q4_0, 256 for Q6_K/TQ1_0/TQ2_0/TQ1_S, 128 for I2_S (0 for an
// invalid t).
func (t DType) BlockSize() int {
	if t < numDTypes {
		return dtypeInfo[t].block
	}
	return 0
}

// BlockBytes returns the number of bytes per block (0 for an invalid t).
// For I2_S and TQ1_S it excludes the per-tensor trailer.
func (t DType) BlockBytes() int {
	if t < numDTypes {
		return dtypeInfo[t].blockBytes
	}
	return 0
}

// MaxCols bounds the columns of a matrix so that integer dot products of
// ternary codes (|w| <= 2 counting the invalid code 3) and int8 activations
// fit an int32 with room to spare: 256 * 2^22 = 2^30.
const MaxCols = 1 << 22

// maxElems bounds rows*cols so that every byte size computed here (at most 4
// bytes per element plus a trailer) fits an int, on 32-bit platforms too.
const maxElems = math.MaxInt / 8

// RowBytes returns the bytes of one row of cols elements of type t. It fails
// when t is invalid, cols is not positive or not a multiple of the block size.
// For I2_S it is cols/4, for TQ1_S cols/256*52 (the tensor trailer is
// counted by MatrixBytes only).
func RowBytes(t DType, cols int) (int, error) {
	if !t.Valid() {
		return 0, fmt.Errorf("metal: %v: %w", t, ErrShape)
	}
	bs := dtypeInfo[t].block
	if cols <= 0 || cols > MaxCols || cols%bs != 0 {
		return 0, fmt.Errorf("metal: %v row of %d columns: not a positive multiple of the block size %d: %w", t, cols, bs, ErrShape)
	}
	return cols / bs * dtypeInfo[t].blockBytes, nil
}

// MatrixBytes returns the bytes of a rows x cols matrix of type t:
// rows*RowBytes(t, cols), plus the 32-byte trailer for I2_S and TQ1_S (whose
// f32 scale sits right after the rows, at offset rows*RowBytes).
func MatrixBytes(t DType, rows, cols int) (int, error) {
	rb, err := RowBytes(t, cols)
	if err != nil {
		return 0, err
	}
	if rows <= 0 || rows > maxElems/cols {
		return 0, fmt.Errorf("metal: %v matrix of %d x %d: bad row count: %w", t, rows, cols, ErrShape)
	}
	n := rows * rb
	if t.tensorScale() {
		n += I2STrailer
	}
	return n, nil
}
