package repl

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bitrepl/bitrepl/model"
)

// timingsReport is run --timings: where the time of a generation went, in
// the manner of llama.cpp's performance report. decode is the time from the
// first generated token to the last (what tok/s counts); its per-token
// median and p90 are the evaluations' alone, and sampling (with the tokens'
// probabilities and detokenizing) and output (printing) are what the
// generation spent around them.
func timingsReport(load time.Duration, memory string, st model.Stats) string {
	var b strings.Builder
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	line := func(name string, d time.Duration, n int, rate bool, rest string) {
		fmt.Fprintf(&b, "%-12s %10.2f ms", name, ms(d))
		if n > 0 {
			fmt.Fprintf(&b, " / %5d tokens (%8.2f ms per token", n, ms(d)/float64(n))
			if rate && d > 0 {
				fmt.Fprintf(&b, ", %8.2f tokens per second", float64(n)/d.Seconds())
			}
			b.WriteString(")")
		}
		b.WriteString(rest + "\n")
	}
	line("load", load, 0, false, fmt.Sprintf("  (weights: %s)", memory))
	prompt := ""
	if st.Cached > 0 {
		prompt = fmt.Sprintf("  (+%d cached)", st.Cached)
	}
	line("prompt eval", st.PromptTime, st.PromptTokens, true, prompt)
	line("first token", st.FirstToken, 0, false, "  (time to first token: the prompt's evaluation and the first sampling)")
	line("decode", st.GenTime, st.Generated-1, true, "")
	if len(st.Steps) > 0 {
		s := slices.Clone(st.Steps)
		slices.Sort(s)
		fmt.Fprintf(&b, "  evaluation   median %.2f ms, p90 %.2f ms, max %.2f ms per token\n",
			ms(s[len(s)/2]), ms(s[(len(s)*9)/10]), ms(s[len(s)-1]))
	}
	line("sampling", st.Sampling, st.Generated, false, "  with probabilities and detokenizing")
	line("output", st.Emit, st.Generated, false, "")
	if st.Moving > 0 {
		line("weight move", st.Moving, 0, false, "  of the evaluations' time, moving the weights into huge pages")
	}
	line("total", load+st.FirstToken+st.GenTime, 0, false, fmt.Sprintf("  (%d tokens generated, stopped: %s)", st.Generated, st.Reason))
	return b.String()
}
