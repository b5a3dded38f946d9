package repl

import (
	"fmt"
	"strings"
)

// splitArgs splits a command line into words like a small shell: whitespace
// separates, "double" quotes allow \" \\ \n \t escapes, 'single' quotes are literal.
func splitArgs(s string) ([]string, error) {
	var (
		args  []string
		cur   strings.Builder
		inArg bool
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case r == '\'':
			inArg = true
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j == len(rs) {
				return nil, fmt.Errorf("unterminated ' quote")
			}
			cur.WriteString(string(rs[i+1 : j]))
			i = j
		case r == '"':
			inArg = true
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) {
					j++
					switch rs[j] {
					case 'n':
						cur.WriteRune('\n')
					case 't':
						cur.WriteRune('\t')
					default:
						cur.WriteRune(rs[j])
					}
					continue
				}
				cur.WriteRune(rs[j])
			}
			if j == len(rs) {
				return nil, fmt.Errorf("unterminated \" quote")
			}
			i = j
		default:
			inArg = true
			cur.WriteRune(r)
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

// call is one parsed command line: "/name rest", rest also split into args.
type call struct {
	name string   // without the slash, lower case
	rest string   // everything after the name, trimmed (raw text for commands taking text)
	args []string // rest split by splitArgs
}

// parseCall parses a line that starts with '/'.
func parseCall(line string) (call, error) {
	line = strings.TrimSpace(strings.TrimPrefix(line, "/"))
	name, rest, _ := strings.Cut(line, " ")
	if i := strings.IndexAny(name, "\t\n"); i >= 0 {
		name, rest = name[:i], name[i+1:]+" "+rest
	}
	c := call{name: strings.ToLower(name), rest: strings.TrimSpace(rest)}
	args, err := splitArgs(c.rest)
	if err != nil {
		return c, err
	}
	c.args = args
	return c, nil
}
