//go:build !noasm

package train

import (
	"slices"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// haveFMA reports AVX2 and FMA support, as metal/cpu's CPU detection found it (its AVX2 level is AVX2 and FMA with
// the YMM state saved by the OS), so the trainer and the engine dispatch from the same check.
var haveFMA = slices.Contains(cpu.Levels(), cpu.AVX2)

// kern4x16 adds the 4x16 block A[0:4, 0:k] · B[0:k, 0:16] to C (AVX2+FMA; reference loop in gemmRef).
//
//go:noescape
func kern4x16(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k int)
