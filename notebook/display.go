// Package notebook renders inspect results as static figures (SVG, drawn
// with gonum.org/v1/plot so they show offline and on GitHub) and as HTML
// fragments, for GoNB notebooks.
//
// Every helper returns its SVG or HTML, so it works (and is tested) outside a
// notebook; the Display methods send it to the notebook and do nothing when
// the program does not run under GoNB.
//
// Colours mean the same thing in every figure: -1 red, 0 grey, +1 blue.
package notebook

import (
	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
)

// SVG is a rendered figure: a complete SVG document.
type SVG string

// Display shows the figure as an image/svg+xml output of the running GoNB
// cell. Outside GoNB it does nothing.
func (s SVG) Display() {
	display(protocol.MIMEImageSVG, string(s), "[figure]")
}

// HTML is a fragment of HTML with inline styles (no scripts).
type HTML string

// Display shows the fragment as a text/html output of the running GoNB cell.
// Outside GoNB it does nothing.
func (h HTML) Display() {
	display(protocol.MIMETextHTML, string(h), "[html]")
}

// InNotebook reports whether the program runs under GoNB (Display shows
// something).
func InNotebook() bool { return gonbui.IsNotebook }

// Displayer is anything with a Display method (SVG, HTML).
type Displayer interface{ Display() }

// Show displays v, or, when err is not nil, returns it. It takes a helper's
// two results directly: notebook.Show(notebook.Sparsity(stats)).
func Show[T Displayer](v T, err error) error {
	if err != nil {
		return err
	}
	v.Display()
	return nil
}

func display(mime protocol.MIMEType, content, alt string) {
	if !gonbui.IsNotebook {
		return
	}
	gonbui.SendData(&protocol.DisplayData{Data: map[protocol.MIMEType]any{
		mime:                   content,
		protocol.MIMETextPlain: alt,
	}})
	// Wait until GoNB has taken it: a cell's program may end right after,
	// and what is still in the pipe then is lost.
	gonbui.Sync()
}
