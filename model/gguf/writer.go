package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/bitrepl/bitrepl/model/atomicfile"
)

// MaxTensorNameLen is the longest tensor name llama.cpp accepts (GGML_MAX_NAME - 1); the Writer refuses longer.
const MaxTensorNameLen = 63

// Writer builds a GGUF v3 file: metadata in the order keys were first set, then tensors in the order added.
// The layout is the one gguf-py and gguf.cpp write: header, key/value pairs, tensor infos, zero padding to
// the alignment, then each tensor's data followed by zero padding to the alignment, with tensor offsets
// consecutive from 0. The alignment is general.alignment if set (it must then be a uint32 power of two),
// else DefaultAlignment; general.alignment is not written unless set.
//
// A Writer holds references to the data slices given to AddTensor (no copy) until it is written.
type Writer struct {
	kv      []KV
	keys    map[string]int
	tensors []TensorInfo
	data    [][]byte
	names   map[string]int
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer {
	return &Writer{keys: map[string]int{}, names: map[string]int{}}
}

// Set sets a metadata key. Setting an existing key replaces its value and keeps its position.
// Keys and values are checked by WriteTo.
func (w *Writer) Set(key string, v Value) {
	if i, ok := w.keys[key]; ok {
		w.kv[i].Value = v
		return
	}
	w.keys[key] = len(w.kv)
	w.kv = append(w.kv, KV{Key: key, Value: v})
}

// Delete removes a metadata key, reporting whether it was set.
func (w *Writer) Delete(key string) bool {
	i, ok := w.keys[key]
	if !ok {
		return false
	}
	w.kv = append(w.kv[:i], w.kv[i+1:]...)
	delete(w.keys, key)
	for j := i; j < len(w.kv); j++ {
		w.keys[w.kv[j].Key] = j
	}
	return true
}

// AddTensor appends a tensor; data must hold exactly TensorBytes(t, dims) bytes and is not copied.
// It fails for a duplicate, empty or too long (over MaxTensorNameLen bytes) name, an unknown type
// (wrapping ErrUnsupported), a bad shape, or a data length that does not match.
func (w *Writer) AddTensor(name string, t Type, dims []uint64, data []byte) error {
	if name == "" || len(name) > MaxTensorNameLen {
		return fmt.Errorf("gguf: tensor name %q: length %d, want 1 to %d bytes", name, len(name), MaxTensorNameLen)
	}
	if _, dup := w.names[name]; dup {
		return fmt.Errorf("gguf: tensor %q added twice", name)
	}
	size, err := TensorBytes(t, dims)
	if err != nil {
		return fmt.Errorf("gguf: tensor %q: %w", name, err)
	}
	if uint64(len(data)) != size {
		return fmt.Errorf("gguf: tensor %q: %d bytes of data, want %d for %s %v", name, len(data), size, t, dims)
	}
	w.names[name] = len(w.tensors)
	w.tensors = append(w.tensors, TensorInfo{Name: name, Dims: append([]uint64(nil), dims...), Type: t, Size: size})
	w.data = append(w.data, data)
	return nil
}

// alignment returns the data alignment the file will use.
func (w *Writer) alignment() (uint64, error) {
	i, ok := w.keys[KeyAlignment]
	if !ok {
		return DefaultAlignment, nil
	}
	v := w.kv[i].Value
	a, _ := v.Uint()
	if v.Kind() != KindUint32 || a == 0 || a > MaxAlignment || a&(a-1) != 0 {
		return 0, fmt.Errorf("gguf: %s = %s (%s), want a uint32 power of two up to %d", KeyAlignment, v, v.Kind(), MaxAlignment)
	}
	return a, nil
}

func (w *Writer) check() error {
	for _, kv := range w.kv {
		if kv.Key == "" || len(kv.Key) > MaxKeyLen {
			return fmt.Errorf("gguf: key %q: length %d, want 1 to %d bytes", kv.Key, len(kv.Key), MaxKeyLen)
		}
		v := kv.Value
		switch {
		case !v.valid:
			return fmt.Errorf("gguf: key %q has the zero Value", kv.Key)
		case v.kind == KindString && len(v.str) > MaxStringLen:
			return fmt.Errorf("gguf: key %q: string of %d bytes exceeds %d", kv.Key, len(v.str), MaxStringLen)
		case v.kind == KindArray && v.n > MaxArrayLen:
			return fmt.Errorf("gguf: key %q: array of %d elements exceeds %d", kv.Key, v.n, MaxArrayLen)
		}
		for _, s := range v.strs {
			if len(s) > MaxStringLen {
				return fmt.Errorf("gguf: key %q: string of %d bytes exceeds %d", kv.Key, len(s), MaxStringLen)
			}
		}
	}
	if len(w.kv) > MaxKV || len(w.tensors) > MaxTensors {
		return fmt.Errorf("gguf: %d keys and %d tensors exceed the limits %d and %d", len(w.kv), len(w.tensors), MaxKV, MaxTensors)
	}
	return nil
}

// countWriter counts bytes written and keeps the first error.
type countWriter struct {
	w   *bufio.Writer
	n   int64
	err error
	buf [8]byte
}

func (c *countWriter) bytes(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *countWriter) str(s string) {
	c.u64(uint64(len(s)))
	if c.err != nil {
		return
	}
	n, err := c.w.WriteString(s)
	c.n += int64(n)
	c.err = err
}

func (c *countWriter) u32(x uint32) {
	binary.LittleEndian.PutUint32(c.buf[:], x)
	c.bytes(c.buf[:4])
}

func (c *countWriter) u64(x uint64) {
	binary.LittleEndian.PutUint64(c.buf[:], x)
	c.bytes(c.buf[:8])
}

var zeros [4096]byte

func (c *countWriter) pad(align uint64) {
	for r := (align - uint64(c.n)%align) % align; r > 0 && c.err == nil; {
		k := min(r, uint64(len(zeros)))
		c.bytes(zeros[:k])
		r -= k
	}
}

func (c *countWriter) value(v Value) {
	c.u32(uint32(v.kind))
	switch v.kind {
	case KindString:
		c.str(v.str)
	case KindArray:
		c.u32(uint32(v.elem))
		c.u64(uint64(v.n))
		if v.elem == KindString {
			for _, s := range v.strs {
				c.str(s)
			}
		} else {
			c.bytes(v.raw)
		}
	default:
		binary.LittleEndian.PutUint64(c.buf[:], v.bits)
		c.bytes(c.buf[:v.kind.size()])
	}
}

// WriteTo writes the file to out and returns the number of bytes written.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	if err := w.check(); err != nil {
		return 0, err
	}
	align, err := w.alignment()
	if err != nil {
		return 0, err
	}
	c := &countWriter{w: bufio.NewWriterSize(out, 1<<20)}
	c.bytes([]byte("GGUF"))
	c.u32(3)
	c.u64(uint64(len(w.tensors)))
	c.u64(uint64(len(w.kv)))
	for _, kv := range w.kv {
		c.str(kv.Key)
		c.value(kv.Value)
	}
	var off uint64
	for _, t := range w.tensors {
		c.str(t.Name)
		c.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			c.u64(d)
		}
		c.u32(uint32(t.Type))
		c.u64(off)
		off += (t.Size + align - 1) &^ (align - 1)
	}
	c.pad(align)
	for _, data := range w.data {
		c.bytes(data)
		c.pad(align)
	}
	if c.err == nil {
		c.err = c.w.Flush()
	}
	return c.n, c.err
}

// WriteFile writes the file to path atomically (see package atomicfile): a
// crash or a full disk leaves the previous file as it was.
func (w *Writer) WriteFile(path string) error {
	return atomicfile.Write(path, func(f io.Writer) error {
		_, err := w.WriteTo(f)
		return err
	})
}
