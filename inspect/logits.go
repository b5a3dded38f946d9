package inspect

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// TokenProb is one candidate next token.
type TokenProb struct {
	ID    int32
	Text  string // filled by the caller's token namer, may be ""
	Logit float32
	Prob  float64 // softmax probability
}

func (t TokenProb) String() string {
	return fmt.Sprintf("%6d %-16q %6.2f%%  logit %.3f", t.ID, t.Text, 100*t.Prob, t.Logit)
}

// LogitStats describes the distribution of one position's logits.
type LogitStats struct {
	Pos     int
	Chosen  int32   // the token that followed (generated or given); -1 when unknown
	Prob    float64 // probability of Chosen (NaN when unknown)
	Entropy float64 // in nats
	Top     []TokenProb
}

func (l *LogitStats) String() string {
	parts := make([]string, len(l.Top))
	for i, t := range l.Top {
		parts[i] = fmt.Sprintf("%q %.1f%%", t.Text, 100*t.Prob)
	}
	s := fmt.Sprintf("pos %-4d entropy %.3f", l.Pos, l.Entropy)
	if l.Chosen >= 0 {
		s += fmt.Sprintf("  chosen %d (%.1f%%)", l.Chosen, 100*l.Prob)
	}
	return s + "  top: " + strings.Join(parts, ", ")
}

// softmax64 returns the softmax of logits in float64 and the log of its normaliser.
func softmax64(logits []float32) ([]float64, float64) {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	p := make([]float64, len(logits))
	var sum float64
	for i, v := range logits {
		p[i] = math.Exp(float64(v) - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p, mx + math.Log(sum)
}

// Logits computes the top k tokens and the entropy of logits; name, when not
// nil, gives each token's text; chosen (or -1) is the token that followed.
func Logits(pos int, logits []float32, k int, chosen int32, name func(int32) string) LogitStats {
	p, _ := softmax64(logits)
	st := LogitStats{Pos: pos, Chosen: chosen, Prob: math.NaN()}
	for _, q := range p {
		if q > 0 {
			st.Entropy -= q * math.Log(q)
		}
	}
	if chosen >= 0 && int(chosen) < len(p) {
		st.Prob = p[chosen]
	}
	st.Top = topK(logits, p, k, name)
	return st
}

func topK(logits []float32, p []float64, k int, name func(int32) string) []TokenProb {
	k = min(k, len(logits))
	idx := make([]int, 0, k+1)
	for i := range logits {
		// insertion into a short sorted list: O(n k) with k small
		if len(idx) == k && logits[i] <= logits[idx[k-1]] {
			continue
		}
		j := sort.Search(len(idx), func(j int) bool { return logits[idx[j]] < logits[i] })
		idx = append(idx, 0)
		copy(idx[j+1:], idx[j:])
		idx[j] = i
		if len(idx) > k {
			idx = idx[:k]
		}
	}
	out := make([]TokenProb, len(idx))
	for n, i := range idx {
		out[n] = TokenProb{ID: int32(i), Logit: logits[i], Prob: p[i]}
		if name != nil {
			out[n].Text = name(int32(i))
		}
	}
	return out
}
