package repl

import "strings"

const blockQuote = `"""`

// lineJoiner assembles one logical input from physical lines. A line ending in a
// backslash continues on the next line; a line ending in """ opens a block that the
// next line ending in """ closes (the markers are dropped, newlines kept):
//
//	/tokens """
//	two lines
//	of text"""
type lineJoiner struct {
	lines []string
	block bool
}

// add takes one physical line. It returns the logical input and true when the
// input is complete, or "" and false when more lines are needed.
func (j *lineJoiner) add(line string) (string, bool) {
	line = strings.TrimRight(line, "\r")
	if j.block {
		if strings.HasSuffix(line, blockQuote) {
			j.lines = append(j.lines, strings.TrimSuffix(line, blockQuote))
			return j.finish("\n"), true
		}
		j.lines = append(j.lines, line)
		return "", false
	}
	if strings.HasSuffix(line, blockQuote) && strings.Count(line, blockQuote)%2 == 1 {
		j.block = true
		j.lines = append(j.lines, strings.TrimSuffix(line, blockQuote))
		return "", false
	}
	if strings.HasSuffix(line, `\`) && !strings.HasSuffix(line, `\\`) {
		j.lines = append(j.lines, strings.TrimSuffix(line, `\`))
		return "", false
	}
	j.lines = append(j.lines, line)
	return j.finish("\n"), true
}

// pending reports whether a logical input is incomplete (show the continuation prompt).
func (j *lineJoiner) pending() bool { return len(j.lines) > 0 }

// reset drops a partial input (Ctrl-C at a continuation prompt).
func (j *lineJoiner) reset() { j.lines, j.block = nil, false }

func (j *lineJoiner) finish(sep string) string {
	var s string
	if j.block && len(j.lines) > 1 {
		// "/cmd """ + lines: the first line is the command head, the rest its text.
		head := j.lines[0]
		body := strings.Join(j.lines[1:], sep)
		if strings.TrimSpace(head) == "" {
			s = body
		} else {
			s = head + body
		}
	} else {
		s = strings.Join(j.lines, sep)
	}
	j.reset()
	return s
}
