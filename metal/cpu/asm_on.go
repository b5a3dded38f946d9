//go:build !noasm

package cpu

// asmEnabled reports whether the SIMD levels are built (the noasm build tag
// leaves only the Generic level).
const asmEnabled = true
