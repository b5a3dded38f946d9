//go:build hftokenizers

package tokenizer

import (
	"errors"

	hf "github.com/daulet/tokenizers"
)

// HF is a tokenizer run by Hugging Face's Rust library through cgo (github.com/daulet/tokenizers), for
// cross-checking this package. Building it needs the build tag hftokenizers and libtokenizers.a on the
// linker path (CGO_LDFLAGS=-L<dir>); it offers the same Encode and Decode as Tokenizer.
type HF struct {
	t *hf.Tokenizer
}

// HFFromFile loads a tokenizer.json with the Rust library.
func HFFromFile(path string) (*HF, error) {
	t, err := hf.FromFile(path)
	if err != nil {
		return nil, err
	}
	return &HF{t: t}, nil
}

// HFFromJSON loads tokenizer.json bytes with the Rust library.
func HFFromJSON(data []byte) (*HF, error) {
	if len(data) == 0 {
		return nil, errors.New("tokenizer: empty tokenizer.json")
	}
	t, err := hf.FromBytes(data)
	if err != nil {
		return nil, err
	}
	return &HF{t: t}, nil
}

// Encode turns text into token ids, like Tokenizer.Encode.
func (h *HF) Encode(text string, addSpecial bool) []int32 {
	ids, _ := h.t.Encode(text, addSpecial)
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

// Decode turns token ids back into text, like Tokenizer.Decode (negative ids are dropped).
func (h *HF) Decode(ids []int32, skipSpecial bool) string {
	u := make([]uint32, 0, len(ids))
	for _, id := range ids {
		if id >= 0 {
			u = append(u, uint32(id))
		}
	}
	return h.t.Decode(u, skipSpecial)
}

// VocabSize returns the vocabulary size of the Rust tokenizer.
func (h *HF) VocabSize() int { return int(h.t.VocabSize()) }

// Close frees the Rust tokenizer.
func (h *HF) Close() error { return h.t.Close() }
