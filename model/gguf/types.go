// Package gguf reads and writes GGUF files, the container format of ggml and llama.cpp.
//
// The reader is defensive: every length read from a file is bounded (see the Max* constants), every size and
// offset computation is overflow-checked, and any malformed input yields a *FormatError naming the file, the
// tensor and the byte offset, never a panic. GGUF v2 and v3 (little-endian) are read; v1 and big-endian files
// are refused with an error wrapping ErrUnsupported.
//
// Open memory-maps the file: metadata is decoded into Go memory, tensor data stays in the mapping and
// TensorData returns zero-copy views of it, valid until Close. Parse does the same on a byte slice.
//
// The Writer writes GGUF v3 with the layout gguf-py and gguf.cpp write (key/value pairs in insertion order,
// tensor infos, zero padding to the alignment, tensor data in insertion order, each padded to the alignment),
// so its files load in llama.cpp.
//
// Layout reference: docs/gguf.md and src/gguf.cpp in ggml/llama.cpp; gguf-py's gguf_writer.py.
//
// Of bitrepl it imports model/regfile and model/atomicfile only; model uses it.
package gguf

import (
	"errors"
	"fmt"
	"math/bits"
)

// Type is a ggml tensor type id as stored in a GGUF tensor info.
//
// The ids follow upstream ggml (ggml.h enum ggml_type), except 36: upstream ggml once used 36-38 for
// IQ4_NL_4_4/4_8/8_8 (removed from GGUF files, never written by upstream today), while microsoft/BitNet's
// llama.cpp fork (Eddie-Wang1120/llama.cpp, merge-dev) uses 36 for I2_S, 37 for I8_S (activations only),
// 38 for TL1 and 39 for TL2. This package reads 36 as I2_S and 39 as upstream's MXFP4; 37 and 38 are refused
// as unsupported, as are bitnet.cpp's TL1/TL2 files (platform-specific lookup-table layouts).
type Type uint32

// ggml tensor types.
const (
	F32      Type = 0
	F16      Type = 1
	Q4_0     Type = 2
	Q4_1     Type = 3
	Q5_0     Type = 6
	Q5_1     Type = 7
	Q8_0     Type = 8
	Q8_1     Type = 9
	Q2_K     Type = 10
	Q3_K     Type = 11
	Q4_K     Type = 12
	Q5_K     Type = 13
	Q6_K     Type = 14
	Q8_K     Type = 15
	IQ2_XXS  Type = 16
	IQ2_XS   Type = 17
	IQ3_XXS  Type = 18
	IQ1_S    Type = 19
	IQ4_NL   Type = 20
	IQ3_S    Type = 21
	IQ2_S    Type = 22
	IQ4_XS   Type = 23
	I8       Type = 24
	I16      Type = 25
	I32      Type = 26
	I64      Type = 27
	F64      Type = 28
	IQ1_M    Type = 29
	BF16     Type = 30
	Q4_0_4_4 Type = 31 // removed upstream; same size as Q4_0 (rows interleaved)
	Q4_0_4_8 Type = 32 // removed upstream; same size as Q4_0
	Q4_0_8_8 Type = 33 // removed upstream; same size as Q4_0
	TQ1_0    Type = 34
	TQ2_0    Type = 35
	I2_S     Type = 36 // microsoft/BitNet fork; clashes with upstream's removed IQ4_NL_4_4
	MXFP4    Type = 39 // upstream ggml (gpt-oss); the BitNet fork used 39 for TL2

	// TQ1_S is bitrepl's own ternary layout, not a ggml type (other engines
	// refuse files holding it): TQ1_0's 256-element blocks without the
	// per-block scale (52 bytes, 1.625 bits per weight), followed like I2_S
	// by a 32-byte trailer whose first 4 bytes hold the tensor's f32 scale.
	// Its id is far above ggml's so that it cannot clash.
	TQ1_S Type = 4096 + 34
)

// tq1sTraits are TQ1_S's block traits (its trailer is added by TensorBytes).
var tq1sTraits = typeTraits{"TQ1_S", 256, 52}

type typeTraits struct {
	name      string
	blockSize uint64 // elements per block
	typeSize  uint64 // bytes per block
}

// traits is indexed by Type; entries with blockSize 0 are unknown ids.
var traits = [...]typeTraits{
	F32:      {"F32", 1, 4},
	F16:      {"F16", 1, 2},
	Q4_0:     {"Q4_0", 32, 18},
	Q4_1:     {"Q4_1", 32, 20},
	Q5_0:     {"Q5_0", 32, 22},
	Q5_1:     {"Q5_1", 32, 24},
	Q8_0:     {"Q8_0", 32, 34},
	Q8_1:     {"Q8_1", 32, 36},
	Q2_K:     {"Q2_K", 256, 84},
	Q3_K:     {"Q3_K", 256, 110},
	Q4_K:     {"Q4_K", 256, 144},
	Q5_K:     {"Q5_K", 256, 176},
	Q6_K:     {"Q6_K", 256, 210},
	Q8_K:     {"Q8_K", 256, 292},
	IQ2_XXS:  {"IQ2_XXS", 256, 66},
	IQ2_XS:   {"IQ2_XS", 256, 74},
	IQ3_XXS:  {"IQ3_XXS", 256, 98},
	IQ1_S:    {"IQ1_S", 256, 50},
	IQ4_NL:   {"IQ4_NL", 32, 18},
	IQ3_S:    {"IQ3_S", 256, 110},
	IQ2_S:    {"IQ2_S", 256, 82},
	IQ4_XS:   {"IQ4_XS", 256, 136},
	I8:       {"I8", 1, 1},
	I16:      {"I16", 1, 2},
	I32:      {"I32", 1, 4},
	I64:      {"I64", 1, 8},
	F64:      {"F64", 1, 8},
	IQ1_M:    {"IQ1_M", 256, 56},
	BF16:     {"BF16", 1, 2},
	Q4_0_4_4: {"Q4_0_4_4", 32, 18},
	Q4_0_4_8: {"Q4_0_4_8", 32, 18},
	Q4_0_8_8: {"Q4_0_8_8", 32, 18},
	TQ1_0:    {"TQ1_0", 256, 54},
	TQ2_0:    {"TQ2_0", 256, 66},
	I2_S:     {"I2_S", 1, 1}, // sized specially, see TensorBytes
	MXFP4:    {"MXFP4", 32, 17},
}

// i2sTrailer is the number of bytes the BitNet fork appends to every I2_S tensor (the f32 scale, padded).
const i2sTrailer = 32

func (t Type) traits() (typeTraits, bool) {
	if t == TQ1_S {
		return tq1sTraits, true
	}
	if uint64(t) >= uint64(len(traits)) || traits[t].blockSize == 0 {
		return typeTraits{}, false
	}
	return traits[t], true
}

// Known reports whether t is a type id this package can size.
func (t Type) Known() bool {
	_, ok := t.traits()
	return ok
}

// String returns the ggml name of the type in upper case ("Q4_K", "I2_S"), or "Type(N)" for an unknown id.
func (t Type) String() string {
	if tr, ok := t.traits(); ok {
		return tr.name
	}
	return fmt.Sprintf("Type(%d)", uint32(t))
}

// BlockSize returns the number of elements per block (1 for F32, 32 for Q8_0, 256 for Q4_K and TQ2_0),
// 0 for an unknown type. I2_S reports 1, as in the BitNet fork's type traits.
func (t Type) BlockSize() uint64 {
	tr, _ := t.traits()
	return tr.blockSize
}

// TypeSize returns the number of bytes per block, 0 for an unknown type.
func (t Type) TypeSize() uint64 {
	tr, _ := t.traits()
	return tr.typeSize
}

// MaxDims is the largest number of dimensions of a tensor (GGML_MAX_DIMS).
const MaxDims = 4

// maxElements bounds the element count and the byte size of one tensor, as gguf.cpp does (INT64_MAX).
const maxElements = 1<<63 - 1

var errSize = errors.New("size overflow")

// TensorBytes returns the number of bytes of a contiguous tensor of type t with the given dimensions
// (ne0 first), computed as ggml_nbytes does: ne0 must be a multiple of the block size and the size is
// (ne0/blockSize)*typeSize*ne1*ne2*ne3.
//
// I2_S mirrors the BitNet fork's ggml_nbytes: its type traits say 1 element of 1 byte per block, and
// ggml_nbytes then returns nelements/4 + 32 (integer division): 2 bits per weight followed by a 32-byte
// trailer whose first 4 bytes hold the tensor's f32 scale.
//
// It fails for an unknown type (wrapping ErrUnsupported), for 0 or more than MaxDims dimensions, a zero
// dimension, a row that is not a whole number of blocks, or a size that overflows int64.
func TensorBytes(t Type, dims []uint64) (uint64, error) {
	tr, ok := t.traits()
	if !ok {
		return 0, fmt.Errorf("tensor type %d: %w", uint32(t), ErrUnsupported)
	}
	if len(dims) == 0 || len(dims) > MaxDims {
		return 0, fmt.Errorf("%d dimensions, want 1 to %d", len(dims), MaxDims)
	}
	n := uint64(1)
	for i, d := range dims {
		if d == 0 {
			return 0, fmt.Errorf("dimension %d is zero", i)
		}
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > maxElements {
			return 0, fmt.Errorf("element count of %v: %w", dims, errSize)
		}
		n = lo
	}
	if t == I2_S {
		return n/4 + i2sTrailer, nil
	}
	if dims[0]%tr.blockSize != 0 {
		return 0, fmt.Errorf("row of %d elements is not a multiple of the %s block size %d", dims[0], t, tr.blockSize)
	}
	hi, lo := bits.Mul64(n/tr.blockSize, tr.typeSize)
	if hi != 0 || lo > maxElements {
		return 0, fmt.Errorf("byte size of %s %v: %w", t, dims, errSize)
	}
	if t == TQ1_S {
		lo += i2sTrailer
	}
	return lo, nil
}
