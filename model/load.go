package model

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bitrepl/bitrepl/model/regfile"
	"github.com/bitrepl/bitrepl/model/tokenizer"
)

// Load opens a model:
//   - a GGUF file;
//   - a Hugging Face checkpoint directory (config.json plus model.safetensors
//     or sharded safetensors with their index, and tokenizer.json); a path to
//     one of its .safetensors or .json files means the directory;
//   - "random:SHAPE[:SEED]" (RandomSpec): random ternary weights of one of
//     the Shapes, for speed runs and conversions without a download.
//
// A GGUF image in memory is LoadBytes; a model built from a Config is Random.
func Load(path string, opts ...Option) (*Model, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	if strings.HasPrefix(path, RandomSpec) {
		return openRandom(path, o.tok, o.tokJSON)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return loadHF(path)
	}
	if strings.HasSuffix(path, ".safetensors") || strings.HasSuffix(path, ".json") {
		return loadHF(filepath.Dir(path))
	}
	f, _, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	f.Close()
	if err != nil || string(magic) != "GGUF" {
		return nil, fmt.Errorf("%s: not a GGUF file (magic %q) nor a safetensors directory", path, magic)
	}
	return loadGGUF(path, o.memory)
}

// An Option tunes Load.
type Option func(*loadOptions)

type loadOptions struct {
	memory  Memory
	tok     *tokenizer.Tokenizer
	tokJSON []byte
}

// WithMemory says how a GGUF file's weights are held (the default is
// MemoryAuto).
func WithMemory(m Memory) Option { return func(o *loadOptions) { o.memory = m } }

// WithTokenizer gives a random model a tokenizer, so that files written from
// it carry a vocabulary (llama.cpp refuses GGUF files without one);
// tokenizerJSON, if given, is written back by Save to safetensors. Files
// bring their own tokenizer: for them it is ignored.
func WithTokenizer(tok *tokenizer.Tokenizer, tokenizerJSON []byte) Option {
	return func(o *loadOptions) { o.tok, o.tokJSON = tok, tokenizerJSON }
}
