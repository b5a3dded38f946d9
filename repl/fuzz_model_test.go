package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runFuzzScript runs script with the tiny test model loaded and fails the
// test if it hangs or reports a recovered runtime panic.
func runFuzzScript(t *testing.T, script string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard, not a speed test
	defer cancel()
	var out, errOut bytes.Buffer
	cfg := Config{Model: tinyModel(t), Script: "-", Env: []string{"NO_COLOR=1", "HOME=" + t.TempDir()}}
	err := Run(ctx, cfg, strings.NewReader(script), &out, &errOut)
	if ctx.Err() != nil {
		t.Fatalf("the script hangs:\n%s", script)
	}
	if err != nil && strings.Contains(err.Error(), "runtime error") || strings.Contains(errOut.String(), "runtime error") {
		t.Fatalf("a panic in:\n%s\nerror: %v\nstderr: %s", script, err, errOut.String())
	}
	return out.String(), errOut.String(), err
}

// oneLine keeps s on one script line.
func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// FuzzModelCommands runs the inspection commands with random arguments, with
// a model loaded and a generation behind them: errors are fine, panics and
// hangs are not.
func FuzzModelCommands(f *testing.F) {
	for _, s := range [][3]string{
		{"hello there", "/attn", "0 1"}, {"hello", "/attn", "-1"}, {"hi", "/attn", "3 99"}, {"x", "/attn", "99999999999999999999"},
		{"the cat", "/lens", "-1 5"}, {"a", "/lens", "0 0"}, {"b", "/lens", "-999 50"},
		{"the cat", "/acts", "all 3"}, {"hi", "/acts", "attn_out -1"}, {"hi", "/acts", "ffn_out 4"},
		{"hello", "/probs", "20"}, {"hello", "/probs", "0"}, {"héllo 世界", "/tokens", ""}, {"", "/topk", "5"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	commands := []string{"/attn", "/lens", "/acts", "/probs", "/topk", "/tokens"}
	f.Fuzz(func(t *testing.T, prompt, cmd, args string) {
		known := false
		for _, c := range commands {
			known = known || cmd == c
		}
		if !known {
			cmd = commands[len(cmd)%len(commands)]
		}
		prompt = oneLine(prompt)
		if strings.HasPrefix(strings.TrimSpace(prompt), "/") || strings.HasPrefix(strings.TrimSpace(prompt), "#") {
			prompt = "x" + prompt // a prompt, not a command
		}
		script := "/set context 96\n/set max_tokens 3\n/set temperature 0\n"
		if strings.TrimSpace(prompt) != "" {
			script += prompt + "\n"
		}
		script += cmd + " " + oneLine(args) + "\n" + cmd + "\n"
		runFuzzScript(t, script)
	})
}

// FuzzOpen: /open reads any file as a saved conversation or fails naming it;
// a conversation it opens can be continued, shown and saved again.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{
		`{"model": "m", "system": "Be brief.", "mode": "chat", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}`,
		`{"messages": [{"Role": "user", "Content": "hi"}]}`,
		`{"messages": [{"role": "system", "content": "x"}]}`,
		`{"mode": "completion", "messages": []}`,
		`{"messages": null}`, `[]`, `null`, ``, `{"messages": [{"role": "user", "content": "` + strings.Repeat("long ", 2000) + `"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "conv.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := runFuzzScript(t, "/set context 96\n/set max_tokens 2\n/open "+p+"\n/show\nnext\n/regen\n/save "+filepath.Join(dir, "again.json")+"\n")
		if err != nil && strings.Contains(err.Error(), "/open") && !strings.Contains(err.Error(), p) {
			t.Fatalf("/open's error does not name the file: %v", err)
		}
	})
}
