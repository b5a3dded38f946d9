package notebook

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
)

func TestLoadEmbedded(t *testing.T) {
	m, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Tokenizer == nil || !m.Layers()[0].Q.Type.Ternary() {
		t.Fatalf("embedded model: tokenizer %v, projections %v", m.Tokenizer != nil, m.Layers()[0].Q.Type)
	}
	ids := m.Tokenizer.Encode("Call me Ishmael.", false)
	texts := TokenTexts(m, ids)
	if got := strings.Join(texts, ""); got != "Call me Ishmael." {
		t.Errorf("token texts %q join to %q", texts, got)
	}
	if got := Namer(m)(-1); got != "#-1" {
		t.Errorf("Namer(-1) = %q", got)
	}
}

func TestLoadPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := randomModel(t).Save(path, model.SaveOptions{Format: "gguf", Ternary: cpu.I2_S, Embed: cpu.F16}); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Layers()[0].Q.Type != cpu.I2_S || m.Tokenizer != nil {
		t.Errorf("loaded %v, tokenizer %v", m.Layers()[0].Q.Type, m.Tokenizer != nil)
	}
	if got := TokenTexts(m, []int32{3, 7}); fmt.Sprint(got) != "[#3 #7]" {
		t.Errorf("token texts without a tokenizer: %q", got)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.gguf")); err == nil {
		t.Error("missing file: no error")
	}
}
