package train

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/bitrepl/bitrepl/metal"
	"github.com/bitrepl/bitrepl/model/gguf"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Arch is the GGUF architecture of exported models (microsoft's 2B-4T GGUF uses the same name).
const Arch = "bitnet-b1.58"

// ExportOptions chooses the storage types of an exported model.
type ExportOptions struct {
	Name      string      // general.name
	Ternary   metal.DType // BitLinear weights: TQ2_0 (default), TQ1_0 or I2_S
	Embedding metal.DType // token_embd (also the LM head): F16 (default; also for the zero value F32) or Q8_0
}

var gguftype = map[metal.DType]gguf.Type{
	metal.F32: gguf.F32, metal.F16: gguf.F16, metal.Q8_0: gguf.Q8_0,
	metal.TQ1_0: gguf.TQ1_0, metal.TQ2_0: gguf.TQ2_0, metal.I2_S: gguf.I2_S,
}

// Export writes the trainer's model as a GGUF file of architecture bitnet-b1.58 with llama.cpp tensor names: the
// BitLinear weights as ternary codes with their absmean scale (what the forward pass of training used), the norms
// as F32, the tied embedding as opt.Embedding, and the tokenizer (a tokenizer.json) as tokenizer.ggml.* metadata.
// A full-precision model is ternarized the same way (its quality then drops: that is what the baseline measures).
func (t *Trainer) Export(path string, tokenizerJSON []byte, opt ExportOptions) error {
	w, err := t.ggufWriter(tokenizerJSON, opt)
	if err != nil {
		return err
	}
	return w.WriteFile(path)
}

func (t *Trainer) ggufWriter(tokenizerJSON []byte, opt ExportOptions) (*gguf.Writer, error) {
	if !opt.Ternary.Ternary() {
		opt.Ternary = metal.TQ2_0
	}
	if opt.Embedding == metal.F32 {
		opt.Embedding = metal.F16
	}
	if opt.Name == "" {
		opt.Name = "bitrepl-tiny"
	}
	c := t.Cfg.Model
	tok, err := tokenizer.FromJSON(tokenizerJSON)
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() != c.Vocab {
		return nil, fmt.Errorf("train: export: tokenizer has %d tokens, model %d", tok.VocabSize(), c.Vocab)
	}
	v, err := tok.GGUFVocab()
	if err != nil {
		return nil, err
	}
	w := gguf.NewWriter()
	w.Set("general.architecture", gguf.String(Arch))
	w.Set("general.name", gguf.String(opt.Name))
	w.Set("general.description", gguf.String(fmt.Sprintf("BitNet b1.58 trained by bitrepl's model/train: %d steps, %d tokens", t.Step, t.Tokens)))
	u := func(k string, x int) { w.Set(Arch+"."+k, gguf.Uint32(uint32(x))) }
	u("context_length", c.Context)
	u("embedding_length", c.Dim)
	u("feed_forward_length", c.FFN)
	u("block_count", c.Layers)
	u("attention.head_count", c.Heads)
	u("attention.head_count_kv", c.KVHeads)
	u("rope.dimension_count", c.HeadDim())
	u("vocab_size", c.Vocab)
	w.Set(Arch+".rope.freq_base", gguf.Float32(c.RopeTheta))
	w.Set(Arch+".attention.layer_norm_rms_epsilon", gguf.Float32(c.NormEps))
	w.Set("tokenizer.ggml.model", gguf.String(v.Model))
	w.Set("tokenizer.ggml.pre", gguf.String(v.Pre))
	w.Set("tokenizer.ggml.tokens", gguf.Strings(v.Tokens))
	w.Set("tokenizer.ggml.token_type", gguf.Int32s(v.Types))
	w.Set("tokenizer.ggml.merges", gguf.Strings(v.Merges))
	for k, id := range map[string]int32{"bos": v.BOS, "eos": v.EOS, "eot": v.EOT, "padding": v.PAD, "unknown": v.UNK} {
		if id >= 0 {
			w.Set("tokenizer.ggml."+k+"_token_id", gguf.Uint32(uint32(id)))
		}
	}
	w.Set("tokenizer.ggml.add_bos_token", gguf.Bool(v.AddBOS))
	w.Set("tokenizer.ggml.add_eos_token", gguf.Bool(v.AddEOS))
	if v.ChatTemplate != "" {
		w.Set("tokenizer.chat_template", gguf.String(v.ChatTemplate))
	}
	for _, ten := range layout(c) {
		data := t.params[ten.Off : ten.Off+ten.Rows*ten.Cols]
		var typ metal.DType
		var raw []byte
		switch {
		case ten.Rows == 1:
			typ, raw = metal.F32, f32bytes(data)
		case ten.Linear:
			typ = opt.Ternary
			scale := meanAbs(data)
			codes := make([]int8, len(data))
			for i, x := range data {
				codes[i] = ternary(x / scale)
			}
			raw, err = metal.PackTernary(typ, codes, ten.Rows, ten.Cols, scale)
		default:
			typ = opt.Embedding
			raw, err = metal.Quantize(typ, ten.Rows, ten.Cols, data)
		}
		if err != nil {
			return nil, fmt.Errorf("train: export %s: %w", ten.Name, err)
		}
		dims := []uint64{uint64(ten.Cols)}
		if ten.Rows > 1 {
			dims = append(dims, uint64(ten.Rows))
		}
		gt, ok := gguftype[typ]
		if !ok {
			return nil, fmt.Errorf("train: export %s: type %v not supported", ten.Name, typ)
		}
		if err := w.AddTensor(ten.Name, gt, dims, raw); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func f32bytes(s []float32) []byte {
	b := make([]byte, 4*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
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
