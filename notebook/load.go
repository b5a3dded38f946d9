package notebook

import (
	"fmt"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/embedded"
)

// Load opens the model at path: a GGUF file, a safetensors file or a Hugging
// Face directory (model.Load). An empty path loads bitrepl's embedded default
// model.
func Load(path string) (*model.Model, error) {
	if path == "" {
		return model.LoadBytes(embedded.GGUF(), embedded.Name)
	}
	return model.Load(path)
}

// Namer returns a function that decodes one token of m on its own (special
// tokens by name), for labels and Recorder.Namer; without a tokenizer a
// token shows as #id.
func Namer(m *model.Model) func(int32) string {
	return func(id int32) string {
		if m.Tokenizer == nil || id < 0 || int(id) >= m.Tokenizer.VocabSize() {
			return fmt.Sprintf("#%d", id)
		}
		return m.Tokenizer.Decode([]int32{id}, false)
	}
}

// TokenTexts decodes each token of ids on its own (see Namer).
func TokenTexts(m *model.Model, ids []int32) []string {
	name := Namer(m)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = name(id)
	}
	return out
}
