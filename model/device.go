package model

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

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
// its sessions (Model.Close frees them); the session's KV cache lives on
// the device.
//
// Forward and ForwardEach run the model's blocks on the GPU backend, one
// command buffer per batch of up to 64 tokens. A forward pass with a hook
// set runs on the CPU backend, so that hooks observe the CPU's values; the
// KV cache is copied between the two when the backend changes. Truncate and
// Reset work as on the CPU.
func (m *Model) NewSessionGPU(dev *gpu.Device, ctxLen int) (*Session, error) {
	gm, err := m.gpuModel(dev)
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
	if err := g.place(s, false); err != nil {
		return err
	}
	s.gpu = nil
	return g.run.Close()
}

// gpuState is a session's GPU side, and the GPU backend of its batches:
// each operation of a block is recorded into the runner's command buffer,
// run when the batch is complete (forwardBatch).
//
// Positions [0, gpuValid) of the runner's KV cache and [0, cpuValid) of
// s.cache hold current keys and values; every forward pass extends one of
// them to the new length, so at the start of a pass (both clamped to the
// length, which Truncate may have lowered) one of them equals it.
type gpuState struct {
	run      *gpu.Runner
	name     string
	gpuValid int
	cpuValid int
	cpuRan   bool // the last forward pass ran on the CPU (a hook was set)
}

// place brings the KV cache of the backend the next pass runs on (the GPU
// when onGPU, else the CPU) up to the session's length.
func (g *gpuState) place(s *Session, onGPU bool) error {
	pos := s.cache.Len()
	if g.cpuRan {
		g.cpuValid, g.cpuRan = pos, false
	}
	g.gpuValid, g.cpuValid = min(g.gpuValid, pos), min(g.cpuValid, pos)
	if !onGPU {
		if err := g.copyKV(s, g.cpuValid, pos, false); err != nil {
			return err
		}
		g.cpuValid, g.cpuRan = pos, true
		return nil
	}
	if err := g.copyKV(s, g.gpuValid, pos, true); err != nil {
		return err
	}
	g.gpuValid = pos
	return nil
}

// forwardBatch is Session.forwardBatch on the GPU: it records the blocks
// (and the logits of rows [first, n)) into one command buffer and runs it.
// On an error the batch is not committed.
func (g *gpuState) forwardBatch(s *Session, tokens []int32, first int, each func(i int, logits []float32), base int) error {
	c := &s.m.Config
	n, pos0 := len(tokens), s.cache.Len()
	x := s.x[:n*c.Dim]
	s.m.embedRows(x, tokens)
	if err := g.run.Begin(pos0, x); err != nil {
		return err
	}
	s.m.blocks(g)
	if first < n {
		g.output(first)
	}
	out, err := g.run.Run()
	if err != nil {
		return err
	}
	copy(s.tokens[pos0:], tokens)
	s.cache.Commit(pos0 + n)
	g.gpuValid = pos0 + n
	vocab := c.VocabSize
	for t := first; t < n; t++ {
		copy(s.logits, out[(t-first)*vocab:(t-first+1)*vocab])
		if each != nil {
			each(base+t, s.logits)
		}
	}
	return nil
}

// The operations of the GPU backend (backend.go): each records its kernels.

var gpuNorms = [...]gpu.Role{attnNorm: gpu.AttnNorm, attnSubNorm: gpu.AttnSubNorm, ffnNorm: gpu.FFNNorm, ffnSubNorm: gpu.FFNSubNorm}

func (g *gpuState) normQuant(li int, norm normID, _ int) { g.run.NormQuant(li, gpuNorms[norm]) }
func (g *gpuState) qkv(li int)                           { g.run.QKV(li) }
func (g *gpuState) attend(li int)                        { g.run.Attend(li) }
func (g *gpuState) gateUp(li int)                        { g.run.GateUp(li) }
func (g *gpuState) output(first int)                     { g.run.Output(first) }

func (g *gpuState) addProject(li int, p int) {
	if p == projDown {
		g.run.AddProject(li, gpu.Down)
	} else {
		g.run.AddProject(li, gpu.O)
	}
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

// gpuUploads are a model's weights on GPU devices, uploaded once per
// device. Model.Close frees them (or the garbage collector, after the
// model).
type gpuUploads struct {
	mu sync.Mutex
	m  map[*gpu.Device]*gpu.Model
}

func (u *gpuUploads) close() error {
	if u == nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	var first error
	for d, gm := range u.m {
		if err := gm.Close(); err != nil && first == nil {
			first = err
		}
		delete(u.m, d)
	}
	return first
}

// gpuModel returns m's weights on dev, uploading them the first time.
func (m *Model) gpuModel(dev *gpu.Device) (*gpu.Model, error) {
	m.gpuMu.Lock()
	if m.gpus == nil {
		m.gpus = &gpuUploads{m: map[*gpu.Device]*gpu.Model{}}
		runtime.AddCleanup(m, func(u *gpuUploads) { u.close() }, m.gpus)
	}
	u := m.gpus
	m.gpuMu.Unlock()
	u.mu.Lock()
	defer u.mu.Unlock()
	if gm, ok := u.m[dev]; ok {
		return gm, nil
	}
	w, err := m.gpuWeights()
	if err != nil {
		return nil, err
	}
	gm, err := dev.Load(gpuConfig(&m.Config), w)
	if err != nil {
		return nil, err
	}
	u.m[dev] = gm
	return gm, nil
}

func gpuConfig(c *Config) gpu.Config {
	return gpu.Config{
		Dim: c.Dim, FFNDim: c.FFNDim, Layers: c.Layers, Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: c.HeadDim,
		VocabSize: c.VocabSize, NormEps: c.NormEps, ReLU2: c.Act == ReLU2, RopeInterleaved: c.RopeInterleaved,
	}
}

// gpuWeights lists m's block tensors for gpu.Load from the architecture's
// description (arch.go), the same table the loaders and check read.
func (m *Model) gpuWeights() (gpu.Weights, error) {
	c := &m.Config
	if c.BitLinearNorm {
		return gpu.Weights{}, fmt.Errorf("gpu: an RMSNorm inside every BitLinear (use_rms_norm) is not in the GPU graph: %w", gpu.ErrUnsupported)
	}
	w := gpu.Weights{OutNorm: m.outNorm, Output: m.output}
	for li := range m.layers {
		l := &m.layers[li]
		for _, bt := range blockOf(c) {
			if !bt.Present(c) {
				continue
			}
			rows, cols := bt.Shape(c)
			t := gpu.Tensor{Layer: li, Role: bt.role, Name: fmt.Sprintf("blk.%d.%s.weight", li, bt.GGUF), Rows: rows, Cols: cols, BitLinear: bt.Proj}
			if bt.Proj {
				t.Matrix = *bt.mat(l)
				// The GPU kernels feed every projection int8
				// activations (BitLinear); a plain layer weight
				// takes float ones.
				if t.Matrix != nil && PlainLayer(t.Matrix.Type) {
					return gpu.Weights{}, fmt.Errorf("gpu: %s is %v, a plain layer weight: those run on the CPU only: %w", t.Name, t.Matrix.Type, gpu.ErrUnsupported)
				}
			} else {
				t.Vec = *bt.vec(l)
			}
			w.Block = append(w.Block, t)
		}
	}
	return w, nil
}
