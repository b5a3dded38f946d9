package inspect

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bitrepl/bitrepl/model"
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

// ExportHiddenStates writes the kept values of site: a .safetensors file
// (one tensor per layer) when path ends in .safetensors, else a directory of
// .npy files, one per layer.
func (r *Recorder) ExportHiddenStates(site model.Site, path string) error {
	ts, err := r.HiddenStates(site)
	if err != nil {
		return err
	}
	if strings.HasSuffix(path, ".safetensors") {
		return safetensors.WriteFile(path, ts, map[string]string{"site": site.String(), "producer": "bitrepl"})
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	for _, t := range ts {
		f, err := os.Create(filepath.Join(path, t.Name+".npy"))
		if err != nil {
			return err
		}
		vals := make([]float32, len(t.Data)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		err = WriteNPY(f, []int{int(t.Shape[0]), int(t.Shape[1])}, vals)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
