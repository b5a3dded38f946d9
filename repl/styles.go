package repl

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
)

// styles holds every style bitrepl uses; nothing else in the package picks colours.
// Output always goes through a colorprofile.Writer, which downsamples or strips the
// escape sequences for NO_COLOR, CLICOLOR_FORCE and non-TTY outputs, so the styles
// themselves are written once for a true-colour terminal.
type styles struct {
	profile colorprofile.Profile

	prompt, cont     lipgloss.Style // "bitrepl> " and the continuation prompt
	err, warn, ok    lipgloss.Style
	hint, dim, bold  lipgloss.Style
	title, key, val  lipgloss.Style
	cmd              lipgloss.Style // command names in help
	stats            lipgloss.Style // the line after a generation
	diffOld, diffNew lipgloss.Style
	tokens           []lipgloss.Style // alternating backgrounds for the tokenization view
	bar              lipgloss.Style
}

var (
	colRed    = lipgloss.Color("#ff5f5f")
	colYellow = lipgloss.Color("#ffd75f")
	colGreen  = lipgloss.Color("#5fd75f")
	colBlue   = lipgloss.Color("#5fafff")
	colPurple = lipgloss.Color("#af87ff")
	colGrey   = lipgloss.Color("#8a8a8a")
)

func newStyles(p colorprofile.Profile) *styles {
	s := lipgloss.NewStyle
	st := &styles{
		profile: p,
		prompt:  s().Foreground(colPurple).Bold(true),
		cont:    s().Foreground(colGrey),
		err:     s().Foreground(colRed).Bold(true),
		warn:    s().Foreground(colYellow),
		ok:      s().Foreground(colGreen),
		hint:    s().Foreground(colGrey).Italic(true),
		dim:     s().Foreground(colGrey),
		bold:    s().Bold(true),
		title:   s().Foreground(colPurple).Bold(true),
		key:     s().Foreground(colBlue),
		val:     s(),
		cmd:     s().Foreground(colBlue).Bold(true),
		stats:   s().Foreground(colGrey),
		diffOld: s().Foreground(colRed),
		diffNew: s().Foreground(colGreen),
		bar:     s().Foreground(colBlue),
	}
	// muted colours of the 256-colour palette (60, 65, 95, 101, 66), so 256 colours keep them apart
	bgs := []string{"#5f5f87", "#5f875f", "#875f5f", "#87875f", "#5f8787"}
	if p <= colorprofile.ANSI {
		// 16 colours turn most of the muted ones into the same grey: take distinct basic colours
		bgs = []string{"4", "2", "1", "5", "6"}
	}
	for _, bg := range bgs {
		st.tokens = append(st.tokens, s().Background(lipgloss.Color(bg)).Foreground(lipgloss.Color("#ffffff")))
	}
	return st
}

// paint renders text with style line by line, so multi-line text is not padded
// into a block the way lipgloss pads it.
func paint(style lipgloss.Style, text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = style.Render(l)
		}
	}
	return strings.Join(lines, "\n")
}

// colored reports whether the output shows colours at all.
func (st *styles) colored() bool { return st.profile > colorprofile.ASCII }

// token styles the i-th token of a tokenization view. Without colours the tokens
// are separated by a middle dot so their boundaries stay visible.
func (st *styles) token(i int, text string) string {
	if !st.colored() {
		if i == 0 {
			return text
		}
		return "·" + text
	}
	return st.tokens[i%len(st.tokens)].Render(text)
}

// prob styles text by a probability in [0,1]: red for unlikely, yellow, green for likely.
func (st *styles) prob(p float64, text string) string {
	if !st.colored() {
		return text
	}
	return lipgloss.NewStyle().Foreground(probColor(p)).Render(text)
}

// heat styles a cell of a heatmap by a value in [0,1] (background from dark to bright).
func (st *styles) heat(v float64, text string) string {
	if !st.colored() {
		return text
	}
	v, ok := clamp01(v)
	if !ok {
		return st.warn.Render(strings.Repeat(nanMark, len([]rune(text))))
	}
	c := color.RGBA{R: uint8(20 + 235*v), G: uint8(20 + 160*v*v), B: uint8(60 * (1 - v)), A: 255}
	return lipgloss.NewStyle().Background(c).Render(text)
}

// probColor maps p in [0,1] to a red-yellow-green ramp.
func probColor(p float64) color.Color {
	p, ok := clamp01(p)
	if !ok {
		return color.RGBA{R: 128, G: 128, B: 128, A: 255}
	}
	var r, g float64
	if p < 0.5 {
		r, g = 1, 2*p
	} else {
		r, g = 2*(1-p), 1
	}
	return color.RGBA{R: uint8(95 + 160*r), G: uint8(95 + 160*g), B: 95, A: 255}
}

// profileWriter wraps w so escape sequences match what w (and env) can show.
// NO_COLOR (any non-empty value, as no-color.org says) wins over CLICOLOR_FORCE;
// colorprofile alone lets CLICOLOR_FORCE win on a non-terminal.
func profileWriter(w io.Writer, env []string) *colorprofile.Writer {
	pw := colorprofile.NewWriter(w, env)
	if envGet(env, "NO_COLOR") != "" && pw.Profile > colorprofile.ASCII {
		pw.Profile = colorprofile.ASCII
	}
	return pw
}

// render converts s, which may hold true-colour sequences, for the profile p; used for
// strings that do not go through the output writer (the readline prompt).
func render(p colorprofile.Profile, s string) string {
	var b bytes.Buffer
	w := &colorprofile.Writer{Forward: &b, Profile: p}
	if _, err := io.WriteString(w, s); err != nil {
		return s
	}
	return b.String()
}

// printer writes styled output; every method ignores write errors, which only
// happen when the terminal is gone (the next read then ends the REPL).
type printer struct {
	w  io.Writer
	st *styles
}

func (p printer) printf(format string, a ...any) { fmt.Fprintf(p.w, format, a...) }
func (p printer) println(a ...any)               { fmt.Fprintln(p.w, a...) }
