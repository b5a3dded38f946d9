// Package inspect computes statistics about a model's weights and about the
// values inside its forward pass (through model hooks). Results are plain
// structs with a String method; rendering belongs to the callers (repl, notebook).
//
// It imports model (hooks, weights), metal/cpu (weight layouts) and
// model/safetensors and model/atomicfile (exports); repl and notebook import it.
package inspect

import (
	"fmt"
	"math"
	"strings"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// TensorStats describes one weight matrix.
type TensorStats struct {
	Name       string
	Type       cpu.DType
	Rows, Cols int

	// Neg, Zero and Pos count the weights by sign: for ternary types these are
	// the codes -1, 0 and +1 (from TernaryRow); for other types the signs of
	// the dequantized values. Invalid counts ternary codes outside {-1,0,1}
	// (the reserved 2-bit code 3 reads as +2).
	Neg, Zero, Pos, Invalid int64

	Scale float32 // Matrix.Scale: the per-tensor factor (I2_S trailer; 1 when unused)
	// Magnitude of the non-zero dequantized weights per unit of code,
	// |w|/|code| (for ternary types block d times Scale): its minimum, mean
	// and maximum. For I2_S all three equal |Scale|; for TQ types they show
	// how the per-block d vary.
	MagMin, MagMean, MagMax float64

	Mean, Std, AbsMax float64 // of all dequantized weights

	RowSparsity Histogram // over rows: the share of zero weights in each row
	ColSparsity Histogram // over columns: the share of zero weights in each column

	Latent *LatentStats // nil unless the file had latent weights for this tensor
}

// Count is Rows*Cols.
func (t *TensorStats) Count() int64 { return int64(t.Rows) * int64(t.Cols) }

// Share returns the shares of negative, zero and positive weights.
func (t *TensorStats) Share() (neg, zero, pos float64) {
	n := float64(t.Count())
	if n == 0 {
		return 0, 0, 0
	}
	return float64(t.Neg) / n, float64(t.Zero) / n, float64(t.Pos) / n
}

// Layer returns N for a tensor named blk.N.*, else -1.
func (t *TensorStats) Layer() int { return layerOf(t.Name) }

func (t *TensorStats) String() string {
	if !t.Type.Ternary() {
		return fmt.Sprintf("%-28s %-5v %5dx%-5d  mean %.4g  std %.4g  absmax %.4g", t.Name, t.Type, t.Rows, t.Cols, t.Mean, t.Std, t.AbsMax)
	}
	neg, zero, pos := t.Share()
	s := fmt.Sprintf("%-28s %-5v %5dx%-5d  -1 %5.1f%%  0 %5.1f%%  +1 %5.1f%%  scale %.4g  |w| %.4g..%.4g",
		t.Name, t.Type, t.Rows, t.Cols, 100*neg, 100*zero, 100*pos, t.Scale, t.MagMin, t.MagMax)
	if t.Invalid > 0 {
		s += fmt.Sprintf("  INVALID %d", t.Invalid)
	}
	if t.Latent != nil {
		s += "  latent: " + t.Latent.String()
	}
	return s
}

// Histogram counts values in equal-width bins over [Lo, Hi]; the last bin is
// closed, values outside the range go to the nearest bin.
type Histogram struct {
	Lo, Hi float64
	Counts []int64
}

// NewHistogram returns an empty histogram of bins bins over [lo, hi].
func NewHistogram(lo, hi float64, bins int) Histogram {
	return Histogram{Lo: lo, Hi: hi, Counts: make([]int64, max(bins, 1))}
}

// Add counts x; NaN is not counted (it falls in no bin).
func (h *Histogram) Add(x float64) {
	if math.IsNaN(x) {
		return
	}
	n := len(h.Counts)
	// clamped as a float: converting ±Inf to int is not defined
	f := math.Floor((x - h.Lo) / (h.Hi - h.Lo) * float64(n))
	h.Counts[int(max(0, min(float64(n-1), f)))]++
}

// Bin returns the range of bin i.
func (h *Histogram) Bin(i int) (lo, hi float64) {
	w := (h.Hi - h.Lo) / float64(len(h.Counts))
	return h.Lo + float64(i)*w, h.Lo + float64(i+1)*w
}

// Total is the number of values counted.
func (h *Histogram) Total() int64 {
	var n int64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

func (h Histogram) String() string {
	var b strings.Builder
	for i, c := range h.Counts {
		lo, hi := h.Bin(i)
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "[%.3g,%.3g):%d", lo, hi, c)
	}
	return b.String()
}

// Weights computes the statistics of m; latent, when not nil, holds the
// tensor's latent weights (Rows*Cols, row-major) to compare with their
// ternarisation. bins is the number of bins of the sparsity histograms.
func Weights(name string, m *cpu.Matrix, latent []float32, bins int) (TensorStats, error) {
	st := TensorStats{Name: name, Type: m.Type, Rows: m.Rows, Cols: m.Cols, Scale: m.Scale,
		RowSparsity: NewHistogram(0, 1, bins), ColSparsity: NewHistogram(0, 1, bins), MagMin: math.Inf(1)}
	if n, err := cpu.MatrixBytes(m.Type, m.Rows, m.Cols); err != nil || len(m.Data) < n || m.Rows <= 0 {
		return st, fmt.Errorf("inspect: %s: inconsistent %v matrix %dx%d with %d bytes", name, m.Type, m.Rows, m.Cols, len(m.Data))
	}
	if latent != nil && len(latent) != m.Rows*m.Cols {
		return st, fmt.Errorf("inspect: %s: %d latent weights for a %dx%d matrix", name, len(latent), m.Rows, m.Cols)
	}
	colZeros := make([]int64, m.Cols)
	var acc moments
	if m.Type.Ternary() {
		acc = ternaryPass(&st, m, colZeros)
	} else {
		acc = floatPass(&st, m, colZeros)
	}
	for _, z := range colZeros {
		st.ColSparsity.Add(float64(z) / float64(m.Rows))
	}
	sum, sumSq, magSum, nonZero := acc.sum, acc.sumSq, acc.magSum, acc.nonZero
	codes := make([]int8, m.Cols)
	n := float64(st.Count())
	st.Mean = sum / n
	st.Std = math.Sqrt(math.Max(0, sumSq/n-st.Mean*st.Mean))
	if nonZero > 0 {
		st.MagMean = magSum / float64(nonZero)
	} else {
		st.MagMin = 0
	}
	if latent != nil {
		ls := latentStats(m, latent, codes)
		st.Latent = &ls
	}
	return st, nil
}

func sign(v float32) int8 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// LatentStats compares latent weights W with their BitNet ternarisation:
// s = 1/max(mean|W|, 1e-5), Wq = clamp(roundHalfEven(W*s), -1, 1), effective
// weight Wq/s.
type LatentStats struct {
	MeanAbs        float64 // mean |W|, the effective scale 1/s
	Neg, Zero, Pos int64   // codes of the ternarised latent weights
	RelErr         float64 // ||W - Wq/s|| / ||W|| (Frobenius)
	SQNR           float64 // 10 log10(||W||² / ||W - Wq/s||²) in dB
	// Agree is the share of weights whose ternarised latent code equals the
	// stored code (ternary matrices only; NaN otherwise).
	Agree float64
}

func (l *LatentStats) String() string {
	s := fmt.Sprintf("mean|W| %.4g  rel.err %.4f  SQNR %.2f dB", l.MeanAbs, l.RelErr, l.SQNR)
	if !math.IsNaN(l.Agree) {
		s += fmt.Sprintf("  agree %.2f%%", 100*l.Agree)
	}
	return s
}

// Ternarise applies the BitNet weight quantizer to w: codes in {-1,0,1} and
// the effective scale mean|w| (clamped to at least 1e-5).
func Ternarise(w []float32) (codes []int8, scale float64) {
	var sum float64
	for _, v := range w {
		sum += math.Abs(float64(v))
	}
	scale = math.Max(sum/float64(max(len(w), 1)), 1e-5)
	codes = make([]int8, len(w))
	for i, v := range w {
		codes[i] = int8(math.Max(-1, math.Min(1, math.RoundToEven(float64(v)/scale))))
	}
	return codes, scale
}

func latentStats(m *cpu.Matrix, latent []float32, buf []int8) LatentStats {
	codes, scale := Ternarise(latent)
	ls := LatentStats{MeanAbs: scale, Agree: math.NaN()}
	var sig, noise float64
	for i, c := range codes {
		w := float64(latent[i])
		d := w - float64(c)*scale
		sig += w * w
		noise += d * d
		switch c {
		case -1:
			ls.Neg++
		case 0:
			ls.Zero++
		case 1:
			ls.Pos++
		}
	}
	if sig > 0 {
		ls.RelErr = math.Sqrt(noise / sig)
	}
	ls.SQNR = 10 * math.Log10(sig/noise)
	if m.Type.Ternary() {
		var agree int64
		for r := 0; r < m.Rows; r++ {
			m.TernaryRow(buf, r)
			for j, c := range buf {
				if c == codes[r*m.Cols+j] {
					agree++
				}
			}
		}
		ls.Agree = float64(agree) / float64(len(codes))
	}
	return ls
}

// moments accumulates the sums behind Mean, Std and MagMean.
type moments struct {
	sum, sumSq, magSum float64
	nonZero            int64
}

// floatPass counts signs and sums moments of a non-ternary matrix from its dequantized rows.
func floatPass(st *TensorStats, m *cpu.Matrix, colZeros []int64) moments {
	var acc moments
	vals := make([]float32, m.Cols)
	for r := 0; r < m.Rows; r++ {
		m.Row(vals, r)
		rowZeros := 0
		for j, v := range vals {
			f := float64(v)
			acc.sum += f
			acc.sumSq += f * f
			a := math.Abs(f)
			st.AbsMax = math.Max(st.AbsMax, a)
			switch {
			case v == 0:
				st.Zero++
				rowZeros++
				colZeros[j]++
				continue
			case v < 0:
				st.Neg++
			default:
				st.Pos++
			}
			acc.nonZero++
			acc.magSum += a
			st.MagMin = math.Min(st.MagMin, a)
			st.MagMax = math.Max(st.MagMax, a)
		}
		st.RowSparsity.Add(float64(rowZeros) / float64(m.Cols))
	}
	return acc
}

// ternaryPass counts codes with integer arithmetic and takes the factor of
// each block once (w = code * f, f = d_block * Scale; I2_S: f = Scale), so
// the moments follow from the per-block counts. Codes outside {-1,0,1} count
// as Invalid and enter the moments with their value (code * f).
func ternaryPass(st *TensorStats, m *cpu.Matrix, colZeros []int64) moments {
	var acc moments
	codes := make([]int8, m.Cols)
	var vals []float32
	if m.Type != cpu.I2_S {
		vals = make([]float32, m.Cols)
	}
	bs := m.Type.BlockSize()
	for r := 0; r < m.Rows; r++ {
		m.TernaryRow(codes, r)
		if vals != nil {
			m.Row(vals, r)
		}
		rowZeros := 0
		for b0 := 0; b0 < m.Cols; b0 += bs {
			var neg, zero, pos, inv int64
			var invSum, invAbs, invSq, maxCode float64
			f, fSet := float64(m.Scale), vals == nil
			for j, c := range codes[b0 : b0+bs] {
				switch c {
				case -1:
					neg++
				case 0:
					zero++
					colZeros[b0+j]++
					continue
				case 1:
					pos++
				default:
					x := float64(c)
					inv++
					invSum += x
					invAbs += math.Abs(x)
					invSq += x * x
					maxCode = math.Max(maxCode, math.Abs(x))
				}
				if !fSet {
					f, fSet = float64(vals[b0+j])/float64(c), true
				}
			}
			st.Neg += neg
			st.Zero += zero
			st.Pos += pos
			st.Invalid += inv
			rowZeros += int(zero)
			if neg+pos+inv == 0 {
				continue
			}
			if neg+pos > 0 {
				maxCode = math.Max(maxCode, 1)
			}
			a := math.Abs(f)
			acc.nonZero += neg + pos + inv
			acc.sum += f * (float64(pos-neg) + invSum)
			acc.sumSq += f * f * (float64(pos+neg) + invSq)
			acc.magSum += a * (float64(pos+neg) + invAbs)
			st.MagMin = math.Min(st.MagMin, a)
			st.MagMax = math.Max(st.MagMax, a)
			st.AbsMax = math.Max(st.AbsMax, a*maxCode)
		}
		st.RowSparsity.Add(float64(rowZeros) / float64(m.Cols))
	}
	return acc
}
