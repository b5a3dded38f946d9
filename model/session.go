package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model/kvcache"
)

// ErrContextFull is returned when tokens would not fit in the session's
// context. Nothing is evaluated in that case; the session is unchanged.
var ErrContextFull = errors.New("context is full")

// maxBatch is how many prompt tokens go through the layers together. It bounds
// the scratch memory (maxBatch x ffn floats) and gives the batched kernels rows
// to share each weight load.
const maxBatch = 64

// Session is one sequence being evaluated: its KV cache, the tokens it holds
// (Tokens), its position and the scratch buffers of the forward pass. All
// memory is allocated by NewSession; Forward allocates nothing. Generate and
// GenerateChat continue from what a session holds, evaluating only what it
// does not. A Session is not safe for concurrent use.
type Session struct {
	m      *Model
	cache  *kvcache.Cache
	tokens []int32 // (ctx) the token at each position; [0, cache.Len()) are valid
	hook   Hook
	editor Editor // hook, when it is an Editor

	x      []float32 // (batch, dim) residual stream
	xb     []float32 // (batch, dim) normed input of a BitLinear
	q      []float32 // (batch, heads*headDim)
	k, v   []float32 // (batch, kvDim)
	mix    []float32 // (batch, heads*headDim) attention output
	o      []float32 // (batch, dim) projection output
	gate   []float32 // (batch, ffn)
	up     []float32 // (batch, ffn)
	att    []float32 // (heads, attendBlock, ctx) attention weights of a few tokens, then (heads, ctx) those a hook sees, then (attendSlots-1, heads, attendBlock, ctx) for slotParts
	qg     []float32 // (attendSlots, heads, attendBlock, headDim) a block's queries, head-major (attendTokens)
	qq     []byte    // (attendSlots, heads, attendBlock, Q8RowBytes(headDim)) qg (or q) quantized, for a Q8_0 cache
	mg     []float32 // (attendSlots, heads, attendBlock, headDim) a block's attention outputs, head-major
	xq     []int8    // (batch, max(dim, ffn)) int8 activations
	xf     []float32 // (batch, max(dim, ffn)) float activations padded to a plain projection's columns
	normed []float32 // (batch, max(dim, ffn)) a BitLinear's input after its own RMSNorm (use_rms_norm only)
	src    []float32 // (batch, srcW) the float rows quantize last read: a plain projection's input
	srcW   int
	inv    []float32 // (batch) activation dequantization factors
	logits []float32 // (vocab)
	cos    []float32 // (ctx, headDim/2)
	sin    []float32 // (ctx, headDim/2)

	stepLogits []float32 // (n, vocab) logits of a Step led by this session, made by the first

	cpu cpuBackend // the CPU backend of a batch of this session's (backend_cpu.go)
	gpu *gpuState  // nil on the CPU; see device.go

	// The step that cpu.Parallel and cpu.MatMulTernaryPair run on
	// every thread (bound once, so a forward pass allocates nothing), and
	// what it works on.
	attendFn, activateFn      func(lo, hi int)
	scoreFn, softmaxFn, mixFn func(lo, hi int) // attendSplit's phases
	headsFn, slotsFn          func(lo, hi int) // headParts, slotParts
	layer, pos0, batch        int
	threads                   int // attendSplit's and headParts'
}

// DefaultContext is the context a session gets when none is asked for, when
// the model was trained for more: the KV cache of a long context is large
// (2B-4T: 75 MB per 1024 positions in F16), so long contexts are asked for.
const DefaultContext = 4096

// NewSession allocates a session with room for ctxLen positions. ctxLen <= 0
// means the model's trained context length up to DefaultContext; larger
// values are capped to the trained length, since RoPE was not trained beyond.
func (m *Model) NewSession(ctxLen int) *Session { return m.newSession(ctxLen, m.KVCache) }

// newSession is NewSession with a KV cache of type kv.
func (m *Model) newSession(ctxLen int, kv kvcache.Type) *Session {
	c := &m.Config
	ctxLen = m.SessionContext(ctxLen)
	b := maxBatch
	wide := max(c.Dim, c.FFNDim, c.Heads*c.HeadDim) + colPad
	slots := 1 + (attendSlots-1)*btoi(kv == kvcache.Q8_0) // slotParts' scratch
	s := &Session{
		m:      m,
		cache:  kvcache.New(c.Layers, ctxLen, c.KVHeads, c.HeadDim, kv),
		tokens: make([]int32, ctxLen),
		x:      make([]float32, b*c.Dim),
		xb:     make([]float32, b*c.Dim),
		q:      make([]float32, b*c.Heads*c.HeadDim),
		k:      make([]float32, b*c.KVDim()),
		v:      make([]float32, b*c.KVDim()),
		mix:    make([]float32, b*c.Heads*c.HeadDim),
		o:      make([]float32, b*c.Dim),
		gate:   make([]float32, b*c.FFNDim),
		up:     make([]float32, b*c.FFNDim),
		att:    make([]float32, (slots*attendBlock+1)*c.Heads*ctxLen),
		qg:     make([]float32, slots*attendBlock*c.Heads*c.HeadDim),
		qq:     make([]byte, slots*attendBlock*c.Heads*cpu.Q8RowBytes(c.HeadDim)*btoi(kv == kvcache.Q8_0)),
		mg:     make([]float32, slots*attendBlock*c.Heads*c.HeadDim),
		xq:     make([]int8, b*wide),
		xf:     make([]float32, b*wide),
		normed: make([]float32, b*wide*btoi(c.BitLinearNorm)),
		inv:    make([]float32, b),
		logits: make([]float32, c.VocabSize),
	}
	s.cos, s.sin = ropeTables(ctxLen, c.ropeFreqs())
	s.attendFn, s.activateFn = s.attendHeads, s.activateRows
	s.scoreFn, s.softmaxFn, s.mixFn = s.scoreParts, s.softmaxHeads, s.mixParts
	s.headsFn, s.slotsFn = s.headParts, s.slotParts
	return s
}

// SessionContext is the number of positions NewSession(ctxLen) gives.
func (m *Model) SessionContext(ctxLen int) int {
	if ctxLen <= 0 {
		return min(m.Config.ContextLen, DefaultContext)
	}
	return min(ctxLen, m.Config.ContextLen)
}

// ropeTables precomputes cos and sin of pos * freqs[i] (Config.ropeFreqs)
// for every position and pair i, in float64 before rounding to float32.
func ropeTables(ctxLen int, freqs []float64) (cos, sin []float32) {
	half := len(freqs)
	cos = make([]float32, ctxLen*half)
	sin = make([]float32, ctxLen*half)
	for p := range ctxLen {
		for i, freq := range freqs {
			s, c := math.Sincos(float64(p) * freq)
			cos[p*half+i], sin[p*half+i] = float32(c), float32(s)
		}
	}
	return cos, sin
}

// Model is the model this session runs.
func (s *Session) Model() *Model { return s.m }

// Pos is the number of positions evaluated so far.
func (s *Session) Pos() int { return s.cache.Len() }

// ContextLen is the number of positions the session holds.
func (s *Session) ContextLen() int { return s.cache.Cap() }

// CacheType is how the session's KV cache holds keys and values.
func (s *Session) CacheType() kvcache.Type { return s.cache.Type() }

// Tokens returns a copy of the tokens the session holds, one per position
// evaluated: what its KV cache was computed from.
func (s *Session) Tokens() []int32 { return append([]int32(nil), s.tokens[:s.cache.Len()]...) }

// SetHook installs h (nil removes it). When h is an Editor, it may also
// change the values it observes.
func (s *Session) SetHook(h Hook) {
	s.hook = h
	s.editor, _ = h.(Editor)
}

// Reset forgets every position.
func (s *Session) Reset() { s.cache.Truncate(0) }

// Truncate forgets the positions from n on, so they can be evaluated again.
func (s *Session) Truncate(n int) { s.cache.Truncate(n) }

// Forward evaluates tokens at positions Pos()..Pos()+len(tokens)-1 and
// returns the logits after the last one. The slice is owned by the session
// and overwritten by the next call.
func (s *Session) Forward(tokens []int32) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("forward: no tokens")
	}
	if err := s.checkTokens(tokens); err != nil {
		return nil, err
	}
	if err := s.forward(tokens, nil); err != nil {
		return nil, err
	}
	return s.logits, nil
}

// ForwardEach evaluates tokens like Forward and calls fn with the logits after
// every token (teacher forcing, perplexity). logits is only valid during fn.
func (s *Session) ForwardEach(tokens []int32, fn func(i int, logits []float32)) error {
	if len(tokens) == 0 {
		return nil
	}
	if err := s.checkTokens(tokens); err != nil {
		return err
	}
	return s.forward(tokens, fn)
}

// forward evaluates tokens (checked) in batches of up to maxBatch, on the
// session's backend: the CPU (backend_cpu.go), or the GPU (device.go)
// unless a hook is set. It computes the logits after the last token, or
// after every token when each is not nil. On an error the session is left
// as it was.
func (s *Session) forward(tokens []int32, each func(i int, logits []float32)) error {
	s.m.move.begin()
	defer s.m.move.end()
	g := s.gpu
	onGPU := g != nil && !(hooksCompiled && s.hook != nil)
	if g != nil {
		if err := g.place(s, onGPU); err != nil {
			return err
		}
	}
	pos0 := s.cache.Len()
	for i := 0; i < len(tokens); i += maxBatch {
		n := min(maxBatch, len(tokens)-i)
		first := n // no logits
		switch {
		case each != nil:
			first = 0
		case i+n == len(tokens):
			first = n - 1
		}
		if !onGPU {
			s.forwardBatch(tokens[i:i+n], first, each, i)
		} else if err := g.forwardBatch(s, tokens[i:i+n], first, each, i); err != nil {
			s.cache.Truncate(pos0)
			return err
		}
	}
	return nil
}

// ForwardAll evaluates tokens and returns a copy of the logits after each.
func (s *Session) ForwardAll(tokens []int32) ([][]float32, error) {
	out := make([][]float32, len(tokens))
	err := s.ForwardEach(tokens, func(i int, l []float32) { out[i] = append([]float32(nil), l...) })
	return out, err
}

func (s *Session) checkTokens(tokens []int32) error {
	if free := s.cache.Cap() - s.cache.Len(); len(tokens) > free {
		return fmt.Errorf("%w: %d tokens do not fit: %d of %d positions are used", ErrContextFull, len(tokens), s.cache.Len(), s.cache.Cap())
	}
	return s.checkVocab(tokens)
}

func (s *Session) checkVocab(tokens []int32) error {
	for i, t := range tokens {
		if t < 0 || int(t) >= s.m.Config.VocabSize {
			return fmt.Errorf("forward: token %d at index %d is outside the vocabulary (%d)", t, i, s.m.Config.VocabSize)
		}
	}
	return nil
}

// forwardBatch runs n = len(tokens) tokens through the model on the CPU and
// computes the logits of rows [first, n), calling each (when not nil) with
// base+t and the logits of row t.
func (s *Session) forwardBatch(tokens []int32, first int, each func(i int, l []float32), base int) {
	n := len(tokens)
	pos0 := s.cache.Len()
	s.m.embedRows(s.x[:n*s.m.Config.Dim], tokens)
	b := &s.cpu
	*b = cpuBackend{s: s, n: n, pos0: pos0, each: each, base: base}
	s.m.blocks(b)
	copy(s.tokens[pos0:], tokens)
	s.cache.Commit(pos0 + n)
	if first < n {
		b.output(first)
	}
}

// norm applies RMSNorm to n rows of width w and reports them to the hook.
func (s *Session) norm(dst, x, weight []float32, n, w int, site Site, layer, pos0 int) {
	for t := range n {
		s.m.Config.normRow(dst[t*w:(t+1)*w], x[t*w:(t+1)*w], weight)
	}
	s.observe(site, layer, pos0, dst[:n*w], w)
}

// quantize turns n rows of width w into int8 activations with per-token
// scales, the input of the next projections, laid out with a row stride of
// the projections' column count (which is w, or w padded to a block with
// zero weights: the pad is zeroed). It keeps x as the input of plain
// projections.
func (s *Session) quantize(x []float32, n, w, stride int) {
	s.src, s.srcW = x[:n*w], w
	for t := range n {
		row := s.xq[t*stride : (t+1)*stride]
		s.inv[t] = cpu.QuantizeInt8(row[:w], x[t*w:(t+1)*w])
		clear(row[w:])
	}
}

// quantizeFor is quantize for a projection whose BitLinear has its own
// RMSNorm (use_rms_norm, inNorm != nil): the norm is applied first, into
// s.normed.
func (s *Session) quantizeFor(x []float32, n, w, stride int, inNorm []float32) {
	if inNorm == nil {
		s.quantize(x, n, w, stride)
		return
	}
	normed := s.normed[:n*w]
	for t := range n {
		cpu.RMSNorm(normed[t*w:(t+1)*w], x[t*w:(t+1)*w], inNorm, s.m.Config.BitLinearNormEps)
	}
	s.quantize(normed, n, w, stride)
}

// PlainLayer reports whether a layer weight of type t is a plain linear
// layer, as in llama.cpp: Q8_0 and Q4_0 multiply the float activations
// (cpu.MatMul quantizes them per 32-element block). Every other type is a
// BitLinear that sees the token's int8 activations: the ternary types, and
// the float types (F32, F16, BF16), which is how llama.cpp's converter
// writes a BitNet model's ternary weights, so that every file of one model
// computes the same BitNet model.
func PlainLayer(t cpu.DType) bool { return t == cpu.Q8_0 || t == cpu.Q4_0 }

// project computes dst = W · x for the n rows quantize last saw. A ternary W
// multiplies the int8 activations; a float W the same activations,
// dequantized; a plain layer (PlainLayer) the float rows.
func (s *Session) project(dst []float32, w *cpu.Matrix, n int) {
	cols := w.Cols
	if w.Type.Ternary() {
		xq := s.xq[:n*cols]
		if n == 1 {
			cpu.MatVecTernary(dst, w, xq, s.inv[0])
		} else {
			cpu.MatMulTernary(dst, w, xq, s.inv[:n], n)
		}
		return
	}
	if !PlainLayer(w.Type) {
		xq, xf := s.xq[:n*cols], s.xf[:n*cols]
		for t := range n {
			inv := s.inv[t]
			for i, q := range xq[t*cols : (t+1)*cols] {
				xf[t*cols+i] = float32(q) * inv
			}
		}
		cpu.MatMul(dst, w, xf, n)
		return
	}
	x, wd := s.src, s.srcW
	if cols != wd {
		// Padded columns (zero weights) get zero activations.
		xf := s.xf[:n*cols]
		for t := range n {
			copy(xf[t*cols:], x[t*wd:(t+1)*wd])
			clear(xf[t*cols+wd : (t+1)*cols])
		}
		x = xf
	}
	cpu.MatMul(dst, w, x[:n*cols], n)
}

// attendObserved computes token t of the batch on this thread and reports
// its attention weights to the hook, head after head (heads x (pos+1)),
// packed in the rows after attendHeads' block.
func (s *Session) attendObserved(t int) {
	c := &s.m.Config
	ctx, p := s.cache.Cap(), s.pos0+t
	s.attendTokens(0, c.Heads, t, t+1, 0)
	packed := s.att[attendBlock*c.Heads*ctx:][:c.Heads*(p+1)]
	for h := range c.Heads {
		copy(packed[h*(p+1):(h+1)*(p+1)], s.weights(t, h)[:p+1])
	}
	s.observeOne(SiteAttnWeights, s.layer, p, packed)
	if s.editor == nil {
		return
	}
	// An Editor may have changed the weights: mix the values again with
	// them, in attendTokens' order (the same bits when nothing changed).
	hd, qd, group := c.HeadDim, c.Heads*c.HeadDim, c.Heads/c.KVHeads
	for h := range c.Heads {
		mix := s.mix[t*qd+h*hd : t*qd+(h+1)*hd]
		clear(mix)
		for j0 := 0; j0 < p+1; j0 += attendTile {
			j1 := min(j0+attendTile, p+1)
			s.mixValues(mix, packed[h*(p+1)+j0:h*(p+1)+j1], h/group, j0, j1)
		}
	}
}

// attend computes the attention of the batch's tokens (s.batch tokens from
// s.pos0 in s.layer) on the pool's threads: a batch by ranges of heads, a
// deep enough decode step in attendSplit's three phases, anything else by
// whole KV groups (attendHeads). All give every thread count
// attendTokens' bits.
func (s *Session) attend() {
	c := &s.m.Config
	switch {
	case s.batch > 1:
		// Tokens of a batch cost more arithmetic than reading the cache
		// (each row is used by the group's heads for attendBlock tokens).
		// Over a Q8_0 cache with a few threads, (KV group, half the batch)
		// items balance it and keep every group's heads together (2B-4T
		// on 2 threads: 10 items, 5 each); otherwise 3 ranges of heads per
		// thread, at the price of reading a group's rows twice when two
		// ranges share it and of calling the group kernels with fewer
		// queries. (Over an F16 cache the items were 0.93x as fast.)
		s.threads = cpu.Threads()
		if s.cache.Type() == kvcache.Q8_0 && s.threads <= c.KVHeads && s.batch >= attendSlots*attendBlock {
			cpu.Parallel(attendSlots*c.KVHeads, 1, s.slotsFn)
			break
		}
		cpu.Parallel(3*s.threads, 1, s.headsFn)
	case s.pos0+1 >= attendSplitDepth:
		s.attendSplit()
	default:
		cpu.Parallel(c.Heads, c.Heads/c.KVHeads, s.attendFn)
	}
}

// headParts computes items [lo, hi) of the heads cut into 3*s.threads
// equal ranges (attend of a batch).
func (s *Session) headParts(lo, hi int) {
	h, parts := s.m.Config.Heads, 3*s.threads
	s.attendTokens(lo*h/parts, hi*h/parts, 0, s.batch, 0)
}

// slotParts computes items [lo, hi) of the batch cut into (KV group, part
// of the batch's blocks of tokens) items, attendSlots parts: part k takes
// scratch slot k, so that two threads on the same group's parts do not
// share it.
func (s *Session) slotParts(lo, hi int) {
	group := s.m.Config.Heads / s.m.Config.KVHeads
	blocks := (s.batch + attendBlock - 1) / attendBlock
	for i := lo; i < hi; i++ {
		g, k := i/attendSlots, i%attendSlots
		from := k * blocks / attendSlots * attendBlock
		to := min((k+1)*blocks/attendSlots*attendBlock, s.batch)
		s.attendTokens(g*group, (g+1)*group, from, to, k)
	}
}

// attendSplitDepth is the number of positions from which a decode step
// takes attendSplit's three phases: a few KV groups split unevenly over
// the threads (2B-4T: 5 on 2 threads, 3:2), which costs more than two
// more barriers once the cache is long. 2B-4T's attention over 30 layers
// of an F16 cache on 2 threads, split against whole groups (in-process
// A/B, medians of 41 interleaved rounds, load 1.3-1.5): 0.92x at depth
// 64, 1.00x at 128, 1.02-1.09x from 192 to 448 (0.04-0.13 ms a token).
const attendSplitDepth = 192

// attendSplit is the attention of one token in three phases, each split
// evenly over the threads: the scores of (KV group, range of positions),
// in 3 items per thread so that a busy core takes fewer; the softmax of
// each head; the values of (KV group, range of lanes of the head), in one
// item per thread so that as few groups as possible are split (the two
// halves of a row read by two cores cost more than their share). Each
// score and each output lane is computed as attendTokens computes it
// (lanes are independent, and each accumulates over the positions in
// order), so the bits are attendTokens'.
func (s *Session) attendSplit() {
	s.threads = cpu.Threads()
	if s.cache.Type() == kvcache.Q8_0 {
		c := &s.m.Config
		s.quantQueries(s.qq[:c.Heads*cpu.Q8RowBytes(c.HeadDim)], s.q[:c.Heads*c.HeadDim])
	}
	cpu.Parallel(3*s.threads, 1, s.scoreFn)
	cpu.Parallel(s.m.Config.Heads, 1, s.softmaxFn)
	cpu.Parallel(s.threads, 1, s.mixFn)
}

// scoreParts computes items [lo, hi) of attendSplit's scores: the KV
// groups' positions, back to back, cut into 3*s.threads equal ranges,
// taken attendTile at a time (a group kernel that reads the rows once per
// query finds them in the L1 cache after the first). The Q8_0 group
// kernel reads each row once for all the queries: it takes a range whole,
// with fewer calls (6% faster in the L3 cache, BenchmarkAttendDepth).
func (s *Session) scoreParts(lo, hi int) {
	c := &s.m.Config
	hd, group, ctx := c.HeadDim, c.Heads/c.KVHeads, s.cache.Cap()
	rb := cpu.Q8RowBytes(hd) * btoi(s.cache.Type() == kvcache.Q8_0)
	scale := float32(1 / math.Sqrt(float64(hd)))
	n := s.pos0 + 1
	total, parts := c.KVHeads*n, 3*s.threads
	for u, u1 := lo*total/parts, hi*total/parts; u < u1; {
		g, j0 := u/n, u%n
		j1 := min(n, j0+u1-u)
		h0 := g * group
		tile := attendTile
		if rb > 0 {
			tile = j1 - j0
		}
		for t0 := j0; t0 < j1; t0 += tile {
			t1 := min(t0+tile, j1)
			s.groupScores(s.att[h0*attendBlock*ctx+t0:], t1-t0, attendBlock*ctx, s.q[h0*hd:(h0+group)*hd], s.qq[h0*rb:(h0+group)*rb], g, t0, t1, scale)
		}
		u += j1 - j0
	}
}

// softmaxHeads normalizes the weights of heads [lo, hi) of attendSplit's
// token.
func (s *Session) softmaxHeads(lo, hi int) {
	for h := lo; h < hi; h++ {
		cpu.Softmax(s.weights(0, h)[:s.pos0+1])
	}
}

// mixLanes is the unit of lanes of a head attendSplit's values are split
// in: a Q8_0 block, a cache line of an F16 row.
const mixLanes = 32

// mixTileF16 is the positions mixParts takes at a time over an F16 cache:
// half attendTile, so that a tile and the rows cpu.AxpyRowsF16Group
// prefetches for the next stay well inside the L1 cache (see
// axpyRowsF16QuadAVX512: 1.05x as fast as tiles of 64 out of the cache).
const mixTileF16 = 32

// mixParts computes items [lo, hi) of attendSplit's values: the KV
// groups' lanes (in units of mixLanes, or of a whole head when they do not
// divide it), back to back, cut into s.threads equal ranges. A range's
// outputs are mixed into s.mg, the group's queries back to back, a tile
// of attendTile positions (mixTileF16 over an F16 cache) at a time (a pass over a tile's first lanes
// leaves its rows in the L1 cache for the next; over a Q8_0 cache, one call
// for all the positions, which cpu.AxpyRowsQ8_0Group tiles the same way
// with fewer calls: 1.02-1.04x as fast out of the cache, BenchmarkAttendLayers),
// then copied to s.mix. An odd range takes its groups last to first, so
// that the lanes of a group two ranges share are mixed by both at the same
// time, at the end of both or at the start of both: a decode step's
// attention over 30 layers of 2B-4T at depth 4064 in an F16 cache took
// 1/1.020-1/1.029 of the time (in-process A/B, medians of 3 runs of 61
// interleaved rounds, load 2.2-2.7; Q8_0: 0.99x and 1.02x, 2 runs), as if
// the rows the two ranges read halves of were fetched from memory once.
func (s *Session) mixParts(lo, hi int) {
	c := &s.m.Config
	hd, group, ctx := c.HeadDim, c.Heads/c.KVHeads, s.cache.Cap()
	unit := mixLanes
	if hd%unit != 0 {
		unit = hd
	}
	per := hd / unit
	total := c.KVHeads * per
	u0, u1 := lo*total/s.threads, hi*total/s.threads
	for u0 < u1 {
		var g, b0, b1 int
		if lo%2 == 1 {
			g = (u1 - 1) / per
			b0, b1 = max(u0, g*per)-g*per, u1-g*per
			u1 -= b1 - b0
		} else {
			g, b0 = u0/per, u0%per
			b1 = min(per, b0+u1-u0)
			u0 += b1 - b0
		}
		l0, w, h0 := b0*unit, (b1-b0)*unit, g*group
		dst := s.mg[h0*hd+group*l0:][:group*w]
		clear(dst)
		tile := attendTile
		switch s.cache.Type() {
		case kvcache.F16:
			tile = mixTileF16
		case kvcache.Q8_0:
			tile = s.pos0 + 1 // cpu.AxpyRowsQ8_0Group tiles them itself
		}
		for j0 := 0; j0 <= s.pos0; j0 += tile {
			j1 := min(j0+tile, s.pos0+1)
			s.groupMixLanes(dst, w, l0, s.att[h0*attendBlock*ctx+j0:], j0, j1, attendBlock*ctx, g)
		}
		for hh := range group {
			copy(s.mix[(h0+hh)*hd+l0:][:w], dst[hh*w:][:w])
		}
	}
}

// groupMixLanes is groupMix over lanes [l0, l0+w) of the heads and
// positions [j0, j1): query i's w lanes at dst[i*w:], its weights at
// a[i*stride:]. l0 is a multiple of 32 for a Q8_0 cache.
func (s *Session) groupMixLanes(dst []float32, w, l0 int, a []float32, j0, j1, stride, kvh int) {
	hd, rows := s.m.Config.HeadDim, j1-j0
	switch s.cache.Type() {
	case kvcache.F16:
		_, vals := s.cache.HeadF16(s.layer, kvh, j1)
		cpu.AxpyRowsF16Group(dst, w, a, rows, stride, vals[j0*hd+l0:], hd)
	case kvcache.Q8_0:
		rb := cpu.Q8RowBytes(hd)
		_, vals := s.cache.HeadQ8(s.layer, kvh, j1)
		cpu.AxpyRowsQ8_0Group(dst, w, a, rows, stride, vals[j0*rb+l0/32*34:], rb)
	default:
		_, vals := s.cache.Head(s.layer, kvh, j1)
		cpu.AxpyRowsGroup(dst, w, a, rows, stride, vals[j0*hd+l0:], hd)
	}
}

// attendHeads computes heads [lo, hi) of the attention of the batch's
// tokens (s.batch tokens from s.pos0 in s.layer), as cpu.Parallel splits
// them (whole groups of query heads that share a KV head).
func (s *Session) attendHeads(lo, hi int) { s.attendTokens(lo, hi, 0, s.batch, 0) }

// weights is where token t of the batch keeps head h's attention weights
// (ctx floats): a block of attendBlock tokens uses attendBlock*heads rows,
// head after head, so that the weights of a head's tokens, and those of one
// token's heads, are equally far apart (the group kernels' strides).
func (s *Session) weights(t, h int) []float32 {
	ctx := s.cache.Cap()
	return s.att[(h*attendBlock+t%attendBlock)*ctx:][:ctx]
}

// attendTokens computes heads [lo, hi) of the attention of batch tokens
// [from, to), a KV group's heads in the range together. The cached
// keys and values are taken in tiles of attendTile positions (attendTileQ8
// over a Q8_0 cache), each used by
// the group's heads for attendBlock tokens at a time: the group kernels
// (cpu.DotRowsF16Group...) read each cached row once for all of them, and a
// tile is read once from memory and then from the L1 cache. Each (token,
// head) gets the bits of the single-query kernels, tile after tile.
func (s *Session) attendTokens(lo, hi, from, to, slot int) {
	c := &s.m.Config
	hd, qd := c.HeadDim, c.Heads*c.HeadDim
	group := c.Heads / c.KVHeads
	ctx := s.cache.Cap()
	rb := cpu.Q8RowBytes(hd) * btoi(s.cache.Type() == kvcache.Q8_0)
	scale := float32(1 / math.Sqrt(float64(hd)))
	// Slot k's scratch: its own att rows (slot 0's are weights'), queries
	// and mixes.
	att := s.att[(slot*attendBlock+btoi(slot > 0))*c.Heads*ctx:]
	qg := s.qg[slot*attendBlock*qd:]
	mg := s.mg[slot*attendBlock*qd:]
	qqs := s.qq[slot*attendBlock*c.Heads*rb:]
	weights := func(t, h int) []float32 { return att[(h*attendBlock+t%attendBlock)*ctx:][:ctx] }
	tile := attendTile
	if rb > 0 {
		tile = attendTileQ8
	}
	for t0 := from; t0 < to; t0 += attendBlock {
		t1 := min(t0+attendBlock, to)
		nt, end := t1-t0, s.pos0+t1 // tokens, positions the last one sees
		for h0 := lo; h0 < hi; h0 = min((h0/group+1)*group, hi) {
			kvh := h0 / group
			nh := min((kvh+1)*group, hi) - h0 // the group's heads in range
			// The block's queries and mixes, head-major: those of one
			// token are s.q's and s.mix's own, those of several tokens are
			// gathered into s.qg and mixed into s.mg.
			qs := s.q[t0*qd+h0*hd : t0*qd+(h0+nh)*hd]
			mixes := s.mix[t0*qd+h0*hd : t0*qd+(h0+nh)*hd]
			if nt > 1 {
				qs = qg[h0*attendBlock*hd:][:nh*nt*hd]
				mixes = mg[h0*attendBlock*hd:][:nh*nt*hd]
				for hh := range nh {
					for tt := range nt {
						copy(qs[(hh*nt+tt)*hd:][:hd], s.q[(t0+tt)*qd+(h0+hh)*hd:][:hd])
					}
				}
			}
			qq := qqs[h0*attendBlock*rb:][:nh*nt*rb] // empty unless Q8_0
			if rb > 0 {
				s.quantQueries(qq, qs)
			}
			// The weights of query i = hh*nt+tt are stride apart when the
			// block has one token or a whole attendBlock; otherwise each
			// head's tokens are a unit of their own.
			units, per, stride := 1, nh*nt, ctx
			switch {
			case nt == 1:
				stride = attendBlock * ctx
			case nt < attendBlock:
				units, per = nh, nt
			}
			// The positions every token of the block sees [0, full) go to
			// the group kernels, the few after them token by token.
			full := s.pos0 + t0 + 1
			for j0 := 0; j0 < end; j0 += tile {
				j1 := min(j0+tile, end)
				if jg := min(j1, full); jg > j0 {
					for u := range units {
						w := att[((h0+u)*attendBlock+t0%attendBlock)*ctx+j0:]
						s.groupScores(w, jg-j0, stride, qs[u*per*hd:][:per*hd], qq[u*per*rb:][:per*rb], kvh, j0, jg, scale)
					}
				}
				js := max(j0, full)
				for hh := range nh {
					for tt := range nt {
						if jt := min(j1, s.pos0+t0+tt+1); jt > js {
							s.scores(weights(t0+tt, h0+hh)[js:jt], qs[(hh*nt+tt)*hd:][:hd], kvh, js, jt, scale)
						}
					}
				}
			}
			for hh := range nh {
				for tt := range nt {
					cpu.Softmax(weights(t0+tt, h0+hh)[:s.pos0+t0+tt+1])
				}
			}
			clear(mixes)
			for j0 := 0; j0 < end; j0 += tile {
				j1 := min(j0+tile, end)
				if jg := min(j1, full); jg > j0 {
					for u := range units {
						w := att[((h0+u)*attendBlock+t0%attendBlock)*ctx+j0:]
						s.groupMix(mixes[u*per*hd:][:per*hd], w, jg-j0, stride, kvh, j0, jg)
					}
				}
				js := max(j0, full)
				for hh := range nh {
					for tt := range nt {
						if jt := min(j1, s.pos0+t0+tt+1); jt > js {
							s.mixValues(mixes[(hh*nt+tt)*hd:][:hd], weights(t0+tt, h0+hh)[js:jt], kvh, js, jt)
						}
					}
				}
			}
			if nt > 1 {
				for hh := range nh {
					for tt := range nt {
						copy(s.mix[(t0+tt)*qd+(h0+hh)*hd:][:hd], mixes[(hh*nt+tt)*hd:][:hd])
					}
				}
			}
		}
	}
}

// groupScores is scores for the len(q)/headDim queries of q, query i's
// rows = j1-j0 scores at dst[i*stride:]; over a Q8_0 cache, it takes them
// quantized from qq (quantQueries).
func (s *Session) groupScores(dst []float32, rows, stride int, q []float32, qq []byte, kvh, j0, j1 int, scale float32) {
	hd := s.m.Config.HeadDim
	switch s.cache.Type() {
	case kvcache.F16:
		keys, _ := s.cache.HeadF16(s.layer, kvh, j1)
		cpu.DotRowsF16Group(dst, rows, stride, q, hd, keys[j0*hd:], hd, scale)
	case kvcache.Q8_0:
		rb := cpu.Q8RowBytes(hd)
		keys, _ := s.cache.HeadQ8(s.layer, kvh, j1)
		cpu.DotRowsQ8_0GroupQ8(dst, rows, stride, qq, hd, keys[j0*rb:], rb, scale)
	default:
		keys, _ := s.cache.Head(s.layer, kvh, j1)
		cpu.DotRowsGroup(dst, rows, stride, q, hd, keys[j0*hd:], hd, scale)
	}
}

// quantQueries quantizes the queries of width headDim in q into qq as
// cpu.DotRowsQ8_0Group would on every call: once for all the tiles.
func (s *Session) quantQueries(qq []byte, q []float32) {
	hd := s.m.Config.HeadDim
	rb := cpu.Q8RowBytes(hd)
	for i := range len(q) / hd {
		cpu.ToQ8_0(qq[i*rb:(i+1)*rb], q[i*hd:(i+1)*hd])
	}
}

// groupMix is mixValues for the len(dst)/headDim queries of dst, query i's
// rows = j1-j0 weights at a[i*stride:].
func (s *Session) groupMix(dst, a []float32, rows, stride, kvh, j0, j1 int) {
	hd := s.m.Config.HeadDim
	switch s.cache.Type() {
	case kvcache.F16:
		_, vals := s.cache.HeadF16(s.layer, kvh, j1)
		cpu.AxpyRowsF16Group(dst, hd, a, rows, stride, vals[j0*hd:], hd)
	case kvcache.Q8_0:
		rb := cpu.Q8RowBytes(hd)
		_, vals := s.cache.HeadQ8(s.layer, kvh, j1)
		cpu.AxpyRowsQ8_0Group(dst, hd, a, rows, stride, vals[j0*rb:], rb)
	default:
		_, vals := s.cache.Head(s.layer, kvh, j1)
		cpu.AxpyRowsGroup(dst, hd, a, rows, stride, vals[j0*hd:], hd)
	}
}

// scores sets dst (j1-j0 floats) to scale times the dot products of q with
// the cached keys of KV head kvh of the current layer at positions [j0, j1).
func (s *Session) scores(dst, q []float32, kvh, j0, j1 int, scale float32) {
	hd := len(q)
	switch s.cache.Type() {
	case kvcache.F16:
		keys, _ := s.cache.HeadF16(s.layer, kvh, j1)
		cpu.DotRowsF16(dst, q, keys[j0*hd:], hd, scale)
	case kvcache.Q8_0:
		// q is quantized to Q8_0 per call: once per tile, 1/attendTile
		// of the work of the integer dots.
		rb := cpu.Q8RowBytes(hd)
		keys, _ := s.cache.HeadQ8(s.layer, kvh, j1)
		cpu.DotRowsQ8_0(dst, q, keys[j0*rb:], rb, scale)
	default:
		keys, _ := s.cache.Head(s.layer, kvh, j1)
		cpu.DotRows(dst, q, keys[j0*hd:], hd, scale)
	}
}

// mixValues adds a[j-j0] times the cached value of KV head kvh of the
// current layer at position j to dst, for j in [j0, j1) in order.
func (s *Session) mixValues(dst, a []float32, kvh, j0, j1 int) {
	hd := len(dst)
	switch s.cache.Type() {
	case kvcache.F16:
		_, vals := s.cache.HeadF16(s.layer, kvh, j1)
		cpu.AxpyRowsF16(dst, a, vals[j0*hd:], hd)
	case kvcache.Q8_0:
		rb := cpu.Q8RowBytes(hd)
		_, vals := s.cache.HeadQ8(s.layer, kvh, j1)
		cpu.AxpyRowsQ8_0(dst, a, vals[j0*rb:], rb)
	default:
		_, vals := s.cache.Head(s.layer, kvh, j1)
		cpu.AxpyRows(dst, a, vals[j0*hd:], hd)
	}
}

// attendTile is how many cached positions attendHeads takes at a time: 64
// keys of a 128-wide head are 32 KiB, which fit the L1 cache. attendBlock is
// how many tokens of a batch share each tile.
const (
	attendTile  = 64
	attendBlock = 8
)

// attendTileQ8 is attendTile over a Q8_0 cache: its group kernels keep
// their own tiles in the L1 cache (16 keys, 64 values at a time), and
// fewer calls repeat less per-call work (the queries' sums).
const attendTileQ8 = 256

// attendSlots is how many parts of a batch attend computes at the same
// time for the same KV group, each with its own scratch (slotParts).
const attendSlots = 2

// activateRows applies the activation to rows [lo, hi) of the batch's gate
// and up outputs, as cpu.MatMulTernaryPair splits them.
func (s *Session) activateRows(lo, hi int) {
	ffn := s.m.Config.FFNDim
	for t := range s.batch {
		activate(s.gate[t*ffn+lo:t*ffn+hi], s.up[t*ffn+lo:t*ffn+hi], s.m.Config.Act)
	}
}

// activate computes gate = act(gate) * up in float32 (ReLU² overflows fp16).
func activate(gate, up []float32, act Activation) {
	switch act {
	case ReLU2:
		cpu.ReLU2Mul(gate, up[:len(gate)])
	default:
		cpu.SiLUMul(gate, up[:len(gate)])
	}
}

// wants says whether the hook asks for site in layer.
func (s *Session) wants(site Site, layer int) bool {
	return hooksCompiled && s.hook != nil && s.hook.Want(site, layer)
}

// observe reports n rows of width w to the hook, if it wants them.
func (s *Session) observe(site Site, layer, pos0 int, rows []float32, w int) {
	if !hooksCompiled || s.hook == nil || !s.hook.Want(site, layer) {
		return
	}
	for t := 0; t*w < len(rows); t++ {
		if s.editor != nil {
			s.editor.Edit(site, layer, pos0+t, rows[t*w:(t+1)*w])
		}
		s.hook.Observe(site, layer, pos0+t, rows[t*w:(t+1)*w])
	}
}

func (s *Session) observeOne(site Site, layer, pos int, data []float32) {
	if !hooksCompiled || s.hook == nil || !s.hook.Want(site, layer) {
		return
	}
	if s.editor != nil {
		s.editor.Edit(site, layer, pos, data)
	}
	s.hook.Observe(site, layer, pos, data)
}

// ropeInterleaved is RoPE over adjacent pairs (x[2i], x[2i+1]), llama.cpp's
// "NORM" mode, for GGUF files whose Q/K rows were permuted at conversion.
func ropeInterleaved(x []float32, nHeads, headDim int, cos, sin []float32) {
	for h := range nHeads {
		v := x[h*headDim : (h+1)*headDim]
		for i := range headDim / 2 {
			a, b := v[2*i], v[2*i+1]
			v[2*i] = a*cos[i] - b*sin[i]
			v[2*i+1] = b*cos[i] + a*sin[i]
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
