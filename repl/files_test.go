package repl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

func newTestSession(t *testing.T) *session {
	t.Helper()
	s, err := newSession(Config{Env: []string{"NO_COLOR=1"}}, &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// /save writes messages in OpenAI's shape, {"role", "content"}, mode 0644;
// /open reads them back, and still reads files of the previous version
// ("Role", "Content").
func TestSaveOpenFormat(t *testing.T) {
	ctx := context.Background()
	s := newTestSession(t)
	if err := s.exec(ctx, "/open testdata/files/conversation-v1.json"); err != nil {
		t.Fatal(err)
	}
	want := []model.Message{{Role: "user", Content: "hi there"}, {Role: "assistant", Content: "Hello! How can I help?"}}
	if !slices.Equal(s.history, want) || s.set.System != "Be brief." {
		t.Fatalf("opened %+v, system %q", s.history, s.set.System)
	}
	path := filepath.Join(t.TempDir(), "conv.json")
	if err := s.exec(ctx, "/save "+path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Messages) != 2 || raw.Messages[0]["role"] != "user" || raw.Messages[1]["content"] != "Hello! How can I help?" || len(raw.Messages[0]) != 2 {
		t.Errorf("saved messages %v, want {role, content} objects", raw.Messages)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("saved file has mode %v, want 0644", fi.Mode().Perm())
	}
	s2 := newTestSession(t)
	if err := s2.exec(ctx, "/open "+path); err != nil || !slices.Equal(s2.history, want) {
		t.Errorf("reopened %+v, %v", s2.history, err)
	}
}

// An error while saving names the file the user gave, not a temporary one,
// and leaves no file behind.
func TestSaveErrorNamesFile(t *testing.T) {
	dir := t.TempDir()
	s := newTestSession(t)
	path := filepath.Join(dir, "no-such-dir", "conv.json")
	err := s.exec(context.Background(), "/save "+path)
	if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("error %v, want one naming %s only", err, path)
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	path = filepath.Join(ro, "conv.json")
	if err := s.exec(context.Background(), "/save "+path); err == nil {
		if os.Geteuid() != 0 && runtime.GOOS != "windows" { // root and Windows ignore the mode
			t.Errorf("saving into a read-only directory succeeded")
		}
	} else if !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("error %v, want one naming %s only", err, path)
	}
}

// /export does what the file's extension says, and refuses an extension it
// does not write, listing the ones it does.
func TestExportByExtension(t *testing.T) {
	ctx := context.Background()
	s := newTestSession(t)
	if err := s.load(ctx, tinyModel(t)); err != nil {
		t.Fatal(err)
	}
	s.set.MaxTokens = 4
	for _, line := range []string{"hello", "/probs 2"} {
		if err := s.exec(ctx, line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	dir := t.TempDir()
	for _, tc := range []struct{ line, want string }{
		{"/export probs " + dir + "/p.txt", "probs is written as .json or .csv, not .txt"},
		{"/export probs " + dir + "/p", "probs is written as .json or .csv: give the file one of these extensions"},
		{"/export probs " + dir + "/p.npy", "probs is written as .json or .csv, not .npy"},
		{"/export hidden residual " + dir + "/h.txt", "hidden states is written as .npy or .safetensors, not .txt"},
		{"/export hidden residual " + dir + "/h", "hidden states is written as .npy or .safetensors"},
	} {
		err := s.exec(ctx, tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.line, err, tc.want)
		}
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("refused exports wrote %v", es)
	}

	for _, line := range []string{"/export probs " + dir + "/p.json", "/export probs " + dir + "/P.CSV",
		"/export hidden residual " + dir + "/h.npy", "/export hidden residual " + dir + "/h.safetensors"} {
		if err := s.exec(ctx, line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	var rows []struct {
		Pos int `json:"pos"`
		Top []struct {
			ID   *int32   `json:"id"`
			Prob *float64 `json:"prob"`
		} `json:"top"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "p.json"))
	if err := json.Unmarshal(b, &rows); err != nil || len(rows) == 0 || len(rows[0].Top) == 0 || rows[0].Top[0].ID == nil || rows[0].Top[0].Prob == nil {
		t.Errorf("p.json: %v: top is not a list of {id, prob}:\n%.300s", err, b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "P.CSV")); !bytes.HasPrefix(b, []byte("pos,chosen,prob,entropy,top\n")) {
		t.Errorf("P.CSV is not CSV:\n%.200s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "h.npy")); !bytes.HasPrefix(b, []byte("\x93NUMPY")) {
		t.Errorf("h.npy is not a .npy file: %.20q", b)
	}
	for _, name := range []string{"p.json", "P.CSV", "h.npy", "h.safetensors"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v, want a 0644 file", name, fi, err)
		}
	}
}

// A model without a tokenizer (a safetensors directory with no
// tokenizer.json) cannot chat, and the error points to what works: a command
// that exists.
func TestNoTokenizerHint(t *testing.T) {
	m, err := model.Load(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "hf")
	err = m.Save(dir, model.SaveOptions{Format: "safetensors", Embed: cpu.F32})
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := newTestSession(t)
	if err := s.load(ctx, dir); err != nil {
		t.Fatal(err)
	}
	err = s.exec(ctx, "hello")
	if err == nil || !strings.Contains(err.Error(), "bitrepl logits") || strings.Contains(err.Error(), "/logits") {
		t.Errorf("error %v, want it to suggest `bitrepl logits`", err)
	}
}

// saveChildEnv makes the test binary a child that saves a large conversation
// over and over (see TestSaveSurvivesKill).
const saveChildEnv = "BITREPL_TEST_SAVE_CHILD"

func TestSaveChild(t *testing.T) {
	path := os.Getenv(saveChildEnv)
	if path == "" {
		t.Skip("run by TestSaveSurvivesKill")
	}
	if err := limitFileSize(os.Getenv(fsizeEnv)); err != nil {
		t.Fatal(err)
	}
	s := newTestSession(t)
	// 4 MB of text in 64 messages, so that writing takes a while
	for i := range 64 {
		s.history = append(s.history, model.Message{Role: []string{"user", "assistant"}[i%2],
			Content: fmt.Sprintf("%d %s", i, strings.Repeat("all work and no play \"makes\" jack a dull boy\n", 1500))})
	}
	for i := 0; ; i++ {
		if err := s.exec(context.Background(), "/save "+path); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("saved", i)
	}
}

// kill -9 in the middle of /save leaves the previous file whole: a valid
// conversation, never an empty or half-written one. The child is killed at
// many points of its save loop.
func TestSaveSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "conv.json")
	for round := range 12 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSaveChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), saveChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it after a number of completed saves and a number of bytes of
		// the file's next version, both varying with the round.
		sc := bufio.NewScanner(out)
		for n := 0; n <= round%3 && sc.Scan(); n++ {
			if !strings.HasPrefix(sc.Text(), "saved") {
				t.Fatalf("child: %s", sc.Text())
			}
		}
		for spin := 0; spin < round*20000; spin++ { // let the next save get under way
			if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
				break // caught the in-place write truncating the file
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var conv conversation
		if err := json.Unmarshal(b, &conv); err != nil || len(conv.Messages) != 64 {
			t.Fatalf("round %d: after kill -9 the file holds %d bytes: %v, %d messages", round, len(b), err, len(conv.Messages))
		}
	}
}
