//go:build hftokenizers

package tokenizer

import "testing"

// TestHFTokenizers runs the reference comparison against the Rust library linked through cgo.
func TestHFTokenizers(t *testing.T) {
	for _, name := range []string{"llama3", "llama2"} {
		t.Run(name, func(t *testing.T) {
			rf, path := loadRef(t, name)
			h, err := HFFromFile(path)
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
