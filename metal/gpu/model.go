package gpu

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// Config is the shape of a model, as the GPU graph needs it. It mirrors the
// engine's config without importing it (package model imports this one).
type Config struct {
	Dim             int     // hidden size (residual stream width)
	FFNDim          int     // feed-forward inner size
	Layers          int     // decoder blocks
	Heads           int     // query heads
	KVHeads         int     // key/value heads (GQA when fewer than Heads)
	HeadDim         int     // values per head (even, at most 256)
	VocabSize       int     // rows of the LM head
	NormEps         float32 // RMSNorm epsilon
	ReLU2           bool    // FFN gate activation relu²; else SiLU
	RopeInterleaved bool    // RoPE over pairs (2i, 2i+1); else rotate-half (i, i+HeadDim/2)
}

// Role says what a tensor of a decoder block is (the block of every
// architecture bitrepl runs: RMSNorm, Q/K/V, attention sub-norm, O,
// RMSNorm, gate/up, FFN sub-norm, down).
type Role uint8

const (
	AttnNorm    Role = iota // (Dim) RMSNorm weight before attention
	Q                       // (Heads*HeadDim, Dim)
	K                       // (KVHeads*HeadDim, Dim)
	V                       // (KVHeads*HeadDim, Dim)
	AttnSubNorm             // (Heads*HeadDim) optional sub-norm before O
	O                       // (Dim, Heads*HeadDim)
	FFNNorm                 // (Dim) RMSNorm weight before the feed-forward
	Gate                    // (FFNDim, Dim)
	Up                      // (FFNDim, Dim)
	FFNSubNorm              // (FFNDim) optional sub-norm before down
	Down                    // (Dim, FFNDim)
	numRoles
)

var roleNames = [numRoles]string{"attn_norm", "attn_q", "attn_k", "attn_v", "attn_sub_norm", "attn_output",
	"ffn_norm", "ffn_gate", "ffn_up", "ffn_sub_norm", "ffn_down"}

func (r Role) String() string {
	if r < numRoles {
		return roleNames[r]
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Tensor is one weight of a decoder block, as the engine's description of
// the architecture lists it.
type Tensor struct {
	Layer      int
	Role       Role
	Name       string      // for errors: "blk.0.attn_q.weight"
	Rows, Cols int         // rows x cols (out x in) of a projection; Rows values of a vector
	BitLinear  bool        // a projection fed int8 activations (Matrix); else a norm weight (Vec)
	Matrix     *cpu.Matrix // its Cols may exceed Cols (zero-padded to a block); Q, K and V share one, as do Gate and Up
	Vec        []float32
}

// Weights are a model's weights for the GPU. The token embedding is not
// among them: the engine looks rows up on the CPU (any storage type) and
// passes the embeddings to Runner.Begin.
type Weights struct {
	Block   []Tensor    // every layer's tensors; the sub-norms are optional
	OutNorm []float32   // (Dim)
	Output  *cpu.Matrix // (VocabSize, Dim) LM head: F32, F16, BF16, Q8_0, Q4_0 or Q6_K
}

// matrix is an uploaded weight matrix and the kernels that use it.
type matrix struct {
	name       string
	w          ref
	typ        cpu.DType // as stored on the GPU (TQ1_0 is repacked to TQ2_0)
	rows, cols int
	rowBytes   int
	scale      float32
	vec, mat   kernelID // ternary kernels for 1 and n tokens; mat only for float types
	ternary    bool
}

// layer is a block's uploaded tensors by role: a projection in mats, a norm
// in vecs (buf 0 for an absent sub-norm).
type layer struct {
	mats [numRoles]*matrix
	vecs [numRoles]ref
}

// Model is a model's weights on a Device, uploaded once and shared by every
// Runner made from it.
type Model struct {
	d      *Device
	cfg    Config
	layers []layer
	out    *matrix
	outN   ref
	bufs   []bufID
	keep   [][]byte // the weights' memory, which Metal may use in place
	float  bool     // some projection has float weights (the runner needs xf)
	maxCol int      // widest projection input
}

var floatKernels = map[cpu.DType]kernelID{
	cpu.F32: kMatF32, cpu.F16: kMatF16, cpu.BF16: kMatBF16,
	cpu.Q8_0: kMatQ8_0, cpu.Q4_0: kMatQ4_0, cpu.Q6_K: kMatQ6K,
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("gpu: %s: %w", fmt.Sprintf(format, args...), ErrUnsupported)
}

// Load checks w against cfg and uploads it. Errors wrap ErrUnsupported for
// models the kernels do not cover (then the CPU should run the model).
func (d *Device) Load(cfg Config, w Weights) (*Model, error) {
	c := cfg
	if c.Dim <= 0 || c.FFNDim <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.KVHeads <= 0 || c.HeadDim <= 0 || c.VocabSize <= 0 {
		return nil, fmt.Errorf("gpu: bad config %+v", c)
	}
	if c.Heads%c.KVHeads != 0 || c.HeadDim%2 != 0 {
		return nil, fmt.Errorf("gpu: bad config: %d heads over %d kv heads, head dim %d", c.Heads, c.KVHeads, c.HeadDim)
	}
	if c.HeadDim > attMaxDim {
		return nil, unsupported("head dim %d is over %d", c.HeadDim, attMaxDim)
	}
	m := &Model{d: d, cfg: c}

	// Collect everything to upload: matrices, then one buffer of norms.
	var datas [][]byte
	var mats []*matrix
	addMat := func(name string, x *cpu.Matrix, rows, in int, projection bool) (*matrix, error) {
		if x == nil {
			return nil, fmt.Errorf("gpu: %s is missing", name)
		}
		if x.Rows != rows || x.Cols < in {
			return nil, fmt.Errorf("gpu: %s is %d x %d, want %d x %d", name, x.Rows, x.Cols, rows, in)
		}
		if n, err := cpu.MatrixBytes(x.Type, x.Rows, x.Cols); err != nil || len(x.Data) < n {
			return nil, fmt.Errorf("gpu: %s: %d bytes for a %v %d x %d matrix", name, len(x.Data), x.Type, x.Rows, x.Cols)
		}
		mt := &matrix{name: name, typ: x.Type, rows: x.Rows, cols: x.Cols, scale: x.Scale}
		data := x.Data
		switch {
		case x.Type.Ternary() && projection:
			if x.Cols > maxExactCols {
				return nil, unsupported("%s has %d columns, over %d (exact float sums)", name, x.Cols, maxExactCols)
			}
			mt.ternary = true
			if x.Type == cpu.TQ1_0 {
				data = repackTQ1(x)
				mt.typ = cpu.TQ2_0
			}
			if mt.typ == cpu.I2_S {
				mt.vec, mt.mat = kI2SVec, kI2SMat
				data = data[:x.Rows*x.Cols/4]
			} else {
				mt.vec, mt.mat = kTQ2Vec, kTQ2Mat
			}
		default:
			k, ok := floatKernels[x.Type]
			if !ok || x.Cols%4 != 0 {
				return nil, unsupported("%s is %v %d x %d", name, x.Type, x.Rows, x.Cols)
			}
			mt.mat = k
			if projection {
				m.float = true
			}
		}
		rb, err := cpu.RowBytes(mt.typ, mt.cols)
		if err != nil {
			return nil, fmt.Errorf("gpu: %s: %w", name, err)
		}
		mt.rowBytes = rb
		if projection {
			m.maxCol = max(m.maxCol, mt.cols)
		}
		datas = append(datas, data[:rb*mt.rows])
		mats = append(mats, mt)
		return mt, nil
	}
	var norms []float32
	var normAt []*ref
	addNorm := func(name string, v []float32, n int, dst *ref, optional bool) error {
		if v == nil && optional {
			return nil
		}
		if len(v) != n {
			return fmt.Errorf("gpu: %s has %d values, want %d", name, len(v), n)
		}
		dst.off = 4 * len(norms)
		norms = append(norms, v...)
		normAt = append(normAt, dst)
		return nil
	}
	m.layers = make([]layer, c.Layers)
	for _, t := range w.Block {
		if t.Layer < 0 || t.Layer >= c.Layers || t.Role >= numRoles {
			return nil, fmt.Errorf("gpu: %s: layer %d, role %v of a %d-layer model", t.Name, t.Layer, t.Role, c.Layers)
		}
		if t.BitLinear != projection[t.Role] {
			return nil, fmt.Errorf("gpu: %s: a %v given as a projection: %v", t.Name, t.Role, t.BitLinear)
		}
		// The graph's buffers are sized from the config: a tensor must fit.
		if rows, cols := c.shape(t.Role); t.Rows != rows || t.Cols != cols {
			return nil, fmt.Errorf("gpu: %s is listed as %d x %d, the config needs %d x %d", t.Name, t.Rows, t.Cols, rows, cols)
		}
		l := &m.layers[t.Layer]
		if l.mats[t.Role] != nil || l.vecs[t.Role].buf != 0 || l.vecs[t.Role].off != 0 {
			return nil, fmt.Errorf("gpu: %s: a second %v in layer %d", t.Name, t.Role, t.Layer)
		}
		var err error
		if t.BitLinear {
			l.mats[t.Role], err = addMat(t.Name, t.Matrix, t.Rows, t.Cols, true)
		} else {
			err = addNorm(t.Name, t.Vec, t.Rows, &l.vecs[t.Role], false)
			l.vecs[t.Role].buf = 1 // present; set to the norms' buffer below
		}
		if err != nil {
			return nil, err
		}
	}
	for i := range m.layers {
		l := &m.layers[i]
		for r := range numRoles {
			if r == AttnSubNorm || r == FFNSubNorm {
				continue
			}
			if projection[r] && l.mats[r] == nil || !projection[r] && l.vecs[r].buf == 0 {
				return nil, fmt.Errorf("gpu: layer %d has no %v", i, r)
			}
		}
		if l.mats[K].cols != l.mats[Q].cols || l.mats[V].cols != l.mats[Q].cols || l.mats[Up].cols != l.mats[Gate].cols {
			return nil, unsupported("layer %d: Q/K/V or gate/up have different column counts", i)
		}
	}
	out, err := addMat("output", w.Output, c.VocabSize, c.Dim, false)
	if err != nil {
		return nil, err
	}
	if out.ternary || out.cols != c.Dim {
		return nil, unsupported("output is %v %d x %d", out.typ, out.rows, out.cols)
	}
	m.out = out
	if err := addNorm("output_norm", w.OutNorm, c.Dim, &m.outN, false); err != nil {
		return nil, err
	}

	refs, bufs, err := d.b.weights(datas)
	if err != nil {
		return nil, err
	}
	m.bufs, m.keep = bufs, datas
	for i, mt := range mats {
		mt.w = refs[i]
	}
	nb, err := d.b.newBuffer(4 * len(norms))
	if err != nil {
		m.Close()
		return nil, err
	}
	m.bufs = append(m.bufs, nb)
	if err := d.b.write(nb, 0, asBytes(norms)); err != nil {
		m.Close()
		return nil, err
	}
	for _, r := range normAt {
		r.buf = nb
	}
	return m, nil
}

// Close releases the model's buffers. Its runners must not be used
// afterwards.
func (m *Model) Close() error {
	for _, b := range m.bufs {
		m.d.b.free(b)
	}
	m.bufs, m.keep = nil, nil
	return nil
}

// repackTQ1 returns the TQ2_0 encoding of a TQ1_0 matrix: the same codes
// and the same f16 block scales, so the dot products are the same integers
// times the same d (MatVecTernary gives the same bits for both).
func repackTQ1(x *cpu.Matrix) []byte {
	nb := x.Cols / 256
	out := make([]byte, x.Rows*nb*66)
	codes := make([]int8, x.Cols)
	for r := 0; r < x.Rows; r++ {
		x.TernaryRow(codes, r)
		for b := 0; b < nb; b++ {
			src := x.Data[(r*nb+b)*54:]
			dst := out[(r*nb+b)*66:]
			c := codes[256*b:]
			for h := 0; h < 2; h++ {
				for i := 0; i < 32; i++ {
					var q byte
					for n := 0; n < 4; n++ {
						q |= byte(c[128*h+i+32*n]+1) & 3 << (2 * n)
					}
					dst[32*h+i] = q
				}
			}
			binary.LittleEndian.PutUint16(dst[64:], binary.LittleEndian.Uint16(src[52:]))
		}
	}
	return out
}

// shape is what the graph's buffers hold for a tensor of role r: rows x
// cols of a projection, (n, 0) of a norm vector.
func (c *Config) shape(r Role) (rows, cols int) {
	qd, kvd := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	switch r {
	case AttnNorm, FFNNorm:
		return c.Dim, 0
	case AttnSubNorm:
		return qd, 0
	case FFNSubNorm:
		return c.FFNDim, 0
	case Q:
		return qd, c.Dim
	case K, V:
		return kvd, c.Dim
	case O:
		return c.Dim, qd
	case Gate, Up:
		return c.FFNDim, c.Dim
	}
	return c.Dim, c.FFNDim // Down
}

// projection says which roles are matrices.
var projection = [numRoles]bool{Q: true, K: true, V: true, O: true, Gate: true, Up: true, Down: true}

var errClosed = errors.New("gpu: runner is closed")
