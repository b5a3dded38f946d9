package notebook

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/bitrepl/bitrepl/inspect"
	"github.com/bitrepl/bitrepl/model"
)

// ProbBucket is a range of token probabilities and its colours.
type ProbBucket struct {
	Min        float64 // lower bound (inclusive) of the probabilities in the bucket
	Background string  // CSS colour
	Foreground string
	Label      string
}

// ProbBuckets are the colours of token probabilities, most likely first
// (ColorBrewer's red-yellow-green).
var ProbBuckets = []ProbBucket{
	{0.8, "#1A9850", "#FFFFFF", "≥ 80%"},
	{0.5, "#91CF60", "#000000", "50–80%"},
	{0.2, "#FEE08B", "#000000", "20–50%"},
	{0.05, "#FC8D59", "#000000", "5–20%"},
	{0, "#D73027", "#FFFFFF", "< 5%"},
}

// BucketOf returns the index in ProbBuckets of probability p (-1 for NaN).
func BucketOf(p float64) int {
	if math.IsNaN(p) {
		return -1
	}
	for i, b := range ProbBuckets {
		if p >= b.Min {
			return i
		}
	}
	return len(ProbBuckets) - 1
}

const textStyle = "font-family:monospace;white-space:pre-wrap;line-height:1.7;font-size:13px"

// span writes one token coloured by its probability bucket (NaN: no colour).
func span(b *strings.Builder, text string, p float64) {
	i := BucketOf(p)
	if i < 0 {
		fmt.Fprintf(b, `<span style="color:#666666">%s</span>`, html.EscapeString(text))
		return
	}
	k := ProbBuckets[i]
	fmt.Fprintf(b, `<span class="bitrepl-p%d" style="background:%s;color:%s;border-radius:2px;box-shadow:inset -1px 0 0 #fff" title="p = %.1f%%">%s</span>`,
		i, k.Background, k.Foreground, 100*p, html.EscapeString(text))
}

func legend(b *strings.Builder) {
	b.WriteString(`<div style="font-family:sans-serif;font-size:11px;margin-top:4px">probability of each token: `)
	for i, k := range ProbBuckets {
		fmt.Fprintf(b, `<span class="bitrepl-p%d" style="background:%s;color:%s;padding:0 4px;margin-right:2px">%s</span>`,
			i, k.Background, k.Foreground, html.EscapeString(k.Label))
	}
	b.WriteString("</div>")
}

// TokenProbs renders texts[i] coloured by the bucket of probs[i] (NaN: not
// scored, grey), with a legend; hovering a token shows its probability.
func TokenProbs(texts []string, probs []float64) (HTML, error) {
	if len(texts) != len(probs) {
		return "", fmt.Errorf("notebook: TokenProbs: %d texts for %d probabilities", len(texts), len(probs))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<div style="%s">`, textStyle)
	for i, t := range texts {
		span(&b, t, probs[i])
	}
	b.WriteString("</div>")
	legend(&b)
	return HTML(b.String()), nil
}

// GeneratedText renders a prompt (grey) followed by the tokens a Generate
// call streamed, each coloured by the probability the model gave it. A
// token whose Text is empty (part of a UTF-8 character) is merged into the
// next one, with the product of their probabilities; the final flush (ID
// -1) is not scored.
func GeneratedText(prompt string, toks []model.Token) HTML {
	texts, probs := []string{prompt}, []float64{math.NaN()}
	pending := 1.0
	for _, t := range toks {
		if t.ID < 0 {
			texts, probs = append(texts, t.Text), append(probs, math.NaN())
			continue
		}
		pending *= float64(t.Prob)
		if t.Text == "" {
			continue
		}
		texts, probs = append(texts, t.Text), append(probs, pending)
		pending = 1
	}
	h, _ := TokenProbs(texts, probs) // same lengths by construction
	return h
}

// ScoredText renders a text the model read (not generated): token i is
// coloured by the probability the model gave it after tokens 0..i-1, taken
// from the LogitStats of a Recorder whose Tokens were set (the first token
// is not scored).
func ScoredText(tokens []string, logits []inspect.LogitStats) (HTML, error) {
	probs := make([]float64, len(tokens))
	for i := range probs {
		probs[i] = math.NaN()
	}
	for _, l := range logits {
		if l.Pos+1 < len(tokens) && l.Chosen >= 0 {
			probs[l.Pos+1] = l.Prob
		}
	}
	return TokenProbs(tokens, probs)
}

// LogitLens renders a logit lens as a table: one row per layer, its entropy
// and the top tokens with their probabilities, each cell shaded by its
// probability.
func LogitLens(rows []inspect.LensRow) HTML {
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse;font-size:12px">`)
	b.WriteString(`<tr><th style="padding:2px 6px">layer</th><th style="padding:2px 6px">entropy</th><th style="padding:2px 6px;text-align:left">top tokens</th></tr>`)
	for _, r := range rows {
		fmt.Fprintf(&b, `<tr><td style="padding:2px 6px">%d</td><td style="padding:2px 6px">%.2f</td>`, r.Layer, r.Entropy)
		for _, t := range r.Top {
			fmt.Fprintf(&b, `<td style="padding:2px 6px;font-family:monospace;background:rgba(31,119,180,%.2f)" title="p = %.1f%%">%s %.0f%%</td>`,
				math.Min(1, t.Prob), 100*t.Prob, html.EscapeString(fmt.Sprintf("%q", t.Text)), 100*t.Prob)
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	return HTML(b.String())
}

// Table renders a plain table; cells are escaped.
func Table(header []string, rows [][]string) HTML {
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse;font-size:12px">`)
	if len(header) > 0 {
		b.WriteString("<tr>")
		for _, h := range header {
			fmt.Fprintf(&b, `<th style="padding:2px 8px;border-bottom:1px solid #999;text-align:left">%s</th>`, html.EscapeString(h))
		}
		b.WriteString("</tr>")
	}
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			fmt.Fprintf(&b, `<td style="padding:2px 8px;font-family:monospace">%s</td>`, html.EscapeString(c))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	return HTML(b.String())
}
