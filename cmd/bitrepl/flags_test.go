package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/repl"
)

// Every subcommand has its own help, on stdout, with only its flags, and
// -h, --help and bitrepl help SUB all show it and exit 0.
func TestSubcommandHelp(t *testing.T) {
	own := map[string][]string{ // flags a subcommand's help must list, and flags of others it must not
		"":         {"--script", "--history", "!--max-tokens", "!--format"},
		"run":      {"--max-tokens", "--ctx-size", "-f, --file", "--temp", "--seed", "--top-k", "--top-p", "-m, --model", "--timings", "!--script", "!--format", "!-d N"},
		"bench":    {"-p N", "-t N", "-d N", "--json", "!--script", "!--max-tokens"},
		"convert":  {"--format", "-o, --output", "--tokenizer", "!--json", "!--max-tokens"},
		"inspect":  {"--json", "wildcard", "!--format", "!--ids"},
		"tokenize": {"--tokenizer", "--text", "!--ids", "!--format"},
		"logits":   {"--ids", "--text", "!--format", "!--script"},
		"serve":    {"--addr", "--parallel", "--api-key", "!--json", "!--format"},
		"train":    {"-data DATA", "-dir RUN", "-steps N", "corpus", "!bitrain", "!Usage of"},
	}
	for sub, wants := range own {
		var forms [][]string
		for _, h := range []string{"-h", "--help"} {
			forms = append(forms, strings.Fields(sub+" "+h))
		}
		if sub != "" {
			forms = append(forms, []string{"help", sub})
		}
		var first string
		for _, args := range forms {
			code, out, errOut := bitrepl(t, "", args...)
			if code != 0 || errOut != "" {
				t.Errorf("%v: exit %d, stderr %q; want 0 and the help on stdout", args, code, errOut)
			}
			if first == "" {
				first = out
			} else if out != first {
				t.Errorf("%v: another help than %v", args, forms[0])
			}
		}
		if !strings.HasPrefix(first, "usage: bitrepl "+sub) {
			t.Errorf("%q help starts %q", sub, first[:min(len(first), 40)])
		}
		for _, w := range wants {
			if not, ok := strings.CutPrefix(w, "!"); ok {
				if strings.Contains(first, not) {
					t.Errorf("%q help shows %q, a flag of another command:\n%s", sub, not, first)
				}
			} else if !strings.Contains(first, w) {
				t.Errorf("%q help lacks %q:\n%s", sub, w, first)
			}
		}
		for _, l := range strings.Split(first, "\n") {
			if strings.Count(l, "(default") > 1 {
				t.Errorf("%q help: two defaults on %q", sub, l)
			}
		}
	}
	_, out, _ := bitrepl(t, "", "help")
	for _, s := range []string{"run", "train", "bench", "convert", "inspect", "tokenize", "serve", "logits"} {
		if !strings.Contains(out, "\n  "+s+" ") {
			t.Errorf("bitrepl help does not list %s:\n%s", s, out)
		}
	}
}

// Bad usage exits 2 with a short message on stderr that says where the help is.
func TestBadUsageIsShort(t *testing.T) {
	for _, args := range [][]string{{"run", "--nope", "hi"}, {"bench", "-x"}, {"inspect", "a", "b"}, {"frobnicate"}, {"help", "frobnicate"}, {"train", "-nope"}, {"-m", "x", "train"}} {
		code, out, errOut := bitrepl(t, "", args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") > 2 || errOut == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and at most two lines on stderr", args, code, out, errOut)
		}
	}
	if _, _, errOut := bitrepl(t, "", "run", "--nope", "hi"); !strings.Contains(errOut, "bitrepl run --help") {
		t.Errorf("no pointer to the help: %q", errOut)
	}
}

// The model flags may come before the subcommand.
func TestGlobalFlagsBeforeSubcommand(t *testing.T) {
	want := greedyChat(t, "hello", 5)
	for _, args := range [][]string{
		{"-m", tinyModel, "run", "-n", "5", "--temp", "0", "hello"},
		{"--model=" + tinyModel, "-n", "5", "--temp", "0", "run", "hello"},
		{"--device", "cpu", "-m", tinyModel, "run", "hello", "-n", "5", "--temp", "0"},
		{"--json", "-m", tinyModel, "run", "-n", "5", "--temp", "0", "hello"},
	} {
		code, out, errOut := bitrepl(t, "", args...)
		if args[0] == "--json" {
			var r struct{ Text string }
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Errorf("%v: %v (%q)", args, err, out)
			}
			out = r.Text + "\n"
		}
		if code != 0 || out != want+"\n" {
			t.Errorf("%v: exit %d, %q, stderr %q; want %q", args, code, out, errOut, want)
		}
	}
	if code, _, errOut := bitrepl(t, "", "--script", "x.bitrepl", "run", "hi"); code != 2 || !strings.Contains(errOut, "-script") {
		t.Errorf("a flag run does not take, before run: exit %d, %q", code, errOut)
	}
}

// run takes the flags llama-cli users type.
func TestRunLlamaFlags(t *testing.T) {
	want := greedyChat(t, "Summarize the notes", 6)
	prompt := filepath.Join(t.TempDir(), "prompt.txt")
	if err := os.WriteFile(prompt, []byte("Summarize the notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-n", "6", "--temp", "0", "Summarize the notes"},
		{"--max-tokens", "6", "--temp=0", "-f", prompt},
		{"-n", "6", "--temp", "0", "-p", "Summarize the notes"},
		{"-n", "6", "--temp", "1.5", "--seed", "3", "--top-k", "1", "Summarize the notes"}, // top-k 1 is greedy
		{"-n", "6", "--temp", "1.5", "--seed", "3", "--top-p", "1e-9", "Summarize the notes"},
		{"-n", "6", "--temp", "0", "-c", "128", "-t", "1", "Summarize the notes"},
	} {
		code, out, errOut := bitrepl(t, "", append([]string{"run", "-m", tinyModel}, args...)...)
		if code != 0 || out != want+"\n" {
			t.Errorf("%v: exit %d, %q, stderr %q; want %q", args, code, out, errOut, want)
		}
	}
	// the seed reaches the sampler: on the built-in model, seeds sample differently
	texts := map[string]bool{}
	for _, seed := range []string{"1", "2", "3"} {
		_, out, _ := bitrepl(t, "", "run", "-n", "8", "--temp", "1.5", "--top-k", "0", "--top-p", "1", "--seed", seed, "Hello")
		texts[out] = true
	}
	if len(texts) < 2 {
		t.Errorf("three seeds gave one text: %v", texts)
	}
	// -c limits the context
	if code, _, errOut := bitrepl(t, "", "run", "-m", tinyModel, "-c", "4", "Summarize the notes please, all of them"); code != 1 || !strings.Contains(errOut, "context") {
		t.Errorf("-c 4 with a long prompt: exit %d, %q", code, errOut)
	}
	if code, _, errOut := bitrepl(t, "", "run", "-m", tinyModel, "-f", prompt, "and more"); code != 2 || !strings.Contains(errOut, "prompt once") {
		t.Errorf("-f and a prompt: exit %d, %q", code, errOut)
	}
	if code, _, errOut := bitrepl(t, "", "run", "-m", tinyModel, "-f", prompt+".missing"); code != 1 || !strings.Contains(errOut, "prompt.txt.missing") {
		t.Errorf("-f missing: exit %d, %q", code, errOut)
	}
}

// Numbers are checked: a value that means nothing is a usage error naming the
// flag, refused before the model loads (the model here does not exist).
func TestNumbersAreChecked(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"bench", "-p", "-5"}, "-p -5"},
		{[]string{"bench", "-t", "-3"}, "-t -3"},
		{[]string{"bench", "-t", "0"}, "-t 0"},
		{[]string{"bench", "-t", "999"}, "-t 999"},
		{[]string{"bench", "-r", "0"}, "-r 0"},
		{[]string{"bench", "-n", "x"}, "-n x"},
		{[]string{"bench", "-d", "-1"}, "-d -1"},
		{[]string{"bench", "-p", "0", "-n", "0"}, "-p and -n"},
		{[]string{"run", "-n", "0", "hi"}, "flag -n"},
		{[]string{"run", "--max-tokens", "-5", "hi"}, "flag -max-tokens"},
		{[]string{"run", "-c", "-1", "hi"}, "flag -c"},
		{[]string{"run", "--temp", "-1", "hi"}, "flag -temp"},
		{[]string{"run", "--top-p", "0", "hi"}, "flag -top-p"},
		{[]string{"run", "--top-k", "-1", "hi"}, "flag -top-k"},
		{[]string{"run", "--seed", "-1", "hi"}, "flag -seed"},
		{[]string{"run", "-t", "999", "hi"}, "flag -t"},
		{[]string{"serve", "--parallel", "0"}, "flag -parallel"},
		{[]string{"train", "-steps", "-5"}, "flag -steps"},
		{[]string{"train", "-batch", "0"}, "flag -batch"},
		{[]string{"train", "-lr", "-1"}, "flag -lr"},
		{[]string{"train", "-workers", "999"}, "flag -workers"},
		{[]string{"train", "bpe", "-vocab", "0"}, "flag -vocab"},
	} {
		code, _, errOut := bitrepl(t, "", append(c.args, "-m", "/nonexistent/model.gguf")...)
		if c.args[0] == "train" {
			code, _, errOut = bitrepl(t, "", c.args...)
		}
		if code != 2 || !strings.Contains(errOut, c.flag) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %q", c.args, code, errOut, c.flag)
		}
	}
	// the same bound in the REPL
	code, _, errOut := bitrepl(t, "", "-m", tinyModel, "--script", "-", "--set", "threads=999")
	if code != 2 || !strings.Contains(errOut, "threads") {
		t.Errorf("--set threads=999: exit %d, %q", code, errOut)
	}
}

// bitrepl train says what to run.
func TestTrainSaysWhatToRun(t *testing.T) {
	code, out, errOut := bitrepl(t, "", "train")
	if code != 2 || out != "" || !strings.Contains(errOut, "train needs -data and -dir, e.g. bitrepl train -data DATA -dir RUN") {
		t.Errorf("train alone: exit %d, %q, %q", code, out, errOut)
	}
	code, _, errOut = bitrepl(t, "", "train", "export", "-dir", "x")
	if code != 2 || !strings.Contains(errOut, "train export needs -data and -out") {
		t.Errorf("train export -dir x: exit %d, %q", code, errOut)
	}
	code, _, errOut = bitrepl(t, "", "train", "report")
	if code != 2 || !strings.Contains(errOut, "RUN...") {
		t.Errorf("train report: exit %d, %q", code, errOut)
	}
	code, _, errOut = bitrepl(t, "", "train", "frob")
	if code != 2 || !strings.Contains(errOut, `unknown step "frob"`) {
		t.Errorf("train frob: exit %d, %q", code, errOut)
	}
	code, out, _ = bitrepl(t, "", "train", "bpe", "--help")
	if code != 0 || !strings.Contains(out, "flags of bpe") || !strings.Contains(out, "-vocab N") || strings.Contains(out, "-dir") {
		t.Errorf("train bpe --help: exit %d:\n%s", code, out)
	}
}

// One pattern syntax for bitrepl inspect and /weights: a wildcard; no match
// is an error naming what exists.
func TestInspectPattern(t *testing.T) {
	names := func(out string) []string {
		var r struct{ Tensors []struct{ Name string } }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %q", err, out)
		}
		var ns []string
		for _, x := range r.Tensors {
			ns = append(ns, x.Name)
		}
		return ns
	}
	_, all, _ := bitrepl(t, "", "inspect", "-m", tinyModel, "--json")
	layers := 0
	for _, n := range names(all) {
		if strings.HasSuffix(n, ".attn_q.weight") {
			layers++
		}
	}
	for pat, want := range map[string]int{"blk.1.*": 7, "blk.1": 7, "*attn_q*": layers, "blk.?.attn_q.weight": layers, "token_embd.weight": 1, "blk.0.attn_[qk]": 2} {
		code, out, errOut := bitrepl(t, "", "inspect", "-m", tinyModel, "--json", pat)
		if ns := names(out); code != 0 || len(ns) != want {
			t.Errorf("inspect %q: exit %d, %v (%s); want %d tensors", pat, code, ns, errOut, want)
		}
	}
	for _, pat := range []string{"attn_q", "blk.1.attn", "nosuch"} { // substrings do not match
		code, out, errOut := bitrepl(t, "", "inspect", "-m", tinyModel, pat)
		if code != 1 || out != "" || !strings.Contains(errOut, "no tensor matches") || !strings.Contains(errOut, "token_embd.weight") || !strings.Contains(errOut, "blk.0 to blk.") {
			t.Errorf("inspect %q: exit %d, %q, %q; want an error naming what exists", pat, code, out, errOut)
		}
	}
	if code, _, errOut := bitrepl(t, "", "inspect", "-m", tinyModel, "blk.["); code != 2 || !strings.Contains(errOut, "bad pattern") {
		t.Errorf("inspect blk.[: exit %d, %q", code, errOut)
	}
	// /weights reads the pattern the same way
	code, _, errOut := bitrepl(t, "/weights blk.1.attn\n", "-m", tinyModel, "--script", "-")
	if code != 1 || !strings.Contains(errOut, "no tensor matches") {
		t.Errorf("/weights blk.1.attn: exit %d, %q", code, errOut)
	}
	if code, out, errOut := bitrepl(t, "/weights '*attn_q*'\n", "-m", tinyModel, "--script", "-"); code != 0 || strings.Count(out, ".attn_q.weight") < layers {
		t.Errorf("/weights '*attn_q*': exit %d, %q, %q", code, out, errOut)
	}
}

// subcommandIndex skips flag values, so a flag must be boolean in every
// command that defines it, or in none.
func TestFlagKindsAgree(t *testing.T) {
	kind := map[string]bool{}
	for i := range commands {
		var cfg repl.Config
		for _, s := range newFlagSet(&commands[i], &cfg).specs {
			for _, n := range s.names {
				if b, ok := kind[n]; ok && b != s.boolean {
					t.Errorf("flag %s is boolean in one command and not in another", n)
				}
				kind[n] = s.boolean
			}
		}
	}
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"-m", "run", "inspect"}, 2}, // -m takes "run" as its value
		{[]string{"--json", "run"}, 1},
		{[]string{"--json=true", "run"}, 1},
		{[]string{"-m=x", "run"}, 1},
		{[]string{"--", "run"}, -1},
		{[]string{"-n", "5"}, -1},
	} {
		if got := subcommandIndex(c.args); got != c.want {
			t.Errorf("subcommandIndex(%q) = %d, want %d", c.args, got, c.want)
		}
	}
}
