package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/tokenizer"
	"github.com/bitrepl/bitrepl/repl/testmodel"
)

var (
	tinyOnce sync.Once
	tinyPath string
	tinyErr  error
)

// tinyModel writes the random test model once per test binary.
func tinyModel(t *testing.T) string {
	t.Helper()
	tinyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bitrepl-tiny")
		if err != nil {
			tinyErr = err
			return
		}
		tinyPath, tinyErr = testmodel.Write(dir, 7)
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tinyPath
}

// runScript runs script (a string) with the tiny model loaded and returns stdout, stderr and the error.
func runScriptWithModel(t *testing.T, script string, env ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cfg := Config{Model: tinyModel(t), Script: "-", Env: append([]string{"NO_COLOR=1"}, env...)}
	err := Run(context.Background(), cfg, strings.NewReader(script), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestModelTour runs testdata/model/tour.bitrepl against the tiny model and
// compares the transcript with tour.golden (go test -update rewrites it).
func TestModelTour(t *testing.T) {
	// the reference kernels: the transcript prints floats that SIMD levels may round differently
	defer cpu.SetLevel(cpu.Generic)()
	path := tinyModel(t)
	m, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// the expected values of the assertions, computed through the engine's API
	ids := m.Tokenizer.Encode("Once upon a time", true)
	var greedy strings.Builder
	sess := m.NewSession(0)
	if _, err := m.Generate(context.Background(), sess, ids, model.GenOptions{MaxTokens: 12}, func(tk model.Token) error {
		greedy.WriteString(tk.Text)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var k *model.Weight
	for _, w := range m.Weights() {
		if w.Name == "blk.0.attn_k.weight" {
			k = &w
		}
	}
	ws, err := inspect.Weights(k.Name, k.Matrix, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	script, err := os.ReadFile("testdata/model/tour.bitrepl")
	if err != nil {
		t.Fatal(err)
	}
	g := strconv.Quote(greedy.String())
	out, errOut, err := runScriptWithModel(t, string(script), "TMP="+tmp, "GREEDY="+g,
		"NEG="+strconv.FormatInt(ws.Neg, 10), "ZERO="+strconv.FormatInt(ws.Zero, 10), "POS="+strconv.FormatInt(ws.Pos, 10))
	got := "--- stdout\n" + out + "--- stderr\n" + errOut + "--- error\n"
	if err != nil {
		got += err.Error() + "\n"
	}
	got = strings.ReplaceAll(got, tmp, "$TMP")
	got = strings.ReplaceAll(got, filepath.Dir(path), "$MODELDIR")
	got = regexp.MustCompile(`(?m)^(  kernels +).*$`).ReplaceAllString(got, "${1}$$LEVEL") // the CPU's SIMD level
	golden := "testdata/model/tour.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if got != string(want) {
			t.Errorf("transcript differs from %s:\n%s", golden, lineDiff(strings.Split(string(want), "\n"), strings.Split(got, "\n")))
		}
	}
	if err != nil {
		t.Fatalf("script failed: %v", err)
	}
	for _, f := range []string{"weights.csv", "lens.json", "acts.csv", "resid.safetensors", "attn_norm.npy", "conv.json"} {
		if st, err := os.Stat(filepath.Join(tmp, f)); err != nil || st.Size() == 0 {
			t.Errorf("export %s: %v", f, err)
		}
	}
}

// Without -m, the default model (the embedded one in the real program) is used.
func TestDefaultModel(t *testing.T) {
	def := func() (*model.Model, string, error) {
		m, err := testmodel.New(2)
		return m, "built-in tiny", err
	}
	var out, errOut bytes.Buffer
	err := Run(context.Background(), Config{DefaultModel: def, Script: "-", Env: []string{"NO_COLOR=1"}}, strings.NewReader("/info\n"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "loaded built-in tiny") || !strings.Contains(out.String(), "format           random") {
		t.Fatalf("%v\n%s", err, out.String())
	}
	out.Reset()
	err = Run(context.Background(), Config{Command: "run", Args: []string{"hi"}, Set: []string{"max_tokens=3"}, DefaultModel: def}, strings.NewReader(""), &out, &errOut)
	if err != nil || len(out.String()) == 0 || strings.Contains(out.String(), "loaded") {
		t.Fatalf("run: %v, stdout %q", err, out.String())
	}
	// -m wins over the default
	out.Reset()
	err = Run(context.Background(), Config{Model: tinyModel(t), DefaultModel: def, Script: "-"}, strings.NewReader("/info\n"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "format           gguf") {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

// A failed /load (missing or corrupt file) says what and where, and keeps the model and conversation.
func TestFailedLoadKeepsState(t *testing.T) {
	var out, errOut bytes.Buffer
	s, err := newSession(Config{Env: []string{"NO_COLOR=1"}}, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.load(ctx, tinyModel(t)); err != nil {
		t.Fatal(err)
	}
	s.set.MaxTokens = 2
	if err := s.exec(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	before := s.model
	bad := filepath.Join(t.TempDir(), "bad.gguf")
	os.WriteFile(bad, []byte("GGUF\x03\x00\x00\x00garbage"), 0o644)
	for _, tc := range []struct{ line, want string }{
		{"/load " + bad, bad},
		{"/load /no/such/model.gguf", `model "/no/such/model.gguf" not found`},
		{"/lod x", "did you mean /load?"},
		{"/attn 99", "usage: /attn LAYER [HEAD]"},
		{"/weights nosuchtensor", "no tensor matches"},
		{"/export nothing x.json", "unknown result"},
	} {
		err := s.exec(ctx, tc.line)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.line, err, tc.want)
		}
	}
	if s.model != before || len(s.history) != 2 {
		t.Fatalf("state changed: model %p -> %p, %d messages", before, s.model, len(s.history))
	}
	if err := s.exec(ctx, "/info"); err != nil {
		t.Fatal(err)
	}
}

// A chat with the 2B-4T template reuses the KV cache of earlier turns.
func TestChatReusesCache(t *testing.T) {
	js, err := os.ReadFile("../model/tokenizer/testdata/llama3-mini.json")
	if err != nil {
		t.Skip(err)
	}
	tok, err := tokenizer.FromJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testmodel.Config()
	cfg.VocabSize = tok.VocabSize()
	m, err := model.Random(cfg, 9, tok, js)
	if err != nil {
		t.Fatal(err)
	}
	if m.Chat != model.ChatBitNet {
		t.Fatalf("template %v", m.Chat)
	}
	var out, errOut bytes.Buffer
	s, err := newSession(Config{Env: []string{"NO_COLOR=1"}}, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	s.use(m, "llama3-mini", time.Time{})
	s.set.MaxTokens, s.set.Temperature = 4, 0
	ctx := context.Background()
	for _, turn := range []string{"hello", "and again"} {
		if err := s.exec(ctx, turn); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "cached)") {
		t.Errorf("second turn did not reuse the cache: %q", last)
	}
	ids, _ := m.FormatChat(s.messages(), false)
	if s.lastIDs[0] != ids[0] || len(s.history) != 4 {
		t.Errorf("history %v", s.history)
	}
}
