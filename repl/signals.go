package repl

import (
	"context"
	"os"
	"os/signal"
	"sync"
)

// interrupter routes Ctrl-C (SIGINT): it cancels the running command; outside the
// interactive prompt it also cancels the whole run. At the interactive prompt the
// terminal is in raw mode and Ctrl-C arrives as a key, not a signal.
type interrupter struct {
	mu          sync.Mutex
	root        context.CancelFunc
	cmd         context.CancelFunc // the running command's, nil between commands
	interactive bool
}

func (in *interrupter) fire() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cmd != nil {
		in.cmd()
	}
	if !in.interactive {
		in.root()
	}
}

// watchInterrupts returns the run's context; with cfg.Signals, SIGINT cancels the
// running command (and, unless interactive, the run).
func (s *session) watchInterrupts(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	s.intr = &interrupter{root: cancel}
	if !s.cfg.Signals {
		return ctx, cancel
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				s.intr.fire()
			case <-done:
				return
			}
		}
	}()
	return ctx, func() { signal.Stop(ch); close(done); cancel() }
}

// setInteractive tells the interrupter that Ctrl-C must not end the run.
func (s *session) setInteractive() {
	s.intr.mu.Lock()
	s.intr.interactive = true
	s.intr.mu.Unlock()
	s.interactive = true
}

// commandContext returns the context of one command, which Ctrl-C cancels.
func (s *session) commandContext(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	s.intr.mu.Lock()
	s.intr.cmd = cancel
	s.intr.mu.Unlock()
	return ctx, func() {
		s.intr.mu.Lock()
		s.intr.cmd = nil
		s.intr.mu.Unlock()
		cancel()
	}
}
