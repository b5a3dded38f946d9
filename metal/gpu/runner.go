package gpu

import (
	"fmt"
	"math"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// Runner evaluates one sequence on the GPU: its KV cache and activations
// live in GPU buffers, allocated once by NewRunner. A Runner is not safe for
// concurrent use.
type Runner struct {
	m              *Model
	ctx, maxBatch  int
	qd, kvd        int
	x, xq, inv, xf ref // (maxBatch, Dim) residual; (maxBatch, maxCol) int8 and (maxBatch) scales; (maxBatch, maxCol) floats
	q, mix, gate   ref // (maxBatch, qd), (maxBatch, qd), (maxBatch, FFNDim)
	up, xn, logits ref // (maxBatch, FFNDim), (maxBatch, Dim), (maxBatch, VocabSize)
	kc, vc         ref // (Layers, ctx, kvd) each
	cos, sin       ref // (ctx, HeadDim/2)
	bufs           []bufID
	g              graph
	out            []float32 // logits read back
	pos, n, first  int       // the batch being recorded: positions pos..pos+n-1; logits of rows [first, n)
	closed         bool
	attnScale      float32
	dispatchesLast int
}

// NewRunner allocates a runner for ctx positions, evaluating up to maxBatch
// tokens per batch. cos and sin are the RoPE tables of the engine
// (ctx*HeadDim/2 values each: position-major, cos(pos*theta_i)).
func (m *Model) NewRunner(ctx, maxBatch int, cos, sin []float32) (*Runner, error) {
	c := &m.cfg
	half := c.HeadDim / 2
	if ctx <= 0 || maxBatch <= 0 || len(cos) < ctx*half || len(sin) < ctx*half {
		return nil, fmt.Errorf("gpu: NewRunner(ctx %d, maxBatch %d) with %d/%d RoPE values", ctx, maxBatch, len(cos), len(sin))
	}
	r := &Runner{m: m, ctx: ctx, maxBatch: maxBatch, qd: c.Heads * c.HeadDim, kvd: c.KVHeads * c.HeadDim}
	r.attnScale = float32(1 / math.Sqrt(float64(c.HeadDim)))
	alloc := func(dst *ref, bytes int) error {
		b, err := m.d.b.newBuffer(max(bytes, 16))
		if err != nil {
			return err
		}
		r.bufs = append(r.bufs, b)
		*dst = ref{buf: b}
		return nil
	}
	mb, mc := maxBatch, max(m.maxCol, 4)
	kv := c.Layers * ctx * r.kvd * 4
	for _, a := range []struct {
		dst   *ref
		bytes int
		need  bool
	}{
		{&r.x, 4 * mb * c.Dim, true}, {&r.xq, mb * mc, true}, {&r.inv, 4 * mb, true}, {&r.xf, 4 * mb * mc, m.float},
		{&r.q, 4 * mb * r.qd, true}, {&r.mix, 4 * mb * r.qd, true}, {&r.gate, 4 * mb * c.FFNDim, true},
		{&r.up, 4 * mb * c.FFNDim, true}, {&r.xn, 4 * mb * c.Dim, true}, {&r.logits, 4 * mb * c.VocabSize, true},
		{&r.kc, kv, true}, {&r.vc, kv, true}, {&r.cos, 4 * ctx * half, true}, {&r.sin, 4 * ctx * half, true},
	} {
		if !a.need {
			continue
		}
		if err := alloc(a.dst, a.bytes); err != nil {
			r.Close()
			return nil, err
		}
	}
	if err := m.d.b.write(r.cos.buf, 0, asBytes(cos[:ctx*half])); err != nil {
		r.Close()
		return nil, err
	}
	if err := m.d.b.write(r.sin.buf, 0, asBytes(sin[:ctx*half])); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Close releases the runner's buffers.
func (r *Runner) Close() error {
	for _, b := range r.bufs {
		r.m.d.b.free(b)
	}
	r.bufs = nil
	r.closed = true
	return nil
}

// Context is the number of positions the runner holds.
func (r *Runner) Context() int { return r.ctx }

// MaxBatch is the largest number of tokens a batch (Begin) takes.
func (r *Runner) MaxBatch() int { return r.maxBatch }

// Begin starts recording a batch of n = len(x)/Dim tokens, whose
// embeddings are x (token major), at positions pos..pos+n-1. The engine then
// records the operations of every block (NormQuant, QKV, Attend, GateUp,
// AddProject, in package model's block order), optionally Output, and runs
// them all with Run: one command buffer per batch.
func (r *Runner) Begin(pos int, x []float32) error {
	if r.closed {
		return errClosed
	}
	c := &r.m.cfg
	n := len(x) / c.Dim
	if n < 1 || n > r.maxBatch || len(x) != n*c.Dim {
		return fmt.Errorf("gpu: a batch of %d values: want 1..%d tokens of %d", len(x), r.maxBatch, c.Dim)
	}
	if pos < 0 || pos+n > r.ctx {
		return fmt.Errorf("gpu: a batch at positions %d..%d of a %d-position runner", pos, pos+n-1, r.ctx)
	}
	if err := r.m.d.b.write(r.x.buf, r.x.off, asBytes(x)); err != nil {
		return err
	}
	r.g.reset()
	r.pos, r.n, r.first = pos, n, n
	return nil
}

// Run runs what was recorded since Begin. The tokens' keys and values go
// to the runner's cache, where later batches see them. It returns the
// logits Output asked for (VocabSize floats per row, row major; nil
// without Output), owned by the runner until the next call.
func (r *Runner) Run() ([]float32, error) {
	if r.closed {
		return nil, errClosed
	}
	c, b := &r.m.cfg, r.m.d.b
	r.dispatchesLast = len(r.g.ds)
	if err := b.run(&r.g); err != nil {
		return nil, err
	}
	k := r.n - r.first
	if k == 0 {
		return nil, nil
	}
	if cap(r.out) < k*c.VocabSize {
		r.out = make([]float32, r.maxBatch*c.VocabSize)
	}
	out := r.out[:k*c.VocabSize]
	if err := b.read(r.logits.buf, r.logits.off, asBytes(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// ReadKV copies the cached keys and values of positions [p0, p1) of layer
// into k and v ((p1-p0)*KVHeads*HeadDim floats each).
func (r *Runner) ReadKV(layer, p0, p1 int, k, v []float32) error {
	off, n, err := r.kvRange(layer, p0, p1, len(k), len(v))
	if err != nil || n == 0 {
		return err
	}
	if err := r.m.d.b.read(r.kc.buf, r.kc.off+off, asBytes(k[:n])); err != nil {
		return err
	}
	return r.m.d.b.read(r.vc.buf, r.vc.off+off, asBytes(v[:n]))
}

// WriteKV stores keys and values for positions [p0, p1) of layer (as laid
// out by ReadKV), e.g. those the CPU computed.
func (r *Runner) WriteKV(layer, p0, p1 int, k, v []float32) error {
	off, n, err := r.kvRange(layer, p0, p1, len(k), len(v))
	if err != nil || n == 0 {
		return err
	}
	if err := r.m.d.b.write(r.kc.buf, r.kc.off+off, asBytes(k[:n])); err != nil {
		return err
	}
	return r.m.d.b.write(r.vc.buf, r.vc.off+off, asBytes(v[:n]))
}

func (r *Runner) kvRange(layer, p0, p1, nk, nv int) (off, n int, err error) {
	if r.closed {
		return 0, 0, errClosed
	}
	n = (p1 - p0) * r.kvd
	if layer < 0 || layer >= r.m.cfg.Layers || p0 < 0 || p1 < p0 || p1 > r.ctx || nk < n || nv < n {
		return 0, 0, fmt.Errorf("gpu: KV of layer %d, positions [%d, %d) with %d/%d floats", layer, p0, p1, nk, nv)
	}
	return 4 * (layer*r.ctx + p0) * r.kvd, n, nil
}

// The operations of a block, recorded into the batch's command buffer (see
// kernels.metal for each kernel's reference). Package model's block calls
// them in order; each is the GPU side of the CPU backend's operation of the
// same name.

// NormQuant normalizes the rows that role's norm applies to (AttnNorm and
// FFNNorm: the residual stream; AttnSubNorm: the attention output; FFNSubNorm:
// the activated gate, only quantized without a sub-norm) and quantizes them
// to int8 as the input of the next projection.
func (r *Runner) NormQuant(layer int, norm Role) {
	c, l := &r.m.cfg, &r.m.layers[layer]
	w := l.vecs[norm]
	switch norm {
	case AttnNorm:
		r.normQuant(r.x, w, r.n, c.Dim, l.mats[Q].cols, normRMS|normWeight|normInt8)
	case AttnSubNorm:
		r.normQuant(r.mix, w, r.n, r.qd, l.mats[O].cols, subFlags(w))
	case FFNNorm:
		r.normQuant(r.x, w, r.n, c.Dim, l.mats[Gate].cols, normRMS|normWeight|normInt8)
	case FFNSubNorm:
		r.normQuant(r.gate, w, r.n, c.FFNDim, l.mats[Down].cols, subFlags(w))
	}
}

// QKV computes Q, K and V from the quantized rows, rotates Q and K (RoPE)
// and stores K and V in the cache at the batch's positions.
func (r *Runner) QKV(layer int) {
	c, l := &r.m.cfg, &r.m.layers[layer]
	kvAt := 4 * (layer*r.ctx + r.pos) * r.kvd
	r.project(l.mats[Q], r.q, r.n, false)
	r.project(l.mats[K], r.kc.at(kvAt), r.n, false)
	r.project(l.mats[V], r.vc.at(kvAt), r.n, false)
	r.rope(r.q, c.Heads, r.qd, r.n, r.pos)
	r.rope(r.kc.at(kvAt), c.KVHeads, r.kvd, r.n, r.pos)
}

// Attend computes the attention output of every row over the cached
// positions up to its own.
func (r *Runner) Attend(layer int) {
	c, g := &r.m.cfg, &r.g
	layerKV := 4 * layer * r.ctx * r.kvd
	g.add(kAttention, [3]int{c.Heads, r.n, 1}, grid1(attThreads), 4*attChunk,
		bufArg(r.q), bufArg(r.kc.at(layerKV)), bufArg(r.vc.at(layerKV)), bufArg(r.mix),
		paramArg(g, attnArgs{Heads: u32(c.Heads), KVHeads: u32(c.KVHeads), HeadDim: u32(c.HeadDim),
			Pos0: u32(r.pos), QStride: u32(r.qd), KVStride: u32(r.kvd), Scale: r.attnScale}))
}

// GateUp computes gate = act(Gate·xq) * Up·xq.
func (r *Runner) GateUp(layer int) {
	c, g, l := &r.m.cfg, &r.g, &r.m.layers[layer]
	r.project(l.mats[Gate], r.gate, r.n, false)
	r.project(l.mats[Up], r.up, r.n, false)
	relu := uint32(0)
	if c.ReLU2 {
		relu = 1
	}
	g.add(kActMul, grid1(ceilDiv(r.n*c.FFNDim, elemThreads)), grid1(elemThreads), 0,
		bufArg(r.gate), bufArg(r.up), paramArg(g, actArgs{Count: u32(r.n * c.FFNDim), ReLU2: relu}))
}

// AddProject adds p·xq to the residual stream (p is O or Down).
func (r *Runner) AddProject(layer int, p Role) {
	r.project(r.m.layers[layer].mats[p], r.x, r.n, true)
}

// Output computes the logits of rows [first, n): the final RMSNorm, then
// the LM head. Run returns them.
func (r *Runner) Output(first int) {
	g, m, c := &r.g, r.m, &r.m.cfg
	first = min(max(first, 0), r.n)
	r.first = first
	k := r.n - first
	if k == 0 {
		return
	}
	xr := r.x.at(4 * first * c.Dim)
	g.add(kNormQuant, grid1(k), grid1(normThreads), 4*normThreads/simdWidth,
		bufArg(xr), bufArg(m.outN), bufArg(xr), bufArg(r.inv), bufArg(r.xn),
		paramArg(g, normArgs{Width: u32(c.Dim), Stride: u32(c.Dim), Flags: normRMS | normWeight | normFloat, Eps: c.NormEps}))
	r.floatMat(m.out, r.xn, r.logits, k, false)
}

func u32(v int) uint32 { return uint32(v) }

func subFlags(sub ref) uint32 {
	if sub.buf == 0 {
		return normInt8
	}
	return normRMS | normWeight | normInt8
}

// normQuant normalizes n rows of width w from x (per flags) into the int8
// activations xq (row stride cols) and their scales inv.
func (r *Runner) normQuant(x, weight ref, n, w, cols int, flags uint32) {
	g := &r.g
	if weight.buf == 0 {
		weight = x // unused, but bound
	}
	g.add(kNormQuant, grid1(n), grid1(normThreads), 4*normThreads/simdWidth,
		bufArg(x), bufArg(weight), bufArg(r.xq), bufArg(r.inv), bufArg(x),
		paramArg(g, normArgs{Width: u32(w), Stride: u32(cols), Flags: flags, Eps: r.m.cfg.NormEps}))
}

// project computes dst (n x rows, or dst += when accumulate) = mt · xq.
// Float weights see the same int8 activations dequantized, as on the CPU.
func (r *Runner) project(mt *matrix, dst ref, n int, accumulate bool) {
	g := &r.g
	acc := uint32(0)
	if accumulate {
		acc = 1
	}
	if !mt.ternary {
		count := n * mt.cols
		g.add(kDequantInt8, grid1(ceilDiv(count, elemThreads)), grid1(elemThreads), 0,
			bufArg(r.xq), bufArg(r.inv), bufArg(r.xf), paramArg(g, dequantArgs{Cols: u32(mt.cols), Count: u32(count)}))
		r.floatMat(mt, r.xf, dst, n, accumulate)
		return
	}
	perSG := i2sRows
	if mt.typ == cpu.TQ2_0 {
		perSG = tq2Rows
	}
	groups := [3]int{ceilDiv(mt.rows, ternSG*perSG), 1, 1}
	k := mt.vec
	if n > 1 {
		k = mt.mat
		groups[1] = ceilDiv(n, ternTokens)
	}
	g.add(k, groups, grid1(ternSG*simdWidth), 0,
		bufArg(mt.w), bufArg(r.xq), bufArg(r.inv), bufArg(dst),
		paramArg(g, ternaryArgs{Rows: u32(mt.rows), Cols: u32(mt.cols), N: u32(n), Accumulate: acc, Scale: mt.scale}))
}

// floatMat computes dst (n x rows) = mt · x for float activations x.
func (r *Runner) floatMat(mt *matrix, x, dst ref, n int, accumulate bool) {
	g := &r.g
	acc := uint32(0)
	if accumulate {
		acc = 1
	}
	g.add(mt.mat, [3]int{ceilDiv(mt.rows, floatSG*floatRows), ceilDiv(n, floatTokens), 1}, grid1(floatSG*simdWidth), 0,
		bufArg(mt.w), bufArg(x), bufArg(dst),
		paramArg(g, floatArgs{Rows: u32(mt.rows), Cols: u32(mt.cols), N: u32(n), Accumulate: acc,
			RowBytes: u32(mt.rowBytes), Scale: mt.scale}))
}

// rope rotates n rows (stride floats apart) of heads heads at positions
// pos.., in place.
func (r *Runner) rope(x ref, heads, stride, n, pos int) {
	g := &r.g
	c := &r.m.cfg
	il := uint32(0)
	if c.RopeInterleaved {
		il = 1
	}
	total := n * heads * c.HeadDim / 2
	g.add(kRope, grid1(ceilDiv(total, elemThreads)), grid1(elemThreads), 0,
		bufArg(x), bufArg(r.cos), bufArg(r.sin),
		paramArg(g, ropeArgs{Heads: u32(heads), HeadDim: u32(c.HeadDim), N: u32(n), Pos0: u32(pos),
			Stride: u32(stride), Interleaved: il}))
}
