package cpu

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool: a matrix kernel splits its rows into chunks that the
// calling goroutine and threads-1 persistent workers take from an atomic
// counter, so a core slowed down by other work simply takes fewer chunks.
// Workers spin for a short while after each job (a decode step calls the
// kernels every few tens of microseconds) and then park on a channel. A
// call allocates nothing and starts no goroutine; calls from several
// goroutines are serialized (each already uses every core). A caller that
// runs long serial code between calls (the trainer) uses ParallelPark, after
// which the workers park at once: on a busy machine a spinning worker takes
// CPU time from the caller's serial code.

// An idle worker polls for the next job for spinTime and at least
// spinCount polls before parking.
const (
	spinTime  = 200 * time.Microsecond
	spinCount = 1 << 14
)

// pool state word: generation << 32 | closed << 31 | caller asleep << 30 |
// workers inside the job.
const (
	poolClosed  = 1 << 31
	poolWaiting = 1 << 30
	poolActive  = 1<<30 - 1
)

// waitSpins is how many times a ParallelPark caller polls for the workers
// still inside a closed job before it sleeps until the last one leaves. They
// normally leave within a chunk's time; a worker that takes longer has
// usually lost its CPU to another process, and a caller that kept polling
// could be taking that very CPU from it. The kernels' callers (Parallel)
// poll on: sleeping there cost decoding about 3% on a quiet machine (2B-4T
// TQ2_0 tg, 4 interleaved rounds), where the wait is a chunk's imbalance.
const waitSpins = 256

type pool struct {
	mu      sync.Mutex // held for the whole of a call (its job and scratch)
	threads int
	workers []*worker

	_     [64]byte
	state atomic.Uint64 // spun on by idle workers: a cache line of its own
	_     [56]byte
	gen   uint32
	park  atomic.Bool   // the workers park after the current job instead of spinning
	over  atomic.Bool   // the last job had more threads than GOMAXPROCS
	done  chan struct{} // the last worker out of a closed job wakes the sleeping caller

	// The job: run(arg, r0, r1) for chunks [c*chunk, min((c+1)*chunk, rows)).
	run     func(arg any, r0, r1 int)
	arg     any
	rows    int
	chunk   int
	nchunks int
	_       [64]byte
	next    atomic.Int64 // taken by every thread: a cache line of its own
	_       [56]byte

	// Per-call storage, so that a call allocates nothing in the steady state.
	tern   ternJob
	tern2  ternJob // MatMulTernaryPair's and MatMulTernary3's second matrix
	tern3  ternJob // MatMulTernary3's third
	pair   pairJob
	triple tripleJob
	fl     floatJob
}

type worker struct {
	parked atomic.Bool
	// Set when the worker parks, for the tests: the last job it saw and how
	// many times it polled for the next before parking.
	parkedGen atomic.Uint32
	polls     atomic.Int64
	wake      chan struct{}
	quit      atomic.Bool
}

var thePool = &pool{threads: 1, done: make(chan struct{}, 1)}

func init() {
	thePool.setThreads(defaultThreads())
}

// SetThreads sets the number of threads the matrix kernels use (the caller
// plus n-1 persistent workers) and returns the previous number. n < 1 means
// the default: the number of physical cores, at most GOMAXPROCS. It waits
// for a running kernel call to finish.
func SetThreads(n int) (prev int) {
	if n < 1 {
		n = defaultThreads()
	}
	return thePool.setThreads(n)
}

// MaxThreads is the most threads worth asking for: 4 per CPU, at most 256.
// More only slow the kernels down (each thread waits for a CPU), so the
// command line refuses them.
func MaxThreads() int { return min(4*runtime.NumCPU(), 256) }

// Threads returns the number of threads the matrix kernels use.
func Threads() int {
	thePool.mu.Lock()
	defer thePool.mu.Unlock()
	return thePool.threads
}

func (p *pool) setThreads(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.threads
	for len(p.workers) > n-1 {
		w := p.workers[len(p.workers)-1]
		p.workers = p.workers[:len(p.workers)-1]
		w.quit.Store(true)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	for len(p.workers) < n-1 {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.loop(w)
	}
	p.threads = n
	return prev
}

// parallel runs run(arg, r0, r1) over [0, rows) in chunks of a multiple of
// grain rows, on every thread. p.mu must be held (the caller owns arg, which
// usually lives in p).
func (p *pool) parallel(run func(arg any, r0, r1 int), arg any, rows, grain int) {
	p.parallelPark(run, arg, rows, grain, false)
}

// parallelPark is parallel; with park, the workers park as soon as they
// are done with the job.
func (p *pool) parallelPark(run func(arg any, r0, r1 int), arg any, rows, grain int, park bool) {
	if rows <= 0 {
		return
	}
	nw := len(p.workers)
	if nw == 0 || rows <= grain {
		run(arg, 0, rows)
		return
	}
	// Both before the job is published: a worker that sees the job sees them.
	p.park.Store(park)
	over := nw+1 > runtime.GOMAXPROCS(0)
	p.over.Store(over)
	// About 3 chunks per thread: enough for a core slowed down by other work
	// to take fewer, and long enough that the kernels' sequential streams
	// run at full speed (measured on the 2B-4T I2_S decode, 2 threads: 3
	// chunks per thread +3% tg over 8, +1.4% for 4).
	chunk := (rows + 3*(nw+1) - 1) / (3 * (nw + 1))
	chunk = (chunk + grain - 1) / grain * grain
	p.run, p.arg, p.rows, p.chunk = run, arg, rows, chunk
	p.nchunks = (rows + chunk - 1) / chunk
	p.next.Store(0)
	p.gen++
	p.state.Store(uint64(p.gen) << 32)
	for _, w := range p.workers {
		if w.parked.Load() {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
	p.work()
	// Close the job to latecomers, then wait for the workers inside it.
	for {
		s := p.state.Load()
		if p.state.CompareAndSwap(s, s|poolClosed) {
			break
		}
	}
	for i := 0; ; i++ {
		s := p.state.Load()
		if s&poolActive == 0 {
			break
		}
		if i < waitSpins || !park {
			// With more threads than Ps, a worker inside the job may be
			// waiting for this P: hand it over at once. Otherwise the
			// worker leaves within a chunk's time, and only a rare
			// Gosched is due (each costs the scheduler's locks).
			if over {
				if i > 64 {
					runtime.Gosched()
				}
			} else if spinPause(); i%256 == 255 {
				runtime.Gosched()
			}
			continue
		}
		// Sleep; the worker that brings the count to zero sees the flag
		// (set only while the count is not zero) and wakes us once.
		if p.state.CompareAndSwap(s, s|poolWaiting) {
			<-p.done
			break
		}
	}
	p.run, p.arg = nil, nil
}

// Parallel calls fn(lo, hi) on the pool's threads for disjoint ranges that
// cover [0, n), each a multiple of grain long but the last, and returns when
// all are done. It is for work between the matrix kernels (attention over
// heads, say); fn must not call the matrix kernels or Parallel, which wait
// for the pool. It allocates nothing.
func Parallel(n, grain int, fn func(lo, hi int)) {
	p := thePool
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parallel(funcRun, fn, n, max(grain, 1))
}

// ParallelPark is Parallel for a caller that runs long serial code between
// calls, such as a training step: the workers park (sleep until the next
// call wakes them) as soon as they are done, instead of polling for the next
// call for a while as they do after the kernels, where calls come every few
// tens of microseconds. On a busy machine a polling worker takes CPU time
// that the caller's serial code could have.
func ParallelPark(n, grain int, fn func(lo, hi int)) {
	p := thePool
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parallelPark(funcRun, fn, n, max(grain, 1), true)
}

func funcRun(arg any, r0, r1 int) { arg.(func(lo, hi int))(r0, r1) }

// work takes chunks until none is left.
func (p *pool) work() {
	for {
		c := int(p.next.Add(1) - 1)
		if c >= p.nchunks {
			return
		}
		r0 := c * p.chunk
		p.run(p.arg, r0, min(r0+p.chunk, p.rows))
	}
}

func (p *pool) loop(w *worker) {
	var seen uint32
	idle := time.Now()
	spins := 0
	parkAtOnce := false // the last job was ParallelPark's
	for {
		if w.quit.Load() {
			return
		}
		s := p.state.Load()
		if g := uint32(s >> 32); g != seen {
			parkAtOnce = p.park.Load()
			if s&poolClosed == 0 {
				if !p.state.CompareAndSwap(s, s+1) {
					continue
				}
				parkAtOnce = p.park.Load() // the job's, now that it cannot change
				p.work()
				if s := p.state.Add(^uint64(0)); s&poolActive == 0 && s&poolWaiting != 0 { // -1
					p.done <- struct{}{}
				}
			}
			seen = g
			idle = time.Now()
			spins = 0
			if !parkAtOnce {
				continue
			}
		} else if !parkAtOnce {
			spins++
			// Let other goroutines have this P now and then, more often
			// when there are more threads than Ps (the caller may need
			// it): each Gosched costs the scheduler's locks.
			if spins%256 != 0 || spins%1024 != 0 && !p.over.Load() {
				spinPause()
				continue
			}
			runtime.Gosched()
			// Park after spinTime without a job, counted in spins too: on a
			// busy machine the thread is often descheduled, and the wall
			// clock alone would park it after every job.
			if spins < spinCount || time.Since(idle) < spinTime {
				continue
			}
		}
		// Park; the caller wakes parked workers after publishing a job,
		// and the state is checked again after parked is set. (A wake can
		// come late, for a job the worker saw without sleeping: after
		// ParallelPark's job it parks again at once.)
		w.parkedGen.Store(seen)
		w.polls.Store(int64(spins))
		w.parked.Store(true)
		if uint32(p.state.Load()>>32) == seen && !w.quit.Load() {
			<-w.wake
		}
		w.parked.Store(false)
		idle = time.Now()
		spins = 0
	}
}

// defaultThreads returns the number of physical cores (Linux: distinct
// core_cpus_list entries of the online CPUs), at most runtime.NumCPU and
// GOMAXPROCS.
func defaultThreads() int {
	n := min(runtime.NumCPU(), runtime.GOMAXPROCS(0))
	if c := physicalCores(); c > 0 && c < n {
		n = c
	}
	return max(n, 1)
}

func physicalCores() int {
	files, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/topology/core_cpus_list")
	if len(files) == 0 {
		files, _ = filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/topology/thread_siblings_list")
	}
	cores := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		cores[strings.TrimSpace(string(b))] = true
	}
	return len(cores)
}

// floatJob is one MatVec call (a) or MatMul call (acts, one per token,
// whose outputs are dst[t*m.Rows:(t+1)*m.Rows]), split by rows.
type floatJob struct {
	dst  []float32
	m    *Matrix
	a    *floatAct
	acts []*floatAct // capacity kept between calls
	x    []float32   // MatMul's activations (actRun prepares acts from them)
	mm   mmActs      // acts laid out for kern.mm4 (MatMul of Q8_0, Q4_0)
}

// floatTile is how many rows floatRun takes for every token of a MatMul
// before going on: 16 rows of the 2B-4T LM head (F16, 2560 wide) are 80 KiB,
// read from memory for the first token and from the cache for the others.
const floatTile = 16

// floatRowsParallel computes dst[r] = m.Scale * Σ_j w[r,j]*x[j] for every
// row of m with kern.floatRows, the rows split over the pool.
func floatRowsParallel(dst []float32, m *Matrix, a *floatAct) {
	p := thePool
	p.mu.Lock()
	j := &p.fl
	j.dst, j.m, j.a = dst, m, a
	p.parallel(floatRun, j, len(dst), 16)
	j.dst, j.m, j.a = nil, nil, nil
	p.mu.Unlock()
}

// floatRowsParallelN is floatRowsParallel for the n tokens of x (n x
// m.Cols) in one pass over the matrix.
func floatRowsParallelN(dst []float32, m *Matrix, x []float32, n int) {
	p := thePool
	p.mu.Lock()
	j := &p.fl
	j.dst, j.m = dst, m
	j.x = x
	for range n {
		j.acts = append(j.acts, actPool.Get().(*floatAct))
	}
	j.mm.begin(m.Type, n, m.Cols)
	p.parallel(actRun, j, n, 1)
	j.mm.end(j.acts)
	p.parallel(floatRun, j, m.Rows, floatTile)
	for _, a := range j.acts {
		putAct(a)
	}
	clear(j.acts)
	j.dst, j.m, j.x, j.acts = nil, nil, nil, j.acts[:0]
	p.mu.Unlock()
}

// floatRun computes rows [r0, r1): of one token, or of every token a tile
// of rows at a time, four tokens per kern.mm4 call where the level has it.
// Each row's sum has the same bits either way.
func floatRun(arg any, r0, r1 int) {
	j := arg.(*floatJob)
	rb := j.m.rowBytes()
	if j.a != nil {
		kern.floatRows(j.dst[r0:r1], j.m.Type, j.m.Data[r0*rb:r1*rb], rb, j.a, j.m.Scale)
		return
	}
	rows := j.m.Rows
	for c0 := r0; c0 < r1; c0 += floatTile {
		c1 := min(c0+floatTile, r1)
		for t := j.mmRun(c0, c1); t < len(j.acts); t++ {
			a := j.acts[t]
			kern.floatRows(j.dst[t*rows+c0:t*rows+c1], j.m.Type, j.m.Data[c0*rb:c1*rb], rb, a, j.m.Scale)
		}
	}
}
