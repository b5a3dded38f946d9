// Package kvcache holds the keys and values of past positions for one sequence.
//
// The cache is a plain float32 store, one slab per layer, laid out so that the
// attention loop reads one position's keys for all KV heads contiguously:
//
//	K[layer][pos][kvHead*headDim + i]
//
// It knows nothing about models; the engine writes rows and reads them back.
package kvcache

import "fmt"

// Cache is the key/value store of one sequence. It is allocated once, at its
// full context length, so that decoding never allocates.
type Cache struct {
	layers, ctxLen, width int
	k, v                  [][]float32 // (layer) -> (ctxLen, width)
	n                     int         // positions filled
}

// New allocates a cache for layers layers, ctxLen positions and width floats
// per position (kvHeads*headDim). It panics on non-positive sizes: a
// programmer error, not an input error.
func New(layers, ctxLen, width int) *Cache {
	if layers <= 0 || ctxLen <= 0 || width <= 0 {
		panic(fmt.Sprintf("kvcache: invalid size %d layers x %d positions x %d", layers, ctxLen, width))
	}
	c := &Cache{layers: layers, ctxLen: ctxLen, width: width, k: make([][]float32, layers), v: make([][]float32, layers)}
	for l := range layers {
		c.k[l] = make([]float32, ctxLen*width)
		c.v[l] = make([]float32, ctxLen*width)
	}
	return c
}

// Len is the number of positions filled.
func (c *Cache) Len() int { return c.n }

// Cap is the context length the cache was made for.
func (c *Cache) Cap() int { return c.ctxLen }

// Width is the number of floats per position and layer.
func (c *Cache) Width() int { return c.width }

// Bytes is the memory held by the cache.
func (c *Cache) Bytes() int64 { return int64(c.layers) * int64(c.ctxLen) * int64(c.width) * 4 * 2 }

// Put stores the key and value rows of layer at position pos. Positions are
// written in order; Commit makes them visible to Len.
func (c *Cache) Put(layer, pos int, k, v []float32) {
	copy(c.k[layer][pos*c.width:(pos+1)*c.width], k)
	copy(c.v[layer][pos*c.width:(pos+1)*c.width], v)
}

// Keys returns the keys of layer for positions [0, n): n*Width floats.
func (c *Cache) Keys(layer, n int) []float32 { return c.k[layer][:n*c.width] }

// Values returns the values of layer for positions [0, n): n*Width floats.
func (c *Cache) Values(layer, n int) []float32 { return c.v[layer][:n*c.width] }

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
