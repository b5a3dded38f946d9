package repl

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

var eighths = []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}

// bar draws frac in [0,1] as a horizontal bar of width cells, in eighths of a cell.
func bar(frac float64, width int) string {
	frac, _ = clamp01(frac)
	n := int(math.Round(frac * float64(width) * 8))
	s := strings.Repeat("█", n/8) + eighths[n%8]
	return s + strings.Repeat(" ", width-len([]rune(s)))
}

var sparks = []rune(" ▁▂▃▄▅▆▇█")

// sparkline draws counts as one character each, scaled to the largest.
func sparkline(counts []int64) string {
	var mx int64
	for _, c := range counts {
		mx = max(mx, c)
	}
	var b strings.Builder
	for _, c := range counts {
		i := 0
		if mx > 0 {
			i = int(math.Ceil(float64(c) / float64(mx) * float64(len(sparks)-1)))
		}
		b.WriteRune(sparks[i])
	}
	return b.String()
}

var shades = []rune(" ░▒▓█")

// nanMark stands for a NaN on a scale (heatmaps, bars): it has no place on one.
const nanMark = "?"

// clamp01 puts v in [0,1], ±Inf at the nearer end; ok is false for NaN.
func clamp01(v float64) (c float64, ok bool) {
	if math.IsNaN(v) {
		return 0, false
	}
	return math.Max(0, math.Min(1, v)), true
}

// shade is a one-character grey level for v in [0,1] (heatmaps without colour); NaN is nanMark.
func shade(v float64) string {
	v, ok := clamp01(v)
	if !ok {
		return nanMark
	}
	return string(shades[int(math.Round(v*float64(len(shades)-1)))])
}

// plural is "1 message" or "3 messages": n and word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// truncate cuts s to n runes, with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:n])
	}
	return string(r[:n-1]) + "…"
}

// padRight pads s with spaces to n runes (cutting it when longer).
func padRight(s string, n int) string {
	s = truncate(s, n)
	return s + strings.Repeat(" ", n-len([]rune(s)))
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}
