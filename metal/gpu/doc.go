// Package gpu runs bitrepl's models on Apple GPUs through Metal.
//
// On macOS it talks to Metal.framework through the Objective-C runtime
// (github.com/ebitengine/purego, no cgo), so it cross-compiles from any
// system; elsewhere Open returns an error wrapping ErrUnavailable.
//
// A Device holds the compiled kernels (kernels.metal, embedded). Load
// uploads a model's weights once (without copying page-aligned spans of
// memory-mapped files) from the engine's tensor list (Weights: each block
// tensor with its Role, shape and whether it is a BitLinear projection);
// a Runner holds one sequence's KV cache and activations in GPU buffers.
//
// This package does not know the order of a block: package model's block
// function (model/backend.go) does, for the CPU and the GPU alike. A batch
// is Begin (the embeddings), then the operations model's block calls for
// every layer (NormQuant, QKV, Attend, GateUp, AddProject), then Output
// for the logits, each recording its kernels into one command buffer, and
// Run, which runs it and returns the logits.
//
// Every kernel has a reference in package metal/cpu; the integer part (int8
// activation quantization, ternary dot products) is bit-exact with it, the
// float parts (RMSNorm, RoPE, attention, softmax, float-weight matrices)
// agree within float32 rounding. On Linux the tests compile kernels.metal as
// C++ against a shim of the Metal language (testdata/shim) and run every
// kernel, and whole forward passes, on the CPU against those references;
// only the Objective-C calls into Metal itself need a Mac.
//
// This package imports metal/cpu and the standard library (and purego on
// macOS); the engine (package model) imports it, never the other way.
package gpu
