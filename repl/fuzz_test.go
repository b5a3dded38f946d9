package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzScript runs arbitrary scripts (no model loaded): errors are fine,
// panics and hangs are not. Seeded from the test scripts and examples.
func FuzzScript(f *testing.F) {
	for _, glob := range []string{"testdata/*.bitrepl", "testdata/model/*.bitrepl", "../examples/*.bitrepl"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Add("/set system \"\"\"\nx\ny\"\"\"\n/show\n")
	f.Add("/open /dev/null\n/save\n/export weights x.csv\n")
	f.Fuzz(func(t *testing.T, script string) {
		if strings.Contains(script, "/source") || strings.Contains(script, "/save") || strings.Contains(script, "/export") || strings.Contains(script, "/convert") {
			t.Skip("writes or reads files")
		}
		var out, errOut bytes.Buffer
		_ = Run(context.Background(), Config{Script: "-", Env: []string{"NO_COLOR=1"}}, strings.NewReader(script), &out, &errOut)
	})
}

func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{`a "b c" 'd'`, `"x\"y"`, `'`, `""`, "a\tb\nc", `"\n\t\\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := splitArgs(s)
		if err != nil || !utf8.ValidString(s) {
			return
		}
		// without quotes, splitting is strings.Fields on spaces, tabs and newlines
		if !strings.ContainsAny(s, "'\"") {
			want := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
			if strings.Join(args, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("%q: %q, want %q", s, args, want)
			}
		}
	})
}

func FuzzParseIDs(f *testing.F) {
	for _, s := range []string{"1 2 3", "[1, 2]", "9906,1917", "-1", "99999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := parseIDs(s)
		if err != nil {
			return
		}
		for _, id := range ids {
			if id < 0 {
				t.Errorf("%q: negative id %d", s, id)
			}
		}
	})
}
