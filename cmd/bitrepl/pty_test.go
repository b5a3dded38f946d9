package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitrepl/bitrepl/repl/testmodel"
	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
)

// The tests in this file build the real bitrepl binary and drive it through a
// pseudo-terminal: keys in, a vt10x screen out.

var binPath, tinyModel string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bitrepl-pty")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "bitrepl")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building bitrepl:", err)
		os.Exit(1)
	}
	if tinyModel, err = testmodel.Write(dir, 3); err != nil {
		fmt.Fprintln(os.Stderr, "writing the test model:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// term is a running bitrepl on a pty with a virtual screen.
type term struct {
	t      testing.TB
	cmd    *exec.Cmd
	pty    *os.File
	vt     vt10x.Terminal
	mu     sync.Mutex
	raw    bytes.Buffer // every byte the program wrote
	done   chan struct{}
	waitMu sync.Mutex
	err    error
}

const (
	keyUp    = "\x1b[A"
	keyTab   = "\t"
	keyEnter = "\r"
	keyCtrlC = "\x03"
	keyCtrlD = "\x04"
)

// startTerm runs bitrepl with args on a fresh 100x30 pty; env is added to a
// minimal environment (HOME and XDG_STATE_HOME in a temp dir, TERM=xterm-256color).
func startTerm(t testing.TB, stateDir string, env []string, args ...string) *term {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append([]string{"HOME=" + stateDir, "XDG_STATE_HOME=" + stateDir, "TERM=xterm-256color", "PATH=" + os.Getenv("PATH")}, env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 100, Rows: 30})
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, cmd: cmd, pty: f, vt: vt10x.New(vt10x.WithSize(100, 30)), done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				tm.mu.Lock()
				tm.raw.Write(buf[:n])
				tm.vt.Write(buf[:n])
				tm.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		tm.err = cmd.Wait()
		close(tm.done)
	}()
	t.Cleanup(func() {
		select {
		case <-tm.done:
		default:
			cmd.Process.Kill()
			<-tm.done
		}
		f.Close()
	})
	return tm
}

func (tm *term) send(keys string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.pty, keys); err != nil {
		tm.t.Fatalf("writing keys %q: %v", keys, err)
	}
}

func (tm *term) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.vt.String()
}

func (tm *term) rawOutput() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.raw.String()
}

// waitFor waits until the screen holds want n times (or more), or fails the test.
func (tm *term) waitFor(want string, n int) {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(tm.screen(), want) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.t.Fatalf("screen never showed %q %d time(s):\n%s", want, n, tm.screen())
}

// currentLine returns the text of the cursor's line, trailing blanks trimmed.
func (tm *term) currentLine() string {
	tm.mu.Lock()
	cur := tm.vt.Cursor()
	tm.mu.Unlock()
	lines := strings.Split(tm.screen(), "\n")
	if cur.Y < len(lines) {
		return strings.TrimRight(lines[cur.Y], " ")
	}
	return ""
}

func (tm *term) waitLine(want string) {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.HasSuffix(tm.currentLine(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.t.Fatalf("cursor line is %q, want it to end in %q; screen:\n%s", tm.currentLine(), want, tm.screen())
}

// waitExit waits for the program to end and returns its exit code.
func (tm *term) waitExit() int {
	tm.t.Helper()
	select {
	case <-tm.done:
	case <-time.After(10 * time.Second):
		tm.t.Fatalf("bitrepl did not exit; screen:\n%s", tm.screen())
	}
	if ee, ok := tm.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if tm.err != nil {
		tm.t.Fatal(tm.err)
	}
	return 0
}

func TestPTYHistoryRecall(t *testing.T) {
	dir := t.TempDir()
	tm := startTerm(t, dir, nil)
	tm.waitFor("bitrepl>", 1)
	tm.send("/set top_k 7" + keyEnter)
	tm.waitFor("top_k = 7", 1)
	tm.send("/show mode" + keyEnter)
	tm.waitFor("chat", 1)
	tm.send(keyUp + keyUp)
	tm.waitLine("bitrepl> /set top_k 7")
	tm.send(keyEnter)
	tm.waitFor("top_k = 7", 2)
	tm.waitLine("bitrepl>")
	tm.send(keyCtrlD)
	if code := tm.waitExit(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	hist, err := os.ReadFile(filepath.Join(dir, "bitrepl", "history"))
	if err != nil || !strings.Contains(string(hist), "/set top_k 7") {
		t.Fatalf("history file: %q, %v", hist, err)
	}
	// a new session recalls the last session's history
	tm2 := startTerm(t, dir, nil)
	tm2.waitFor("bitrepl>", 1)
	tm2.send(keyUp)
	tm2.waitLine("bitrepl> /set top_k 7")
}

func TestPTYTabCompletion(t *testing.T) {
	tm := startTerm(t, t.TempDir(), nil)
	tm.waitFor("bitrepl>", 1)
	tm.send("/he" + keyTab)
	tm.waitLine("bitrepl> /help")
	tm.send(keyCtrlC) // drops the line
	tm.send("/set temp" + keyTab)
	tm.waitLine("bitrepl> /set temperature")
	tm.send("0.25" + keyEnter)
	tm.waitFor("temperature = 0.25", 1)
	tm.send("/set mode co" + keyTab)
	tm.waitLine("/set mode completion")
	tm.send(keyEnter)
	tm.waitFor("mode = completion", 1)
}

func TestPTYFileCompletion(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "greeting.bitrepl"), []byte("/set top_k 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tm := startTerm(t, dir, nil)
	tm.waitFor("bitrepl>", 1)
	tm.send("/source " + dir + "/gre" + keyTab)
	tm.waitLine("greeting.bitrepl")
	tm.send(keyEnter)
	tm.waitFor("top_k = 3", 1)
}

func TestPTYErrorsKeepRunning(t *testing.T) {
	tm := startTerm(t, t.TempDir(), nil)
	tm.waitFor("bitrepl>", 1)
	tm.send("/hlep" + keyEnter)
	tm.waitFor("did you mean /help?", 1)
	tm.send("/set top_k many" + keyEnter)
	tm.waitFor(`"many" is not an integer`, 1)
	tm.send("/set" + keyEnter) // still alive: shows settings
	tm.waitFor("temperature", 1)
	tm.waitLine("bitrepl>") // the listing is done and the prompt back, so Ctrl-C reaches the prompt
	tm.send(keyCtrlC)
	tm.waitFor("Ctrl-D or /quit", 1)
	tm.send("/quit" + keyEnter)
	if code := tm.waitExit(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func TestPTYMultiLine(t *testing.T) {
	tm := startTerm(t, t.TempDir(), nil)
	tm.waitFor("bitrepl>", 1)
	tm.send(`/set system """` + keyEnter)
	tm.waitLine("...")
	tm.send(`Be brief."""` + keyEnter)
	tm.waitFor(`system = "Be brief."`, 1)
}

func TestPTYColors(t *testing.T) {
	for _, tc := range []struct {
		env   []string
		color bool
	}{
		{nil, true},
		{[]string{"NO_COLOR=1"}, false},
	} {
		tm := startTerm(t, t.TempDir(), tc.env)
		tm.waitFor("bitrepl>", 1)
		tm.send("/hlep" + keyEnter)
		tm.waitFor("did you mean", 1)
		tm.waitLine("bitrepl>")
		tm.send(keyCtrlD)
		tm.waitExit()
		raw := tm.rawOutput()
		hasColor := strings.Contains(raw, "\x1b[38;") || strings.Contains(raw, "\x1b[91") || strings.Contains(raw, "\x1b[31")
		if hasColor != tc.color {
			t.Errorf("env %v: colour sequences present = %v, want %v; raw output %q", tc.env, hasColor, tc.color, raw)
		}
	}
}

func TestPipedScriptExitCode(t *testing.T) {
	cmd := exec.Command(binPath)
	cmd.Stdin = strings.NewReader("/set top_k 2\n/assert setting top_k 3\n")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "-:2: assertion setting failed") {
		t.Fatalf("err %v, stderr %q", err, errOut.String())
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("escape sequences in piped output: %q", out.String())
	}
	cmd = exec.Command(binPath, "--frobnicate")
	if err := cmd.Run(); err == nil || err.(*exec.ExitError).ExitCode() != 2 {
		t.Fatalf("bad flag: err %v, want exit 2", err)
	}
}

func TestPTYCtrlCStopsGeneration(t *testing.T) {
	tm := startTerm(t, t.TempDir(), nil, "-m", tinyModel, "--set", "max_tokens=100000", "--set", "mode=completion")
	tm.waitFor("loaded", 1)
	tm.waitFor("bitrepl>", 1)
	tm.send("Once upon a time" + keyEnter)
	// wait for streamed text, then interrupt
	deadline := time.Now().Add(10 * time.Second)
	streamed := func() int {
		_, after, _ := strings.Cut(tm.rawOutput(), "Once upon a time\r\n")
		return len(after)
	}
	for streamed() < 200 {
		if time.Now().After(deadline) {
			t.Fatalf("no streamed output:\n%s", tm.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.send(keyCtrlC)
	tm.waitFor("interrupted", 1)
	if n := streamed(); n > 5000 {
		t.Errorf("%d bytes streamed: the generation went on after Ctrl-C", n)
	}
	tm.waitFor("bitrepl>", 2)
	// the session is intact: settings and the model still work
	tm.send("/set max_tokens 3" + keyEnter)
	tm.waitFor("max_tokens = 3", 1)
	tm.send("abc" + keyEnter)
	tm.waitFor("3 tokens", 1)
	tm.waitLine("bitrepl>")
	tm.send(keyCtrlD)
	if code := tm.waitExit(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// Without -m the built-in model answers; a missing repo says how to download it.
func TestPTYBuiltinModel(t *testing.T) {
	tm := startTerm(t, t.TempDir(), nil, "--set", "max_tokens=5")
	tm.waitFor("loaded built-in bitrepl-tiny.gguf", 1)
	tm.waitFor("/load microsoft/bitnet-b1.58-2B-4T-gguf", 1)
	tm.send("hello" + keyEnter)
	tm.waitFor("5 tokens", 1)
	tm.send("/load nobody/nothing" + keyEnter)
	tm.waitFor("huggingface-cli download nobody/nothing", 1)
	tm.send("/info" + keyEnter) // the built-in model is still loaded
	tm.waitFor("source           bitrepl-tiny.gguf", 1)
}

// Piped output has no escape sequences unless CLICOLOR_FORCE asks for them.
func TestCLIColorForce(t *testing.T) {
	for _, tc := range []struct {
		env   []string
		color bool
	}{
		{[]string{"TERM=xterm-256color"}, false},
		{[]string{"TERM=xterm-256color", "CLICOLOR_FORCE=1"}, true},
		{[]string{"TERM=xterm-256color", "CLICOLOR_FORCE=1", "NO_COLOR=1"}, false},
	} {
		cmd := exec.Command(binPath)
		cmd.Env = append([]string{"HOME=" + t.TempDir()}, tc.env...)
		cmd.Stdin = strings.NewReader("/help\n/hlep\n")
		out, _ := cmd.CombinedOutput()
		if got := strings.Contains(string(out), "\x1b[3") || strings.Contains(string(out), "\x1b[9"); got != tc.color {
			t.Errorf("env %v: colour = %v, want %v; output %q", tc.env, got, tc.color, out)
		}
	}
}
