package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/inspect"
)

// The intervention commands on the tiny model, as a script: each prints
// what it did and its checks pass; bad arguments are clear errors.
func TestInterventionCommands(t *testing.T) {
	script := `/set stats off
/set mode completion
/set temperature 0
/set max_tokens 4
Once upon a time
/induction 8
/assert head 0 0 prev 0
/attribute
/assert attribution 1e-4
/attribute #5 2
/assert attribution
/ablate 0 1
/ablate
/assert effect 1000
/edit flip blk.0.ffn_down.weight 3 4
/edit set 1.attn_q 0 0 0
/edit scale blk.1.ffn_up.weight 0.5
/edit undo blk.1.ffn_up.weight
/ablate
Once upon a time
/ablate off
/edit off
/steer 1 0 "the world" "hello"
/assert effect 0
/steer off
/patch "Once upon a time" "Once upon a tide" #5 #6
/patch "Once upon a time" "Once upon a tide" #5 #6 attn_sub_norm heads
/sensitivity blk.1.ffn_down.weight 4
/export induction ${TMP}/induction.csv
/export attribute ${TMP}/attribute.json
/export patch ${TMP}/patch.csv
/export sensitivity ${TMP}/sensitivity.csv
`
	tmp := t.TempDir()
	out, errOut, err := runScriptWithModel(t, script, "TMP="+tmp)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	for name, want := range map[string]string{
		"induction.csv":   "layer,head,previous_token,induction\n0,0,",
		"attribute.json":  `"part": "embed"`,
		"patch.csv":       "site,layer,head,pos,restored,clean,corrupt\nattn_sub_norm,0,0,0,0,",
		"sensitivity.csv": "row,col,kl,max_delta\n",
	} {
		b, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v\n%.300s\nwant %q", name, err, b, want)
		}
	}
	for _, want := range []string{
		"induction", "previous-token", "strongest induction heads",
		"ok assert head", "ok assert attribution", "parts sum to",
		"ablated head 1 of layer 0 — on the last prompt: KL",
		"blk.0.ffn_down.weight (3, 4)", "a private copy; the file is unchanged",
		"blk.1.attn_q.weight (0, 0): +0 → +0", "undid the last edit of blk.1.ffn_up.weight",
		"blk.0.ffn_down.weight: (3, 4)", "steering after layer 1 with 0 x", "ok assert effect",
		"clean", "corrupt", "L1 residual", "L0 attn_sub_norm h3",
		"rows ranked by the effect of flipping",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the output:\n%s", want, out)
		}
	}
}

func TestInterventionErrors(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"/ablate 9 0", "LAYER must be an integer in [0, 4)"},
		{"/edit flop 0.ffn_down 1 1", `did you mean flip?`},
		{"/edit flip blk.0.ffn_sideways.weight 1 1", "not a BitLinear projection"},
		{"/edit flip 0.ffn_down 100000 1", "outside the"},
		{"/attribute", "no prompt yet"},
		{`/patch "Once upon a time" "Once" #5 #6`, "the same number"},
		{"/margins 0.ffn_down", "no latent weights"},
		{"/assert attribution", "run /attribute first"},
	} {
		_, _, err := runScriptWithModel(t, tc.script+"\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.script, err, tc.want)
		}
	}
}

// Tab completion offers the /edit operations, then the model's weights.
func TestInterventionCompletion(t *testing.T) {
	var out bytes.Buffer
	s, err := newSession(Config{Env: []string{"NO_COLOR=1"}}, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.load(context.Background(), tinyModel(t)); err != nil {
		t.Fatal(err)
	}
	c := completer{s}
	for _, tc := range []struct{ line, want string }{
		{"/edit zero-r", "ow "},
		{"/edit flip blk.3.ffn_d", "own.weight "},
		{"/sensitivity blk.2.attn_o", "utput.weight "},
		{"/patch x y #1 #2 attn_sub", "_norm "},
	} {
		got, _ := c.Do([]rune(tc.line), len([]rune(tc.line)))
		if len(got) != 1 || string(got[0]) != tc.want {
			t.Errorf("%q: %q, want %q", tc.line, got, tc.want)
		}
	}
}

// The conversation generates with the interventions in effect: its greedy
// tokens are the argmax of the edited model's logits (and not of the
// unedited one's).
func TestInterventionsApplyToGeneration(t *testing.T) {
	var out bytes.Buffer
	s, err := newSession(Config{Env: []string{"NO_COLOR=1"}}, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.load(ctx, tinyModel(t)); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"/set mode completion", "/set temperature 0", "/set max_tokens 6", "/set repeat_penalty 1", "Once upon a time",
		"/edit scale blk.3.ffn_down.weight 40", "/ablate 2 1", "Once upon a time"} {
		if err := s.exec(ctx, line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	ids := slices.Clone(s.lastIDs)
	n := len(ids)
	for _, tk := range s.lastGen[:len(s.lastGen)-1] {
		ids = append(ids, tk.ID)
	}
	h, err := s.interv.hooks(s.model)
	if err != nil || h == nil {
		t.Fatal(h, err)
	}
	edited, _ := inspect.RunEdited(s.model, ids, h)
	plain, _ := inspect.RunEdited(s.model, ids, nil)
	same := true
	for i, tk := range s.lastGen {
		l := edited[n-1+i]
		if got := int32(slices.Index(l, slices.Max(l))); got != tk.ID {
			t.Fatalf("token %d: generated %d, the edited model's argmax is %d", i, tk.ID, got)
		}
		p := plain[n-1+i]
		same = same && int32(slices.Index(p, slices.Max(p))) == tk.ID
	}
	if same {
		t.Fatal("the unedited model generates the same tokens: the test shows nothing")
	}
}

// FuzzInterventionCommands runs the intervention commands with random
// arguments after a prompt: errors are fine, panics and hangs are not.
func FuzzInterventionCommands(f *testing.F) {
	for _, s := range [][3]string{
		{"hello there", "/induction", "4"}, {"hi", "/induction", "-3"}, {"hi", "/attribute", "#7 2"}, {"a b", "/attribute", "x 99"},
		{"hi", "/patch", `"ab" "ac" #1 #2 residual heads`}, {"hi", "/patch", `"a" "b" #999 #2`}, {"hi", "/ablate", "1 2"},
		{"hi", "/ablate", "off"}, {"hi", "/edit", "flip 0.attn_q 1 1"}, {"hi", "/edit", "zero-col blk.1.ffn_down.weight 511"},
		{"hi", "/edit", "scale 2.ffn_up NaN"}, {"hi", "/edit", "undo 2.ffn_up"}, {"hi", "/sensitivity", "3.attn_v 2"},
		{"hi", "/margins", "0.ffn_gate 3"}, {"hi", "/steer", `1 2.5 "a" "b"`}, {"hi", "/steer", "off"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	commands := []string{"/induction", "/attribute", "/patch", "/ablate", "/edit", "/sensitivity", "/margins", "/steer"}
	f.Fuzz(func(t *testing.T, prompt, cmd, args string) {
		if !slices.Contains(commands, cmd) {
			cmd = commands[len(cmd)%len(commands)]
		}
		if cmd == "/sensitivity" && strings.Contains(args, "all") {
			t.Skip("a forward pass per row")
		}
		prompt = oneLine(prompt)
		if p := strings.TrimSpace(prompt); strings.HasPrefix(p, "/") || strings.HasPrefix(p, "#") {
			prompt = "x" + prompt
		}
		script := "/set context 96\n/set max_tokens 2\n/set temperature 0\n/set mode completion\n"
		if strings.TrimSpace(prompt) != "" {
			script += prompt + "\n"
		}
		script += cmd + " " + oneLine(args) + "\n" + cmd + "\nagain\n"
		runFuzzScript(t, script)
	})
}
