// Package sample picks the next token from a vector of logits: greedy, or llama.cpp's default chain
// (repetition penalty, top-k, top-p, min-p, temperature, then a draw from the softmax).
//
// A Sampler allocates its buffers once, from the vocabulary size, and Sample allocates nothing.
// It is seeded and reproducible, and it is not safe for concurrent use.
//
// It imports the standard library only.
package sample

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Params configures a Sampler. The zero value is greedy decoding without penalties. A field at its zero
// value switches its step off, except RepeatLastN, whose 0 means "no penalty window" as in llama.cpp.
type Params struct {
	Temperature   float32 // divides the logits before the draw; <= 0 (or NaN) means greedy
	TopK          int     // keep the TopK most likely tokens; <= 0 keeps all
	TopP          float32 // keep the smallest most-likely set whose probability reaches TopP; off unless 0 < TopP < 1
	MinP          float32 // keep tokens with probability >= MinP * the largest probability; off when <= 0
	RepeatPenalty float32 // llama.cpp's repeat penalty; off when 1 or <= 0
	RepeatLastN   int     // how many of the last tokens of recent are penalised; 0 none, < 0 all

	// OpenAI's presence and frequency penalties, over the same window:
	// a token that occurs c > 0 times loses PresencePenalty + c*FrequencyPenalty
	// from its logit (after the repeat penalty), as llama.cpp applies them.
	PresencePenalty  float32
	FrequencyPenalty float32
	Seed             uint64 // seeds the PCG generator (rand.NewPCG(Seed, 0))
}

// DefaultParams returns llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05,
// no repeat penalty (1.0) over a window of 64, seed 0.
func DefaultParams() Params {
	return Params{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1, RepeatLastN: 64}
}

// Sampler draws tokens for one sequence. Create it with New.
type Sampler struct {
	p      Params
	vocab  int
	pcg    *rand.PCG
	rng    *rand.Rand
	logits []float32 // (vocab) working copy of the caller's logits
	heap   []int32   // (vocab) candidate ids; a max-heap while top-k/top-p extract the best ones in order
	cand   []int32   // (vocab) candidates in rank order, then any unsorted rest
	weight []float64 // (vocab) unnormalised probabilities of cand
	stamp  []uint32  // (vocab) marks tokens already penalised in this call
	count  []int32   // (vocab) occurrences in the window; only with presence or frequency penalties
	gen    uint32    // current stamp value
}

// New returns a Sampler for logits of length vocab. It panics if vocab <= 0 (a programmer error).
func New(vocab int, p Params) *Sampler {
	if vocab <= 0 {
		panic(fmt.Sprintf("sample: vocab %d <= 0", vocab))
	}
	pcg := rand.NewPCG(p.Seed, 0)
	var counts []int32
	if p.PresencePenalty != 0 || p.FrequencyPenalty != 0 {
		counts = make([]int32, vocab)
	}
	return &Sampler{
		p: p, vocab: vocab, pcg: pcg, rng: rand.New(pcg),
		logits: make([]float32, vocab),
		heap:   make([]int32, vocab),
		cand:   make([]int32, vocab),
		weight: make([]float64, vocab),
		stamp:  make([]uint32, vocab),
		count:  counts,
	}
}

// Params returns the sampler's parameters.
func (s *Sampler) Params() Params { return s.p }

// Sample returns the next token for logits, penalising the tokens in recent (the sequence so far,
// oldest first; only its last RepeatLastN entries count, ids outside [0, vocab) are ignored).
// The caller's logits are not modified, and nothing is allocated.
//
// Steps, in llama.cpp's default order: the repetition penalty (each distinct token of the window: a positive
// logit is divided by RepeatPenalty, a negative one multiplied), then the presence and frequency penalties;
// then with Temperature <= 0 the largest logit
// wins, ties going to the lowest id; otherwise top-k, top-p, min-p, temperature, and a draw from the softmax
// of what is left. Ties in rank go to the lower id.
//
// NaN logits are treated as -Inf: never chosen. +Inf logits share all the probability evenly (greedy
// takes the first). If every logit is NaN or -Inf, Sample returns 0.
// Sample panics if len(logits) is not the vocabulary size given to New (a programmer error).
func (s *Sampler) Sample(logits []float32, recent []int32) int32 {
	if len(logits) != s.vocab {
		panic(fmt.Sprintf("sample: %d logits, sampler built for %d", len(logits), s.vocab))
	}
	l := s.logits
	copy(l, logits)
	s.penalize(recent)
	if !(s.p.Temperature > 0) {
		return argmax(l)
	}

	// Candidates: every token that can be drawn. +Inf becomes the largest float so that softmax stays finite.
	// cand[:nc] holds candidates in rank order; heap[:nh] the rest, unordered (a max-heap when nh > 0).
	cand, nc, nh := s.cand, 0, 0
	k := s.p.TopK
	topK := k > 0 && k < len(l)
	if topK { // one pass picks the k best (when more than k can be drawn)
		if s.selectTop(k) {
			nc = k
		} else {
			topK = false
		}
	}
	if !topK {
		ids := s.heap[:0]
		for i, v := range l {
			if v >= -math.MaxFloat32 { // excludes -Inf and NaN
				if v > math.MaxFloat32 {
					l[i] = math.MaxFloat32
				}
				ids = append(ids, int32(i))
			}
		}
		nh = len(ids)
	}
	if nc+nh == 0 {
		return 0
	}
	topP := s.p.TopP > 0 && s.p.TopP < 1
	if topK || topP {
		if !topK {
			s.heapify(nh)
		}
		if topP {
			if nc == 0 {
				cand[0], nh = s.pop(nh)
				nc = 1
			}
			top := float64(l[cand[0]])
			var sum float64
			for _, id := range cand[:nc] {
				sum += math.Exp(float64(l[id]) - top)
			}
			for _, id := range s.heap[:nh] {
				sum += math.Exp(float64(l[id]) - top)
			}
			// Keep the shortest prefix whose probability reaches TopP (at least one token).
			target := float64(s.p.TopP) * sum
			var cum float64
			i := 0
			for {
				if i == nc {
					if nh == 0 {
						break
					}
					cand[nc], nh = s.pop(nh)
					nc++
				}
				cum += math.Exp(float64(l[cand[i]]) - top)
				i++
				if cum >= target {
					break
				}
			}
			nc, nh = i, 0
		}
	}
	nc += copy(cand[nc:], s.heap[:nh])
	cand = cand[:nc]

	top := float32(-math.MaxFloat32)
	for _, id := range cand {
		top = max(top, l[id])
	}
	if mp := s.p.MinP; mp > 0 {
		// p_i >= MinP * p_max  <=>  l_i >= l_max + log(MinP), as llama.cpp computes it.
		thr := float64(top) + math.Log(min(float64(mp), 1))
		n := 0
		for _, id := range cand {
			if float64(l[id]) >= thr {
				cand[n] = id
				n++
			}
		}
		cand = cand[:n]
	}

	// Temperature, softmax (unnormalised) and the draw.
	invT := 1 / float64(s.p.Temperature)
	w := s.weight[:len(cand)]
	var sum float64
	for i, id := range cand {
		w[i] = math.Exp((float64(l[id]) - float64(top)) * invT)
		sum += w[i]
	}
	r := s.rng.Float64() * sum
	var acc float64
	last := cand[0]
	for i, id := range cand {
		if w[i] == 0 {
			continue
		}
		acc += w[i]
		last = id
		if r < acc {
			return id
		}
	}
	return last // rounding left r at the very end
}

// penalize applies the repetition, presence and frequency penalties to
// s.logits for each distinct token in the window.
func (s *Sampler) penalize(recent []int32) {
	pen, n := s.p.RepeatPenalty, s.p.RepeatLastN
	repeat := pen != 1 && pen > 0
	counted := s.count != nil
	if !repeat && !counted || n == 0 || len(recent) == 0 {
		return
	}
	if n > 0 && n < len(recent) {
		recent = recent[len(recent)-n:]
	}
	if counted {
		s.nextStamp()
		for _, t := range recent {
			if t < 0 || int(t) >= s.vocab {
				continue
			}
			if s.stamp[t] != s.gen {
				s.stamp[t], s.count[t] = s.gen, 0
			}
			s.count[t]++
		}
	}
	s.nextStamp()
	for _, t := range recent {
		if t < 0 || int(t) >= s.vocab || s.stamp[t] == s.gen {
			continue
		}
		s.stamp[t] = s.gen
		v := s.logits[t]
		if repeat {
			if v <= 0 {
				v *= pen
			} else {
				v /= pen
			}
		}
		if counted {
			v -= s.p.PresencePenalty + float32(s.count[t])*s.p.FrequencyPenalty
		}
		s.logits[t] = v
	}
}

// nextStamp starts a new marking of tokens.
func (s *Sampler) nextStamp() {
	s.gen++
	if s.gen == 0 { // wrapped: forget old stamps
		clear(s.stamp)
		s.gen = 1
	}
}

// argmax returns the index of the largest value, the lowest index among ties; NaN never wins; 0 when
// nothing beats -Inf.
func argmax(x []float32) int32 {
	best, bv := 0, float32(math.Inf(-1))
	for i, v := range x {
		if v > bv {
			best, bv = i, v
		}
	}
	return int32(best)
}

// above reports whether token a ranks before token b: larger logit, then lower id.
func (s *Sampler) above(a, b int32) bool {
	la, lb := s.logits[a], s.logits[b]
	return la > lb || la == lb && a < b
}

// selectTop puts the k best tokens of s.logits that can be drawn (not -Inf nor
// NaN) into s.cand[:k] in rank order when there are more than k of them, and
// reports whether there are (else it leaves the candidates unsorted and the
// caller takes them all). +Inf becomes the largest float, as for every
// candidate. One pass over the vocabulary against the worst of the k best so
// far (the root of a heap that keeps the worst on top), four tokens at a
// time: most rank below it and cost one comparison each. Sampling is on the
// critical path of every generated token, and a full check of each token
// (finite? above the worst?) made it cost a third of bench's tg loop's
// evaluation of the 2B-4T model's LM head. Ties need no check: a later token
// never ranks before an equal earlier one.
func (s *Sampler) selectTop(k int) bool {
	l, h := s.logits, s.cand[:0]
	i := 0
	for ; i < len(l) && len(h) < k; i++ { // the first k candidates
		if v := l[i]; v >= -math.MaxFloat32 {
			if v > math.MaxFloat32 {
				l[i] = math.MaxFloat32
			}
			h = append(h, int32(i))
		}
	}
	if len(h) < k {
		return false
	}
	for j := k/2 - 1; j >= 0; j-- {
		s.downWorst(h, j)
	}
	worst := l[h[0]]
	more := false // a candidate beyond the k
	// take looks at l[j], which is not <= worst, or is but may be the first
	// candidate beyond the k.
	take := func(j int) {
		v := l[j]
		if !(v >= -math.MaxFloat32) { // -Inf, NaN
			return
		}
		more = true
		if v > math.MaxFloat32 {
			v, l[j] = math.MaxFloat32, math.MaxFloat32
		}
		if v <= worst {
			return
		}
		h[0] = int32(j)
		s.downWorst(h, 0)
		worst = l[h[0]]
	}
	for ; i+4 <= len(l); i += 4 {
		v := l[i : i+4 : i+4]
		if v[0] <= worst && v[1] <= worst && v[2] <= worst && v[3] <= worst && more {
			continue
		}
		for j := i; j < i+4; j++ {
			take(j)
		}
	}
	for ; i < len(l); i++ {
		take(i)
	}
	if !more {
		return false
	}
	for m := k - 1; m > 0; m-- { // heapsort: the worst left goes last
		h[0], h[m] = h[m], h[0]
		s.downWorst(h[:m], 0)
	}
	return true
}

// downWorst sifts h[i] down the heap h that keeps its worst candidate on top.
func (s *Sampler) downWorst(h []int32, i int) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && s.above(h[c], h[c+1]) {
			c++
		}
		if !s.above(h[i], h[c]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

func (s *Sampler) heapify(n int) {
	for i := n/2 - 1; i >= 0; i-- {
		s.down(i, n)
	}
}

// pop removes the best candidate from heap[:n] and returns it with the new size.
func (s *Sampler) pop(n int) (int32, int) {
	h := s.heap
	top := h[0]
	n--
	h[0] = h[n]
	s.down(0, n)
	return top, n
}

func (s *Sampler) down(i, n int) {
	h := s.heap
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && s.above(h[c+1], h[c]) {
			c++
		}
		if !s.above(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
