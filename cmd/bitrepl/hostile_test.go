package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/model/gguf"
	"github.com/bitrepl/bitrepl/repl/testmodel"
)

// overflowModel writes the test model with an output norm of 3e38: finite
// weights (so the model loads) whose logits are NaN.
func overflowModel(t *testing.T) string {
	t.Helper()
	p, err := testmodel.Write(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(data, p)
	if err != nil {
		t.Fatal(err)
	}
	ti, ok := f.Tensor("output_norm.weight")
	if !ok || ti.Type != gguf.F32 {
		t.Fatalf("output_norm.weight: %v", ti)
	}
	off := f.DataOffset + ti.Offset
	for i := range ti.Elements() {
		binary.LittleEndian.PutUint32(data[off+4*i:], math.Float32bits(3e38))
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// NaN logits are written as null, so the output stays JSON; run --json
// writes JSON or fails with a clear error.
func TestJSONWithNaNLogits(t *testing.T) {
	p := overflowModel(t)
	code, out, errOut := bitrepl(t, "", "logits", "-m", p, "--ids", "104 101")
	if code != 0 {
		t.Fatalf("logits: exit %d: %s", code, errOut)
	}
	var lf struct{ Logits [][]*float64 }
	if err := json.Unmarshal([]byte(out), &lf); err != nil || len(lf.Logits) != 2 || lf.Logits[0][0] != nil {
		t.Fatalf("logits: %v, output %.200q", err, out)
	}
	code, out, errOut = bitrepl(t, "", "run", "--json", "-m", p, "--set", "max_tokens=3", "hi")
	if code != 0 {
		t.Fatalf("run --json: exit %d: %s", code, errOut)
	}
	var res struct {
		Tokens []struct{ Prob *float64 }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Tokens) != 3 || res.Tokens[0].Prob != nil {
		t.Fatalf("run --json: %v, %+v, output %.300q", err, res, out)
	}
	if strings.Contains(out, "NaN") {
		t.Errorf("NaN in %q", out)
	}
}

// zeros is an endless stdin, as `bitrepl run < /dev/zero`.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

// Endless piped stdin is read up to a cap, then refused, in bounded memory.
func TestRunEndlessStdin(t *testing.T) {
	z := &zeros{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var out, errOut bytes.Buffer
	code := run([]string{"run", "-m", tinyModel, "hi"}, z, &out, &errOut)
	runtime.ReadMemStats(&after)
	if code != 1 || !strings.Contains(errOut.String(), "stdin: more than 16 MiB piped in") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 200<<20 {
		t.Errorf("allocated %d MB", n>>20)
	}
	if z.n > 32<<20 {
		t.Errorf("read %d MB of stdin", z.n>>20)
	}
}
