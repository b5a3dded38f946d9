package train

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/model"
)

// TestEngineRunsExport trains the CI model briefly, exports it, loads it with bitrepl's engine and checks that the
// engine's logits are those of the training forward pass (same ternary weights, same int8 activation arithmetic;
// the TQ2_0 scale is rounded to f16 and sums run in another order, so a small tolerance), and that it generates.
func TestEngineRunsExport(t *testing.T) {
	cfg := ciConfig(t)
	cfg.Steps = 20
	d, err := LoadData(cfg.TrainFile, cfg.ValFile, cfg.Tokenizer)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < cfg.Steps; i++ {
		tr.TrainStep(d)
	}
	out := filepath.Join(t.TempDir(), "ci.gguf")
	if err := tr.SaveCheckpoint(filepath.Join(t.TempDir(), "ck.bin")); err != nil {
		t.Fatal(err)
	}
	tj := readFile(t, cfg.Tokenizer)
	if err := tr.Export(out, tj, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	T := cfg.Model.Context
	seq := d.Val[:T]
	n := tr.net
	n.prepare()
	for b := 0; b < n.B; b++ {
		copy(n.tokens[b*T:(b+1)*T], seq)
		copy(n.target[b*T:(b+1)*T], d.Val[1:T+1])
	}
	n.forward(0)
	s := m.NewSession(T)
	got, err := s.ForwardAll(seq)
	if err != nil {
		t.Fatal(err)
	}
	V := cfg.Model.Vocab
	var worst float64
	agree := 0
	for pos := 0; pos < T; pos++ {
		want := n.logits[pos*V : (pos+1)*V]
		am, bm := 0, 0
		for i := range want {
			worst = max(worst, math.Abs(float64(got[pos][i]-want[i])))
			if want[i] > want[am] {
				am = i
			}
			if got[pos][i] > got[pos][bm] {
				bm = i
			}
		}
		if am == bm {
			agree++
		}
	}
	t.Logf("engine vs training forward: max |logit diff| %.4f, argmax agrees at %d/%d positions", worst, agree, T)
	if worst > 0.15 || agree < T*9/10 {
		t.Fatalf("engine logits differ from training: max diff %.4f, argmax agrees at %d/%d", worst, agree, T)
	}
	var text strings.Builder
	st, err := m.Generate(context.Background(), m.NewSession(T), m.Tokenizer.Encode("The whale", true), model.GenOptions{MaxTokens: 12}, func(tk model.Token) error {
		text.WriteString(tk.Text)
		return nil
	})
	if err != nil || st.Generated == 0 {
		t.Fatalf("generate: %v (%d tokens)", err, st.Generated)
	}
	t.Logf("greedy: The whale%s", text.String())
}
