package model

import (
	"fmt"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// MaxStep is how many sessions Step takes at once.
const MaxStep = maxBatch

// Step evaluates one token for each of several sessions of m, ids[i] in
// ss[i] at its next position, in one pass over the weights: the
// projections multiply the packed weights by the n token vectors together
// (as a prompt's tokens are), and each session attends over its own KV
// cache. Decoding being memory-bound, n sessions step in about the time of
// one. The logits of each session are bit for bit those of
// ss[i].Forward(ids[i:i+1]), and like them owned by the session and
// overwritten by its next evaluation.
//
// The sessions must be distinct, at most MaxStep, each with room for one
// more position; an error (naming the session) leaves them all unchanged.
// Sessions with a hook, or on the GPU (Metal on darwin), are stepped one
// after the other with Forward: the GPU path has no batched decode.
func (m *Model) Step(ss []*Session, ids []int32) ([][]float32, error) {
	if len(ss) != len(ids) {
		return nil, fmt.Errorf("step: %d sessions and %d tokens", len(ss), len(ids))
	}
	if len(ss) == 0 || len(ss) > MaxStep {
		return nil, fmt.Errorf("step: %d sessions; 1 to %d can step together", len(ss), MaxStep)
	}
	serial := len(ss) == 1
	for i, s := range ss {
		if s.m != m {
			return nil, fmt.Errorf("step: session %d belongs to another model", i)
		}
		for j := range i {
			if ss[j] == s {
				return nil, fmt.Errorf("step: sessions %d and %d are the same session", j, i)
			}
		}
		if err := s.checkTokens(ids[i : i+1]); err != nil {
			return nil, fmt.Errorf("step: session %d: %w", i, err)
		}
		if s.gpu != nil || hooksCompiled && s.hook != nil {
			serial = true
		}
	}
	out := make([][]float32, len(ss))
	if serial {
		for i, s := range ss {
			l, err := s.Forward(ids[i : i+1])
			if err != nil {
				return nil, fmt.Errorf("step: session %d: %w", i, err)
			}
			out[i] = l
		}
		return out, nil
	}
	m.move.begin()
	m.stepBatch(ss, ids)
	m.move.end()
	for i, s := range ss {
		out[i] = s.logits
	}
	return out, nil
}

// stepBatch is forwardBatch for one token in each of n sessions. The batch's
// rows live in the first session's scratch buffers (sized for maxBatch
// tokens); each session attends with its own, its query copied in and its
// output copied back, so the attention is the single-session code itself.
// Nothing here reports to hooks: Step steps sessions with hooks on their own.
func (m *Model) stepBatch(ss []*Session, ids []int32) {
	c := &m.Config
	b := ss[0]
	n, dim, ffn := len(ss), c.Dim, c.FFNDim
	qd, kvd := c.Heads*c.HeadDim, c.KVDim()
	half := c.HeadDim / 2
	rope := cpu.RoPE
	if c.RopeInterleaved {
		rope = ropeInterleaved
	}
	x := b.x[:n*dim]
	for t, id := range ids {
		m.embed.Row(x[t*dim:(t+1)*dim], int(id))
	}
	for li := range m.layers {
		l := &m.layers[li]

		// Attention: x += O(subnorm(attention(RoPE(Q xn), RoPE(K xn), V xn))).
		b.norm(b.xb[:n*dim], x, l.AttnNorm, n, dim, SiteAttnNorm, li, 0)
		b.quantize(b.xb[:n*dim], n, dim, l.Q.Cols)
		b.project(b.q[:n*qd], l.Q, n)
		b.project(b.k[:n*kvd], l.K, n)
		b.project(b.v[:n*kvd], l.V, n)
		for t, s := range ss {
			p := s.cache.Len()
			cos, sin := s.cos[p*half:(p+1)*half], s.sin[p*half:(p+1)*half]
			q, k, v := b.q[t*qd:(t+1)*qd], b.k[t*kvd:(t+1)*kvd], b.v[t*kvd:(t+1)*kvd]
			rope(q, c.Heads, c.HeadDim, cos, sin)
			rope(k, c.KVHeads, c.HeadDim, cos, sin)
			s.cache.Put(li, p, k, v)
			if t > 0 {
				copy(s.q[:qd], q)
			}
			s.layer, s.pos0, s.batch = li, p, 1
			cpu.Parallel(c.Heads, c.Heads/c.KVHeads, s.attendFn)
			if t > 0 {
				copy(b.mix[t*qd:(t+1)*qd], s.mix[:qd])
			}
		}
		b.layer, b.batch = li, n // activateRows works on the batch's n rows
		if l.AttnSubNorm != nil {
			b.norm(b.mix[:n*qd], b.mix[:n*qd], l.AttnSubNorm, n, qd, SiteAttnSubNorm, li, 0)
		}
		b.quantize(b.mix[:n*qd], n, qd, l.O.Cols)
		b.project(b.o[:n*dim], l.O, n)
		for i := range x {
			x[i] += b.o[i]
		}

		// Feed-forward: x += Down(subnorm(act(Gate xn) * Up xn)).
		b.norm(b.xb[:n*dim], x, l.FFNNorm, n, dim, SiteFFNNorm, li, 0)
		b.quantize(b.xb[:n*dim], n, dim, l.Gate.Cols)
		if l.Gate.Type.Ternary() {
			cpu.MatMulTernaryPair(b.gate[:n*ffn], l.Gate, b.up[:n*ffn], l.Up, b.xq[:n*l.Gate.Cols], b.inv[:n], n, b.activateFn)
		} else {
			b.project(b.gate[:n*ffn], l.Gate, n)
			b.project(b.up[:n*ffn], l.Up, n)
			activate(b.gate[:n*ffn], b.up[:n*ffn], c.Act)
		}
		if l.FFNSubNorm != nil {
			b.norm(b.gate[:n*ffn], b.gate[:n*ffn], l.FFNSubNorm, n, ffn, SiteFFNSubNorm, li, 0)
		}
		b.quantize(b.gate[:n*ffn], n, ffn, l.Down.Cols)
		b.project(b.o[:n*dim], l.Down, n)
		for i := range x {
			x[i] += b.o[i]
		}
	}
	vocab := c.VocabSize
	for t, s := range ss {
		p := s.cache.Len()
		s.tokens[p] = ids[t]
		s.cache.Commit(p + 1)
		c.normRow(b.xb[t*dim:(t+1)*dim], x[t*dim:(t+1)*dim], m.outNorm)
	}
	// The LM head is the largest matrix of a BitNet model (2B-4T: 656 MB in
	// F16): its rows are read once for every session.
	if cap(b.stepLogits) < n*vocab {
		b.stepLogits = make([]float32, n*vocab)
	}
	all := b.stepLogits[:n*vocab]
	cpu.MatMul(all, m.output, b.xb[:n*dim], n)
	for t, s := range ss {
		copy(s.logits, all[t*vocab:(t+1)*vocab])
	}
}
