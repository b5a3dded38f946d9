//go:build hftokenizers

package tokenizer

import (
	"testing"

	hf "github.com/daulet/tokenizers"
)

// TestHFTokenizers runs the reference comparison against the Rust library linked through cgo.
func TestHFTokenizers(t *testing.T) {
	for _, name := range []string{"llama3", "llama2"} {
		t.Run(name, func(t *testing.T) {
			rf, path := loadRef(t, name)
			h, err := hfFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if bad := checkRef(t, rf, h.Encode, h.Decode, nil); bad != 0 {
				t.Errorf("%d mismatches between the cgo library and the npm reference", bad)
			}
		})
	}
}

// hfTokenizer is a tokenizer run by Hugging Face's Rust library through cgo (github.com/daulet/tokenizers), for
// cross-checking this package. Building it needs the build tag hftokenizers and libtokenizers.a on the
// linker path (CGO_LDFLAGS=-L<dir>); it offers the same Encode and Decode as Tokenizer.
type hfTokenizer struct {
	t *hf.Tokenizer
}

// hfFromFile loads a tokenizer.json with the Rust library.
func hfFromFile(path string) (*hfTokenizer, error) {
	t, err := hf.FromFile(path)
	if err != nil {
		return nil, err
	}
	return &hfTokenizer{t: t}, nil
}

// Encode turns text into token ids, like Tokenizer.Encode.
func (h *hfTokenizer) Encode(text string, addSpecial bool) []int32 {
	ids, _ := h.t.Encode(text, addSpecial)
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

// Decode turns token ids back into text, like Tokenizer.Decode (negative ids are dropped).
func (h *hfTokenizer) Decode(ids []int32, skipSpecial bool) string {
	u := make([]uint32, 0, len(ids))
	for _, id := range ids {
		if id >= 0 {
			u = append(u, uint32(id))
		}
	}
	return h.t.Decode(u, skipSpecial)
}

// Close frees the Rust tokenizer.
func (h *hfTokenizer) Close() error { return h.t.Close() }
