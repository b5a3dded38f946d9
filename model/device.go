package model

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/bitrepl/bitrepl/metal/gpu"
	"github.com/bitrepl/bitrepl/model/kvcache"
)

// Device says where a session computes.
type Device uint8

const (
	DeviceAuto  Device = iota // Metal when available and the model is supported, else the CPU
	DeviceCPU                 // the CPU kernels of package metal/cpu
	DeviceMetal               // the GPU through Metal (package metal/gpu); an error when unavailable
)

// String returns the flag spelling: "auto", "cpu" or "metal".
func (d Device) String() string {
	switch d {
	case DeviceAuto:
		return "auto"
	case DeviceCPU:
		return "cpu"
	case DeviceMetal:
		return "metal"
	}
	return fmt.Sprintf("Device(%d)", uint8(d))
}

// ParseDevice reads a --device value: "auto" (or ""), "cpu" or "metal",
// in any case.
func ParseDevice(s string) (Device, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return DeviceAuto, nil
	case "cpu":
		return DeviceCPU, nil
	case "metal", "gpu":
		return DeviceMetal, nil
	}
	return 0, fmt.Errorf("unknown device %q: want auto, cpu or metal", s)
}

// NewSessionOn is NewSession on device d. With DeviceMetal it fails when
// Metal is unavailable (errors.Is(err, gpu.ErrUnavailable)) or the model
// uses weights the GPU kernels do not cover (gpu.ErrUnsupported). With
// DeviceAuto it never fails: it falls back to the CPU and returns a note
// saying why, e.g. "running on the CPU: gpu: linux/amd64: Metal needs macOS
// on Apple silicon or a Mac with a Metal GPU" (the caller shows it; the note
// is "" when the session got the device asked for).
func (m *Model) NewSessionOn(d Device, ctxLen int) (s *Session, note string, err error) {
	switch d {
	case DeviceCPU:
		return m.NewSession(ctxLen), "", nil
	case DeviceAuto, DeviceMetal:
		dev, err := gpu.Default()
		if err == nil {
			s, err = m.NewSessionGPU(dev, ctxLen)
		}
		if err == nil {
			return s, "", nil
		}
		if d == DeviceMetal {
			return nil, "", err
		}
		return m.NewSession(ctxLen), "running on the CPU: " + err.Error(), nil
	}
	return nil, "", fmt.Errorf("unknown device %v", d)
}

// NewSessionGPU is NewSession on an open GPU device (gpu.Default for
// Metal). The model's weights are uploaded once per device and shared by
// its sessions; the session's KV cache lives on the device.
//
// Forward and ForwardEach run on the GPU, one command buffer per batch of
// up to 64 tokens. A forward pass with a hook set runs on the CPU, so that
// hooks observe the CPU's values; the KV cache is copied between the two
// when the device changes. Truncate and Reset work as on the CPU.
func (m *Model) NewSessionGPU(dev *gpu.Device, ctxLen int) (*Session, error) {
	gm, err := gpuModelOn(m, dev)
	if err != nil {
		return nil, err
	}
	// The GPU kernels keep float32 keys and values, so the CPU side does
	// too: a session moving between the two loses nothing.
	s := m.newSession(ctxLen, kvcache.F32)
	r, err := gm.NewRunner(s.cache.Cap(), maxBatch, s.cos, s.sin)
	if err != nil {
		return nil, err
	}
	s.gpu = &gpuState{run: r, name: dev.Name()}
	runtime.AddCleanup(s, func(r *gpu.Runner) { r.Close() }, r)
	return s, nil
}

// Device names what the session runs on: "cpu", or the GPU's name (e.g.
// "Metal: Apple M2").
func (s *Session) Device() string {
	if s.gpu == nil {
		return "cpu"
	}
	return s.gpu.name
}

// ReleaseGPU moves the session to the CPU now: it copies the KV cache back
// and frees the session's GPU buffers (which otherwise go when the session
// is garbage collected). The session keeps its positions. It does nothing
// on a CPU session.
func (s *Session) ReleaseGPU() error {
	g := s.gpu
	if g == nil {
		return nil
	}
	pos := s.cache.Len()
	if g.cpuRan {
		g.cpuValid = pos
	}
	if err := g.copyKV(s, min(g.cpuValid, pos), pos, false); err != nil {
		return err
	}
	s.gpu = nil
	return g.run.Close()
}

// gpuState is a session's GPU side. Positions [0, gpuValid) of the
// runner's KV cache and [0, cpuValid) of s.cache hold current keys and
// values; every forward pass extends one of them to the new length, so at
// the start of a pass (both clamped to the length, which Truncate may have
// lowered) one of them equals it.
type gpuState struct {
	run      *gpu.Runner
	name     string
	gpuValid int
	cpuValid int
	cpuRan   bool // the last forward pass ran on the CPU (a hook was set)
}

// gpuForward runs tokens (checked by the caller) on the GPU and returns the
// logits after the last one, calling each with the logits after every token
// when each is not nil (as ForwardEach). When a hook is set it brings the
// CPU's KV cache up to date and returns nil, nil: the caller then runs the
// CPU path. On an error the session is left as it was.
func (s *Session) gpuForward(tokens []int32, each func(i int, logits []float32)) ([]float32, error) {
	g := s.gpu
	c := &s.m.Config
	pos0 := s.cache.Len()
	if g.cpuRan {
		g.cpuValid, g.cpuRan = pos0, false
	}
	g.gpuValid, g.cpuValid = min(g.gpuValid, pos0), min(g.cpuValid, pos0)
	if hooksCompiled && s.hook != nil {
		if err := g.copyKV(s, g.cpuValid, pos0, false); err != nil {
			return nil, err
		}
		g.cpuValid, g.cpuRan = pos0, true
		return nil, nil
	}
	if err := g.copyKV(s, g.gpuValid, pos0, true); err != nil {
		return nil, err
	}
	g.gpuValid = pos0
	vocab := c.VocabSize
	for i := 0; i < len(tokens); i += maxBatch {
		n := min(maxBatch, len(tokens)-i)
		x := s.x[:n*c.Dim]
		for t, id := range tokens[i : i+n] {
			s.m.embed.Row(x[t*c.Dim:(t+1)*c.Dim], int(id))
		}
		want := gpu.LogitsNone
		switch {
		case each != nil:
			want = gpu.LogitsAll
		case i+n == len(tokens):
			want = gpu.LogitsLast
		}
		out, err := g.run.Forward(pos0+i, x, want)
		if err != nil {
			s.cache.Truncate(pos0)
			g.gpuValid = pos0
			return nil, err
		}
		copy(s.tokens[pos0+i:], tokens[i:i+n])
		s.cache.Commit(pos0 + i + n)
		g.gpuValid = pos0 + i + n
		switch want {
		case gpu.LogitsLast:
			copy(s.logits, out)
		case gpu.LogitsAll:
			for t := range n {
				copy(s.logits, out[t*vocab:(t+1)*vocab])
				each(i+t, s.logits)
			}
		}
	}
	return s.logits, nil
}

// copyKV copies positions [p0, p1) of every layer's keys and values from
// the CPU cache to the runner (toGPU) or back.
func (g *gpuState) copyKV(s *Session, p0, p1 int, toGPU bool) error {
	if p0 >= p1 {
		return nil
	}
	w := s.cache.Width()
	k, v := make([]float32, (p1-p0)*w), make([]float32, (p1-p0)*w)
	for l := range s.m.Config.Layers {
		var err error
		if toGPU {
			s.cache.Rows(l, p0, p1, k, v)
			err = g.run.WriteKV(l, p0, p1, k, v)
		} else if err = g.run.ReadKV(l, p0, p1, k, v); err == nil {
			s.cache.SetRows(l, p0, p1, k, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// gpuModels holds each model's weights on each device, uploaded once; an
// entry goes (and its buffers are released) when its model is collected.
var gpuModels struct {
	sync.Mutex
	m map[gpuKey]*gpu.Model
}

type gpuKey struct {
	m   weak.Pointer[Model]
	dev *gpu.Device
}

func gpuModelOn(m *Model, dev *gpu.Device) (*gpu.Model, error) {
	key := gpuKey{weak.Make(m), dev}
	gpuModels.Lock()
	defer gpuModels.Unlock()
	if gm, ok := gpuModels.m[key]; ok {
		return gm, nil
	}
	for _, w := range m.Weights() {
		// The GPU kernels feed every projection int8 activations
		// (BitLinear); a plain layer weight takes float ones.
		if strings.HasPrefix(w.Name, "blk.") && PlainLayer(w.Matrix.Type) {
			return nil, fmt.Errorf("gpu: %s is %v, a plain layer weight: those run on the CPU only: %w", w.Name, w.Matrix.Type, gpu.ErrUnsupported)
		}
	}
	if m.Config.BitLinearNorm {
		return nil, fmt.Errorf("gpu: an RMSNorm inside every BitLinear (use_rms_norm) is not in the GPU graph: %w", gpu.ErrUnsupported)
	}
	gm, err := dev.Load(gpuConfig(&m.Config), gpuWeights(m))
	if err != nil {
		return nil, err
	}
	if gpuModels.m == nil {
		gpuModels.m = map[gpuKey]*gpu.Model{}
	}
	gpuModels.m[key] = gm
	runtime.AddCleanup(m, func(k gpuKey) {
		gpuModels.Lock()
		gm := gpuModels.m[k]
		delete(gpuModels.m, k)
		gpuModels.Unlock()
		if gm != nil {
			gm.Close()
		}
	}, key)
	return gm, nil
}

func gpuConfig(c *Config) gpu.Config {
	return gpu.Config{
		Dim: c.Dim, FFNDim: c.FFNDim, Layers: c.Layers, Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: c.HeadDim,
		VocabSize: c.VocabSize, NormEps: c.NormEps, ReLU2: c.Act == ReLU2, RopeInterleaved: c.RopeInterleaved,
	}
}

func gpuWeights(m *Model) gpu.Weights {
	w := gpu.Weights{OutNorm: m.outNorm, Output: m.output, Layers: make([]gpu.Layer, len(m.layers))}
	for i, l := range m.layers {
		w.Layers[i] = gpu.Layer{
			AttnNorm: l.AttnNorm, Q: l.Q, K: l.K, V: l.V, AttnSubNorm: l.AttnSubNorm, O: l.O,
			FFNNorm: l.FFNNorm, Gate: l.Gate, Up: l.Up, FFNSubNorm: l.FFNSubNorm, Down: l.Down,
		}
	}
	return w
}
