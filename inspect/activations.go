package inspect

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// ActStats describes the values at one site, layer and position of a forward pass.
type ActStats struct {
	Site         string // GGUF-style site name: attn_norm, ffn_down, residual, ...
	Layer, Pos   int    // Layer is -1 outside the decoder blocks
	N            int    // number of values (channels)
	Mean, Std    float64
	AbsMax       float64
	P1, P50, P99 float64 // percentiles of the values
	// Outliers are the channels with |x| > OutlierSigma * Std, largest first (at most MaxOutliers).
	Outliers []int
	// SQNR is the signal-to-noise ratio in dB of the per-token absmax int8
	// quantization of these values (cpu.QuantizeInt8), which BitLinear
	// applies to its input; NaN where the site is not a BitLinear input.
	SQNR float64
}

// OutlierSigma is how many standard deviations from zero make a channel an outlier.
const OutlierSigma = 6

// MaxOutliers bounds ActStats.Outliers.
const MaxOutliers = 8

func (a *ActStats) String() string {
	s := fmt.Sprintf("%-13s L%-3d pos %-4d mean %+.4f std %.4f absmax %.4g  p1 %+.4g p50 %+.4g p99 %+.4g",
		a.Site, a.Layer, a.Pos, a.Mean, a.Std, a.AbsMax, a.P1, a.P50, a.P99)
	if !math.IsNaN(a.SQNR) {
		s += fmt.Sprintf("  int8 SQNR %.2f dB", a.SQNR)
	}
	if len(a.Outliers) > 0 {
		s += fmt.Sprintf("  outliers %v", a.Outliers)
	}
	return s
}

// Activations computes the statistics of x; quantized says whether x is the
// input of a BitLinear projection (then SQNR is measured, else it is NaN).
func Activations(site string, layer, pos int, x []float32, quantized bool) ActStats {
	a := ActStats{Site: site, Layer: layer, Pos: pos, N: len(x), SQNR: math.NaN()}
	if len(x) == 0 {
		return a
	}
	var sum, sumSq float64
	for _, v := range x {
		f := float64(v)
		sum += f
		sumSq += f * f
		a.AbsMax = math.Max(a.AbsMax, math.Abs(f))
	}
	n := float64(len(x))
	a.Mean = sum / n
	a.Std = math.Sqrt(math.Max(0, sumSq/n-a.Mean*a.Mean))
	sorted := slices.Clone(x)
	slices.Sort(sorted)
	a.P1, a.P50, a.P99 = percentile(sorted, 0.01), percentile(sorted, 0.5), percentile(sorted, 0.99)
	if a.Std > 0 {
		for i, v := range x {
			if math.Abs(float64(v)) > OutlierSigma*a.Std {
				a.Outliers = append(a.Outliers, i)
			}
		}
		sort.SliceStable(a.Outliers, func(i, j int) bool { return abs32(x[a.Outliers[i]]) > abs32(x[a.Outliers[j]]) })
		if len(a.Outliers) > MaxOutliers {
			a.Outliers = a.Outliers[:MaxOutliers]
		}
	}
	if quantized {
		a.SQNR = QuantSQNR(x)
	}
	return a
}

// QuantSQNR is 10 log10(Σx² / Σ(x - x̂)²) in dB, where x̂ is x quantized to
// int8 with the per-token absmax scale and dequantized (+Inf when exact).
func QuantSQNR(x []float32) float64 {
	q := make([]int8, len(x))
	inv := cpu.QuantizeInt8(q, x)
	var sig, noise float64
	for i, v := range x {
		d := float64(v) - float64(q[i])*float64(inv)
		sig += float64(v) * float64(v)
		noise += d * d
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

// percentile of sorted values with linear interpolation (q in [0,1]).
func percentile(sorted []float32, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return float64(sorted[len(sorted)-1])
	}
	f := pos - float64(i)
	return float64(sorted[i])*(1-f) + float64(sorted[i+1])*f
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

// SiteSummary aggregates ActStats of one site and layer over positions.
type SiteSummary struct {
	Site     string
	Layer    int
	Tokens   int
	MeanStd  float64
	MeanAbs  float64 // mean over tokens of AbsMax
	MaxAbs   float64 // largest AbsMax
	MeanSQNR float64 // NaN unless a BitLinear input
	MinSQNR  float64
	// TopOutliers are the channels most often among the outliers, most frequent first.
	TopOutliers []int
}

func (s *SiteSummary) String() string {
	out := fmt.Sprintf("%-13s L%-3d %4d tok  std %.4f  absmax mean %.4g max %.4g", s.Site, s.Layer, s.Tokens, s.MeanStd, s.MeanAbs, s.MaxAbs)
	if !math.IsNaN(s.MeanSQNR) {
		out += fmt.Sprintf("  int8 SQNR mean %.2f min %.2f dB", s.MeanSQNR, s.MinSQNR)
	}
	if len(s.TopOutliers) > 0 {
		out += fmt.Sprintf("  outlier channels %v", s.TopOutliers)
	}
	return out
}

// Summarize groups stats by site and layer, in the order they first appear.
func Summarize(stats []ActStats) []SiteSummary {
	type key struct {
		site  string
		layer int
	}
	var order []key
	acc := map[key]*SiteSummary{}
	counts := map[key]map[int]int{}
	for _, a := range stats {
		k := key{a.Site, a.Layer}
		s, ok := acc[k]
		if !ok {
			s = &SiteSummary{Site: a.Site, Layer: a.Layer, MeanSQNR: math.NaN(), MinSQNR: math.NaN()}
			acc[k] = s
			counts[k] = map[int]int{}
			order = append(order, k)
		}
		s.Tokens++
		s.MeanStd += a.Std
		s.MeanAbs += a.AbsMax
		s.MaxAbs = math.Max(s.MaxAbs, a.AbsMax)
		if !math.IsNaN(a.SQNR) {
			if math.IsNaN(s.MeanSQNR) {
				s.MeanSQNR, s.MinSQNR = 0, a.SQNR
			}
			s.MeanSQNR += a.SQNR
			s.MinSQNR = math.Min(s.MinSQNR, a.SQNR)
		}
		for _, c := range a.Outliers {
			counts[k][c]++
		}
	}
	out := make([]SiteSummary, 0, len(order))
	for _, k := range order {
		s := acc[k]
		n := float64(s.Tokens)
		s.MeanStd /= n
		s.MeanAbs /= n
		if !math.IsNaN(s.MeanSQNR) {
			s.MeanSQNR /= n
		}
		for c := range counts[k] {
			s.TopOutliers = append(s.TopOutliers, c)
		}
		cs := counts[k]
		sort.Slice(s.TopOutliers, func(i, j int) bool {
			a, b := s.TopOutliers[i], s.TopOutliers[j]
			return cs[a] > cs[b] || cs[a] == cs[b] && a < b
		})
		if len(s.TopOutliers) > MaxOutliers {
			s.TopOutliers = s.TopOutliers[:MaxOutliers]
		}
		out = append(out, *s)
	}
	return out
}
