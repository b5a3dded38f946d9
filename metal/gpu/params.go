package gpu

import (
	_ "embed"
	"unsafe"
)

// source is the MSL of every kernel, compiled by Metal when a Device opens.
//
//go:embed kernels.metal
var source string

// Sizes shared with kernels.metal (its #defines; the tests check they agree).
const (
	simdWidth    = 32  // SIMD
	normThreads  = 256 // NORM_THREADS
	ternSG       = 2   // TERN_SG
	i2sRows      = 4   // I2S_ROWS
	tq2Rows      = 2   // TQ2_ROWS
	ternTokens   = 8   // TERN_TOKENS
	floatSG      = 2   // FLOAT_SG
	floatRows    = 2   // FLOAT_ROWS
	floatTokens  = 4   // FLOAT_TOKENS
	attThreads   = 128 // ATT_THREADS
	attSG        = 4   // ATT_SG
	attChunk     = 128 // ATT_CHUNK
	attMaxDim    = 256 // ATT_MAX_DIM
	elemThreads  = 256 // ELEM_THREADS
	normRMS      = 1   // NORM_RMS
	normWeight   = 2   // NORM_WEIGHT
	normFloat    = 4   // NORM_FLOAT
	normInt8     = 8   // NORM_INT8
	maxExactCols = 1 << 16
)

// mslDefines lists the constants above by their MSL names, for the test
// that compares them with kernels.metal.
var mslDefines = map[string]int{
	"SIMD": simdWidth, "NORM_THREADS": normThreads, "TERN_SG": ternSG, "I2S_ROWS": i2sRows,
	"TQ2_ROWS": tq2Rows, "TERN_TOKENS": ternTokens, "FLOAT_SG": floatSG, "FLOAT_ROWS": floatRows,
	"FLOAT_TOKENS": floatTokens, "ATT_THREADS": attThreads, "ATT_SG": attSG, "ATT_CHUNK": attChunk,
	"ATT_MAX_DIM": attMaxDim, "ELEM_THREADS": elemThreads, "NORM_RMS": normRMS, "NORM_WEIGHT": normWeight,
	"NORM_FLOAT": normFloat, "NORM_INT8": normInt8,
}

// kernelID names a kernel of kernels.metal.
type kernelID uint8

const (
	kNormQuant kernelID = iota
	kI2SVec
	kI2SMat
	kTQ2Vec
	kTQ2Mat
	kMatF32
	kMatF16
	kMatBF16
	kMatQ8_0
	kMatQ4_0
	kMatQ6K
	kRope
	kAttention
	kActMul
	kDequantInt8
	numKernels
)

// kernelNames are the MSL function names, by kernelID.
var kernelNames = [numKernels]string{
	kNormQuant:   "norm_quant",
	kI2SVec:      "ternary_i2s_vec",
	kI2SMat:      "ternary_i2s_mat",
	kTQ2Vec:      "ternary_tq2_vec",
	kTQ2Mat:      "ternary_tq2_mat",
	kMatF32:      "matmul_f32",
	kMatF16:      "matmul_f16",
	kMatBF16:     "matmul_bf16",
	kMatQ8_0:     "matmul_q8_0",
	kMatQ4_0:     "matmul_q4_0",
	kMatQ6K:      "matmul_q6_k",
	kRope:        "rope",
	kAttention:   "attention",
	kActMul:      "act_mul",
	kDequantInt8: "dequant_int8",
}

func (k kernelID) String() string { return kernelNames[k] }

// The parameter structs, field for field as in kernels.metal (4-byte fields
// only, so Go and MSL lay them out alike; the tests compare them).

type normArgs struct {
	Width  uint32
	Stride uint32
	Flags  uint32
	Eps    float32
}

type ternaryArgs struct {
	Rows       uint32
	Cols       uint32
	N          uint32
	Accumulate uint32
	Scale      float32
}

type floatArgs struct {
	Rows       uint32
	Cols       uint32
	N          uint32
	Accumulate uint32
	RowBytes   uint32
	Scale      float32
}

type ropeArgs struct {
	Heads       uint32
	HeadDim     uint32
	N           uint32
	Pos0        uint32
	Stride      uint32
	Interleaved uint32
}

type attnArgs struct {
	Heads    uint32
	KVHeads  uint32
	HeadDim  uint32
	Pos0     uint32
	QStride  uint32
	KVStride uint32
	Scale    float32
}

type actArgs struct {
	Count uint32
	ReLU2 uint32
}

type dequantArgs struct {
	Cols  uint32
	Count uint32
}

// paramStructs maps the MSL struct names to a value of their Go mirror.
var paramStructs = map[string]any{
	"NormArgs": normArgs{}, "TernaryArgs": ternaryArgs{}, "FloatArgs": floatArgs{}, "RopeArgs": ropeArgs{},
	"AttnArgs": attnArgs{}, "ActArgs": actArgs{}, "DequantArgs": dequantArgs{},
}

// params are the bytes of one parameter struct, as setBytes sends them.
type params interface {
	normArgs | ternaryArgs | floatArgs | ropeArgs | attnArgs | actArgs | dequantArgs
}

// paramBytes returns the memory of p (little endian on every platform Go and
// Metal share).
func paramBytes[P params](p *P) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}
