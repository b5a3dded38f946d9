// Package safetensors reads and writes the safetensors format used by Hugging Face checkpoints:
// an 8-byte little-endian header length N, N bytes of JSON describing every tensor
// ({"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, "__metadata__": {...}}),
// then the data section that the offsets index.
//
// Files are memory-mapped where the platform allows it and tensors are zero-copy views into the mapping.
// The reader is as strict as the reference implementation (huggingface/safetensors) and stricter about JSON:
// the data section must be covered exactly by the tensors, without holes or overlaps, and duplicate or unknown
// keys are rejected. Every problem is reported as a *FormatError naming the file, tensor and byte offset.
//
// It imports model/regfile and model/atomicfile only.
package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
)

// MaxHeaderSize is the largest JSON header accepted, as in the reference implementation.
const MaxHeaderSize = 100_000_000

// maxDims bounds the rank of a tensor read from a file.
const maxDims = 64

// ErrUnsupported is wrapped by errors for features of the format this package does not read (sub-byte dtypes).
var ErrUnsupported = errors.New("unsupported")

// FormatError reports a malformed or unsupported file. Offset is the byte offset in the file
// (or -1 when unknown); Tensor is empty when the problem is not tied to one tensor.
type FormatError struct {
	File   string
	Tensor string
	Offset int64
	Msg    string
	Err    error // underlying cause, may be nil
}

func (e *FormatError) Error() string {
	s := "safetensors: "
	if e.File != "" {
		s += e.File + ": "
	}
	if e.Tensor != "" {
		s += fmt.Sprintf("tensor %q: ", e.Tensor)
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf("offset %d: ", e.Offset)
	}
	s += e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }

// Tensor is one named tensor. Data holds the raw little-endian elements, row-major; for tensors
// read from a File it is a view into the file's mapping, valid until Close.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64
	Data  []byte
}

// NumElements returns the product of the shape (1 for a scalar), or an error if a dimension is
// negative or the product overflows.
func (t Tensor) NumElements() (int64, error) {
	return numElements(t.Shape)
}

func numElements(shape []int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d", d)
		}
		if d != 0 && n > maxInt/d {
			return 0, fmt.Errorf("shape %v overflows", shape)
		}
		n *= d
	}
	return n, nil
}

const maxInt = int64(^uint(0) >> 1)

// byteSize returns numElements*dtype size, overflow-checked against int.
func byteSize(t DType, shape []int64) (int64, error) {
	if !t.Valid() {
		return 0, fmt.Errorf("invalid dtype %v", t)
	}
	n, err := numElements(shape)
	if err != nil {
		return 0, err
	}
	sz := int64(t.Size())
	if n > maxInt/sz {
		return 0, fmt.Errorf("shape %v of %v overflows", shape, t)
	}
	return n * sz, nil
}

// File is one parsed safetensors file. Tensor data are views into the file's bytes.
type File struct {
	Path    string // file name given to Open or Parse
	tensors []Tensor
	index   map[string]int
	names   []string
	meta    map[string]string
	data    []byte // whole file
	release func() error
}

// Parse parses a safetensors file held in memory. The tensors are views into data; name is used in errors.
func Parse(data []byte, name string) (*File, error) {
	h, err := parseHeader(data, name)
	if err != nil {
		return nil, err
	}
	f := &File{Path: name, data: data, meta: h.meta, tensors: h.tensors, index: make(map[string]int, len(h.tensors))}
	for i, t := range f.tensors {
		f.index[t.Name] = i
		f.names = append(f.names, t.Name)
	}
	sort.Strings(f.names)
	return f, nil
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := f.index[name]
	if !ok {
		return Tensor{}, false
	}
	return f.tensors[i], true
}

// Names returns the tensor names, sorted. The slice is a copy.
func (f *File) Names() []string { return slices.Clone(f.names) }

// Tensors returns all tensors in file order (by data offset). The slice is a copy; the data are views.
func (f *File) Tensors() []Tensor { return slices.Clone(f.tensors) }

// Metadata returns a copy of the header's "__metadata__" map (empty, never nil, when absent).
func (f *File) Metadata() map[string]string {
	m := maps.Clone(f.meta)
	if m == nil {
		m = map[string]string{}
	}
	return m
}

// Close releases the mapping of a file from Open. Tensor data must not be used afterwards.
// Closing a File from Parse does nothing. Close is idempotent.
func (f *File) Close() error {
	if f.release == nil {
		return nil
	}
	r := f.release
	f.release = nil
	f.data = nil
	return r()
}

type header struct {
	meta    map[string]string
	tensors []Tensor
}

func parseHeader(data []byte, name string) (*header, error) {
	ferr := func(off int64, format string, args ...any) error {
		return &FormatError{File: name, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) < 8 {
		return nil, ferr(0, "file is %d bytes, shorter than the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, ferr(0, "header length %d exceeds the limit %d", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, ferr(0, "header length %d exceeds the %d bytes after it", n, len(data)-8)
	}
	if n < 2 {
		return nil, ferr(8, "header of %d bytes cannot hold a JSON object", n)
	}
	hdr := data[8 : 8+n]
	body := data[8+n:]
	entries, meta, err := decodeHeaderJSON(hdr, name)
	if err != nil {
		return nil, err
	}
	h := &header{meta: meta, tensors: make([]Tensor, len(entries))}
	base := int64(8 + n)
	for i, e := range entries {
		if e.end < e.begin {
			return nil, &FormatError{File: name, Tensor: e.name, Offset: base,
				Msg: fmt.Sprintf("data_offsets [%d, %d] end before begin", e.begin, e.end)}
		}
		if e.end > uint64(len(body)) {
			return nil, &FormatError{File: name, Tensor: e.name, Offset: base,
				Msg: fmt.Sprintf("data_offsets [%d, %d] beyond the %d-byte data section", e.begin, e.end, len(body))}
		}
		size, err := byteSize(e.dtype, e.shape)
		if err != nil {
			return nil, &FormatError{File: name, Tensor: e.name, Offset: base + int64(e.begin), Msg: "bad shape", Err: err}
		}
		if uint64(size) != e.end-e.begin {
			return nil, &FormatError{File: name, Tensor: e.name, Offset: base + int64(e.begin),
				Msg: fmt.Sprintf("%v shape %v needs %d bytes, data_offsets [%d, %d] hold %d", e.dtype, e.shape, size, e.begin, e.end, e.end-e.begin)}
		}
		h.tensors[i] = Tensor{Name: e.name, DType: e.dtype, Shape: e.shape, Data: body[e.begin:e.end:e.end]}
	}
	// The tensors must cover the data section exactly: sorted by offset, each begins where the previous ended.
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ea, eb := entries[order[a]], entries[order[b]]
		if ea.begin != eb.begin {
			return ea.begin < eb.begin
		}
		return ea.end < eb.end
	})
	var pos uint64
	for _, i := range order {
		e := entries[i]
		if e.begin < pos {
			return nil, &FormatError{File: name, Tensor: e.name, Offset: base + int64(e.begin),
				Msg: fmt.Sprintf("data_offsets [%d, %d] overlap the previous tensor ending at %d", e.begin, e.end, pos)}
		}
		if e.begin > pos {
			return nil, &FormatError{File: name, Tensor: e.name, Offset: base + int64(pos),
				Msg: fmt.Sprintf("hole in the data section: bytes [%d, %d) belong to no tensor", pos, e.begin)}
		}
		pos = e.end
	}
	if pos != uint64(len(body)) {
		return nil, ferr(base+int64(pos), "%d trailing bytes after the last tensor", uint64(len(body))-pos)
	}
	sorted := make([]Tensor, len(order))
	for k, i := range order {
		sorted[k] = h.tensors[i]
	}
	h.tensors = sorted
	return h, nil
}
