// Package torchfile reads the tensors of a PyTorch checkpoint written by
// torch.save (a zip archive holding data.pkl and one file per storage, as
// in pytorch_model.bin) without running any of its code: a restricted
// unpickler knows only the opcodes torch.save uses and only the globals
// that rebuild tensors (collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 and the float storage types). Any other
// global is refused with an error naming it. Lengths, the memo, the stack
// and every tensor's bytes are bounded and checked.
//
// It imports the standard library only.
package torchfile

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// Tensor is one contiguous tensor of the checkpoint.
type Tensor struct {
	Name  string
	DType string  // "F32", "F16" or "BF16"
	Shape []int64 // row-major
	Data  []byte  // little-endian, product(Shape) elements
}

// ErrFormat is wrapped by every error about the file's content.
var ErrFormat = errors.New("torch file")

// Limits on what a file may ask for.
const (
	maxPickle  = 64 << 20 // data.pkl bytes
	maxMemo    = 1 << 20  // memo entries
	maxStack   = 1 << 16  // values on the stack
	maxStorage = 1 << 34  // bytes of one storage
	maxDims    = 8
)

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// ReadFile reads every tensor of the torch.save archive at path.
func ReadFile(path string) ([]Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	ts, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ts, nil
}

// Read reads every tensor of a torch.save archive of size bytes.
func Read(r io.ReaderAt, size int64) ([]Tensor, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, errorf("not a torch.save zip archive: %v", err)
	}
	var pkl *zip.File
	files := map[string]*zip.File{}
	for _, f := range z.File {
		files[f.Name] = f
		if strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1 {
			pkl = f
		}
	}
	if pkl == nil {
		return nil, errorf("no <name>/data.pkl in the archive")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	data, err := readEntry(pkl, maxPickle)
	if err != nil {
		return nil, err
	}
	u := unpickler{data: data}
	root, err := u.run()
	if err != nil {
		return nil, err
	}
	d, ok := root.(*dict)
	if !ok {
		return nil, errorf("data.pkl holds a %T, want a state dict", root)
	}
	storages := map[string][]byte{}
	var out []Tensor
	for _, k := range d.keys {
		name, ok := k.(string)
		if !ok {
			return nil, errorf("state dict key %v is not a string", k)
		}
		t, ok := d.vals[k].(*tensorRef)
		if !ok {
			return nil, errorf("%s is a %T, not a tensor", name, d.vals[k])
		}
		buf, ok := storages[t.storage.key]
		if !ok {
			f := files[prefix+"data/"+t.storage.key]
			if f == nil {
				return nil, errorf("%s: storage %q is not in the archive", name, t.storage.key)
			}
			if buf, err = readEntry(f, maxStorage); err != nil {
				return nil, err
			}
			storages[t.storage.key] = buf
		}
		ten, err := t.slice(name, buf)
		if err != nil {
			return nil, err
		}
		out = append(out, ten)
	}
	return out, nil
}

func readEntry(f *zip.File, limit uint64) ([]byte, error) {
	if f.UncompressedSize64 > limit {
		return nil, errorf("%s: %d bytes, over the %d limit", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, errorf("%s: %v", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	if err != nil {
		return nil, errorf("%s: %v", f.Name, err)
	}
	if uint64(len(b)) != f.UncompressedSize64 {
		return nil, errorf("%s: %d bytes, the directory says %d", f.Name, len(b), f.UncompressedSize64)
	}
	return b, nil
}

// The values the unpickler builds.
type (
	global     struct{ module, name string }
	mark       struct{}
	tuple      []any
	storageRef struct {
		dtype string
		size  int // element size
		key   string
		numel int64
	}
	tensorRef struct {
		storage     *storageRef
		offset      int64
		shape, strd []int64
	}
	dict struct {
		keys []any
		vals map[any]any
	}
)

// storageTypes are the storages torch.save writes for float tensors.
var storageTypes = map[string]struct {
	dtype string
	size  int
}{
	"FloatStorage": {"F32", 4}, "HalfStorage": {"F16", 2}, "BFloat16Storage": {"BF16", 2},
}

func allowed(module, name string) bool {
	switch module + "." + name {
	case "collections.OrderedDict", "torch._utils._rebuild_tensor_v2":
		return true
	}
	_, ok := storageTypes[name]
	return module == "torch" && ok
}

func (d *dict) set(k, v any) error {
	switch k.(type) {
	case string, int64, bool, nil:
	default:
		return errorf("dict key of type %T", k)
	}
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
	return nil
}

func newDict() *dict { return &dict{vals: map[any]any{}} }

func (t *tensorRef) slice(name string, buf []byte) (Tensor, error) {
	s := t.storage
	numel, want := int64(1), int64(1)
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strd[i] != want {
			return Tensor{}, errorf("%s: strides %v of shape %v are not contiguous", name, t.strd, t.shape)
		}
		want *= t.shape[i]
	}
	for _, n := range t.shape {
		if n > math.MaxInt64/max(numel, 1) {
			return Tensor{}, errorf("%s: shape %v overflows", name, t.shape)
		}
		numel *= n
	}
	if t.offset < 0 || t.offset > s.numel || numel > s.numel-t.offset {
		return Tensor{}, errorf("%s: %d elements at %d of a %d-element storage", name, numel, t.offset, s.numel)
	}
	if int64(len(buf)) != s.numel*int64(s.size) {
		return Tensor{}, errorf("%s: storage %q holds %d bytes, want %d", name, s.key, len(buf), s.numel*int64(s.size))
	}
	lo := t.offset * int64(s.size)
	return Tensor{Name: name, DType: s.dtype, Shape: t.shape, Data: buf[lo : lo+numel*int64(s.size)]}, nil
}

// unpickler runs the pickle opcodes torch.save emits (protocol 2).
type unpickler struct {
	data  []byte
	pos   int
	stack []any
	memo  map[int]any
}

func (u *unpickler) need(n int) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, errorf("data.pkl: truncated at byte %d", u.pos)
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *unpickler) push(v any) error {
	if len(u.stack) >= maxStack {
		return errorf("data.pkl: stack over %d values", maxStack)
	}
	u.stack = append(u.stack, v)
	return nil
}

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 {
		return nil, errorf("data.pkl: stack underflow at byte %d", u.pos)
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	if _, ok := v.(mark); ok {
		return nil, errorf("data.pkl: unexpected mark at byte %d", u.pos)
	}
	return v, nil
}

// popMark pops the values down to the last mark.
func (u *unpickler) popMark() ([]any, error) {
	for i := len(u.stack) - 1; i >= 0; i-- {
		if _, ok := u.stack[i].(mark); ok {
			vals := append([]any(nil), u.stack[i+1:]...)
			u.stack = u.stack[:i]
			return vals, nil
		}
	}
	return nil, errorf("data.pkl: no mark at byte %d", u.pos)
}

func (u *unpickler) line() (string, error) {
	for i := u.pos; i < len(u.data) && i-u.pos < 256; i++ {
		if u.data[i] == '\n' {
			s := string(u.data[u.pos:i])
			u.pos = i + 1
			return s, nil
		}
	}
	return "", errorf("data.pkl: unterminated line at byte %d", u.pos)
}

func (u *unpickler) run() (any, error) {
	u.memo = map[int]any{}
	for {
		if u.pos >= len(u.data) {
			return nil, errorf("data.pkl: no STOP")
		}
		op := u.data[u.pos]
		at := u.pos
		u.pos++
		var err error
		switch op {
		case 0x80: // PROTO
			var b []byte
			if b, err = u.need(1); err == nil && b[0] > 5 {
				err = errorf("data.pkl: pickle protocol %d", b[0])
			}
		case '.': // STOP
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			return v, nil
		case '(':
			err = u.push(mark{})
		case ')':
			err = u.push(tuple{})
		case '}':
			err = u.push(newDict())
		case ']':
			err = u.push(&[]any{})
		case 'N':
			err = u.push(nil)
		case 0x88, 0x89: // NEWTRUE, NEWFALSE
			err = u.push(op == 0x88)
		case 'K':
			var b []byte
			if b, err = u.need(1); err == nil {
				err = u.push(int64(b[0]))
			}
		case 'M':
			var b []byte
			if b, err = u.need(2); err == nil {
				err = u.push(int64(binary.LittleEndian.Uint16(b)))
			}
		case 'J':
			var b []byte
			if b, err = u.need(4); err == nil {
				err = u.push(int64(int32(binary.LittleEndian.Uint32(b))))
			}
		case 0x8a: // LONG1
			var b []byte
			if b, err = u.need(1); err == nil {
				n := int(b[0])
				if n > 8 {
					err = errorf("data.pkl: %d-byte integer at byte %d", n, at)
					break
				}
				if b, err = u.need(n); err == nil {
					var v int64
					for i := n - 1; i >= 0; i-- {
						v = v<<8 | int64(b[i])
					}
					if n > 0 && n < 8 && b[n-1]&0x80 != 0 {
						v -= 1 << (8 * n)
					}
					err = u.push(v)
				}
			}
		case 'G': // BINFLOAT
			var b []byte
			if b, err = u.need(8); err == nil {
				err = u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
			}
		case 'X', 0x8c: // BINUNICODE, SHORT_BINUNICODE
			n := 0
			if op == 'X' {
				var b []byte
				if b, err = u.need(4); err == nil {
					n = int(binary.LittleEndian.Uint32(b))
				}
			} else {
				var b []byte
				if b, err = u.need(1); err == nil {
					n = int(b[0])
				}
			}
			if err == nil {
				var b []byte
				if b, err = u.need(n); err == nil {
					err = u.push(string(b))
				}
			}
		case 'c': // GLOBAL
			var mod, name string
			if mod, err = u.line(); err == nil {
				if name, err = u.line(); err == nil {
					if !allowed(mod, name) {
						return nil, errorf("data.pkl: global %s.%s is not allowed (only tensors are read: torch._utils._rebuild_tensor_v2, torch float storages, collections.OrderedDict)", mod, name)
					}
					err = u.push(global{mod, name})
				}
			}
		case 'q', 'r': // BINPUT, LONG_BINPUT
			n := 1
			if op == 'r' {
				n = 4
			}
			var b []byte
			if b, err = u.need(n); err == nil {
				idx := int(b[0])
				if n == 4 {
					idx = int(binary.LittleEndian.Uint32(b))
				}
				if len(u.stack) == 0 {
					err = errorf("data.pkl: BINPUT on an empty stack at byte %d", at)
				} else if _, ok := u.memo[idx]; !ok && len(u.memo) >= maxMemo {
					err = errorf("data.pkl: memo over %d entries", maxMemo)
				} else {
					u.memo[idx] = u.stack[len(u.stack)-1]
				}
			}
		case 'h', 'j': // BINGET, LONG_BINGET
			n := 1
			if op == 'j' {
				n = 4
			}
			var b []byte
			if b, err = u.need(n); err == nil {
				idx := int(b[0])
				if n == 4 {
					idx = int(binary.LittleEndian.Uint32(b))
				}
				v, ok := u.memo[idx]
				if !ok {
					err = errorf("data.pkl: memo %d is not set (byte %d)", idx, at)
				} else {
					err = u.push(v)
				}
			}
		case 't':
			var vals []any
			if vals, err = u.popMark(); err == nil {
				err = u.push(tuple(vals))
			}
		case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
			n := int(op-0x85) + 1
			t := make(tuple, n)
			for i := n - 1; i >= 0 && err == nil; i-- {
				t[i], err = u.pop()
			}
			if err == nil {
				err = u.push(t)
			}
		case 'Q': // BINPERSID
			var pid any
			if pid, err = u.pop(); err == nil {
				var s *storageRef
				if s, err = persistent(pid); err == nil {
					err = u.push(s)
				}
			}
		case 'R': // REDUCE
			var args, fn any
			if args, err = u.pop(); err == nil {
				if fn, err = u.pop(); err == nil {
					var v any
					if v, err = reduce(fn, args); err == nil {
						err = u.push(v)
					}
				}
			}
		case 's': // SETITEM
			var k, v, d any
			if v, err = u.pop(); err == nil {
				if k, err = u.pop(); err == nil {
					if d, err = u.pop(); err == nil {
						dd, ok := d.(*dict)
						if !ok {
							err = errorf("data.pkl: SETITEM on a %T at byte %d", d, at)
						} else if err = dd.set(k, v); err == nil {
							err = u.push(dd)
						}
					}
				}
			}
		case 'u': // SETITEMS
			var vals []any
			if vals, err = u.popMark(); err == nil {
				var d any
				if d, err = u.pop(); err == nil {
					dd, ok := d.(*dict)
					if !ok || len(vals)%2 != 0 {
						err = errorf("data.pkl: SETITEMS on a %T with %d values at byte %d", d, len(vals), at)
					}
					for i := 0; err == nil && i < len(vals); i += 2 {
						err = dd.set(vals[i], vals[i+1])
					}
					if err == nil {
						err = u.push(dd)
					}
				}
			}
		case 'e': // APPENDS
			var vals []any
			if vals, err = u.popMark(); err == nil {
				var l any
				if l, err = u.pop(); err == nil {
					lp, ok := l.(*[]any)
					if !ok {
						err = errorf("data.pkl: APPENDS on a %T at byte %d", l, at)
					} else {
						*lp = append(*lp, vals...)
						err = u.push(lp)
					}
				}
			}
		case 'b': // BUILD: the state dict's _metadata; kept out of the tensors
			var state, obj any
			if state, err = u.pop(); err == nil {
				if obj, err = u.pop(); err == nil {
					if _, ok := obj.(*dict); !ok {
						err = errorf("data.pkl: BUILD on a %T at byte %d", obj, at)
					} else {
						_ = state
						err = u.push(obj)
					}
				}
			}
		default:
			return nil, errorf("data.pkl: opcode 0x%02x at byte %d is not one torch.save writes for tensors", op, at)
		}
		if err != nil {
			return nil, err
		}
	}
}

// persistent resolves torch.save's persistent id
// ('storage', StorageType, key, location, numel).
func persistent(pid any) (*storageRef, error) {
	t, ok := pid.(tuple)
	if !ok || len(t) != 5 || t[0] != "storage" {
		return nil, errorf("data.pkl: persistent id %v is not a storage", pid)
	}
	g, ok := t[1].(global)
	st, known := storageTypes[g.name]
	if !ok || !known {
		return nil, errorf("data.pkl: storage type %v is not supported (FloatStorage, HalfStorage, BFloat16Storage)", t[1])
	}
	key, ok1 := t[2].(string)
	numel, ok2 := t[4].(int64)
	if !ok1 || !ok2 || numel < 0 || numel > maxStorage/int64(st.size) || key == "" || strings.ContainsAny(key, "/\\.") {
		return nil, errorf("data.pkl: storage %v: bad key or size", pid)
	}
	return &storageRef{dtype: st.dtype, size: st.size, key: key, numel: numel}, nil
}

func reduce(fn, args any) (any, error) {
	g, ok := fn.(global)
	a, ok2 := args.(tuple)
	if !ok || !ok2 {
		return nil, errorf("data.pkl: REDUCE of %T with %T", fn, args)
	}
	switch g.module + "." + g.name {
	case "collections.OrderedDict":
		if len(a) != 0 {
			return nil, errorf("data.pkl: OrderedDict with arguments")
		}
		return newDict(), nil
	case "torch._utils._rebuild_tensor_v2":
		// (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
		if len(a) < 6 {
			return nil, errorf("data.pkl: _rebuild_tensor_v2 with %d arguments", len(a))
		}
		s, ok := a[0].(*storageRef)
		off, ok1 := a[1].(int64)
		shape, ok2 := ints(a[2])
		strd, ok3 := ints(a[3])
		if !ok || !ok1 || !ok2 || !ok3 || len(shape) != len(strd) || len(shape) > maxDims {
			return nil, errorf("data.pkl: _rebuild_tensor_v2 arguments %v", a[:4])
		}
		for _, n := range shape {
			if n < 0 {
				return nil, errorf("data.pkl: negative size %v", shape)
			}
		}
		return &tensorRef{storage: s, offset: off, shape: shape, strd: strd}, nil
	}
	return nil, errorf("data.pkl: %s.%s cannot be called", g.module, g.name)
}

func ints(v any) ([]int64, bool) {
	t, ok := v.(tuple)
	if !ok {
		return nil, false
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}
