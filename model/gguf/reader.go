package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/bitrepl/bitrepl/model/regfile"
)

// Limits on lengths read from a file. Anything larger is a *FormatError. Independently of these, every
// length is checked against the bytes left in the file before anything is allocated, so the memory a
// file can make Parse allocate is bounded by a small multiple of its size.
const (
	MaxStringLen = 16 << 20 // bytes of one string value (chat templates can be long)
	MaxKeyLen    = 1 << 16  // bytes of a key or a tensor name
	MaxArrayLen  = 1 << 26  // elements of one array value
	MaxKV        = 1 << 20  // key/value pairs
	MaxTensors   = 1 << 20  // tensors
	MaxAlignment = 1 << 24  // general.alignment
)

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// KeyAlignment is the metadata key holding the data alignment.
const KeyAlignment = "general.alignment"

// ErrUnsupported is wrapped by errors for GGUF versions, byte orders, value types and tensor types this
// package does not read.
var ErrUnsupported = errors.New("unsupported")

// FormatError reports a malformed or unsupported GGUF file.
type FormatError struct {
	File   string // file name as given to Open or Parse
	Tensor string // tensor whose info is bad, if any
	Offset int64  // byte offset in the file of the field that is bad
	Msg    string // what is wrong
	Err    error  // underlying error (io.ErrUnexpectedEOF, ErrUnsupported), may be nil
}

// Error formats the error as "gguf: FILE: tensor "T": offset N: MSG: ERR".
func (e *FormatError) Error() string {
	var sb strings.Builder
	sb.WriteString("gguf: ")
	if e.File != "" {
		sb.WriteString(e.File)
		sb.WriteString(": ")
	}
	if e.Tensor != "" {
		sb.WriteString("tensor ")
		sb.WriteString(strconv.Quote(e.Tensor))
		sb.WriteString(": ")
	}
	sb.WriteString("offset ")
	sb.WriteString(strconv.FormatInt(e.Offset, 10))
	sb.WriteString(": ")
	sb.WriteString(e.Msg)
	if e.Err != nil {
		sb.WriteString(": ")
		sb.WriteString(e.Err.Error())
	}
	return sb.String()
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// KV is one metadata key/value pair.
type KV struct {
	Key   string
	Value Value
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name   string
	Dims   []uint64 // ne0 first: a matrix of R rows of C elements has Dims {C, R}
	Type   Type
	Offset uint64 // relative to File.DataOffset; a multiple of File.Alignment
	Size   uint64 // TensorBytes(Type, Dims)
}

// Elements returns the number of elements (the product of Dims).
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// File is a parsed GGUF file. Its metadata lives in Go memory; tensor data is reached through TensorData.
// The exported fields are read-only (Get and Tensor index them). Tensor offsets need only be aligned and
// inside the file: unlike gguf.cpp, the reader does not insist that they are consecutive.
// A File is safe for concurrent reads; Close must not run concurrently with TensorData or with uses of the
// views it returned.
type File struct {
	Path       string
	Version    uint32
	KV         []KV         // in file order
	Tensors    []TensorInfo // in file order
	Alignment  uint64       // general.alignment, or DefaultAlignment
	DataOffset uint64       // file offset of the (aligned) data section

	data    []byte // whole file (mapped, or read, or the caller's bytes)
	unmap   func([]byte) error
	mode    Mode
	huge    *hugeMove // moving a HugePages file into huge pages
	keys    map[string]int
	tensors map[string]int
}

// Open memory-maps the file at path (reads it where mmap is unavailable) and parses it.
// Tensor data is not copied; call Close to release the mapping.
// A file truncated by another process while mapped can crash the program (SIGBUS); GGUF files are
// expected not to change while open.
func Open(path string) (*File, error) { return OpenMode(path, Mapped) }

// Mode says how OpenMode brings a file's bytes into memory.
type Mode int

const (
	// Mapped maps the file: zero-copy, shared with the page cache and other processes, open in
	// milliseconds.
	Mapped Mode = iota
	// HugePages maps the file, then moves it in the background into private memory backed by
	// transparent huge pages (Linux; Mapped elsewhere): opening takes as long as Mapped, the move
	// copies the file once (see StartHugePages), resident memory ends at about the file size, and
	// every pass over the weights then takes far fewer TLB misses (see HugePagesAvailable).
	HugePages
	// HugePageCache is HugePages without the copy where Linux can: the file's pages in the page
	// cache become 2 MiB pages, kept where they already are, read back in so where they are not,
	// and copied into private huge pages only where that fails (see pageCache). Resident memory
	// then stays the page cache's, shared.
	HugePageCache
)

func (m Mode) String() string {
	switch m {
	case HugePages:
		return "huge pages"
	case HugePageCache:
		return "huge page cache"
	}
	return "mapped"
}

// OpenMode is Open with the file held as mode says. Close releases the memory.
func OpenMode(path string, mode Mode) (*File, error) {
	fh, st, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	size := st.Size()
	if size < 0 || uint64(size) > uint64(math.MaxInt) {
		return nil, &FormatError{File: path, Msg: fmt.Sprintf("file of %d bytes is too large to map", size)}
	}
	if size == 0 {
		return Parse(nil, path)
	}
	var (
		data  []byte
		unmap func([]byte) error
		huge  *hugeMove
	)
	if (mode == HugePages || mode == HugePageCache) && hugePagesSupported {
		data, unmap, huge, err = readHuge(fh, int(size), mode == HugePageCache)
	} else {
		mode = Mapped
		data, unmap, err = mapFile(fh, int(size))
	}
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", path, err)
	}
	f, err := Parse(data, path)
	if err != nil {
		unmap(data)
		return nil, err
	}
	f.unmap, f.mode, f.huge = unmap, mode, huge
	return f, nil
}

// StartHugePages starts moving a file opened with HugePages into huge pages, in a goroutine: the
// file is usable, mapped, all along. The goroutine stops when the move is over, on Close, or when
// PaceHugePages is called; StartHugePages starts it again. It does nothing for other files.
func (f *File) StartHugePages() {
	if f.huge != nil {
		f.huge.start()
	}
}

// PaceHugePages stops the goroutine StartHugePages started (after the piece of a few MiB it is
// copying) and moves the next pieces pieces of the file into huge pages in the calling goroutine:
// a program that keeps every core busy (decoding) moves the file between its steps this way, as
// fast as it chooses. It reports whether some of the file is left to move (false for other files).
func (f *File) PaceHugePages(pieces int) bool {
	return f.huge != nil && f.huge.pace(pieces)
}

// WaitHugePages starts the move into huge pages (StartHugePages) and waits until it is over (or
// was stopped by Close or an error, leaving the rest mapped). It returns at once for other files.
func (f *File) WaitHugePages() {
	if f.huge != nil {
		f.huge.start()
		<-f.huge.done
	}
}

// Mode says how the file's bytes are held (Mapped for files from Parse).
func (f *File) Mode() Mode { return f.mode }

// Close releases the file's memory mapping; views returned by TensorData must not be used afterwards.
// Metadata stays valid. Close of a File from Parse only drops its reference to the bytes.
func (f *File) Close() error {
	data, unmap := f.data, f.unmap
	f.data, f.unmap = nil, nil
	if unmap != nil && data != nil {
		return unmap(data)
	}
	return nil
}

// Get returns the value of a metadata key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.keys[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// String returns a string metadata value.
func (f *File) String(key string) (string, bool) {
	v, _ := f.Get(key)
	return v.Str()
}

// Uint returns an integer metadata value of any integer kind that is not negative.
func (f *File) Uint(key string) (uint64, bool) {
	v, _ := f.Get(key)
	return v.Uint()
}

// Int returns an integer metadata value of any integer kind that fits an int64.
func (f *File) Int(key string) (int64, bool) {
	v, _ := f.Get(key)
	return v.Int()
}

// Float returns a float metadata value (or an integer a float64 holds exactly).
func (f *File) Float(key string) (float64, bool) {
	v, _ := f.Get(key)
	return v.Float()
}

// Bool returns a bool metadata value.
func (f *File) Bool(key string) (bool, bool) {
	v, _ := f.Get(key)
	return v.Bool()
}

// Strings returns an array-of-strings metadata value.
func (f *File) Strings(key string) ([]string, bool) {
	v, _ := f.Get(key)
	return v.Strings()
}

// Tensor returns the info of the named tensor.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tensors[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// TensorData returns the bytes of tensor t (a zero-copy view, capacity limited to its size), or nil after
// Close or if t does not lie inside the file. The view must not be written to: it is usually read-only
// mapped memory.
func (f *File) TensorData(t *TensorInfo) []byte {
	if t == nil || f.data == nil {
		return nil
	}
	start, c1 := bits.Add64(f.DataOffset, t.Offset, 0)
	end, c2 := bits.Add64(start, t.Size, 0)
	if c1 != 0 || c2 != 0 || end > uint64(len(f.data)) {
		return nil
	}
	return f.data[start:end:end]
}

// Parse parses a GGUF file held in data; name is used in errors and as File.Path. Tensor data is not
// copied: data must not change while the File is used.
func Parse(data []byte, name string) (*File, error) {
	d := &decoder{data: data, name: name}
	f, err := d.parse()
	if err != nil {
		return nil, err
	}
	f.Path = name
	f.data = data
	return f, nil
}

// decoder reads a GGUF file from a byte slice, tracking the position for errors.
type decoder struct {
	data   []byte
	pos    int
	name   string
	tensor string // current tensor, for errors
	key    string // current key, for errors
}

func (d *decoder) fail(off int, err error, format string, args ...any) error {
	return &FormatError{File: d.name, Tensor: d.tensor, Offset: int64(off), Msg: fmt.Sprintf(format, args...), Err: err}
}

func (d *decoder) left() uint64 { return uint64(len(d.data) - d.pos) }

// need fails unless n more bytes are available.
func (d *decoder) need(n uint64, what string) error {
	if n > d.left() {
		if d.key != "" {
			what += fmt.Sprintf(" of key %q", d.key)
		}
		return d.fail(d.pos, io.ErrUnexpectedEOF, "truncated %s: need %d bytes, %d left", what, n, d.left())
	}
	return nil
}

func (d *decoder) u32(what string) (uint32, error) {
	if err := d.need(4, what); err != nil {
		return 0, err
	}
	x := binary.LittleEndian.Uint32(d.data[d.pos:])
	d.pos += 4
	return x, nil
}

func (d *decoder) u64(what string) (uint64, error) {
	if err := d.need(8, what); err != nil {
		return 0, err
	}
	x := binary.LittleEndian.Uint64(d.data[d.pos:])
	d.pos += 8
	return x, nil
}

// str reads a u64-length-prefixed string of at most max bytes.
func (d *decoder) str(max uint64, what string) (string, error) {
	start := d.pos
	n, err := d.u64(what)
	if err != nil {
		return "", err
	}
	if n > max {
		if d.key != "" {
			what += fmt.Sprintf(" of key %q", d.key)
		}
		return "", d.fail(start, nil, "%s length %d exceeds the limit of %d bytes", what, n, max)
	}
	if err := d.need(n, what); err != nil {
		return "", err
	}
	s := string(d.data[d.pos : d.pos+int(n)])
	d.pos += int(n)
	return s, nil
}

const (
	minKVBytes     = 8 + 4 + 1         // empty key, type, 1-byte value
	minTensorBytes = 8 + 4 + 8 + 4 + 8 // empty name, n_dims, one dim, type, offset
)

func (d *decoder) parse() (*File, error) {
	f := &File{}
	if err := d.need(4, "magic"); err != nil {
		return nil, err
	}
	if string(d.data[:4]) != "GGUF" {
		return nil, d.fail(0, nil, "bad magic %q, want \"GGUF\"", d.data[:4])
	}
	d.pos = 4
	v, err := d.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case v == 2 || v == 3:
	case v == 1:
		return nil, d.fail(4, ErrUnsupported, "GGUF v1 (32-bit lengths) is not read; convert the file with a current llama.cpp")
	case v&0xffff == 0 && v>>16 != 0:
		return nil, d.fail(4, ErrUnsupported, "big-endian GGUF (version field %#x)", v)
	default:
		return nil, d.fail(4, ErrUnsupported, "GGUF version %d, want 2 or 3", v)
	}
	f.Version = v

	off := d.pos
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return nil, err
	}
	if nTensors > MaxTensors {
		return nil, d.fail(off, nil, "tensor count %d exceeds the limit of %d", nTensors, MaxTensors)
	}
	off = d.pos
	nKV, err := d.u64("key/value count")
	if err != nil {
		return nil, err
	}
	if nKV > MaxKV {
		return nil, d.fail(off, nil, "key/value count %d exceeds the limit of %d", nKV, MaxKV)
	}
	if nKV*minKVBytes+nTensors*minTensorBytes > d.left() {
		return nil, d.fail(off-8, io.ErrUnexpectedEOF, "%d tensors and %d key/value pairs cannot fit in the %d bytes left", nTensors, nKV, d.left())
	}

	f.KV = make([]KV, 0, min(nKV, 4096))
	f.keys = make(map[string]int, min(nKV, 4096))
	f.Alignment = DefaultAlignment
	for i := uint64(0); i < nKV; i++ {
		off := d.pos
		key, err := d.str(MaxKeyLen, "key")
		if err != nil {
			return nil, err
		}
		if _, dup := f.keys[key]; dup {
			return nil, d.fail(off, nil, "duplicate key %q", key)
		}
		off = d.pos
		d.key = key
		kind, err := d.u32("value type")
		if err != nil {
			return nil, err
		}
		valOff := d.pos
		val, err := d.value(Kind(kind), key, off)
		if err != nil {
			return nil, err
		}
		d.key = ""
		if key == KeyAlignment {
			a, ok := val.Uint()
			if !ok || a == 0 || a > MaxAlignment || a&(a-1) != 0 {
				return nil, d.fail(valOff, nil, "%s = %s, want a power of two from 1 to %d", KeyAlignment, val, MaxAlignment)
			}
			f.Alignment = a
		}
		f.keys[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Value: val})
	}

	f.Tensors = make([]TensorInfo, 0, min(nTensors, 4096))
	f.tensors = make(map[string]int, min(nTensors, 4096))
	offsetPos := make([]int, 0, min(nTensors, 4096)) // file offset of each tensor's offset field, for errors
	for i := uint64(0); i < nTensors; i++ {
		d.tensor = ""
		off := d.pos
		name, err := d.str(MaxKeyLen, "tensor name")
		if err != nil {
			return nil, err
		}
		d.tensor = name
		if _, dup := f.tensors[name]; dup {
			return nil, d.fail(off, nil, "duplicate tensor name")
		}
		off = d.pos
		nDims, err := d.u32("dimension count")
		if err != nil {
			return nil, err
		}
		if nDims == 0 || nDims > MaxDims {
			return nil, d.fail(off, nil, "%d dimensions, want 1 to %d", nDims, MaxDims)
		}
		dims := make([]uint64, nDims)
		for j := range dims {
			off := d.pos
			if dims[j], err = d.u64("dimension"); err != nil {
				return nil, err
			}
			if dims[j] == 0 {
				return nil, d.fail(off, nil, "dimension %d is zero", j)
			}
		}
		off = d.pos
		typ, err := d.u32("tensor type")
		if err != nil {
			return nil, err
		}
		t := Type(typ)
		if !t.Known() {
			return nil, d.fail(off, ErrUnsupported, "unknown tensor type %d", typ)
		}
		size, err := TensorBytes(t, dims)
		if err != nil {
			return nil, d.fail(off, nil, "bad shape %v for type %s: %v", dims, t, err)
		}
		off = d.pos
		offset, err := d.u64("tensor data offset")
		if err != nil {
			return nil, err
		}
		if offset%f.Alignment != 0 {
			return nil, d.fail(off, nil, "data offset %d is not a multiple of the alignment %d", offset, f.Alignment)
		}
		f.tensors[name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, TensorInfo{Name: name, Dims: dims, Type: t, Offset: offset, Size: size})
		offsetPos = append(offsetPos, off)
	}
	d.tensor = ""

	// The data section starts at the next multiple of the alignment (pos <= len(data), no overflow).
	f.DataOffset = (uint64(d.pos) + f.Alignment - 1) &^ (f.Alignment - 1)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		start, c1 := bits.Add64(f.DataOffset, t.Offset, 0)
		end, c2 := bits.Add64(start, t.Size, 0)
		if c1 != 0 || c2 != 0 || end > uint64(len(d.data)) {
			d.tensor = t.Name
			return nil, d.fail(offsetPos[i], io.ErrUnexpectedEOF,
				"data at offset %d + %d (%d bytes) runs past the end of the file (%d bytes)", f.DataOffset, t.Offset, t.Size, len(d.data))
		}
	}
	return f, nil
}

// value decodes a value of the given kind; kindOff is the offset of the type field, for errors.
func (d *decoder) value(kind Kind, key string, kindOff int) (Value, error) {
	if sz := kind.size(); sz > 0 {
		if err := d.need(uint64(sz), "value"); err != nil {
			return Value{}, err
		}
		var b uint64
		p := d.data[d.pos:]
		switch sz {
		case 1:
			b = uint64(p[0])
			if kind == KindInt8 {
				b = uint64(int64(int8(p[0])))
			} else if kind == KindBool && b > 1 {
				b = 1
			}
		case 2:
			b = uint64(binary.LittleEndian.Uint16(p))
			if kind == KindInt16 {
				b = uint64(int64(int16(b)))
			}
		case 4:
			b = uint64(binary.LittleEndian.Uint32(p))
			if kind == KindInt32 {
				b = uint64(int64(int32(b)))
			}
		case 8:
			b = binary.LittleEndian.Uint64(p)
		}
		d.pos += sz
		return scalar(kind, b), nil
	}
	switch kind {
	case KindString:
		s, err := d.str(MaxStringLen, "string value")
		if err != nil {
			return Value{}, err
		}
		return String(s), nil
	case KindArray:
		return d.array(key)
	}
	return Value{}, d.fail(kindOff, ErrUnsupported, "key %q has unknown value type %d", key, uint32(kind))
}

func (d *decoder) array(key string) (Value, error) {
	off := d.pos
	e, err := d.u32("array type")
	if err != nil {
		return Value{}, err
	}
	elem := Kind(e)
	if elem == KindArray {
		return Value{}, d.fail(off, ErrUnsupported, "key %q is an array of arrays", key)
	}
	sz := elem.size()
	if sz == 0 && elem != KindString {
		return Value{}, d.fail(off, ErrUnsupported, "key %q is an array of unknown type %d", key, e)
	}
	off = d.pos
	n, err := d.u64("array length")
	if err != nil {
		return Value{}, err
	}
	if n > MaxArrayLen {
		return Value{}, d.fail(off, nil, "key %q: array length %d exceeds the limit of %d", key, n, MaxArrayLen)
	}
	if elem != KindString {
		if err := d.need(n*uint64(sz), "array"); err != nil {
			return Value{}, err
		}
		raw := make([]byte, int(n)*sz)
		copy(raw, d.data[d.pos:])
		d.pos += len(raw)
		return Value{valid: true, kind: KindArray, elem: elem, n: int(n), raw: raw}, nil
	}

	// Strings: validate every length first, then copy the whole region into one Go string and slice it,
	// so a 128k-token vocabulary costs two allocations, not 128k.
	if err := d.need(n*8, "array"); err != nil {
		return Value{}, err
	}
	start := d.pos
	for i := uint64(0); i < n; i++ {
		l, err := d.u64("string length")
		if err != nil {
			return Value{}, err
		}
		if l > MaxStringLen {
			return Value{}, d.fail(d.pos-8, nil, "key %q: string %d length %d exceeds the limit of %d bytes", key, i, l, MaxStringLen)
		}
		if err := d.need(l, "string"); err != nil {
			return Value{}, err
		}
		d.pos += int(l)
	}
	blob := string(d.data[start:d.pos])
	strs := make([]string, n)
	p := 0
	for i := range strs {
		l := int(binary.LittleEndian.Uint64(d.data[start+p:]))
		strs[i] = blob[p+8 : p+8+l]
		p += 8 + l
	}
	return Value{valid: true, kind: KindArray, elem: KindString, n: int(n), strs: strs}, nil
}
