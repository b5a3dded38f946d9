package notebook

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

var spanRE = regexp.MustCompile(`<span class="bitrepl-p(\d)" style="background:([^;]*);[^"]*" title="p = ([0-9.]+)%">([^<]*)</span>`)

type tokenSpan struct {
	bucket     int
	background string
	prob       float64
	text       string
}

func tokenSpans(h HTML) []tokenSpan {
	var out []tokenSpan
	for _, m := range spanRE.FindAllStringSubmatch(string(h), -1) {
		b, _ := strconv.Atoi(m[1])
		p, _ := strconv.ParseFloat(m[3], 64)
		out = append(out, tokenSpan{b, m[2], p / 100, unescape(m[4])})
	}
	return out
}

func TestBucketOf(t *testing.T) {
	for _, c := range []struct {
		p    float64
		want int
	}{{1, 0}, {0.8, 0}, {0.79, 1}, {0.5, 1}, {0.3, 2}, {0.2, 2}, {0.1, 3}, {0.05, 3}, {0.049, 4}, {0, 4}, {math.NaN(), -1}} {
		if got := BucketOf(c.p); got != c.want {
			t.Errorf("BucketOf(%v) = %d, want %d", c.p, got, c.want)
		}
	}
}

func TestGeneratedText(t *testing.T) {
	toks := []model.Token{
		{ID: 1, Text: " whale", Prob: 0.9},
		{ID: 2, Text: " <b>", Prob: 0.6},
		{ID: 3, Text: "", Prob: 0.5}, // first byte of a character
		{ID: 4, Text: "é", Prob: 0.5},
		{ID: 5, Text: " & sea\n", Prob: 0.1},
		{ID: 6, Text: "!", Prob: 0.01},
		{ID: -1, Text: "tail"},
	}
	h := GeneratedText("Call me <Ishmael>", toks)
	got := tokenSpans(h)
	want := []tokenSpan{
		{0, "#1A9850", 0.9, " whale"},
		{1, "#91CF60", 0.6, " <b>"},
		{2, "#FEE08B", 0.25, "é"},
		{3, "#FC8D59", 0.1, " & sea\n"},
		{4, "#D73027", 0.01, "!"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d scored spans, want %d:\n%s", len(got), len(want), h)
	}
	for i := range want {
		if g, w := got[i], want[i]; g.bucket != w.bucket || g.background != w.background || math.Abs(g.prob-w.prob) > 1e-3 || g.text != w.text {
			t.Errorf("span %d: %+v, want %+v", i, g, w)
		}
	}
	for _, s := range []string{"Call me &lt;Ishmael&gt;", " &lt;b&gt;", "&amp; sea", ">tail</span>", "white-space:pre-wrap"} {
		if !strings.Contains(string(h), s) {
			t.Errorf("HTML lacks %q:\n%s", s, h)
		}
	}
	if strings.Contains(string(h), "<b>") || strings.Contains(string(h), "<Ishmael>") {
		t.Error("token text not escaped")
	}
	// the legend shows every bucket once
	for i, b := range ProbBuckets {
		if n := strings.Count(string(h), fmt.Sprintf(`class="bitrepl-p%d" style="background:%s;`, i, b.Background)); n < 1 {
			t.Errorf("bucket %d not in the legend", i)
		}
	}
}

func TestGeneratedTextFromModel(t *testing.T) {
	m := randomModel(t)
	var toks []model.Token
	_, err := m.Generate(context.Background(), m.NewSession(0), []int32{1, 2, 3}, model.GenOptions{MaxTokens: 12},
		func(tk model.Token) error {
			tk.Text = fmt.Sprintf("[%d]", tk.ID) // the random model has no tokenizer
			toks = append(toks, tk)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	spans := tokenSpans(GeneratedText("", toks))
	if len(spans) != len(toks) {
		t.Fatalf("%d spans for %d tokens", len(spans), len(toks))
	}
	for i, s := range spans {
		p := float64(toks[i].Prob)
		if s.bucket != BucketOf(p) || math.Abs(s.prob-p) > 1e-3 || s.text != toks[i].Text {
			t.Errorf("token %d (p %.4f): span %+v", i, p, s)
		}
	}
}

func TestScoredText(t *testing.T) {
	m := randomModel(t)
	r := record(t, m)
	names := make([]string, len(testTokens))
	for i, id := range testTokens {
		names[i] = fmt.Sprintf("<%d>", id)
	}
	h, err := ScoredText(names, r.Logits)
	if err != nil {
		t.Fatal(err)
	}
	spans := tokenSpans(h)
	if len(spans) != len(testTokens)-1 {
		t.Fatalf("%d scored tokens, want all but the first", len(spans))
	}
	for i, s := range spans {
		l := r.Logits[i]
		if l.Chosen != testTokens[i+1] || s.text != names[i+1] || math.Abs(s.prob-l.Prob) > 1e-3 || s.bucket != BucketOf(l.Prob) {
			t.Errorf("token %d: span %+v, logits %+v", i+1, s, l)
		}
	}
	if !strings.Contains(string(h), `<span style="color:#666666">&lt;1&gt;</span>`) {
		t.Error("first token not shown unscored")
	}
}

func TestLogitLensAndTable(t *testing.T) {
	rows := []inspect.LensRow{
		{Layer: 0, Entropy: 2.5, Top: []inspect.TokenProb{{Text: " a", Prob: 0.25}, {Text: "<b>", Prob: 0.125}}},
		{Layer: 1, Entropy: 0.5, Top: []inspect.TokenProb{{Text: " whale", Prob: 0.9}}},
	}
	h := string(LogitLens(rows))
	if n := strings.Count(h, "<tr>"); n != 3 {
		t.Errorf("%d table rows, want a header and 2 layers", n)
	}
	for _, s := range []string{"rgba(31,119,180,0.25)", "rgba(31,119,180,0.90)", `&#34;&lt;b&gt;&#34; 12%`, `&#34; whale&#34; 90%`, "<td style=\"padding:2px 6px\">2.50</td>"} {
		if !strings.Contains(h, s) {
			t.Errorf("lens lacks %q:\n%s", s, h)
		}
	}
	tab := string(Table([]string{"format", "bytes"}, [][]string{{"TQ1_0", "1"}, {"<I2_S>", "2"}}))
	if strings.Count(tab, "<th") != 2 || strings.Count(tab, "<td") != 4 || !strings.Contains(tab, "&lt;I2_S&gt;") {
		t.Errorf("table: %s", tab)
	}
}

func TestTopTokensAndBars(t *testing.T) {
	st := inspect.LogitStats{Top: []inspect.TokenProb{{ID: 4, Text: " the", Prob: 0.5}, {ID: 9, Text: "", Prob: 0.25}, {ID: 2, Text: "\n", Prob: 0.125}}}
	fig, err := TopTokens("next", st)
	if err != nil {
		t.Fatal(err)
	}
	svg := fig.SVG()
	bars := fills(svg, seriesColor(1))
	if len(bars) != 3 {
		t.Fatalf("%d bars", len(bars))
	}
	for i := 1; i < 3; i++ {
		if r := (bars[i].maxY - bars[i].minY) / (bars[0].maxY - bars[0].minY); math.Abs(r-st.Top[i].Prob/st.Top[0].Prob) > 0.01 {
			t.Errorf("bar %d: height ratio %.3f", i, r)
		}
	}
	for _, s := range []string{`" the"`, "9", `"⏎"`} {
		if !hasText(svg, s) {
			t.Errorf("no label %s in %v", s, texts(svg))
		}
	}
	if _, err := Bars("x", "y", []string{"a"}, []float64{1, 2}); err == nil {
		t.Error("Bars: no error for mismatched lengths")
	}
	fig, err = Bars("sizes", "bytes", []string{"a", "b"}, []float64{3, 1})
	if err != nil || len(fills(fig.SVG(), seriesColor(0))) != 2 {
		t.Errorf("Bars: %v", err)
	}
}

func TestDisplayOutsideNotebook(t *testing.T) {
	if InNotebook() {
		t.Skip("running under GoNB")
	}
	fig, err := Bars("x", "y", []string{"a"}, []float64{1})
	if err != nil {
		t.Fatal(err)
	}
	fig.Display() // no-ops: no pipe is opened
	fig.DisplaySVG()
	HTML("<b>x</b>").Display()
	if err := Show(TernaryCounts("x", nil)); err == nil {
		t.Error("Show dropped the error")
	}
	if err := Show(Bars("x", "y", []string{"a"}, []float64{1})); err != nil {
		t.Error(err)
	}
}
