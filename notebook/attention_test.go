package notebook

import (
	"fmt"
	"testing"
)

func TestAttentionMap(t *testing.T) {
	// query i puts all its weight on key i/2
	pos := []int{0, 1, 2, 3, 4, 5}
	rows := make([][]float32, len(pos))
	for i := range rows {
		rows[i] = make([]float32, i+1)
		rows[i][i/2] = 1
	}
	tokens := []string{"The", " whale", " is", " white", ".", " It"}
	fig, err := AttentionMap("one-hot", pos, rows, tokens)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "attention_map.svg", string(svg))
	checkSVG(t, svg)
	imgs := images(t, svg)
	if len(imgs) != 1 {
		t.Fatalf("%d images", len(imgs))
	}
	for q := range pos {
		for k := range pos {
			got := cellColor(imgs[0], len(pos), len(pos), q, k)
			want := viridis(0)
			switch {
			case k > q:
				want = colorMasked
			case k == q/2:
				want = viridis(1)
			}
			if got != want {
				t.Errorf("cell (%d,%d): %v, want %v", q, k, got, want)
			}
		}
	}
	n := 0
	for _, tok := range tokens {
		for _, s := range texts(svg) {
			if s == fmt.Sprintf("%q", tok) {
				n++
			}
		}
	}
	if n != 2*len(tokens) {
		t.Errorf("%d token labels, want each token on both axes: %v", n, texts(svg))
	}
	if _, err := AttentionMap("bad", []int{0}, nil, nil); err == nil {
		t.Error("no rows: no error")
	}
}

func TestAttentionHeads(t *testing.T) {
	m := randomModel(t)
	r := record(t, m)
	fig, err := AttentionHeads(r, 1, m.Config.Heads, 2)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	dump(t, "attention_heads.svg", string(svg))
	imgs := images(t, svg)
	if len(imgs) != m.Config.Heads {
		t.Fatalf("%d maps for %d heads", len(imgs), m.Config.Heads)
	}
	n := len(testTokens)
	for h, img := range imgs {
		if !hasText(svg, fmt.Sprintf("layer 1 head %d", h)) {
			t.Errorf("no title for head %d", h)
		}
		_, rows, err := r.Attention(1, h)
		if err != nil {
			t.Fatal(err)
		}
		for q := range n {
			for k := range n {
				want := colorMasked
				if k <= q {
					want = viridis(float64(rows[q][k]))
				}
				if got := cellColor(img, n, n, q, k); got != want {
					t.Fatalf("head %d cell (%d,%d): %v, want %v", h, q, k, got, want)
				}
			}
		}
	}
	if _, err := AttentionHeads(r, 7, 4, 0); err == nil {
		t.Error("layer not recorded: no error")
	}
}
