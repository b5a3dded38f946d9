package repl

import (
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/colorprofile"
	"golang.org/x/term"
)

// width is the terminal's width in columns, else COLUMNS from the environment;
// 0 means no limit (a pipe).
func (s *session) width() int {
	if pw, ok := s.p.w.(*colorprofile.Writer); ok {
		if f, ok := pw.Forward.(*os.File); ok {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
				return w
			}
		}
	}
	if n, err := strconv.Atoi(envGet(s.cfg.Env, "COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 0
}

// minWrap is the narrowest column worth wrapping text into.
const minWrap = 16

// wrapHanging word-wraps text, which starts at column indent, so no line is
// longer than width; the lines after the first start with indent spaces.
// A word longer than the room keeps its own line. width 0 (or too little room) leaves text as it is.
func wrapHanging(text string, indent, width int) string {
	room := width - indent
	if width <= 0 || room < minWrap || utf8.RuneCountInString(text) <= room {
		return text
	}
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		wl := utf8.RuneCountInString(w)
		switch {
		case n == 0:
		case n+1+wl > room:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += wl
	}
	return b.String()
}
