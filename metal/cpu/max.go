package cpu

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
