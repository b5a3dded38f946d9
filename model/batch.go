package model

import "fmt"

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

// stepBatch is forwardBatch for one token in each of n sessions: the same
// blocks, on a CPU backend whose rows belong to different sessions. The
// batch's rows live in the first session's scratch buffers (sized for
// maxBatch tokens). Nothing here reports to hooks: Step steps sessions with
// hooks on their own.
func (m *Model) stepBatch(ss []*Session, ids []int32) {
	s := ss[0]
	n := len(ss)
	m.embedRows(s.x[:n*m.Config.Dim], ids)
	b := &s.cpu
	*b = cpuBackend{s: s, ss: ss, n: n}
	m.blocks(b)
	for t, r := range ss { // after the blocks: a row's position is its session's length
		p := r.cache.Len()
		r.tokens[p] = ids[t]
		r.cache.Commit(p + 1)
	}
	b.output(0)
	b.ss = nil // the other sessions are not kept alive by this one
}
