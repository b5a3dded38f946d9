package serve

import (
	"context"
	"errors"
	"sync"

	"github.com/bitrepl/bitrepl/model"
)

// errQueueFull refuses a request when every slot is busy and the queue is full.
var errQueueFull = errors.New("every slot is busy and the queue is full")

// slot is one conversation at a time: a session with its own KV cache, which
// keeps what the last request left in it so that the next one repeating its
// history evaluates only what is new.
type slot struct {
	id   int
	sess *model.Session
	res  chan stepResult // (cap 1) the batched step's answer to this slot
}

type stepResult struct {
	logits []float32
	err    error
}

// pool hands out slots. A request takes the free slot whose session shares
// the longest prefix with its prompt; when none is free it waits in a
// bounded FIFO queue, and beyond that it is refused.
type pool struct {
	mu       sync.Mutex
	free     []*slot
	waiters  []chan *slot // each (cap 1)
	queueCap int
	all      []*slot
}

func newPool(slots []*slot, queueCap int) *pool {
	return &pool{free: append([]*slot(nil), slots...), all: slots, queueCap: queueCap}
}

// acquire returns a slot for prompt, waiting while ctx lasts.
func (p *pool) acquire(ctx context.Context, prompt []int32) (*slot, error) {
	p.mu.Lock()
	if len(p.free) > 0 {
		best := 0
		for i, s := range p.free {
			if sharedPrefix(s.sess, prompt) > sharedPrefix(p.free[best].sess, prompt) {
				best = i
			}
		}
		s := p.free[best]
		p.free = append(p.free[:best], p.free[best+1:]...)
		p.mu.Unlock()
		return s, nil
	}
	if len(p.waiters) >= p.queueCap {
		p.mu.Unlock()
		return nil, errQueueFull
	}
	ch := make(chan *slot, 1)
	p.waiters = append(p.waiters, ch)
	p.mu.Unlock()
	select {
	case s := <-ch:
		return s, nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	for i, w := range p.waiters {
		if w == ch {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			p.mu.Unlock()
			return nil, ctx.Err()
		}
	}
	p.mu.Unlock()
	p.release(<-ch) // handed a slot just as ctx ended: pass it on
	return nil, ctx.Err()
}

// release gives s to the first waiting request, or back to the free list.
func (p *pool) release(s *slot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		w <- s
		return
	}
	p.free = append(p.free, s)
}

// counts returns the slots in use and the requests waiting.
func (p *pool) counts() (busy, queued int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.all) - len(p.free), len(p.waiters)
}

// sharedPrefix is how many leading tokens of prompt s holds.
func sharedPrefix(s *model.Session, prompt []int32) int {
	held := s.Tokens()
	n := 0
	for n < len(held) && n < len(prompt) && held[n] == prompt[n] {
		n++
	}
	return n
}

// batcher gathers the decoding steps of the active slots into one
// model.Step: a slot joins with its first step and leaves when its
// generation ends; once every joined slot is waiting with its next token,
// the goroutine that completed the set runs the step for all and hands each
// its logits. A slot still evaluating its prompt has not joined, so it holds
// nobody up; the others wait for a joined slot only while it samples its
// token (and while it evaluates again after its context filled).
type batcher struct {
	m *model.Model

	mu      sync.Mutex
	joined  int
	pending []*slot
	ids     []int32

	onStep func(n int) // metrics: a step of n sessions ran
}

// step evaluates id in sl's session with the other joined slots' steps.
func (b *batcher) step(sl *slot, id int32) ([]float32, error) {
	b.mu.Lock()
	b.pending = append(b.pending, sl)
	b.ids = append(b.ids, id)
	b.runIfReady() // unlocks
	r := <-sl.res
	return r.logits, r.err
}

func (b *batcher) join() {
	b.mu.Lock()
	b.joined++
	b.mu.Unlock()
}

// leave takes a slot out of the batch; the others may be waiting only for it.
func (b *batcher) leave() {
	b.mu.Lock()
	b.joined--
	b.runIfReady()
}

// runIfReady runs the step when every joined slot waits for it. It is called
// with b.mu held and releases it.
func (b *batcher) runIfReady() {
	if len(b.pending) == 0 || len(b.pending) < b.joined {
		b.mu.Unlock()
		return
	}
	slots, ids := b.pending, b.ids
	b.pending, b.ids = nil, nil
	b.mu.Unlock()
	// No other step can start before this one ends: its slots are
	// joined and not pending.
	for len(slots) > 0 {
		n := min(len(slots), model.MaxStep)
		ss := make([]*model.Session, n)
		for i, sl := range slots[:n] {
			ss[i] = sl.sess
		}
		logits, err := b.m.Step(ss, ids[:n])
		if b.onStep != nil {
			b.onStep(n)
		}
		for i, sl := range slots[:n] {
			r := stepResult{err: err}
			if err == nil {
				r.logits = logits[i]
			}
			sl.res <- r
		}
		slots, ids = slots[n:], ids[n:]
	}
}
