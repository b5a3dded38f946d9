package notebook

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/model"
)

// panics returns what f panicked with (nil when it returned).
func panics(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

func TestMustTryCheck(t *testing.T) {
	bad := errors.New("bad file")
	if got := Must(7, nil); got != 7 {
		t.Errorf("Must(7, nil) = %v", got)
	}
	if a, b := Must2("x", 2, nil); a != "x" || b != 2 {
		t.Errorf("Must2 = %v, %v", a, b)
	}
	for name, f := range map[string]func(){
		"Must":  func() { Must(7, bad) },
		"Must2": func() { Must2(1, 2, bad) },
		"Try":   func() { Try(bad) },
	} {
		if v := panics(f); v != bad {
			t.Errorf("%s with an error panicked with %v, want the error", name, v)
		}
	}
	if v := panics(func() { Try(nil) }); v != nil {
		t.Errorf("Try(nil) panicked: %v", v)
	}

	var out bytes.Buffer
	check(&out, true, "%d of %d", 3, 3)
	if out.String() != "✓ 3 of 3\n" {
		t.Errorf("a claim that holds printed %q", out.String())
	}
	out.Reset()
	v := panics(func() { check(&out, false, "%d tokens", 4) })
	if fmt.Sprint(v) != "check failed: 4 tokens" || out.Len() != 0 {
		t.Errorf("a false claim panicked with %v and printed %q", v, out.String())
	}
	if v := panics(func() { Check(false, "x") }); v == nil {
		t.Error("Check of a false claim returned")
	}
}

func TestRecord(t *testing.T) {
	m, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	const text = "Call me Ishmael."
	r, err := Record(m, text, model.SiteResidual)
	if err != nil {
		t.Fatal(err)
	}
	if want := m.Tokenizer.Encode(text, true); !slices.Equal(r.Tokens, want) {
		t.Fatalf("recorded tokens %v, want %v", r.Tokens, want)
	}
	last := len(r.Tokens) - 1
	if got := r.Positions(model.SiteResidual, m.Config.Layers-1); len(got) != len(r.Tokens) {
		t.Errorf("residual kept at %d positions of %d", len(got), len(r.Tokens))
	}
	if len(r.Logits) == 0 || len(r.Logits[len(r.Logits)-1].Top) != 8 || r.Logits[len(r.Logits)-1].Pos != last {
		t.Errorf("logits of the last position not recorded with 8 candidates: %+v", r.Logits)
	}
	if got := AllLayers(m); len(got) != m.Config.Layers || got[0] != 0 || got[len(got)-1] != m.Config.Layers-1 {
		t.Errorf("AllLayers = %v", got)
	}

	if _, err := Record(randomModel(t), text); err == nil || !strings.Contains(err.Error(), "no tokenizer") {
		t.Errorf("a model without a tokenizer: %v", err)
	}
}
