package repl

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/inspect"
)

// A result with NaN and infinities is valid JSON (null there) and CSV
// (NaN, +Inf), with the JSON field names as the CSV header.
func TestResultsEncodeNaN(t *testing.T) {
	layers := []inspect.LayerSummary{{Layer: 0, Tensors: 1, Params: 4, Zero: 4, MeanRelErr: math.NaN()}}
	rows, doc, err := exportForms(layers)
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := writeJSONTo(&js, doc); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, js.String())
	}
	if v, ok := got[0]["latent_rel_err"]; !ok || v != nil || got[0]["zero_share"] != 1.0 {
		t.Errorf("JSON %s", js.String())
	}
	var csv bytes.Buffer
	if err := writeCSV(&csv, rows); err != nil {
		t.Fatal(err)
	}
	if want := "layer,tensors,params,neg,zero,pos,invalid,zero_share,latent_rel_err\n0,1,4,0,4,0,0,1,NaN\n"; csv.String() != want {
		t.Errorf("CSV %q, want %q", csv.String(), want)
	}
	var lb bytes.Buffer
	if err := writeLogitsJSON(&lb, "m", []int32{1}, [][]float32{{1.5, float32(math.Inf(-1)), float32(math.NaN())}}); err != nil {
		t.Fatal(err)
	}
	if want := `{"model":"m","ids":[1],"logits":[[1.5,null,null]]}`; strings.TrimSpace(lb.String()) != want {
		t.Errorf("logits %s, want %s", lb.String(), want)
	}
}
