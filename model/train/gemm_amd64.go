//go:build !noasm

package train

// haveFMA reports AVX2 and FMA support (checked once; the OS must save the YMM state).
var haveFMA = func() bool {
	max, _, _, _ := cpuid(0, 0)
	if max < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if c1&fma == 0 || c1&osxsave == 0 || c1&avx == 0 || xgetbv()&6 != 6 {
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0
}()

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax uint32)

// kern4x16 adds the 4x16 block A[0:4, 0:k] · B[0:k, 0:16] to C (AVX2+FMA; reference loop in gemmRef).
//
//go:noescape
func kern4x16(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, k int)
