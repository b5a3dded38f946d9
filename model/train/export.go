package train

import (
	"fmt"
	"os"

	"github.com/bitrepl/bitrepl/metal/cpu"
	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Arch is the GGUF architecture of exported models (microsoft's 2B-4T GGUF uses the same name).
const Arch = "bitnet-b1.58"

// ExportOptions chooses the storage types of an exported model.
type ExportOptions struct {
	Ternary   cpu.DType // BitLinear weights: TQ2_0 (default), TQ1_0 or I2_S
	Embedding cpu.DType // token_embd (also the LM head): F16 (default; also for the zero value F32) or Q8_0
}

// Export writes the trainer's model as a GGUF file of architecture bitnet-b1.58 with llama.cpp tensor names, through
// the engine's own writer (model.Save): the BitLinear weights as ternary codes with their absmean scale (what the
// forward pass of training used), the norms as F32, the tied embedding as opt.Embedding, and the tokenizer (a
// tokenizer.json) as tokenizer.ggml.* metadata. A full-precision model is ternarized the same way (its quality then
// drops: that is what the baseline measures).
func (t *Trainer) Export(path string, tokenizerJSON []byte, opt ExportOptions) error {
	if !opt.Ternary.Ternary() {
		opt.Ternary = cpu.TQ2_0
	}
	if opt.Embedding == cpu.F32 {
		opt.Embedding = cpu.F16
	}
	m, err := t.Model(tokenizerJSON)
	if err != nil {
		return err
	}
	return m.Save(path, model.SaveOptions{Format: "gguf", Ternary: opt.Ternary, Embed: opt.Embedding})
}

// Model is the trainer's model as the engine runs it: ternary codes with their absmean scale for BitLinear weights,
// float32 for the rest, and the tokenizer.
func (t *Trainer) Model(tokenizerJSON []byte) (*model.Model, error) {
	c := t.Cfg.Model
	tok, err := tokenizer.FromJSON(tokenizerJSON)
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() != c.Vocab {
		return nil, fmt.Errorf("train: export: tokenizer has %d tokens, model %d", tok.VocabSize(), c.Vocab)
	}
	byName := map[string][]float32{}
	for _, ten := range layout(c) {
		byName[ten.Name] = t.params[ten.Off : ten.Off+ten.Rows*ten.Cols]
	}
	tern := func(name string) model.Ternary {
		data := byName[name]
		scale := meanAbs(data)
		codes := make([]int8, len(data))
		for i, x := range data {
			codes[i] = ternary(x / scale)
		}
		return model.Ternary{Codes: codes, Scale: scale}
	}
	p := model.Params{Embed: byName["token_embd.weight"], OutputNorm: byName["output_norm.weight"]}
	for i := range c.Layers {
		n := func(s string) string { return fmt.Sprintf("blk.%d.%s.weight", i, s) }
		p.Layers = append(p.Layers, model.LayerParams{
			AttnNorm: byName[n("attn_norm")], FFNNorm: byName[n("ffn_norm")],
			AttnSubNorm: byName[n("attn_sub_norm")], FFNSubNorm: byName[n("ffn_sub_norm")],
			Q: tern(n("attn_q")), K: tern(n("attn_k")), V: tern(n("attn_v")), O: tern(n("attn_output")),
			Gate: tern(n("ffn_gate")), Up: tern(n("ffn_up")), Down: tern(n("ffn_down")),
		})
	}
	return model.Build(c.engineConfig(), p, tok, tokenizerJSON)
}

// ExportCheckpoint writes the GGUF of a checkpoint file.
func ExportCheckpoint(ckpt, tokenizerPath, out string, opt ExportOptions) error {
	t, err := LoadCheckpoint(ckpt, 1)
	if err != nil {
		return err
	}
	tj, err := os.ReadFile(tokenizerPath)
	if err != nil {
		return err
	}
	return t.Export(out, tj, opt)
}
