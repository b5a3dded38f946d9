// Package kvcache holds the keys and values of past positions for one sequence.
//
// The cache is a plain float32 store, one slab per layer, laid out head-major
// so that the attention of one head streams that head's keys (and values)
// for every position from contiguous memory:
//
//	K[layer][kvHead][pos][i]    i < headDim
//
// It knows nothing about models; the engine writes rows of all KV heads of a
// position (kvHeads*headDim floats, head after head) and reads one head back.
package kvcache

import "fmt"

// Cache is the key/value store of one sequence. It is allocated once, at its
// full context length, so that decoding never allocates.
type Cache struct {
	layers, ctxLen, heads, headDim int
	k, v                           [][]float32 // (layer) -> (heads, ctxLen, headDim)
	n                              int         // positions filled
}

// New allocates a cache for layers layers, ctxLen positions and heads KV
// heads of headDim floats. It panics on non-positive sizes: a programmer
// error, not an input error.
func New(layers, ctxLen, heads, headDim int) *Cache {
	if layers <= 0 || ctxLen <= 0 || heads <= 0 || headDim <= 0 {
		panic(fmt.Sprintf("kvcache: invalid size %d layers x %d positions x %d heads x %d", layers, ctxLen, heads, headDim))
	}
	c := &Cache{layers: layers, ctxLen: ctxLen, heads: heads, headDim: headDim, k: make([][]float32, layers), v: make([][]float32, layers)}
	for l := range layers {
		c.k[l] = make([]float32, heads*ctxLen*headDim)
		c.v[l] = make([]float32, heads*ctxLen*headDim)
	}
	return c
}

// Len is the number of positions filled.
func (c *Cache) Len() int { return c.n }

// Cap is the context length the cache was made for.
func (c *Cache) Cap() int { return c.ctxLen }

// Width is the number of floats per position and layer (heads*headDim).
func (c *Cache) Width() int { return c.heads * c.headDim }

// Bytes is the memory held by the cache.
func (c *Cache) Bytes() int64 {
	return int64(c.layers) * int64(c.ctxLen) * int64(c.Width()) * 4 * 2
}

// Put stores the key and value rows of layer at position pos (Width floats
// each, head after head). Positions are written in order; Commit makes them
// visible to Len.
func (c *Cache) Put(layer, pos int, k, v []float32) {
	hd := c.headDim
	for h := range c.heads {
		at := (h*c.ctxLen + pos) * hd
		copy(c.k[layer][at:at+hd], k[h*hd:(h+1)*hd])
		copy(c.v[layer][at:at+hd], v[h*hd:(h+1)*hd])
	}
}

// Head returns the keys and values of KV head h of layer for positions
// [0, n): n*headDim floats each, position after position.
func (c *Cache) Head(layer, h, n int) (keys, values []float32) {
	at := h * c.ctxLen * c.headDim
	return c.k[layer][at : at+n*c.headDim], c.v[layer][at : at+n*c.headDim]
}

// Rows copies the keys and values of layer for positions [p0, p1) into k
// and v, Width floats per position as Put takes them.
func (c *Cache) Rows(layer, p0, p1 int, k, v []float32) {
	for p := p0; p < p1; p++ {
		for h := range c.heads {
			at, row := (h*c.ctxLen+p)*c.headDim, ((p-p0)*c.heads+h)*c.headDim
			copy(k[row:row+c.headDim], c.k[layer][at:])
			copy(v[row:row+c.headDim], c.v[layer][at:])
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
