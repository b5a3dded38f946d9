package inspect

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

// Recorder is a model.Hook that computes ActStats for the sites it records,
// LogitStats for the logits, and keeps the raw values of the sites in Keep
// (the residual stream for a logit lens, attention weights for heatmaps,
// hidden states for export). Set the fields before the forward pass.
type Recorder struct {
	Sites  []model.Site // sites with statistics; nil = every site
	Layers []int        // layers recorded; nil = every layer
	Keep   []model.Site // sites whose values are kept (copied)
	TopK   int          // candidates kept per logits position (0 = 5)
	Namer  func(int32) string
	// Tokens, when set, is the sequence being evaluated from position 0: the
	// logits at position p are scored against Tokens[p+1] (LogitStats.Chosen, Prob).
	Tokens []int32

	Stats  []ActStats   // in the order observed
	Logits []LogitStats // one per position whose logits were computed

	values map[valueKey][]float32
}

type valueKey struct {
	site       model.Site
	layer, pos int
}

// Want implements model.Hook.
func (r *Recorder) Want(site model.Site, layer int) bool {
	if layer >= 0 && r.Layers != nil && !slices.Contains(r.Layers, layer) {
		return false
	}
	return r.stats(site) || slices.Contains(r.Keep, site)
}

func (r *Recorder) stats(site model.Site) bool {
	return r.Sites == nil || slices.Contains(r.Sites, site)
}

// Observe implements model.Hook.
func (r *Recorder) Observe(site model.Site, layer, pos int, data []float32) {
	if slices.Contains(r.Keep, site) {
		if r.values == nil {
			r.values = map[valueKey][]float32{}
		}
		r.values[valueKey{site, layer, pos}] = slices.Clone(data)
	}
	if !r.stats(site) {
		return
	}
	switch site {
	case model.SiteLogits:
		k := r.TopK
		if k <= 0 {
			k = 5
		}
		chosen := int32(-1)
		if pos+1 < len(r.Tokens) {
			chosen = r.Tokens[pos+1]
		}
		r.Logits = append(r.Logits, Logits(pos, data, k, chosen, r.Namer))
	case model.SiteAttnWeights:
		// probabilities per head: shown as heatmaps, not summarised
	default:
		r.Stats = append(r.Stats, Activations(site.String(), layer, pos, data, site.BitLinearInput()))
	}
}

// Values returns the kept values of site at layer and pos.
func (r *Recorder) Values(site model.Site, layer, pos int) ([]float32, bool) {
	v, ok := r.values[valueKey{site, layer, pos}]
	return v, ok
}

// Positions returns the positions for which site at layer was kept, ascending.
func (r *Recorder) Positions(site model.Site, layer int) []int {
	var ps []int
	for k := range r.values {
		if k.site == site && k.layer == layer {
			ps = append(ps, k.pos)
		}
	}
	slices.Sort(ps)
	return ps
}

// Reset forgets everything recorded (the settings stay).
func (r *Recorder) Reset() {
	r.Stats, r.Logits, r.values = nil, nil, nil
}

// Attention returns the attention weights of head at layer as rows over the
// query positions kept: row i holds the weights of query position Pos[i] over
// key positions 0..Pos[i].
func (r *Recorder) Attention(layer, head int) (pos []int, rows [][]float32, err error) {
	pos = r.Positions(model.SiteAttnWeights, layer)
	if len(pos) == 0 {
		return nil, nil, fmt.Errorf("no attention weights recorded for layer %d", layer)
	}
	for _, p := range pos {
		v, _ := r.Values(model.SiteAttnWeights, layer, p)
		n := p + 1
		if len(v)%n != 0 || head < 0 || (head+1)*n > len(v) {
			return nil, nil, fmt.Errorf("layer %d has %d heads; no head %d", layer, len(v)/max(n, 1), head)
		}
		rows = append(rows, v[head*n:(head+1)*n])
	}
	return pos, rows, nil
}

// LensRow is one layer of a logit lens.
type LensRow struct {
	Layer   int
	Entropy float64
	Top     []TokenProb
}

func (l LensRow) String() string {
	parts := make([]string, len(l.Top))
	for i, t := range l.Top {
		parts[i] = fmt.Sprintf("%q %.1f%%", t.Text, 100*t.Prob)
	}
	return fmt.Sprintf("L%-3d entropy %.3f  top: %s", l.Layer, l.Entropy, strings.Join(parts, ", "))
}

// LogitLens projects the residual stream after each layer at pos (kept by a
// Recorder with SiteResidual in Keep) through the model's final norm and LM
// head: what the model would predict if it stopped at that layer.
func LogitLens(m *model.Model, r *Recorder, pos, k int) ([]LensRow, error) {
	c := &m.Config
	xn := make([]float32, c.Dim)
	logits := make([]float32, c.VocabSize)
	var rows []LensRow
	for layer := 0; layer < c.Layers; layer++ {
		x, ok := r.Values(model.SiteResidual, layer, pos)
		if !ok {
			continue
		}
		if len(x) != c.Dim {
			return nil, fmt.Errorf("logit lens: layer %d residual has %d values, model dim %d", layer, len(x), c.Dim)
		}
		cpu.RMSNorm(xn, x, m.OutputNorm(), c.NormEps)
		cpu.MatVec(logits, m.Output(), xn)
		st := Logits(pos, logits, k, -1, r.Namer)
		rows = append(rows, LensRow{Layer: layer, Entropy: st.Entropy, Top: st.Top})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("logit lens: no residual stream recorded at position %d", pos)
	}
	return rows, nil
}

// WeightStats computes Weights for every weight matrix of m (latent weights
// included when the file had them), bins bins per sparsity histogram, in
// file order. Tensors are spread over GOMAXPROCS goroutines.
func WeightStats(m *model.Model, bins int, filter func(name string) bool) ([]TensorStats, error) {
	var ws []model.Weight
	for _, w := range m.Weights() {
		if filter == nil || filter(w.Name) {
			ws = append(ws, w)
		}
	}
	out := make([]TensorStats, len(ws))
	errs := make([]error, len(ws))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(ws), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				w := ws[i]
				var latent []float32
				if w.HasLatent() {
					if latent, errs[i] = w.Latent(); errs[i] != nil {
						continue
					}
				}
				out[i], errs[i] = Weights(w.Name, w.Matrix, latent, bins)
			}
		}()
	}
	for i := range ws {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
