package repl

import (
	"reflect"
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"help", "help", 0}, {"hlep", "help", 2}, {"hepl", "help", 2},
		{"set", "sett", 1}, {"kitten", "sitting", 3}, {"", "abc", 3}, {"héllo", "hello", 1},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestNearest(t *testing.T) {
	names := []string{"help", "load", "quit", "set", "show", "tokens", "topk"}
	for _, tc := range []struct{ in, want string }{
		{"hlep", "help"}, {"laod", "load"}, {"tokns", "tokens"}, {"sho", "show"},
		{"xyzzy", ""}, {"tok", "tokens"}, {"q", "quit"},
	} {
		if got := nearest(tc.in, names); got != tc.want {
			t.Errorf("nearest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"a b  c", []string{"a", "b", "c"}, false},
		{`"hello world" x`, []string{"hello world", "x"}, false},
		{`'it''s' "a\"b\n"`, []string{"its", "a\"b\n"}, false},
		{`pre"fix"`, []string{"prefix"}, false},
		{`""`, []string{""}, false},
		{`"open`, nil, true},
		{`'open`, nil, true},
	} {
		got, err := splitArgs(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("splitArgs(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if !tc.err && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLineJoiner(t *testing.T) {
	feed := func(lines ...string) []string {
		var j lineJoiner
		var out []string
		for _, l := range lines {
			if s, ok := j.add(l); ok {
				out = append(out, s)
			}
		}
		if j.pending() {
			out = append(out, "<pending>")
		}
		return out
	}
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"one", "two"}, []string{"one", "two"}},
		{[]string{`a \`, `b`}, []string{"a \nb"}},
		{[]string{`/tokens """`, "x", `y"""`, "z"}, []string{"/tokens x\ny", "z"}},
		{[]string{`"""`, "poem", "lines", `"""`}, []string{"poem\nlines\n"}},
		{[]string{`"""one line"""`}, []string{`"""one line"""`}},
		{[]string{`open """`, "never closed"}, []string{"<pending>"}},
	} {
		if got := feed(tc.in...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	for _, tc := range []struct {
		name, value, err string
	}{
		{"temperature", "0.2", ""},
		{"temperature", "-1", "out of range"},
		{"temperature", "hot", "not a number"},
		{"top_p", "0", "out of range"},
		{"top-p", "0.9", ""},
		{"top_k", "3.5", "not an integer"},
		{"seed", "-3", "non-negative"},
		{"mode", "poetry", "not chat or completion"},
		{"stats", "maybe", "not on or off"},
		{"stats", "off", ""},
		{"temprature", "1", "did you mean temperature"},
	} {
		s := DefaultSettings()
		err := s.Apply(tc.name, tc.value)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Apply(%q, %q) = %v, want error containing %q", tc.name, tc.value, err, tc.err)
		}
	}
	s := DefaultSettings()
	if err := s.Apply("top_k", "7"); err != nil || s.TopK != 7 {
		t.Fatalf("top_k not applied: %v %d", err, s.TopK)
	}
}

func TestDiffInts(t *testing.T) {
	d := diffInts([]int32{1, 2, 3}, []int32{1, 5, 3}, nil)
	if !strings.Contains(d, "first difference at index 1: expected 2, got 5") {
		t.Errorf("diff:\n%s", d)
	}
	d = diffInts([]int32{1, 2}, []int32{1}, func(id int32) string { return "tok" })
	if !strings.Contains(d, `missing 1 id(s) from index 1: 2 "tok"`) {
		t.Errorf("diff:\n%s", d)
	}
}

func TestDiffText(t *testing.T) {
	d := diffText("a\nbcd\ne", "a\nbXd\ne")
	for _, want := range []string{"line 2, column 2", `expected "cd\ne"`, "  - bcd", "  + bXd", "    a"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
}

func TestDiffFloats(t *testing.T) {
	if d := diffFloats([][]float64{{1, 2}}, [][]float64{{1.0005, 2}}, 1e-3, nil); d != "" {
		t.Errorf("within tolerance, got %q", d)
	}
	d := diffFloats([][]float64{{1, 2}, {3, 4}}, [][]float64{{1, 2}, {3, 4.5}}, 1e-3, nil)
	if !strings.Contains(d, "1 value(s) differ") || !strings.Contains(d, "position 1 token 1") {
		t.Errorf("diff:\n%s", d)
	}
	if d := diffFloats([][]float64{{1}}, [][]float64{{1}, {2}}, 0, nil); !strings.Contains(d, "expected 1 rows, got 2") {
		t.Errorf("diff:\n%s", d)
	}
}

func TestHistoryPath(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Env: []string{"XDG_STATE_HOME=/s", "HOME=/h"}}, "/s/bitrepl/history"},
		{Config{Env: []string{"XDG_STATE_HOME=rel", "HOME=/h"}}, "/h/.local/state/bitrepl/history"},
		{Config{Env: []string{"HOME=/h"}, HistoryFile: "-"}, ""},
		{Config{Env: nil}, ""},
	} {
		if got := historyPath(tc.cfg); got != tc.want {
			t.Errorf("historyPath(%v) = %q, want %q", tc.cfg.Env, got, tc.want)
		}
	}
}
