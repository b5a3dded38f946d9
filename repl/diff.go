package repl

import (
	"fmt"
	"strconv"
	"strings"
)

// diffInts explains how two id lists differ; label names an id (its token text), may be nil.
func diffInts(want, got []int32, label func(int32) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  expected (%d): %s\n", len(want), joinInts(want))
	fmt.Fprintf(&b, "  got      (%d): %s\n", len(got), joinInts(got))
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lab := func(id int32) string {
		if label == nil {
			return strconv.Itoa(int(id))
		}
		return fmt.Sprintf("%d %q", id, label(id))
	}
	switch {
	case i < len(want) && i < len(got):
		fmt.Fprintf(&b, "  first difference at index %d: expected %s, got %s", i, lab(want[i]), lab(got[i]))
	case i < len(want):
		fmt.Fprintf(&b, "  got is missing %d id(s) from index %d: %s", len(want)-i, i, lab(want[i]))
	default:
		fmt.Fprintf(&b, "  got has %d extra id(s) from index %d: %s", len(got)-i, i, lab(got[i]))
	}
	return b.String()
}

func joinInts(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, " ")
}

// diffText explains how two texts differ: both quoted, the first differing
// position, and for multi-line texts a line diff (- expected, + got).
func diffText(want, got string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  expected: %s\n", strconv.Quote(want))
	fmt.Fprintf(&b, "  got:      %s\n", strconv.Quote(got))
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	line := strings.Count(want[:i], "\n") + 1
	col := i - strings.LastIndex(want[:i], "\n")
	fmt.Fprintf(&b, "  first difference at byte %d (line %d, column %d): expected %s, got %s",
		i, line, col, excerpt(want, i), excerpt(got, i))
	if strings.Contains(want, "\n") || strings.Contains(got, "\n") {
		b.WriteString("\n" + lineDiff(strings.Split(want, "\n"), strings.Split(got, "\n")))
	}
	return b.String()
}

// excerpt quotes up to 16 bytes of s from i ("end of text" past the end).
func excerpt(s string, i int) string {
	if i >= len(s) {
		return "end of text"
	}
	e := min(len(s), i+16)
	suffix := ""
	if e < len(s) {
		suffix = "…"
	}
	return strconv.Quote(s[i:e]) + suffix
}

// lineDiff is a unified-style diff of two line lists from their longest common subsequence.
func lineDiff(a, b []string) string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, "    "+a[i])
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, "  + "+b[j])
			j++
		default:
			out = append(out, "  - "+a[i])
			i++
		}
	}
	return strings.Join(out, "\n")
}

// floatMismatch is one element of a float comparison outside the tolerance.
type floatMismatch struct {
	Row, Col  int
	Want, Got float64
}

// diffFloats compares rows of floats within an absolute tolerance; it returns ""
// when they match, else a summary: shape problems, the largest difference and the
// first few elements outside the tolerance. colName labels a column (a token), may be nil.
func diffFloats(want, got [][]float64, tol float64, colName func(int) string) string {
	var b strings.Builder
	if len(want) != len(got) {
		fmt.Fprintf(&b, "  expected %d rows, got %d\n", len(want), len(got))
	}
	var bad []floatMismatch
	worst := floatMismatch{Row: -1}
	worstD := -1.0
	count := 0
	for r := 0; r < min(len(want), len(got)); r++ {
		if len(want[r]) != len(got[r]) {
			fmt.Fprintf(&b, "  row %d: expected %d values, got %d\n", r, len(want[r]), len(got[r]))
			continue
		}
		for c := range want[r] {
			d := abs64(want[r][c] - got[r][c])
			if d != d || d > tol { // NaN counts as a mismatch
				count++
				if len(bad) < 5 {
					bad = append(bad, floatMismatch{r, c, want[r][c], got[r][c]})
				}
			}
			if d > worstD || d != d {
				worstD, worst = d, floatMismatch{r, c, want[r][c], got[r][c]}
			}
		}
	}
	if count == 0 && b.Len() == 0 {
		return ""
	}
	name := func(c int) string {
		if colName == nil {
			return strconv.Itoa(c)
		}
		return fmt.Sprintf("%d %q", c, colName(c))
	}
	if count > 0 {
		fmt.Fprintf(&b, "  %d value(s) differ by more than %g; largest difference %.6g at position %d, token %s (expected %.6g, got %.6g)\n",
			count, tol, worstD, worst.Row, name(worst.Col), worst.Want, worst.Got)
		for _, m := range bad {
			fmt.Fprintf(&b, "    position %d token %s: expected %.6g got %.6g (diff %.3g)\n", m.Row, name(m.Col), m.Want, m.Got, abs64(m.Want-m.Got))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
