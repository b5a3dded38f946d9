package notebook

import (
	"fmt"
	"image"
	"math"
	"regexp"
	"strconv"
	"testing"
)

var imageBoxRE = regexp.MustCompile(`<image [^>]*y="([^"]+)" width="[^"]+" height="([^"]+)"`)

func countText(svg, s string) int {
	n := 0
	for _, t := range texts(svg) {
		if t == s {
			n++
		}
	}
	return n
}

// checkColorScale checks the colour scale of an attention figure: titled,
// labelled 0 and 1, viridis from 0 at the bottom to 1 at the top, and as tall
// as the maps together (its image is the last of the SVG).
func checkColorScale(t *testing.T, svg string, bar image.Image) {
	t.Helper()
	for _, s := range []string{"attention weight", "0", "0.5", "1"} {
		if !hasText(svg, s) {
			t.Errorf("colour scale: no text %q", s)
		}
	}
	const n = 10
	for i := range n {
		want := viridis(1 - (float64(i)+0.5)/n)
		got := cellColor(bar, n, 1, i, 0)
		d := math.Abs(float64(got.R)-float64(want.R)) + math.Abs(float64(got.G)-float64(want.G)) + math.Abs(float64(got.B)-float64(want.B))
		if d > 12 {
			t.Errorf("colour scale at %d/%d from the top: %v, want about %v", i, n, got, want)
		}
	}
	var top, bottom []float64 // of every image, in SVG's flipped y
	for _, m := range imageBoxRE.FindAllStringSubmatch(svg, -1) {
		y, _ := strconv.ParseFloat(m[1], 64)
		h, _ := strconv.ParseFloat(m[2], 64)
		top, bottom = append(top, y), append(bottom, y+h)
	}
	last := len(top) - 1
	mapsTop, mapsBottom := top[0], bottom[last-1]
	if math.Abs(top[last]-mapsTop) > 0.5 || math.Abs(bottom[last]-mapsBottom) > 0.5 {
		t.Errorf("colour scale from %.1f to %.1f, the maps from %.1f to %.1f", top[last], bottom[last], mapsTop, mapsBottom)
	}
}

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
	if len(imgs) != 2 {
		t.Fatalf("%d images, want the map and its colour scale", len(imgs))
	}
	checkColorScale(t, svg, imgs[1])
	for _, s := range []string{"key", "query"} {
		if !hasText(svg, s) {
			t.Errorf("no axis title %q", s)
		}
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
	if len(imgs) != m.Config.Heads+1 {
		t.Fatalf("%d images for %d heads and a colour scale", len(imgs), m.Config.Heads)
	}
	checkColorScale(t, svg, imgs[len(imgs)-1])
	imgs = imgs[:m.Config.Heads]
	// 2 columns of 2 maps: the bottom maps say "key", the left ones "query"
	for s, n := range map[string]int{"key": 2, "query": 2} {
		if got := countText(svg, s); got != n {
			t.Errorf("axis title %q %d times, want %d", s, got, n)
		}
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
