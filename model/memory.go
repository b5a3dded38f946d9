package model

import (
	"sync/atomic"
	"time"
)

// moveIdle is how long after the load the weights start moving into huge
// pages when nothing has been evaluated yet (an interactive prompt waiting
// for its first line).
const moveIdle = time.Second

// weightMove starts moving a GGUF file into huge pages (gguf.HugePages) at
// a moment that costs the first token nothing: when the first evaluation is
// over (the copy then overlaps the tokens after it), or after moveIdle when
// none has begun. Until the move is over the model reads the weights from
// the page-cache mapping, the same bytes.
type weightMove struct {
	start, wait func() // nil when the weights stay where they are
	began       atomic.Bool
}

func (w *weightMove) startIdle() {
	time.AfterFunc(moveIdle, func() {
		if !w.began.Load() {
			w.start()
		}
	})
}

// begin and end bracket every evaluation.
func (w *weightMove) begin() {
	if w.start != nil && !w.began.Load() {
		w.began.Store(true)
	}
}

func (w *weightMove) end() {
	if w.start != nil {
		w.start()
	}
}

// WaitMemory waits until the weights are held as Memory says: in huge pages,
// the model runs from the page-cache mapping until a goroutine has moved the
// file there, which starts after the first evaluation (or a second after the
// load) and copies about 1-3 GB/s on a free core. Benchmarks call it to
// measure the steady state.
func (m *Model) WaitMemory() {
	if m.move.wait != nil {
		m.move.wait()
	}
}
