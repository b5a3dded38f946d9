package model

import (
	"sync"
	"sync/atomic"
	"time"
)

// moveIdle is how long the model must have evaluated nothing before the
// weights move into huge pages in the background: after the load, or after
// an answer while the user reads it and types the next line. A variable for
// the tests.
var moveIdle = time.Second

// moveShare is the share of the time since the first evaluation that moving
// pieces between evaluations may take: 1/32. A piece of 8 MiB took 1.5 ms
// where the memory it lands in was already backed (the 2B-4T file's 800 MB
// then move within the first ~150 tokens), but 20-30 ms on a VM whose host
// backs the guest's fresh memory page by page (the move would then pay for
// itself only after 1000-2000 tokens); at this share it costs decoding ~3%
// either way. Idle time moves the rest for free.
const moveShare = 32

// weightMove moves a GGUF file into huge pages (gguf.HugePages) at moments
// that cost decoding little: all of it in the background once no evaluation
// has begun for moveIdle, and, while evaluations follow each other, one
// piece (gguf.File.PaceHugePages) before an evaluation whenever the pieces
// so moved have taken less than 1/moveShare of the time since the first
// evaluation began, which moves nothing. A background copy beside a decode
// that keeps every core busy made the tokens twice as slow (it takes a core
// from a decoding thread, and the other threads then wait for it at the
// next barrier). Until the move is over the model reads the weights from
// the page-cache mapping, the same bytes.
type weightMove struct {
	start, wait func()                // nil when the weights stay where they are
	pace        func(pieces int) bool // gguf.File.PaceHugePages
	clock       func() time.Time      // time.Now; the tests' own clock
	idle        *time.Timer           // starts the background move
	active      atomic.Int32          // evaluations running
	over        atomic.Bool           // nothing is left to move

	mu    sync.Mutex
	first time.Time     // when the first evaluation began
	paced time.Duration // spent moving pieces before evaluations
}

// startIdle arms the timer that starts the background move after moveIdle
// without evaluations.
func (w *weightMove) startIdle() {
	w.idle = time.AfterFunc(moveIdle, func() {
		if w.active.Load() == 0 {
			w.start()
		}
	})
}

func (w *weightMove) now() time.Time {
	if w.clock != nil {
		return w.clock()
	}
	return time.Now()
}

// begin and end bracket every evaluation.
func (w *weightMove) begin() {
	if w.pace == nil {
		return
	}
	if w.active.Add(1); w.over.Load() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.now()
	pieces := 0 // the first evaluation only stops a background move (after its piece)
	if w.first.IsZero() {
		w.first = t
	} else if w.paced*moveShare <= t.Sub(w.first) {
		pieces = 1
	}
	if !w.pace(pieces) {
		w.over.Store(true)
	}
	w.paced += w.now().Sub(t)
}

func (w *weightMove) end() {
	if w.pace == nil {
		return
	}
	if w.active.Add(-1) == 0 && !w.over.Load() && w.idle != nil {
		w.idle.Reset(moveIdle)
	}
}

// moved is the time evaluations have spent so far moving weights before
// they began.
func (w *weightMove) moved() time.Duration {
	if w.pace == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.paced
}

// WaitMemory waits until the weights are held as Memory says: in huge pages,
// the model runs from the page-cache mapping until they have moved there
// (see weightMove: in the background while the model is idle, and at a
// small share of the decoding time while it is not). Benchmarks call it to
// measure the steady state.
func (m *Model) WaitMemory() {
	if m.move.wait != nil {
		m.move.wait()
	}
}
