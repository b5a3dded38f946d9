//go:build !noasm

package cpu

func init() {
	if !hasF16C() { // the kernels convert the f16 scales with F16C
		return
	}
	for _, l := range []Level{AVX2, AVX512} {
		levelKernels[l].dotRowsQ8 = dotRowsQ8_0AVX2
		levelKernels[l].axpyRowsQ8 = axpyRowsQ8_0AVX2
		levelKernels[l].quantQ8 = quantQ8_0AVX2
	}
	levelKernels[AVX512].dotRowsQ8 = dotRowsQ8_0VNNI
	levelKernels[AVX512].axpyRowsQ8 = axpyRowsQ8_0AVX512
}

// dotRowsQ8_0AVX2 and dotRowsQ8_0VNNI are kernelSet.dotRowsQ8 (rows of
// whole blocks, len(dst) > 0), axpyRowsQ8_0AVX2 is kernelSet.axpyRowsQ8
// (len(dst) a positive multiple of 32, len(a) > 0); VNNI needs the AVX512
// level's AVX-512 VL and VNNI. The assembly is in q8rows_amd64.s.
//
//go:noescape
func dotRowsQ8_0AVX2(dst []float32, xq, m []byte, stride int, scale float32)

//go:noescape
func dotRowsQ8_0VNNI(dst []float32, xq, m []byte, stride int, scale float32)

//go:noescape
func axpyRowsQ8_0AVX2(dst, a []float32, m []byte, stride int)

// quantQ8_0AVX2 is kernelSet.quantQ8 (len(x) a positive multiple of 32).
//
//go:noescape
func quantQ8_0AVX2(dst []byte, x []float32) bool

// axpyRowsQ8_0AVX512 is axpyRowsQ8_0AVX2 on zmm registers, bit for bit.
//
//go:noescape
func axpyRowsQ8_0AVX512(dst, a []float32, m []byte, stride int)
