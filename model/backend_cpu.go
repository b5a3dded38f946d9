package model

import "github.com/bitrepl/bitrepl/metal/cpu"

// cpuBackend runs a batch's operations at once on package metal/cpu's
// kernels, in the scratch buffers of session s, reporting to s's hook. The
// rows are s's tokens from position pos0 on; or, in a Step, row t is the
// next token of session ss[t] (at its own position), and each session
// attends over its own KV cache.
type cpuBackend struct {
	s    *Session
	ss   []*Session // nil: every row is s's
	n    int        // rows
	pos0 int        // position of row 0 (s's)
	// each, when not nil, gets base+t and the logits of every row t
	// output computes.
	each func(i int, logits []float32)
	base int
}

func (b *cpuBackend) normQuant(li int, norm normID, p int) {
	s, c, n := b.s, &b.s.m.Config, b.n
	l := &s.m.layers[li]
	dim, qd, ffn := c.Dim, c.Heads*c.HeadDim, c.FFNDim
	switch norm {
	case attnNorm:
		s.norm(s.xb[:n*dim], s.x[:n*dim], l.AttnNorm, n, dim, SiteAttnNorm, li, b.pos0)
		s.quantizeFor(s.xb[:n*dim], n, dim, l.Q.Cols, l.inNorm[p])
	case ffnNorm:
		s.norm(s.xb[:n*dim], s.x[:n*dim], l.FFNNorm, n, dim, SiteFFNNorm, li, b.pos0)
		s.quantizeFor(s.xb[:n*dim], n, dim, l.Gate.Cols, l.inNorm[p])
	case attnSubNorm:
		b.subNorm(s.mix[:n*qd], l.AttnSubNorm, qd, SiteAttnSubNorm, li)
		s.quantizeFor(s.mix[:n*qd], n, qd, l.O.Cols, l.inNorm[p])
	case ffnSubNorm:
		b.subNorm(s.gate[:n*ffn], l.FFNSubNorm, ffn, SiteFFNSubNorm, li)
		s.quantizeFor(s.gate[:n*ffn], n, ffn, l.Down.Cols, l.inNorm[p])
	}
}

// subNorm applies a sub-norm in place, or only reports the rows to the hook
// when the block has none.
func (b *cpuBackend) subNorm(x, weight []float32, w int, site Site, li int) {
	if weight != nil {
		b.s.norm(x, x, weight, b.n, w, site, li, b.pos0)
	} else {
		b.s.observe(site, li, b.pos0, x, w)
	}
}

func (b *cpuBackend) qkv(li int) {
	s, c, n := b.s, &b.s.m.Config, b.n
	l := &s.m.layers[li]
	dim, qd, kvd := c.Dim, c.Heads*c.HeadDim, c.KVDim()
	if l.inNorm[projK] == nil && l.inNorm[projV] == nil && sameTernary(l.Q, l.K, l.V) {
		// One pass over the pool for the three: K and V are small (2B-4T:
		// 640 rows), and a job of their own costs its start and its tail.
		cols := l.Q.Cols
		cpu.MatMulTernary3(s.q[:n*qd], l.Q, s.k[:n*kvd], l.K, s.v[:n*kvd], l.V, s.xq[:n*cols], s.inv[:n], n)
	} else {
		s.project(s.q[:n*qd], l.Q, n)
		if l.inNorm[projK] != nil { // else K and V share Q's quantized input
			s.quantizeFor(s.xb[:n*dim], n, dim, l.K.Cols, l.inNorm[projK])
		}
		s.project(s.k[:n*kvd], l.K, n)
		if l.inNorm[projV] != nil {
			s.quantizeFor(s.xb[:n*dim], n, dim, l.V.Cols, l.inNorm[projV])
		}
		s.project(s.v[:n*kvd], l.V, n)
	}
	s.observe(SiteAttnQ, li, b.pos0, s.q[:n*qd], qd)
	s.observe(SiteAttnK, li, b.pos0, s.k[:n*kvd], kvd)
	s.observe(SiteAttnV, li, b.pos0, s.v[:n*kvd], kvd)
	rope := cpu.RoPE
	if c.RopeInterleaved {
		rope = ropeInterleaved
	}
	half := c.HeadDim / 2
	for t := range n {
		r, p := b.row(t)
		cos, sin := r.cos[p*half:(p+1)*half], r.sin[p*half:(p+1)*half]
		rope(s.q[t*qd:(t+1)*qd], c.Heads, c.HeadDim, cos, sin)
		rope(s.k[t*kvd:(t+1)*kvd], c.KVHeads, c.HeadDim, cos, sin)
		r.cache.Put(li, p, s.k[t*kvd:(t+1)*kvd], s.v[t*kvd:(t+1)*kvd])
	}
}

// sameTernary reports whether a, b and c are ternary matrices of one type
// and width, which cpu.MatMulTernary3 multiplies in one call.
func sameTernary(a, b, c *cpu.Matrix) bool {
	return a.Type.Ternary() && b.Type == a.Type && c.Type == a.Type && b.Cols == a.Cols && c.Cols == a.Cols
}

// row returns the session and position of row t.
func (b *cpuBackend) row(t int) (*Session, int) {
	if b.ss == nil {
		return b.s, b.pos0 + t
	}
	r := b.ss[t]
	return r, r.cache.Len()
}

func (b *cpuBackend) attend(li int) {
	s, c, n := b.s, &b.s.m.Config, b.n
	if b.ss == nil {
		s.layer, s.pos0, s.batch = li, b.pos0, n
		if s.wants(SiteAttnWeights, li) {
			for t := range n {
				s.attendObserved(t)
			}
		} else {
			s.attend()
		}
		return
	}
	// Each session attends with its own buffers, its query copied in and
	// its output copied back, so the attention is the single-session code
	// itself. Step runs no hooks.
	qd := c.Heads * c.HeadDim
	for t, r := range b.ss {
		if t > 0 {
			copy(r.q[:qd], s.q[t*qd:(t+1)*qd])
		}
		r.layer, r.pos0, r.batch = li, r.cache.Len(), 1
		r.attend()
		if t > 0 {
			copy(s.mix[t*qd:(t+1)*qd], r.mix[:qd])
		}
	}
	s.layer, s.batch = li, n // activateRows works on the batch's n rows
}

func (b *cpuBackend) gateUp(li int) {
	s, c, n := b.s, &b.s.m.Config, b.n
	l := &s.m.layers[li]
	dim, ffn := c.Dim, c.FFNDim
	if l.Gate.Type.Ternary() && l.inNorm[projUp] == nil && !s.wants(SiteFFNGate, li) && !s.wants(SiteFFNUp, li) {
		// One pass over the pool for both, each thread activating the
		// rows it computed.
		cpu.MatMulTernaryPair(s.gate[:n*ffn], l.Gate, s.up[:n*ffn], l.Up, s.xq[:n*l.Gate.Cols], s.inv[:n], n, s.activateFn)
		return
	}
	s.project(s.gate[:n*ffn], l.Gate, n)
	if l.inNorm[projUp] != nil {
		s.quantizeFor(s.xb[:n*dim], n, dim, l.Up.Cols, l.inNorm[projUp])
	}
	s.project(s.up[:n*ffn], l.Up, n)
	s.observe(SiteFFNGate, li, b.pos0, s.gate[:n*ffn], ffn)
	s.observe(SiteFFNUp, li, b.pos0, s.up[:n*ffn], ffn)
	activate(s.gate[:n*ffn], s.up[:n*ffn], c.Act)
}

func (b *cpuBackend) addProject(li int, p int) {
	s, c, n := b.s, &b.s.m.Config, b.n
	l := &s.m.layers[li]
	dim := c.Dim
	w, site := l.O, SiteAttnOut
	if p == projDown {
		w, site = l.Down, SiteFFNDown
	}
	o, x := s.o[:n*dim], s.x[:n*dim]
	s.project(o, w, n)
	s.observe(site, li, b.pos0, o, dim)
	for i := range x {
		x[i] += o[i]
	}
	if p == projDown {
		s.observe(SiteResidual, li, b.pos0, x, dim)
	}
}

func (b *cpuBackend) output(first int) {
	s, m := b.s, b.s.m
	c := &m.Config
	dim, n := c.Dim, b.n
	if b.ss != nil {
		// The LM head is the largest matrix of a BitNet model (2B-4T:
		// 656 MB in F16): its rows are read once for every session.
		for t := range n {
			c.normRow(s.xb[t*dim:(t+1)*dim], s.x[t*dim:(t+1)*dim], m.outNorm)
		}
		vocab := c.VocabSize
		if cap(s.stepLogits) < n*vocab {
			s.stepLogits = make([]float32, n*vocab)
		}
		all := s.stepLogits[:n*vocab]
		cpu.MatMul(all, m.output, s.xb[:n*dim], n)
		for t, r := range b.ss {
			copy(r.logits, all[t*vocab:(t+1)*vocab])
		}
		return
	}
	for t := first; t < n; t++ {
		xn := s.xb[t*dim : (t+1)*dim]
		c.normRow(xn, s.x[t*dim:(t+1)*dim], m.outNorm)
		s.observeOne(SiteOutputNorm, -1, b.pos0+t, xn)
		cpu.MatVec(s.logits, m.output, xn)
		s.observeOne(SiteLogits, -1, b.pos0+t, s.logits)
		if b.each != nil {
			b.each(b.base+t, s.logits)
		}
	}
}
