// Package notebook renders inspect results as static figures (SVG, drawn
// with gonum.org/v1/plot so they show offline and on GitHub) and as HTML
// fragments, for GoNB notebooks.
//
// Every helper returns a Figure (its SVG, and PNG on demand) or HTML, so it
// works (and is tested) outside a notebook; the Display methods send it to
// the notebook and do nothing when the program does not run under GoNB.
//
// Colours mean the same thing in every figure: -1 red, 0 grey, +1 blue.
//
// The package also holds what the notebooks' cells share, so that a notebook
// holds only its story: Must, Try and Check for cell code, Record to run a
// text through a model with an inspect.Recorder, Formats and CompareWeights
// for the file formats, TrainerLatents for the latent weights of a model
// being trained by model/train.
//
// It imports inspect, model, model/embedded, model/train and metal/cpu; only
// the notebooks (examples/notebooks) use it.
package notebook

import (
	"bytes"
	"fmt"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// PNGDPI is the resolution of Figure.PNG.
const PNGDPI = 120

// Figure is a rendered plot: an SVG document, and a PNG drawn on demand.
type Figure struct {
	svg   string
	w, h  vg.Length
	paint func(draw.Canvas)
	title string
}

// SVG returns the figure as an SVG document.
func (f *Figure) SVG() string { return f.svg }

// Size returns the figure's width and height.
func (f *Figure) Size() (w, h vg.Length) { return f.w, f.h }

// PNG draws the figure as a PNG image at PNGDPI.
func (f *Figure) PNG() ([]byte, error) {
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(f.w, f.h), vgimg.UseDPI(PNGDPI))}
	f.paint(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("notebook: %s: %w", f.title, err)
	}
	return b.Bytes(), nil
}

// Display shows the figure as an image/png output of the running GoNB cell:
// PNG shows in every notebook viewer, where inline SVG does not (nbconvert's
// HTML export strips it). Outside GoNB it does nothing.
func (f *Figure) Display() {
	if !gonbui.IsNotebook {
		return
	}
	png, err := f.PNG()
	if err != nil {
		HTML(fmt.Sprintf("<pre>%v</pre>", err)).Display()
		return
	}
	send(map[protocol.MIMEType]any{protocol.MIMEImagePNG: png, protocol.MIMETextPlain: f.alt()})
}

// DisplaySVG shows the figure as an image/svg+xml output (sharp at any zoom
// in Jupyter). Outside GoNB it does nothing.
func (f *Figure) DisplaySVG() {
	if !gonbui.IsNotebook {
		return
	}
	send(map[protocol.MIMEType]any{protocol.MIMEImageSVG: f.svg, protocol.MIMETextPlain: f.alt()})
}

func (f *Figure) alt() string { return "[figure: " + f.title + "]" }

// HTML is a fragment of HTML with inline styles (no scripts).
type HTML string

// Display shows the fragment as a text/html output of the running GoNB cell.
// Outside GoNB it does nothing.
func (h HTML) Display() {
	if !gonbui.IsNotebook {
		return
	}
	send(map[protocol.MIMEType]any{protocol.MIMETextHTML: string(h), protocol.MIMETextPlain: "[html]"})
}

// InNotebook reports whether the program runs under GoNB (Display shows
// something).
func InNotebook() bool { return gonbui.IsNotebook }

// Displayer is anything with a Display method (*Figure, HTML).
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

func send(data map[protocol.MIMEType]any) {
	gonbui.SendData(&protocol.DisplayData{Data: data})
	// Wait until GoNB has taken it: a cell's program may end right after,
	// and what is still in the pipe then is lost.
	gonbui.Sync()
}
