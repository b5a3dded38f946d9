package inspect

import (
	"errors"
	"fmt"
	"slices"

	"github.com/bitrepl/bitrepl/model"
	"github.com/bitrepl/bitrepl/model/safetensors"
)

// ErrCacheFull is returned by RunWithCache when the chosen sites do not fit
// in the cache's memory bound.
var ErrCacheFull = errors.New("activation cache is full")

// DefaultCacheBytes bounds a Cache whose MaxBytes is 0: 256 MiB.
const DefaultCacheBytes = 256 << 20

// Cache is a model.Hook that keeps a copy of the values of chosen sites and
// layers at every position, as float32, within MaxBytes: what
// TransformerLens calls run_with_cache. When a value would not fit it is
// dropped and Err is set (ErrCacheFull).
type Cache struct {
	Sites    []model.Site // nil: every site
	Layers   []int        // nil: every layer (sites outside the blocks are always kept)
	MaxBytes int64        // 0: DefaultCacheBytes

	Bytes int64 // held now
	Err   error

	values map[valueKey][]float32
}

// Want implements model.Hook.
func (c *Cache) Want(site model.Site, layer int) bool {
	if c.Sites != nil && !slices.Contains(c.Sites, site) {
		return false
	}
	return layer < 0 || c.Layers == nil || slices.Contains(c.Layers, layer)
}

// Observe implements model.Hook.
func (c *Cache) Observe(site model.Site, layer, pos int, data []float32) {
	limit := c.MaxBytes
	if limit <= 0 {
		limit = DefaultCacheBytes
	}
	k := valueKey{site, layer, pos}
	old := c.values[k]
	if c.Bytes-int64(4*len(old))+int64(4*len(data)) > limit {
		if c.Err == nil {
			c.Err = fmt.Errorf("%w: %s at layer %d position %d needs more than the %d MiB allowed", ErrCacheFull, site, layer, pos, limit>>20)
		}
		return
	}
	if c.values == nil {
		c.values = map[valueKey][]float32{}
	}
	c.Bytes += int64(4 * (len(data) - len(old)))
	c.values[k] = append(old[:0], data...)
}

// Get returns the values of site at layer and pos (nil, false when not kept).
func (c *Cache) Get(site model.Site, layer, pos int) ([]float32, bool) {
	v, ok := c.values[valueKey{site, layer, pos}]
	return v, ok
}

// Positions lists the positions kept for site at layer, ascending.
func (c *Cache) Positions(site model.Site, layer int) []int {
	return c.recorder().Positions(site, layer)
}

// Reset empties the cache (the settings stay).
func (c *Cache) Reset() { c.values, c.Bytes, c.Err = nil, 0, nil }

func (c *Cache) recorder() *Recorder { return &Recorder{values: c.values} }

// HiddenStates returns the values of site as one tensor per layer, shape
// (positions, width), as Recorder.HiddenStates.
func (c *Cache) HiddenStates(site model.Site) ([]safetensors.Tensor, error) {
	return c.recorder().HiddenStates(site)
}

// Export writes the values of site as Recorder.ExportHiddenStates does: a
// .safetensors or a .npy file.
func (c *Cache) Export(site model.Site, path string) error {
	return c.recorder().ExportHiddenStates(site, path)
}

// RunWithCache evaluates tokens on s (from its current position) with c
// recording, and returns the logits after every token. s is left without
// a hook. It fails with ErrCacheFull (after the pass) when
// the values did not fit.
func RunWithCache(s *model.Session, tokens []int32, c *Cache) ([][]float32, error) {
	return runWith(s, tokens, c, func() error { return c.Err })
}

// runWith runs tokens on s with hook h, then reports check's error.
func runWith(s *model.Session, tokens []int32, h model.Hook, check func() error) ([][]float32, error) {
	s.SetHook(h)
	defer s.SetHook(nil)
	logits, err := s.ForwardAll(tokens)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(); err != nil {
			return logits, err
		}
	}
	return logits, nil
}

// Mean is the mean over the kept positions of site at layer, channel by
// channel: the value of a mean ablation (Set(mean)).
func (c *Cache) Mean(site model.Site, layer int) ([]float32, error) {
	pos := c.Positions(site, layer)
	if len(pos) == 0 {
		return nil, fmt.Errorf("no %s values kept at layer %d", site, layer)
	}
	var sum []float64
	for _, p := range pos {
		v, _ := c.Get(site, layer, p)
		if sum == nil {
			sum = make([]float64, len(v))
		}
		if len(v) != len(sum) {
			return nil, fmt.Errorf("%s at layer %d: position %d has %d values, others %d", site, layer, p, len(v), len(sum))
		}
		for i, x := range v {
			sum[i] += float64(x)
		}
	}
	out := make([]float32, len(sum))
	for i, s := range sum {
		out[i] = float32(s / float64(len(pos)))
	}
	return out, nil
}
