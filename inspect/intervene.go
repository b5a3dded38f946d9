package inspect

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

// AllPositions in Intervention.Pos applies the intervention at every position.
const AllPositions = -1

// AllHeads in Intervention.Head applies it to the whole site.
const AllHeads = -1

// Intervention changes the values at one site of one layer, at one position
// or all, on one head or all. Apply gets the values (the head's slice when
// Head >= 0) and changes them in place.
type Intervention struct {
	Site  model.Site
	Layer int // -1 for output_norm and logits
	Pos   int // AllPositions, or a position
	Head  int // AllHeads, or a head of an attention site (a KV head for attn_k and attn_v)
	Apply func(data []float32)
}

// Zero sets the values to 0 (zero ablation).
func Zero(data []float32) { clear(data) }

// Set returns an Apply that copies v over the values (mean ablation with a
// mean, patching with a cached value).
func Set(v []float32) func([]float32) {
	return func(d []float32) { copy(d, v) }
}

// AddScaled returns an Apply that adds strength * v to the values (steering).
func AddScaled(v []float32, strength float32) func([]float32) {
	return func(d []float32) {
		for i := range min(len(d), len(v)) {
			d[i] += strength * v[i]
		}
	}
}

// Clamp returns an Apply that clamps every value to [lo, hi].
func Clamp(lo, hi float32) func([]float32) {
	return func(d []float32) {
		for i, x := range d {
			d[i] = max(lo, min(hi, x))
		}
	}
}

// HeadSlice returns head h's part of the values of an attention site at
// position pos: attention sites are head-major (attn_q and attn_sub_norm:
// heads x headDim; attn_k and attn_v: kvHeads x headDim; attn_weights:
// heads x (pos+1)). It fails for other sites and heads out of range.
func HeadSlice(c *model.Config, site model.Site, pos, h int, data []float32) ([]float32, error) {
	heads, w := c.Heads, c.HeadDim
	switch site {
	case model.SiteAttnQ, model.SiteAttnSubNorm:
	case model.SiteAttnK, model.SiteAttnV:
		heads = c.KVHeads
	case model.SiteAttnWeights:
		w = pos + 1
	default:
		return nil, fmt.Errorf("%s has no heads (attn_q, attn_k, attn_v, attn_weights, attn_sub_norm have)", site)
	}
	if h < 0 || h >= heads {
		return nil, fmt.Errorf("%s has %d heads; no head %d", site, heads, h)
	}
	if (h+1)*w > len(data) {
		return nil, fmt.Errorf("%s at position %d: %d values, too few for head %d of width %d", site, pos, len(data), h, w)
	}
	return data[h*w : (h+1)*w], nil
}

// Hooks is a model.Editor that applies interventions and projection edits,
// then lets Then (a Recorder, a Cache; may be nil) observe the values as
// the forward pass continues with them. Set Config (the model's) before the
// forward pass. Interventions run on the CPU: a session on Metal runs every
// pass with a hook on the CPU (model.NewSessionGPU).
type Hooks struct {
	Config        *model.Config
	Interventions []Intervention
	Projections   []*ProjectionEdit
	Then          model.Hook

	// Err is the first error met applying an intervention (a head out of
	// range): the forward pass cannot return it, so check it after.
	Err error
}

// Want implements model.Hook.
func (h *Hooks) Want(site model.Site, layer int) bool {
	for _, iv := range h.Interventions {
		if iv.Site == site && iv.Layer == layer {
			return true
		}
	}
	for _, p := range h.Projections {
		if p.Layer == layer && (p.in == site || p.out == site) {
			return true
		}
	}
	return h.Then != nil && h.Then.Want(site, layer)
}

// Edit implements model.Editor. At a projection's output the edited
// projection is computed first and the interventions apply to its result;
// at its input the interventions apply first and the projection sees what
// they leave.
func (h *Hooks) Edit(site model.Site, layer, pos int, data []float32) {
	for _, p := range h.Projections {
		if p.Layer == layer && p.out == site {
			p.edit(site, pos, data)
		}
	}
	h.intervene(site, layer, pos, data)
	for _, p := range h.Projections {
		if p.Layer == layer && p.in == site {
			p.edit(site, pos, data)
		}
	}
}

func (h *Hooks) intervene(site model.Site, layer, pos int, data []float32) {
	for _, iv := range h.Interventions {
		if iv.Site != site || iv.Layer != layer || iv.Pos != AllPositions && iv.Pos != pos {
			continue
		}
		d := data
		if iv.Head != AllHeads {
			var err error
			if d, err = HeadSlice(h.Config, site, pos, iv.Head, data); err != nil {
				if h.Err == nil {
					h.Err = err
				}
				continue
			}
		}
		iv.Apply(d)
	}
}

// Observe implements model.Hook.
func (h *Hooks) Observe(site model.Site, layer, pos int, data []float32) {
	if h.Then != nil && h.Then.Want(site, layer) {
		h.Then.Observe(site, layer, pos, data)
	}
}

// Projection names a BitLinear projection of a decoder block by its GGUF
// name: attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down.
type Projection string

// Projections lists them in forward order.
var Projections = []Projection{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}

// sites returns the site whose values a projection quantizes (its input)
// and the site of its output.
func (p Projection) sites() (in, out model.Site, ok bool) {
	switch p {
	case "attn_q":
		return model.SiteAttnNorm, model.SiteAttnQ, true
	case "attn_k":
		return model.SiteAttnNorm, model.SiteAttnK, true
	case "attn_v":
		return model.SiteAttnNorm, model.SiteAttnV, true
	case "attn_output":
		return model.SiteAttnSubNorm, model.SiteAttnOut, true
	case "ffn_gate":
		return model.SiteFFNNorm, model.SiteFFNGate, true
	case "ffn_up":
		return model.SiteFFNNorm, model.SiteFFNUp, true
	case "ffn_down":
		return model.SiteFFNSubNorm, model.SiteFFNDown, true
	}
	return 0, 0, false
}

// Matrix returns the projection's weights in layer of m.
func (p Projection) Matrix(m *model.Model, layer int) (*cpu.Matrix, error) {
	if layer < 0 || layer >= len(m.Layers()) {
		return nil, fmt.Errorf("no layer %d (the model has %d)", layer, len(m.Layers()))
	}
	l := &m.Layers()[layer]
	switch p {
	case "attn_q":
		return l.Q, nil
	case "attn_k":
		return l.K, nil
	case "attn_v":
		return l.V, nil
	case "attn_output":
		return l.O, nil
	case "ffn_gate":
		return l.Gate, nil
	case "ffn_up":
		return l.Up, nil
	case "ffn_down":
		return l.Down, nil
	}
	return nil, fmt.Errorf("unknown projection %q (want one of %v)", string(p), Projections)
}

// ParseWeightName reads "blk.N.PROJ.weight" (or "blk.N.PROJ", or "N.PROJ").
func ParseWeightName(name string) (layer int, p Projection, err error) {
	s := strings.TrimSuffix(strings.TrimPrefix(name, "blk."), ".weight")
	num, rest, _ := strings.Cut(s, ".")
	layer, err = strconv.Atoi(num)
	if err != nil || layer < 0 || num != strconv.Itoa(layer) {
		return 0, "", fmt.Errorf("weight %q: want blk.N.PROJ.weight with a layer N and PROJ one of %v", name, Projections)
	}
	p = Projection(rest)
	if !slices.Contains(Projections, p) {
		return 0, "", fmt.Errorf("weight %q: %q is not a BitLinear projection (%v)", name, rest, Projections)
	}
	return layer, p, nil
}

// ProjectionEdit recomputes one projection of one layer from its int8
// input: with a private copy of the weights (Matrix, when not nil; see
// EditableMatrix) and after Input changes the int8 activations (when not
// nil), in place of what the model computed. BitLinear quantizes its whole
// input with one absmax scale per token; the edit keeps that token's scale,
// so zeroing a head's columns of the input equals zeroing that head's
// columns of the weights, bit for bit. A plain (non-ternary) projection
// multiplies the float input, as the session does; the columns Input
// changes take its values there.
type ProjectionEdit struct {
	Layer  int
	Proj   Projection
	Matrix *cpu.Matrix       // nil: the model's
	Input  func(xq []int8)   // changes one token's int8 input (len = the matrix's columns)
	model  *cpu.Matrix       // the model's matrix, for the input width
	in     model.Site        // the site quantized
	out    model.Site        // the site replaced
	xq     map[int]quantized // by position, from the input site to the output site
}

type quantized struct {
	xq  []int8
	inv float32
	x   []float32 // the float input, for plain (non-ternary) projections
}

// NewProjectionEdit prepares an edit of projection p of layer in m. Set
// Matrix and/or Input on the result.
func NewProjectionEdit(m *model.Model, layer int, p Projection) (*ProjectionEdit, error) {
	w, err := p.Matrix(m, layer)
	if err != nil {
		return nil, err
	}
	in, out, _ := p.sites()
	return &ProjectionEdit{Layer: layer, Proj: p, model: w, in: in, out: out, xq: map[int]quantized{}}, nil
}

func (p *ProjectionEdit) edit(site model.Site, pos int, data []float32) {
	w := p.model
	if p.Matrix != nil {
		w = p.Matrix
	}
	if site == p.in {
		// As the session quantizes: the row, then zero columns up to the
		// matrix's padded width.
		q := p.xq[pos]
		if len(q.xq) != w.Cols {
			q.xq = make([]int8, w.Cols)
		}
		q.inv = cpu.QuantizeInt8(q.xq[:len(data)], data)
		clear(q.xq[len(data):])
		if model.PlainLayer(w.Type) {
			// A plain layer multiplies the float input (see the session's
			// project); Input's changes reach it through the int8 codes
			// it changed.
			if len(q.x) != w.Cols {
				q.x = make([]float32, w.Cols)
			}
			copy(q.x, data)
			clear(q.x[len(data):])
		}
		if p.Input != nil {
			p.Input(q.xq)
			if q.x != nil {
				// The columns Input changes, found by running it on
				// a vector of ones (it zeroes them, in AblateHead),
				// take its int8 values, dequantized.
				mark := make([]int8, len(q.xq))
				for i := range mark {
					mark[i] = 1
				}
				p.Input(mark)
				for i, v := range mark {
					if v != 1 {
						q.x[i] = float32(q.xq[i]) * q.inv
					}
				}
			}
		}
		p.xq[pos] = q
		return
	}
	q, ok := p.xq[pos]
	if !ok || len(data) != w.Rows {
		return
	}
	delete(p.xq, pos)
	if w.Type.Ternary() {
		cpu.MatVecTernary(data, w, q.xq, q.inv)
		return
	}
	if !model.PlainLayer(w.Type) {
		// Float weights of a BitNet model see the int8 activations,
		// dequantized, as in the session's project.
		x := make([]float32, len(q.xq))
		for i, v := range q.xq {
			x[i] = float32(v) * q.inv
		}
		cpu.MatMul(data, w, x, 1)
		return
	}
	cpu.MatMul(data, w, q.x, 1)
}

// AblateHead returns the edit that removes head h's output in layer: its
// columns of attn_output's int8 input are zeroed, with the token's
// quantization scale kept (see ProjectionEdit), which equals a model whose
// attn_output weights of that head are zero.
func AblateHead(m *model.Model, layer, h int) (*ProjectionEdit, error) {
	c := &m.Config
	if h < 0 || h >= c.Heads {
		return nil, fmt.Errorf("no head %d: the model has %d heads", h, c.Heads)
	}
	p, err := NewProjectionEdit(m, layer, "attn_output")
	if err != nil {
		return nil, err
	}
	hd := c.HeadDim
	p.Input = func(xq []int8) { clear(xq[h*hd : (h+1)*hd]) }
	return p, nil
}
