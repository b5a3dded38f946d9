package notebook

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/model"
)

func testConfig() model.Config {
	return model.Config{Arch: "bitnet-b1.58", VocabSize: 64, Dim: 128, FFNDim: 256, Layers: 3, Heads: 4, KVHeads: 2,
		HeadDim: 32, ContextLen: 64, RopeTheta: 10000, NormEps: 1e-5, Act: model.ReLU2, SubNorms: true, TiedEmbedding: true}
}

func randomModel(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.Random(testConfig(), 7, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fillPath is a filled path of gonum's SVG output: its colour and bounding box.
type fillPath struct {
	color                  string
	minX, minY, maxX, maxY float64
}

var (
	pathRE   = regexp.MustCompile(`<path d="([^"]*)" style="([^"]*)"`)
	numberRE = regexp.MustCompile(`-?[0-9.]+(?:e-?[0-9]+)?`)
	textRE   = regexp.MustCompile(`(?s)<text [^>]*>([^<]*)</text>`)
	imageRE  = regexp.MustCompile(`xlink:href="data:image/png;base64,([^"]*)"`)
)

func bbox(d string) (minX, minY, maxX, maxY float64) {
	nums := numberRE.FindAllString(d, -1)
	minX, minY, maxX, maxY = 1e18, 1e18, -1e18, -1e18
	for i := 0; i+1 < len(nums); i += 2 {
		x, _ := strconv.ParseFloat(nums[i], 64)
		y, _ := strconv.ParseFloat(nums[i+1], 64)
		minX, maxX = min(minX, x), max(maxX, x)
		minY, maxY = min(minY, y), max(maxY, y)
	}
	return
}

// fills returns the filled paths of colour c in drawing order.
func fills(svg string, c color.RGBA) []fillPath {
	var out []fillPath
	want := "fill:" + hexColor(c)
	for _, m := range pathRE.FindAllStringSubmatch(string(svg), -1) {
		if m[2] == want {
			p := fillPath{color: want}
			p.minX, p.minY, p.maxX, p.maxY = bbox(m[1])
			out = append(out, p)
		}
	}
	return out
}

// strokes returns the "d" of unfilled paths stroked in colour c; dashed ones
// separately.
func strokes(svg string, c color.RGBA) (solid, dashed []string) {
	for _, m := range pathRE.FindAllStringSubmatch(string(svg), -1) {
		if strings.HasPrefix(m[2], "fill:none;stroke:"+hexColor(c)) {
			if strings.Contains(m[2], "stroke-dasharray") {
				dashed = append(dashed, m[1])
			} else {
				solid = append(solid, m[1])
			}
		}
	}
	return
}

// points counts the vertices of a path.
func points(d string) int { return strings.Count(d, "L") + strings.Count(d, "M") }

func texts(svg string) []string {
	var out []string
	for _, m := range textRE.FindAllStringSubmatch(string(svg), -1) {
		out = append(out, unescape(m[1]))
	}
	return out
}

func unescape(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&lt;", "<", "&gt;", ">", "&amp;", "&", "&#39;", "'").Replace(s)
}

func hasText(svg string, s string) bool {
	for _, t := range texts(svg) {
		if t == s {
			return true
		}
	}
	return false
}

// images decodes the raster images embedded in an SVG.
func images(t *testing.T, svg string) []image.Image {
	t.Helper()
	var out []image.Image
	for _, m := range imageRE.FindAllStringSubmatch(string(svg), -1) {
		b, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, img)
	}
	return out
}

// cellColor is the colour at the centre of cell (r, c) of an image of rows x cols cells.
func cellColor(img image.Image, rows, cols, r, c int) color.RGBA {
	b := img.Bounds()
	x := b.Min.X + (2*c+1)*b.Dx()/(2*cols)
	y := b.Min.Y + (2*r+1)*b.Dy()/(2*rows)
	cr, cg, cb, ca := img.At(x, y).RGBA()
	return color.RGBA{uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8), uint8(ca >> 8)}
}

func checkSVG(t *testing.T, svg string) {
	t.Helper()
	s := string(svg)
	if !strings.HasPrefix(s, "<?xml") || !strings.Contains(s, "<svg") || !strings.HasSuffix(strings.TrimSpace(s), "</svg>") {
		t.Fatalf("not an SVG document: %.200q", s)
	}
}

// dump writes a figure to $NOTEBOOK_DUMP/name when that directory is set, to
// look at the figures the tests draw.
func dump(t *testing.T, name string, content string) {
	dir := os.Getenv("NOTEBOOK_DUMP")
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Error(err)
	}
}
