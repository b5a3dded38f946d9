package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// twentyTurns is a conversation whose answers (the built-in model's default
// of 256 tokens) fill its 256-token context many times over.
func twentyTurns() []string {
	topics := []string{"the sea", "the whale", "the ship", "the captain", "the harbour"}
	var lines []string
	for i := range 20 {
		lines = append(lines, fmt.Sprintf("Tell me about %s, please (%d).", topics[i%len(topics)], i))
	}
	return lines
}

// A piped conversation of 20 turns on the built-in model runs to the end:
// the oldest turns are dropped as the context fills, and that is said.
func TestPipedConversationGoesOn(t *testing.T) {
	cmd := exec.Command(binPath, "--history", "-")
	cmd.Env = []string{"NO_COLOR=1", "HOME=" + t.TempDir()}
	cmd.Stdin = strings.NewReader(strings.Join(twentyTurns(), "\n") + "\n/history\n")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstderr: %s\nstdout: %s", err, errOut.String(), out.String())
	}
	if n := strings.Count(out.String(), " tokens · TTFT"); n != 20 {
		t.Errorf("%d stats lines for 20 turns:\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "the context of 256 tokens was full: dropped the 2 oldest messages") {
		t.Errorf("no line says what was dropped:\n%s", out.String())
	}
	// /history still has every turn
	if !strings.Contains(out.String(), "user: Tell me about the sea, please (0).") || !strings.Contains(out.String(), "user: Tell me about the harbour, please (19).") {
		t.Errorf("/history lost turns:\n%s", out.String())
	}
}

// The same conversation typed at the interactive prompt.
func TestPTYConversationGoesOn(t *testing.T) {
	tm := startTerm(t, t.TempDir(), nil)
	tm.waitFor("bitrepl>", 1)
	for i, line := range twentyTurns() {
		tm.send(line + keyEnter)
		deadline := time.Now().Add(60 * time.Second)
		for strings.Count(tm.rawOutput(), " tokens · TTFT") < i+1 {
			if raw := tm.rawOutput(); strings.Contains(raw, "context is full") {
				t.Fatalf("turn %d failed:\n%s", i, tm.screen())
			}
			if time.Now().After(deadline) {
				t.Fatalf("turn %d never ended:\n%s", i, tm.screen())
			}
			time.Sleep(20 * time.Millisecond)
		}
		tm.waitLine("bitrepl>")
	}
	if !strings.Contains(tm.rawOutput(), "dropped the 2 oldest messages") {
		t.Errorf("no line said what was dropped:\n%s", tm.screen())
	}
	tm.send(keyCtrlD)
	if code := tm.waitExit(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
