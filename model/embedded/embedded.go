// Package embedded ships bitrepl's default model inside the binary: a BitNet b1.58 model of the 2B-4T family
// (ReLU² FFN, sub-norms, GQA, tied embedding) trained by model/train on public-domain English (State of the Union
// addresses and Moby Dick), with ternary TQ2_0 weights and an F16 embedding. model/train/README.md has the recipe
// and the validation table.
//
// It imports nothing of bitrepl: it is the file's bytes and its name.
package embedded

import _ "embed"

// Name is the file name of the embedded model.
const Name = "bitrepl-tiny.gguf"

//go:embed bitrepl-tiny.gguf
var file []byte

// GGUF returns the embedded GGUF file. The slice is shared: do not modify it (model.LoadBytes does not).
func GGUF() []byte { return file }
