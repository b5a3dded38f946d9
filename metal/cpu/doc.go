// Package cpu holds bitrepl's CPU compute kernels: the storage layouts of
// weight matrices (F32, F16, BF16, Q8_0, Q4_0, Q6_K, the ternary TQ1_0,
// TQ2_0 and I2_S, and bitrepl's own ternary compute layout TQ1_S, see
// Repack), their reference quantizers and dequantizers, BitNet's
// per-token int8 activation quantization, ternary and float matrix-vector
// products, and the small float kernels of a transformer (RMSNorm, Softmax,
// RoPE, Dot, AxpyTo, the gated FFN activations SiLUMul and ReLU2Mul).
//
// Layouts are bit-exact with ggml (llama.cpp ggml-quants.c) and, for I2_S,
// with microsoft/BitNet's x86 layout (ggml-bitnet-mad.cpp). Every kernel has a
// pure-Go reference implementation in a *_generic.go file; faster versions
// are chosen once at init through a small dispatch table (see Level). The
// matrix kernels split their rows over a persistent worker pool (see
// SetThreads); MatMulTernaryPair runs two projections of one input with an
// elementwise step in a single pass over it, and Parallel lends it to the
// work between the matrix kernels.
//
// Kernels panic on shape mismatches (documented programmer errors); the
// functions that take data from files (NewMatrix, Quantize, PackTernary)
// return errors instead.
//
// It owns every CPU kernel and the worker pool, and imports only the standard
// library and golang.org/x/sys (CPU features, huge pages); model, metal/gpu,
// inspect and the trainer import it.
package cpu
