package repl

import "strings"

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// nearest returns the candidate closest to s when it is close enough to be a
// plausible typo (or s is a unique prefix of it), else "".
func nearest(s string, candidates []string) string {
	s = strings.ToLower(s)
	best, bestD := "", 1<<30
	var prefixed []string
	for _, c := range candidates {
		if strings.HasPrefix(c, s) && s != "" {
			prefixed = append(prefixed, c)
		}
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	limit := max(1, min(3, len([]rune(s))/3+1))
	if bestD <= limit {
		return best
	}
	return ""
}
