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

// maxVector is kernelSet.max with a kernel over whole vectors of the given
// lanes: the vector maximum is maxGeneric's bits unless x holds a NaN
// (maxGeneric returns the last one) or the maximum is zero (maxGeneric
// returns the first of +0 and -0); those go to maxGeneric.
func maxVector(x []float32, lanes int, f func([]float32) (float32, bool)) float32 {
	n := len(x) / lanes * lanes
	if n == 0 {
		return maxGeneric(x)
	}
	mx, nan := f(x[:n])
	for _, v := range x[n:] {
		nan = nan || v != v
		if v > mx {
			mx = v
		}
	}
	if nan || mx == 0 {
		return maxGeneric(x)
	}
	return mx
}
