//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bitrepl serve answers an OpenAI chat request with the built-in model and
// stops cleanly (exit 0) on SIGTERM and on SIGINT.
func TestServeAnswersAndStops(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(binPath, "serve", "--addr", "127.0.0.1:0", "--parallel", "2")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			r := bufio.NewReader(stderr)
			line, err := r.ReadString('\n')
			addr := regexp.MustCompile(`http://[0-9.:]+`).FindString(line)
			if err != nil || addr == "" || !strings.Contains(line, "2 slots") {
				t.Fatalf("first line %q (%v)", line, err)
			}
			var models struct {
				Data []struct{ ID string } `json:"data"`
			}
			resp, err := http.Get(addr + "/v1/models")
			if err != nil {
				t.Fatal(err)
			}
			json.NewDecoder(resp.Body).Decode(&models)
			resp.Body.Close()
			if len(models.Data) != 1 {
				t.Fatalf("models: %+v", models)
			}
			body := `{"model":"` + models.Data[0].ID + `","messages":[{"role":"user","content":"Hello"}],"max_tokens":5}`
			resp, err = http.Post(addr+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), `"completion_tokens":5`) {
				t.Fatalf("%s: %s", resp.Status, b)
			}
			cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(r)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil || !strings.Contains(string(rest), "server stopped") {
					t.Errorf("after %v: %v, stderr %q", sig, err, rest)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("still running 30s after %v", sig)
			}
		})
	}
}
