package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/repl/testmodel"
)

// bitrepl runs main's run in-process and returns exit code, stdout and stderr.
func bitrepl(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// greedyChat is the engine's greedy answer to one user message (the reference for bitrepl run).
func greedyChat(t *testing.T, prompt string, n int) string {
	t.Helper()
	m, err := model.Load(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ids, err := m.FormatChat([]model.Message{{Role: "system", Content: "You are a helpful assistant."}, {Role: "user", Content: prompt}}, true)
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Generate(context.Background(), m.NewSession(0), ids, model.GenOptions{MaxTokens: n, Stop: m.ChatStops()}, func(model.Token) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return st.Text
}

func TestRunAppendsPipedStdin(t *testing.T) {
	want := greedyChat(t, "Summarize\n\nsome notes", 6)
	code, out, errOut := bitrepl(t, "some notes\n", "run", "-m", tinyModel, "--set", "temperature=0", "--set", "max_tokens=6", "Summarize")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != want+"\n" {
		t.Errorf("stdout %q, want only the generated text %q", out, want+"\n")
	}
	// --json wraps the same text
	code, out, _ = bitrepl(t, "some notes\n", "run", "--json", "-m", tinyModel, "--set", "temperature=0", "--set", "max_tokens=6", "Summarize")
	var res struct {
		Text      string `json:"text"`
		Generated int    `json:"generated"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.Text != want || res.Generated != 6 {
		t.Errorf("--json: exit %d, %v, %+v", code, err, res)
	}
}

// run --timings prints where the time went to stderr, and stdout is the
// text as without it.
func TestRunTimings(t *testing.T) {
	want := greedyChat(t, "hello", 6)
	code, out, errOut := bitrepl(t, "", "run", "--timings", "-m", tinyModel, "--set", "temperature=0", "--set", "max_tokens=6", "hello")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != want+"\n" {
		t.Errorf("stdout %q, want only the generated text %q", out, want+"\n")
	}
	for _, re := range []string{
		`(?m)^load +[0-9.]+ ms  \(weights: `,
		`(?m)^prompt eval +[0-9.]+ ms / +[0-9]+ tokens \( *[0-9.]+ ms per token, +[0-9.]+ tokens per second\)$`,
		`(?m)^first token +[0-9.]+ ms `,
		`(?m)^decode +[0-9.]+ ms / +5 tokens `,
		`(?m)^  evaluation +median [0-9.]+ ms, p90 [0-9.]+ ms, max [0-9.]+ ms per token$`,
		`(?m)^sampling +[0-9.]+ ms / +6 tokens `,
		`(?m)^output +[0-9.]+ ms / +6 tokens `,
		`(?m)^total +[0-9.]+ ms  \(6 tokens generated, stopped: length\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(errOut) {
			t.Errorf("stderr has no line matching %s:\n%s", re, errOut)
		}
	}
	// with --json, stdout stays one JSON document
	code, out, errOut = bitrepl(t, "", "run", "--timings", "--json", "-m", tinyModel, "--set", "max_tokens=3", "hello")
	if !json.Valid([]byte(out)) || code != 0 || !strings.Contains(errOut, "decode ") {
		t.Errorf("--json --timings: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestRunBuiltinModel(t *testing.T) {
	code, out, errOut := bitrepl(t, "", "run", "--set", "max_tokens=4", "hello")
	if code != 0 || out == "" || strings.Contains(out, "loaded") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = bitrepl(t, "", "run", "-m", "nobody/nothing", "hello")
	if code != 1 || !strings.Contains(errOut, "huggingface-cli download nobody/nothing") {
		t.Errorf("missing model: exit %d, stderr %q", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"--nope"}, {"stray-arg"}, {"run", "-m"}, {"logits", "-m", "x.gguf", "--ids", "1 two"}} {
		code, _, errOut := bitrepl(t, "", args...)
		want := 2
		if args[0] == "logits" {
			want = 1 // the model file is checked first
		}
		if code != want {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, want, errOut)
		}
	}
	if code, out, _ := bitrepl(t, "", "help"); code != 0 || !strings.Contains(out, "\n  run ") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}

func TestTokenize(t *testing.T) {
	tj := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(tj, testmodel.TokenizerJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := bitrepl(t, "", "tokenize", "--tokenizer", tj, "--json", "hello the")
	var res struct {
		IDs    []int32  `json:"ids"`
		Tokens []string `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
		t.Fatalf("exit %d %v %s", code, err, errOut)
	}
	if want := []int32{256, 257, 111, 259}; !equal(res.IDs, want) || res.Tokens[3] != "Ġthe" {
		t.Errorf("got %+v", res)
	}
	// plain output, text from a model and piped stdin
	code, out, _ = bitrepl(t, "hello", "tokenize", "-m", tinyModel)
	if code != 0 || out != "256 257 111\n" {
		t.Errorf("exit %d, %q", code, out)
	}
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLogitsAndAssertLogits(t *testing.T) {
	code, out, errOut := bitrepl(t, "", "logits", "-m", tinyModel, "--ids", "1, 2, 3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var f struct {
		IDs    []int32     `json:"ids"`
		Logits [][]float64 `json:"logits"`
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want, err := m.NewSession(0).ForwardAll([]int32{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Logits) != 3 || len(f.Logits[0]) != m.Config.VocabSize {
		t.Fatalf("shape %d x %d", len(f.Logits), len(f.Logits[0]))
	}
	for i := range want {
		for j := range want[i] {
			if float32(f.Logits[i][j]) != want[i][j] {
				t.Fatalf("logit [%d][%d] = %v, engine %v", i, j, f.Logits[i][j], want[i][j])
			}
		}
	}
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.json")
	os.WriteFile(ref, []byte(out), 0o644)
	script := filepath.Join(dir, "check.bitrepl")
	os.WriteFile(script, []byte("/assert logits "+ref+" 1e-6\n"), 0o644)
	if code, _, errOut := bitrepl(t, "", "-m", tinyModel, "--script", script); code != 0 {
		t.Fatalf("assert logits on our own output: exit %d %s", code, errOut)
	}
	// perturb one logit beyond the tolerance: exit 1 with a readable diff
	f.Logits[1][7] += 0.5
	b, _ := json.Marshal(f)
	os.WriteFile(ref, b, 0o644)
	code, _, errOut = bitrepl(t, "", "-m", tinyModel, "--script", script)
	if code != 1 || !strings.Contains(errOut, "check.bitrepl:1: assertion logits failed") || !strings.Contains(errOut, "position 1 token 7") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestInspectJSON(t *testing.T) {
	code, out, errOut := bitrepl(t, "", "inspect", "-m", tinyModel, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Tensors []struct {
			Name           string
			Neg, Zero, Pos int64
			Type           string
		} `json:"tensors"`
		Layers []struct{ Layer int } `json:"layers"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out[:min(len(out), 500)])
	}
	if len(res.Tensors) != 29 || len(res.Layers) != 5 || res.Tensors[1].Type != "I2_S" {
		t.Fatalf("%d tensors, %d layers, %+v", len(res.Tensors), len(res.Layers), res.Tensors[1])
	}
	for _, ts := range res.Tensors[1:] {
		if n := ts.Neg + ts.Zero + ts.Pos; n == 0 {
			t.Errorf("%s: no counts", ts.Name)
		}
	}
}

func TestBenchJSON(t *testing.T) {
	code, out, errOut := bitrepl(t, "", "bench", "-m", tinyModel, "--json", "8", "4")
	var r struct {
		PromptTokens int       `json:"prompt_tokens"`
		GenTokens    int       `json:"gen_tokens"`
		GenRate      float64   `json:"gen_tok_per_s"`
		Reps         int       `json:"repetitions"`
		Bandwidth    float64   `json:"read_bandwidth_gb_per_s"`
		BWMin        float64   `json:"read_bandwidth_min_gb_per_s"`
		BWMax        float64   `json:"read_bandwidth_max_gb_per_s"`
		BWSamples    []float64 `json:"read_bandwidth_samples_gb_per_s"`
		ProbeBytes   int64     `json:"read_probe_bytes"`
		TGRead       float64   `json:"tg_read_gb_per_s"`
		Fraction     float64   `json:"tg_bandwidth_fraction"`
		FractionMin  float64   `json:"tg_bandwidth_fraction_min"`
		FractionMax  float64   `json:"tg_bandwidth_fraction_max"`
		AfterProbe   float64   `json:"tg_after_probe_ratio"`
	}
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
		t.Fatalf("exit %d %v %s", code, err, errOut)
	}
	if r.PromptTokens != 8 || r.GenTokens != 4 || !(r.GenRate > 0) || math.IsInf(r.GenRate, 0) {
		t.Errorf("%+v", r)
	}
	// The bandwidth: a read of 128 MiB (the least) after every second tg token, 2 per run; tg's fraction is the
	// median of the token/read ratios pair by pair, within their range.
	if len(r.BWSamples) != 2*r.Reps || r.ProbeBytes != 128<<20 || !(r.BWMin <= r.Bandwidth && r.Bandwidth <= r.BWMax && r.BWMin > 0) ||
		!(r.TGRead > 0) || !(r.FractionMin <= r.Fraction && r.Fraction <= r.FractionMax && r.FractionMin > 0) || !(r.AfterProbe > 0) {
		t.Errorf("bandwidth: %+v", r)
	}
	if _, text, _ := bitrepl(t, "", "bench", "-m", tinyModel, "-p", "0", "-n", "4", "-r", "1"); !strings.Contains(text, "of the machine's read bandwidth") ||
		!strings.Contains(text, "over 2 pairs") {
		t.Fatalf("the text report does not give tg's share of the read bandwidth:\n%s", text)
	}
	if _, text, _ := bitrepl(t, "", "bench", "-m", tinyModel, "-p", "4", "-n", "0", "-r", "1"); strings.Contains(text, "bandwidth") {
		t.Fatalf("pp alone reports a bandwidth:\n%s", text)
	}
	code, out, errOut = bitrepl(t, "", "bench", "-m", tinyModel, "--json", "-p", "4", "-n", "4", "-r", "1", "-d", "32")
	var d struct {
		Depth   int     `json:"depth"`
		KVCache string  `json:"kv_cache"`
		KVBytes int64   `json:"kv_bytes_per_token"`
		Gen     float64 `json:"gen_tok_per_s"`
		Gen0    float64 `json:"gen_depth0_tok_per_s"`
		GenOf   float64 `json:"gen_depth_ratio"`
		PPOf    float64 `json:"prompt_depth_ratio"`
	}
	if err := json.Unmarshal([]byte(out), &d); code != 0 || err != nil || d.Depth != 32 || d.KVBytes <= 0 || d.KVCache != "f16" {
		t.Fatalf("-d 32: exit %d %v %+v %s", code, err, d, errOut)
	}
	// With a depth, tg and pp at depth 0 interleaved with the runs at depth, and the ratios (one repetition: the ratio
	// of its two rates).
	if !(d.Gen0 > 0) || !(d.PPOf > 0) || math.Abs(d.GenOf-d.Gen/d.Gen0) > 1e-9*d.GenOf {
		t.Fatalf("-d 32 at depth 0: %+v", d)
	}
	if _, text, _ := bitrepl(t, "", "bench", "-m", tinyModel, "-p", "4", "-n", "4", "-r", "1", "-d", "32"); !strings.Contains(text, "of d0's") {
		t.Fatalf("the text report does not give tg at depth against depth 0:\n%s", text)
	}
	// An F32 cache (--cache-type f32) reads twice the bytes.
	code, out, errOut = bitrepl(t, "", "bench", "-m", tinyModel, "--cache-type", "f32", "--json", "-p", "4", "-n", "4", "-r", "1", "-d", "32")
	var f struct {
		KVCache string `json:"kv_cache"`
		KVBytes int64  `json:"kv_bytes_per_token"`
	}
	if err := json.Unmarshal([]byte(out), &f); code != 0 || err != nil || f.KVCache != "f32" || f.KVBytes != 2*d.KVBytes {
		t.Fatalf("cache_type=f32: exit %d %v %+v (f16: %+v) %s", code, err, f, d, errOut)
	}
}

func TestConvertRoundTrip(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny-tq2.gguf")
	code, stdout, errOut := bitrepl(t, "", "convert", "-m", tinyModel, "-o", out, "--format", "tq2_0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if stdout != "" || !strings.Contains(errOut, "wrote "+out) {
		t.Errorf("stdout %q stderr %q", stdout, errOut)
	}
	// the same ternary codes in both files
	a, _, _ := bitrepl(t, "", "inspect", "-m", tinyModel, "blk.2.ffn_down")
	_, x, _ := bitrepl(t, "", "inspect", "-m", tinyModel, "blk.2.ffn_down")
	_, y, _ := bitrepl(t, "", "inspect", "-m", out, "blk.2.ffn_down")
	if a != 0 || counts(x) != counts(y) || counts(x) == "" {
		t.Errorf("counts differ:\n%s\n%s", x, y)
	}
}

// A random model converted with --tokenizer carries that vocabulary (the
// side-by-side and Pareto scripts write their files so, for the peers).
func TestConvertRandomWithTokenizer(t *testing.T) {
	dir := t.TempDir()
	tj, out := filepath.Join(dir, "tokenizer.json"), filepath.Join(dir, "r.gguf")
	if err := os.WriteFile(tj, testmodel.TokenizerJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := bitrepl(t, "", "convert", "-m", "random:tiny", "--tokenizer", tj, "-o", out, "--format", "tq2_0"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, got, errOut := bitrepl(t, "", "tokenize", "-m", out, "hello the"); code != 0 || got != "256 257 111 259\n" {
		t.Errorf("tokenize with the converted file: exit %d, %q %s", code, got, errOut)
	}
}

// A plain layer type writes the layer weights as they compute; the file
// runs (greedy, as a user would) and inspect shows the type. Q6_K is an
// embedding type only.
func TestConvertPlainLayers(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny-q8.gguf")
	if code, _, errOut := bitrepl(t, "", "convert", "-m", tinyModel, "-o", out, "--format", "q8_0,f16"); code != 0 || !strings.Contains(errOut, "Q8_0") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, info, errOut := bitrepl(t, "", "inspect", "-m", out, "blk.0.attn_q")
	if code != 0 || !strings.Contains(info, "Q8_0") {
		t.Fatalf("inspect: exit %d: %s %s", code, info, errOut)
	}
	code, text, errOut := bitrepl(t, "", "run", "-m", out, "--set", "max_tokens=4", "--set", "temperature=0", "The whale")
	if code != 0 || text == "" {
		t.Fatalf("run: exit %d, %q, %s", code, text, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.gguf")
	if code, _, errOut := bitrepl(t, "", "convert", "-m", tinyModel, "-o", bad, "--format", "q6_k"); code == 0 || !strings.Contains(errOut, "layer weight type") {
		t.Fatalf("q6_k layers: exit %d: %s", code, errOut)
	}
}

// counts extracts the codes counted in the details of one tensor that
// `bitrepl inspect` shows ("N × -1, N × 0, N × +1").
func counts(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if _, c, ok := strings.Cut(l, ": "); ok && strings.HasPrefix(l, "blk.2.ffn_down.weight ") && strings.Contains(c, "× -1") {
			return c
		}
	}
	return ""
}

func TestDeviceFlag(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("Metal may be available here")
	}
	code, out, errOut := bitrepl(t, "", "run", "-m", tinyModel, "--device", "metal", "--set", "max_tokens=3", "--set", "temperature=0", "Hello")
	if code != 0 || out == "" || !strings.Contains(errOut, "Metal needs macOS") || !strings.Contains(errOut, "running on the CPU") {
		t.Fatalf("--device metal on %s: exit %d, out %q, err %q", runtime.GOOS, code, out, errOut)
	}
	if code, _, errOut := bitrepl(t, "", "run", "-m", tinyModel, "--device", "tpu", "Hello"); code != 2 || !strings.Contains(errOut, "unknown device") {
		t.Fatalf("--device tpu: exit %d, %q", code, errOut)
	}
	if code, _, errOut := bitrepl(t, "", "run", "-m", tinyModel, "--set", "max_tokens=2", "Hello"); code != 0 || strings.Contains(errOut, "Metal") {
		t.Fatalf("--device auto on %s should fall back quietly: exit %d, %q", runtime.GOOS, code, errOut)
	}
}

// --memory picks how a GGUF file is held; bench says which, and a bad value
// is a usage error.
func TestMemoryFlag(t *testing.T) {
	want := map[string]string{"mmap": "mapped", "hugepages": "huge pages", "auto": "mapped"} // the tiny file is below HugePagesFrom
	if runtime.GOOS != "linux" {
		want["hugepages"] = "mapped"
	}
	for flag, memory := range want {
		code, out, errOut := bitrepl(t, "", "bench", "-m", tinyModel, "--memory", flag, "-p", "4", "-n", "2", "-r", "1", "--json")
		if code != 0 || !strings.Contains(out, `"memory": "`+memory+`"`) {
			t.Errorf("--memory %s: exit %d, out %q, err %q; want memory %q", flag, code, out, errOut, memory)
		}
	}
	if code, _, errOut := bitrepl(t, "", "run", "-m", tinyModel, "--memory", "swap", "Hello"); code != 2 || !strings.Contains(errOut, "unknown memory mode") {
		t.Fatalf("--memory swap: exit %d, %q", code, errOut)
	}
}

// bitrepl train runs the trainer end to end on the committed sample: a
// tokenizer, a few steps, a resume that goes on from the checkpoint, an
// export, and the exported model generating through bitrepl run.
func TestTrainSubcommand(t *testing.T) {
	data, run := t.TempDir(), filepath.Join(t.TempDir(), "run")
	for _, f := range []string{"train", "val"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "model", "train", "testdata", "sample-"+f+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, f+".txt"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	step := func(args ...string) {
		t.Helper()
		if code, _, errOut := bitrepl(t, "", append([]string{"train"}, args...)...); code != 0 {
			t.Fatalf("bitrepl train %v: exit %d: %s", args, code, errOut)
		}
	}
	step("bpe", "-data", data, "-vocab", "400")
	shape := []string{"-data", data, "-dir", run, "-vocab", "400", "-layers", "1", "-dim", "256", "-ffn", "256", "-heads", "2", "-kv-heads", "1",
		"-batch", "2", "-context", "32", "-warmup", "1", "-eval-every", "100", "-checkpoint-every", "2"}
	step(append(shape, "-steps", "2")...)
	step(append(shape, "-steps", "4")...) // resumes at step 2
	out := filepath.Join(t.TempDir(), "tiny.gguf")
	step("export", "-dir", run, "-data", data, "-out", out)
	code, text, errOut := bitrepl(t, "", "run", "-m", out, "--set", "mode=completion", "--set", "max_tokens=4", "--set", "temperature=0", "The")
	if code != 0 || text == "" {
		t.Fatalf("run on the exported model: exit %d, %q, %s", code, text, errOut)
	}
	if code, _, _ := bitrepl(t, "", "train", "-no-such-flag"); code != 2 {
		t.Fatalf("bad train flag: exit %d, want 2", code)
	}
}

// bitrepl inspect is /weights run once: the same text, and --json is the
// document /export weights FILE.json writes.
func TestInspectIsWeightsOnce(t *testing.T) {
	dir := t.TempDir()
	for _, pat := range []string{"", "blk.1.*", "blk.0.attn_q.weight"} {
		args := []string{"inspect", "-m", tinyModel}
		cmd := "/weights"
		if pat != "" {
			args = append(args, pat)
			cmd += " '" + pat + "'"
		}
		code, text, errOut := bitrepl(t, "", args...)
		if code != 0 || text == "" {
			t.Fatalf("inspect %q: exit %d, %q", pat, code, errOut)
		}
		code, js, errOut := bitrepl(t, "", append(args, "--json")...)
		if code != 0 {
			t.Fatalf("inspect --json %q: exit %d, %q", pat, code, errOut)
		}
		file := filepath.Join(dir, "w.json")
		script := cmd + "\n/set echo off\n/export weights " + file + "\n"
		code, out, errOut := bitrepl(t, script, "-m", tinyModel, "--script", "-")
		if code != 0 {
			t.Fatalf("%s: exit %d, %q", cmd, code, errOut)
		}
		_, out, _ = strings.Cut(out, "\n") // after "loaded MODEL"
		if pat == "" {                     // /weights alone ends with a hint for the REPL
			text += "/weights PATTERN for single tensors (e.g. /weights blk.0.*)\n"
		}
		if !strings.HasPrefix(out, text) {
			t.Errorf("%s shows\n%s\nbitrepl inspect %s shows\n%s", cmd, out, pat, text)
		}
		exported, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(exported) != js {
			t.Errorf("pattern %q: /export weights wrote\n%.400s\ninspect --json printed\n%.400s", pat, exported, js)
		}
	}
}

// bitrepl inspect --json shows the configuration a checkpoint resolved to,
// defaults included: a config.json without rope_theta of model_type bitnet
// runs with BitNetConfig's 500000, Llama3-8B-1.58's rope_scaling is llama3,
// and an autobitlinear checkpoint's scales multiply.
func TestInspectJSONResolvedConfig(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want func(c map[string]any) bool
	}{
		{"trap-bitnet-no-rope-theta", func(c map[string]any) bool {
			return c["rope_theta"] == 500000.0 && c["activation"] == "relu2 (gated)" && c["tied_embedding"] == true
		}},
		{"Llama3-8B-1.58-100B-tokens", func(c map[string]any) bool {
			return strings.HasPrefix(c["rope_scaling"].(string), "llama3 (factor 8") && c["tied_embedding"] == false &&
				strings.Contains(c["weight_scales"].(string), "divides")
		}},
		{"autobitlinear-offline", func(c map[string]any) bool {
			return strings.Contains(c["weight_scales"].(string), "multiplies")
		}},
		{"bitlinear-rms-norm", func(c map[string]any) bool {
			return strings.Contains(c["norms"].(string), "inside every BitLinear (eps 1e-06)")
		}},
	} {
		dir := filepath.Join("..", "..", "model", "testdata", "checkpoints", tc.dir)
		code, out, errOut := bitrepl(t, "", "inspect", "-m", dir, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.dir, code, errOut)
		}
		var res struct {
			Config map[string]any `json:"config"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: %v", tc.dir, err)
		}
		if !tc.want(res.Config) {
			t.Errorf("%s: config %v", tc.dir, res.Config)
		}
	}
}
