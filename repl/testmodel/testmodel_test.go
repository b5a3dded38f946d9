package testmodel

import (
	"testing"

	"github.com/bitrepl/bitrepl/model"
)

func TestWriteLoads(t *testing.T) {
	p, err := Write(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Tokenizer == nil {
		t.Fatal("no tokenizer")
	}
	ids := m.Tokenizer.Encode("hello the", false)
	if got := m.Tokenizer.Decode(ids, false); got != "hello the" {
		t.Errorf("round trip %q -> %v -> %q", "hello the", ids, got)
	}
	t.Logf("ids %v chat %v eos %v", ids, m.Chat, m.EOS())
}
