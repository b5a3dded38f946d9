package repl

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestGoldenScripts runs every testdata/*.bitrepl script and compares stdout,
// stderr and the error with testdata/NAME.golden.
func TestGoldenScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bitrepl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bitrepl")
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := Run(context.Background(), Config{Script: f, Env: []string{"NO_COLOR=1"}}, strings.NewReader(""), &out, &errOut)
			got := "--- stdout\n" + out.String() + "--- stderr\n" + errOut.String() + "--- error\n"
			if err != nil {
				got += err.Error() + "\n"
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s:\n%s", golden, lineDiff(strings.Split(string(want), "\n"), strings.Split(got, "\n")))
			}
		})
	}
}

func TestScriptStdinNotTTY(t *testing.T) {
	var out, errOut bytes.Buffer
	in := strings.NewReader("/set top_k 5\n# comment\n\n/assert setting top_k 5\n/hlep\n/assert setting top_k 6\n")
	err := Run(context.Background(), Config{}, in, &out, &errOut)
	se, ok := err.(*ScriptError)
	if !ok || se.Line != 5 || !strings.Contains(se.Error(), "did you mean /help?") {
		t.Fatalf("err = %v, want a ScriptError at line 5 suggesting /help", err)
	}
	if !strings.Contains(out.String(), "top_k = 5") || !strings.Contains(out.String(), "ok assert setting") {
		t.Errorf("stdout:\n%s", out.String())
	}
}

func TestScriptAssertionFailure(t *testing.T) {
	var out, errOut bytes.Buffer
	in := strings.NewReader("/assert setting mode chat\n/assert setting mode completion\n/quit\n")
	err := Run(context.Background(), Config{}, in, &out, &errOut)
	ae, ok := err.(*AssertionError)
	if !ok || ae.Line != 2 || ae.File != "-" || !strings.Contains(ae.Diff, `expected: "completion"`) {
		t.Fatalf("err = %#v", err)
	}
}

func TestNoModelMessage(t *testing.T) {
	var out, errOut bytes.Buffer
	err := Run(context.Background(), Config{}, strings.NewReader("hello there\n"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "/load") {
		t.Fatalf("err = %v, want the how-to-load message", err)
	}
}
