//go:build !noasm

package cpu

// Softmax's maximum on amd64 (max_amd64.s).

func init() {
	if len(cpuLevels) > 1 { // AVX2 at least
		levelKernels[AVX2].max = maxAVX2
		levelKernels[AVX512].max = maxAVX512
	}
}

// maxNaNAVX2 returns the largest non-NaN element of x (-Inf if none) and
// whether x holds a NaN; len(x) must be a multiple of 8. maxNaNAVX512 is the
// same on 16 lanes (len(x) a multiple of 16).
//
//go:noescape
func maxNaNAVX2(x []float32) (mx float32, nan bool)

//go:noescape
func maxNaNAVX512(x []float32) (mx float32, nan bool)

func maxAVX2(x []float32) float32 { return maxVector(x, 8, maxNaNAVX2) }

func maxAVX512(x []float32) float32 { return maxVector(x, 16, maxNaNAVX512) }
