package repl

import (
	"context"
	"fmt"
	"net"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/repl/serve"
)

// subServe runs the OpenAI-compatible server (package serve) until SIGINT or
// SIGTERM, then shuts it down gracefully.
func (s *session) subServe(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return &UsageError{Msg: fmt.Sprintf("serve takes no argument (got %q)", args[0]), Usage: "bitrepl serve [-m MODEL] [--addr 127.0.0.1:8080] [--parallel N] [--api-key KEY]"}
	}
	addr := s.cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	name := strings.TrimSuffix(filepath.Base(s.model.Source), ".gguf")
	if name == "" || name == "." {
		name = "bitrepl"
	}
	srv, note, err := serve.New(s.model, serve.Config{ModelName: name, Parallel: s.cfg.Parallel, Context: s.set.Context,
		Device: s.device, APIKey: s.cfg.APIKey})
	if err != nil {
		return err
	}
	if note != "" && (s.device != model.DeviceAuto || runtime.GOOS == "darwin") { // as newSession
		fmt.Fprintln(s.errOut, note)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if s.cfg.Signals { // SIGINT is watched by Run
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, syscall.SIGTERM)
		defer stop()
	}
	fmt.Fprintf(s.errOut, "serving %s on http://%s (model %q, %d slots of %d positions); Ctrl-C stops\n",
		s.model.Source, ln.Addr(), name, srv.Slots(), srv.ContextLen())
	err = srv.Serve(ctx, ln)
	fmt.Fprintln(s.errOut, "server stopped")
	return err
}
