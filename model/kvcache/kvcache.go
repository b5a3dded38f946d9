// Package kvcache holds the keys and values of past positions for one sequence.
//
// The cache holds one slab per layer, laid out head-major so that the
// attention of one head streams that head's keys (and values) for every
// position from contiguous memory:
//
//	K[layer][kvHead][pos][i]    i < headDim
//
// Entries are IEEE half floats (F16, the default, as llama.cpp's), float32
// (F32: exact, twice the memory and twice the bytes read per token) or
// Q8_0 blocks (llama.cpp's q8_0: 34 bytes per 32 entries, a little over half
// of F16's bytes), each position's head one row of headDim/32 blocks.
//
// It knows nothing about models; the engine writes rows of all KV heads of a
// position (kvHeads*headDim floats, head after head) and reads one head back.
//
// Its memory faults in as positions are written, and on Linux moves into
// huge pages as it fills (huge.go).
//
// It imports metal/cpu (half floats, huge pages) only.
package kvcache

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// Type is how the cache stores an entry. The zero value is F16.
type Type uint8

const (
	// F16 rounds keys and values to IEEE binary16 (to nearest even): half
	// the memory of F32 and half the bytes attention reads per token.
	F16 Type = iota
	// F32 keeps keys and values exactly as computed.
	F32
	// Q8_0 quantizes each head's keys and values per block of 32 entries
	// to int8 with an f16 scale, as llama.cpp's q8_0 cache (cpu.ToQ8_0).
	Q8_0
)

// String returns "f16", "f32" or "q8_0", the names ParseType takes.
func (t Type) String() string {
	switch t {
	case F16:
		return "f16"
	case F32:
		return "f32"
	case Q8_0:
		return "q8_0"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ParseType parses a cache type name ("f16", "f32", "q8_0"; any case).
func ParseType(s string) (Type, error) {
	switch strings.ToLower(s) {
	case "f16":
		return F16, nil
	case "f32":
		return F32, nil
	case "q8_0":
		return Q8_0, nil
	}
	return 0, fmt.Errorf("unknown KV cache type %q (want f16, f32 or q8_0)", s)
}

// RowBytes is the size of one head's keys (or values) at one position, in a
// cache of type t for heads of headDim entries.
func (t Type) RowBytes(headDim int) int {
	switch t {
	case F32:
		return 4 * headDim
	case Q8_0:
		return cpu.Q8RowBytes(headDim)
	}
	return 2 * headDim
}

// Cache is the key/value store of one sequence. It is allocated once, at its
// full context length, so that decoding never allocates.
type Cache struct {
	typ                            Type
	layers, ctxLen, heads, headDim int
	k, v                           [][]float32 // F32: (layer) -> (heads, ctxLen, headDim)
	kh, vh                         [][]uint16  // F16: the same
	kq, vq                         [][]byte    // Q8_0: (layer) -> (heads, ctxLen, rowBytes)
	rowBytes                       int         // bytes of one head at one position
	n                              int         // positions filled
	huge                           *hugePlan   // when to move filled memory into huge pages; nil: never
}

// New allocates a cache of type t for layers layers, ctxLen positions and
// heads KV heads of headDim floats. It panics on non-positive sizes or an
// unknown type: a programmer error, not an input error.
func New(layers, ctxLen, heads, headDim int, t Type) *Cache {
	if layers <= 0 || ctxLen <= 0 || heads <= 0 || headDim <= 0 || t > Q8_0 {
		panic(fmt.Sprintf("kvcache: invalid cache %v of %d layers x %d positions x %d heads x %d", t, layers, ctxLen, heads, headDim))
	}
	c := &Cache{typ: t, layers: layers, ctxLen: ctxLen, heads: heads, headDim: headDim, rowBytes: t.RowBytes(headDim)}
	slab := heads * ctxLen * c.rowBytes // bytes of one layer's keys (or values)
	var mem []byte
	mem, c.huge = allocate(2*layers*slab, slab, ctxLen, heads, c.rowBytes)
	for l := range layers {
		k, v := mem[2*l*slab:(2*l+1)*slab:(2*l+1)*slab], mem[(2*l+1)*slab:(2*l+2)*slab:(2*l+2)*slab]
		switch t {
		case F32:
			c.k, c.v = append(c.k, view[float32](k)), append(c.v, view[float32](v))
		case F16:
			c.kh, c.vh = append(c.kh, view[uint16](k)), append(c.vh, view[uint16](v))
		case Q8_0:
			c.kq, c.vq = append(c.kq, k), append(c.vq, v)
		}
	}
	return c
}

// view is b as a slice of E (b's length is a multiple of E's size, its start
// aligned for E).
func view[E float32 | uint16](b []byte) []E {
	var e E
	return unsafe.Slice((*E)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(e)))
}

// Type is how the cache stores entries.
func (c *Cache) Type() Type { return c.typ }

// Len is the number of positions filled.
func (c *Cache) Len() int { return c.n }

// Cap is the context length the cache was made for.
func (c *Cache) Cap() int { return c.ctxLen }

// Width is the number of floats per position and layer (heads*headDim).
func (c *Cache) Width() int { return c.heads * c.headDim }

// Bytes is the memory held by the cache.
func (c *Cache) Bytes() int64 {
	return int64(c.layers) * int64(c.ctxLen) * int64(c.heads) * int64(c.rowBytes) * 2
}

// Put stores the key and value rows of layer at position pos (Width floats
// each, head after head), rounded to the cache's type. Positions are
// written in order; Commit makes them visible to Len.
func (c *Cache) Put(layer, pos int, k, v []float32) {
	hd := c.headDim
	for h := range c.heads {
		if c.typ == Q8_0 {
			rb := c.rowBytes
			at := (h*c.ctxLen + pos) * rb
			cpu.ToQ8_0(c.kq[layer][at:at+rb], k[h*hd:(h+1)*hd])
			cpu.ToQ8_0(c.vq[layer][at:at+rb], v[h*hd:(h+1)*hd])
			continue
		}
		at := (h*c.ctxLen + pos) * hd
		if c.typ == F32 {
			copy(c.k[layer][at:at+hd], k[h*hd:(h+1)*hd])
			copy(c.v[layer][at:at+hd], v[h*hd:(h+1)*hd])
			continue
		}
		cpu.ToF16(c.kh[layer][at:at+hd], k[h*hd:(h+1)*hd])
		cpu.ToF16(c.vh[layer][at:at+hd], v[h*hd:(h+1)*hd])
	}
}

// Head returns the keys and values of KV head h of layer for positions
// [0, n) of an F32 cache: n*headDim floats each, position after position.
// HeadF16 is the same for an F16 cache.
func (c *Cache) Head(layer, h, n int) (keys, values []float32) {
	at := h * c.ctxLen * c.headDim
	return c.k[layer][at : at+n*c.headDim], c.v[layer][at : at+n*c.headDim]
}

// HeadF16 is Head for an F16 cache.
func (c *Cache) HeadF16(layer, h, n int) (keys, values []uint16) {
	at := h * c.ctxLen * c.headDim
	return c.kh[layer][at : at+n*c.headDim], c.vh[layer][at : at+n*c.headDim]
}

// HeadQ8 is Head for a Q8_0 cache: n rows of cpu.Q8RowBytes(headDim) bytes
// each.
func (c *Cache) HeadQ8(layer, h, n int) (keys, values []byte) {
	at := h * c.ctxLen * c.rowBytes
	return c.kq[layer][at : at+n*c.rowBytes], c.vq[layer][at : at+n*c.rowBytes]
}

// Rows copies the keys and values of layer for positions [p0, p1) into k
// and v, Width floats per position as Put takes them (as stored: rounded
// in an F16 or Q8_0 cache).
func (c *Cache) Rows(layer, p0, p1 int, k, v []float32) {
	hd := c.headDim
	for p := p0; p < p1; p++ {
		for h := range c.heads {
			at, row := (h*c.ctxLen+p)*hd, ((p-p0)*c.heads+h)*hd
			if c.typ == Q8_0 {
				rb := c.rowBytes
				at := (h*c.ctxLen + p) * rb
				cpu.FromQ8_0(k[row:row+hd], c.kq[layer][at:at+rb])
				cpu.FromQ8_0(v[row:row+hd], c.vq[layer][at:at+rb])
				continue
			}
			if c.typ == F32 {
				copy(k[row:row+hd], c.k[layer][at:])
				copy(v[row:row+hd], c.v[layer][at:])
				continue
			}
			cpu.FromF16(k[row:row+hd], c.kh[layer][at:at+hd])
			cpu.FromF16(v[row:row+hd], c.vh[layer][at:at+hd])
		}
	}
}

// SetRows stores positions [p0, p1) of layer from k and v, laid out as Rows
// gives them.
func (c *Cache) SetRows(layer, p0, p1 int, k, v []float32) {
	w := c.Width()
	for p := p0; p < p1; p++ {
		c.Put(layer, p, k[(p-p0)*w:(p-p0+1)*w], v[(p-p0)*w:(p-p0+1)*w])
	}
}

// Commit marks positions [0, n) as filled.
func (c *Cache) Commit(n int) {
	if n < 0 || n > c.ctxLen {
		panic(fmt.Sprintf("kvcache: commit %d outside [0, %d]", n, c.ctxLen))
	}
	c.n = n
	if c.huge != nil {
		c.huge.reach(n)
	}
}

// Truncate forgets every position from n on (to regenerate or rewind a
// conversation). Truncating to more than Len is a no-op.
func (c *Cache) Truncate(n int) {
	if n < 0 {
		n = 0
	}
	if n < c.n {
		c.n = n
	}
}
