package inspect

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/atomicfile"
	"github.com/bitrepl/bitrepl/model/safetensors"
)

// WriteNPY writes data as a little-endian float32 NumPy .npy array (format 1.0) of the given shape.
func WriteNPY(w io.Writer, shape []int, data []float32) error {
	n := 1
	dims := make([]string, len(shape))
	for i, d := range shape {
		n *= d
		dims[i] = fmt.Sprint(d)
	}
	if n != len(data) {
		return fmt.Errorf("npy: shape %v holds %d values, got %d", shape, n, len(data))
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", tuple)
	// magic (6) + version (2) + header length (2) + header + '\n', padded to 64 bytes
	pad := 64 - (10+len(header)+1)%64
	if pad == 64 {
		pad = 0
	}
	header += strings.Repeat(" ", pad) + "\n"
	buf := make([]byte, 0, 10+len(header)+4*len(data))
	buf = append(buf, "\x93NUMPY\x01\x00"...)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(header)))
	buf = append(buf, header...)
	for _, v := range data {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	_, err := w.Write(buf)
	return err
}

// HiddenStates gathers the kept values of site (for every recorded layer and
// position) as one tensor per layer, named "SITE.LAYER" (layer -1 as "SITE"),
// shape (positions, width). All positions of a layer must have the same width.
func (r *Recorder) HiddenStates(site model.Site) ([]safetensors.Tensor, error) {
	layers := map[int]bool{}
	for k := range r.values {
		if k.site == site {
			layers[k.layer] = true
		}
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("no %s values recorded", site)
	}
	var ls []int
	for l := range layers {
		ls = append(ls, l)
	}
	sort.Ints(ls)
	var out []safetensors.Tensor
	for _, l := range ls {
		pos := r.Positions(site, l)
		var data []byte
		width := -1
		for _, p := range pos {
			v, _ := r.Values(site, l, p)
			if width >= 0 && len(v) != width {
				return nil, fmt.Errorf("%s layer %d: position %d has %d values, earlier ones %d", site, l, p, len(v), width)
			}
			width = len(v)
			for _, f := range v {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(f))
			}
		}
		name := site.String()
		if l >= 0 {
			name = fmt.Sprintf("%s.%d", site, l)
		}
		out = append(out, safetensors.Tensor{Name: name, DType: safetensors.F32, Shape: []int64{int64(len(pos)), int64(width)}, Data: data})
	}
	return out, nil
}

// HiddenFormats are the file extensions ExportHiddenStates writes.
var HiddenFormats = []string{".npy", ".safetensors"}

// ExportHiddenStates writes the kept values of site to path, in the format
// its extension names: .safetensors, one tensor per layer named as
// HiddenStates does; .npy, one float32 array of shape (layers, positions,
// width), or (positions, width) when the site has no layers. The file is
// written atomically.
func (r *Recorder) ExportHiddenStates(site model.Site, path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if !slices.Contains(HiddenFormats, ext) {
		return fmt.Errorf("%s: hidden states are written as %s, not %q", path, strings.Join(HiddenFormats, " or "), ext)
	}
	ts, err := r.HiddenStates(site)
	if err != nil {
		return err
	}
	if ext == ".safetensors" {
		return safetensors.WriteFile(path, ts, map[string]string{"site": site.String(), "producer": "bitrepl"})
	}
	shape := []int{int(ts[0].Shape[0]), int(ts[0].Shape[1])}
	if len(ts) > 1 || ts[0].Name != site.String() { // per-layer values
		shape = append([]int{len(ts)}, shape...)
	}
	var vals []float32
	for _, t := range ts {
		if t.Shape[0] != ts[0].Shape[0] || t.Shape[1] != ts[0].Shape[1] {
			return fmt.Errorf("%s: layers differ in shape (%s is %v, %s is %v); write .safetensors", path, ts[0].Name, ts[0].Shape, t.Name, t.Shape)
		}
		for i := 0; i+4 <= len(t.Data); i += 4 {
			vals = append(vals, math.Float32frombits(binary.LittleEndian.Uint32(t.Data[i:])))
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error { return WriteNPY(w, shape, vals) })
}
