package gpu

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/bitrepl/bitrepl/metal/cpu"
)

// These tests need no compiler: they check that the Go side and
// kernels.metal agree (parameter structs, sizes, kernel names, argument
// bindings) and the host-side logic (regions, validation).

func TestParamStructsMatchMSL(t *testing.T) {
	structs, err := parseStructs(source)
	if err != nil {
		t.Fatal(err)
	}
	mslType := map[string]reflect.Kind{"uint": reflect.Uint32, "int": reflect.Int32, "float": reflect.Float32}
	for name, v := range paramStructs {
		fields, ok := structs[name]
		if !ok {
			t.Errorf("kernels.metal has no struct %s", name)
			continue
		}
		rt := reflect.TypeOf(v)
		if rt.NumField() != len(fields) {
			t.Errorf("%s: Go has %d fields, MSL %d", name, rt.NumField(), len(fields))
			continue
		}
		for i, f := range fields {
			gf := rt.Field(i)
			if !strings.EqualFold(strings.ReplaceAll(f[1], "_", ""), gf.Name) || mslType[f[0]] != gf.Type.Kind() {
				t.Errorf("%s field %d: MSL %s %s, Go %s %v", name, i, f[0], f[1], gf.Name, gf.Type)
			}
		}
		if int(rt.Size()) != 4*len(fields) {
			t.Errorf("%s: Go size %d, want %d (4-byte fields, no padding)", name, rt.Size(), 4*len(fields))
		}
	}
	for name := range structs {
		if _, ok := paramStructs[name]; !ok && strings.HasSuffix(name, "Args") {
			t.Errorf("MSL struct %s has no Go mirror in paramStructs", name)
		}
	}
}

func TestDefinesMatchMSL(t *testing.T) {
	defs := parseDefines(source)
	for name, want := range mslDefines {
		if got, ok := defs[name]; !ok || got != want {
			t.Errorf("#define %s: MSL %d (present %v), Go %d", name, got, ok, want)
		}
	}
	for name := range defs {
		if _, ok := mslDefines[name]; !ok {
			t.Errorf("#define %s has no Go mirror in mslDefines", name)
		}
	}
}

// TestKernelSignatures checks the kernel table against kernels.metal: every
// kernel exists, its buffer arguments are numbered 0..n-1 in order, and the
// graph binds exactly that many (checked on real dispatches in
// TestGraphBindings).
func TestKernelSignatures(t *testing.T) {
	ks, err := parseKernels(source)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range ks {
		names = append(names, k.name)
		next := 0
		for _, p := range k.params {
			if p.attr != "buffer" {
				if p.attr == "threadgroup" && p.index != 0 {
					t.Errorf("%s: threadgroup(%d): the graph sets index 0 only", k.name, p.index)
				}
				continue
			}
			if p.index != next {
				t.Errorf("%s: parameter %s is buffer(%d), want buffer(%d)", k.name, p.name, p.index, next)
			}
			next++
		}
		if next > maxArgs {
			t.Errorf("%s: %d buffers, the graph has room for %d", k.name, next, maxArgs)
		}
		if _, err := glue([]mslKernel{k}, "x"); err != nil {
			t.Error(err)
		}
	}
	for _, n := range kernelNames {
		if !slices.Contains(names, n) {
			t.Errorf("kernel %s is not in kernels.metal", n)
		}
	}
	if len(names) != len(kernelNames) {
		t.Errorf("kernels.metal has %d kernels %v, the table %d", len(names), names, len(kernelNames))
	}
}

func TestParseKernelsRejectsLocalThreadgroupArrays(t *testing.T) {
	_, err := parseKernels("kernel void k(device float *x [[buffer(0)]]) { threadgroup float tmp[32]; }")
	if err == nil {
		t.Fatal("a local threadgroup array was accepted")
	}
	_, err = parseKernels("kernel void k(device float *x) {}")
	if err == nil {
		t.Fatal("a parameter without an attribute was accepted")
	}
}

func TestPlanRegions(t *testing.T) {
	const page = 0x1000
	ws := []span{
		{0x10010, 0x10800}, // region A: page 0x10000
		{0x10900, 0x12010}, // shares page 0x10000 with the first: A grows to 0x13000
		{0x13000, 0x13100}, // adjacent page, not shared: region B
		{0x20000, 0x20000}, // empty: copied
		{0x40000, 0x40000 + 5*page},
	}
	regions, idx := planRegions(ws, page, 4*page)
	want := []span{{0x10000, 0x13000}, {0x13000, 0x14000}}
	if !slices.Equal(regions, want) {
		t.Fatalf("regions %x, want %x", regions, want)
	}
	if wantIdx := []int{0, 0, 1, -1, -1}; !slices.Equal(idx, wantIdx) {
		t.Fatalf("idx %v, want %v (the 5-page weight is over maxLen)", idx, wantIdx)
	}
	// Order does not matter.
	regions2, idx2 := planRegions([]span{ws[2], ws[0], ws[1]}, page, 4*page)
	if !slices.Equal(regions2, want) || !slices.Equal(idx2, []int{1, 0, 0}) {
		t.Fatalf("shuffled: %x %v", regions2, idx2)
	}
}

func TestOpenWithoutMetal(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("darwin: Open may succeed")
	}
	_, err := Open()
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "Metal needs macOS") {
		t.Fatalf("Open() = %v, want ErrUnavailable", err)
	}
}

// memBackend keeps buffers in Go memory and records the graphs it is asked
// to run without running them: enough for Load, NewRunner and the graph
// structure.
type memBackend struct {
	bufs  map[bufID][]byte
	next  bufID
	graph *graph
}

func (b *memBackend) name() string { return "memory" }
func (b *memBackend) newBuffer(size int) (bufID, error) {
	b.next++
	b.bufs[b.next] = make([]byte, size)
	return b.next, nil
}
func (b *memBackend) weights(data [][]byte) ([]ref, []bufID, error) {
	var refs []ref
	var ids []bufID
	for _, d := range data {
		id, _ := b.newBuffer(len(d))
		copy(b.bufs[id], d)
		refs, ids = append(refs, ref{buf: id}), append(ids, id)
	}
	return refs, ids, nil
}
func (b *memBackend) write(id bufID, off int, src []byte) error {
	if off+len(src) > len(b.bufs[id]) {
		return fmt.Errorf("write past buffer %d", id)
	}
	copy(b.bufs[id][off:], src)
	return nil
}
func (b *memBackend) read(id bufID, off int, dst []byte) error {
	if off+len(dst) > len(b.bufs[id]) {
		return fmt.Errorf("read past buffer %d", id)
	}
	copy(dst, b.bufs[id][off:])
	return nil
}
func (b *memBackend) run(g *graph) error { b.graph = g; return nil }
func (b *memBackend) free(id bufID)      { delete(b.bufs, id) }
func (b *memBackend) close() error       { return nil }

func newMemDevice() (*Device, *memBackend) {
	b := &memBackend{bufs: map[bufID][]byte{}}
	return &Device{b: b}, b
}

// tinyWeights builds random weights of shape c (I2_S projections, an F16
// head), with projection inputs padded to cols when cols > width.
func tinyWeights(t testing.TB, c Config, typ cpu.DType, sub bool) Weights {
	t.Helper()
	mat := func(typ cpu.DType, rows, cols int) *cpu.Matrix {
		v := make([]float32, rows*cols)
		for i := range v {
			v[i] = float32((i*7919)%13) - 6
		}
		b, err := cpu.Quantize(typ, rows, cols, v)
		if err != nil {
			t.Fatal(err)
		}
		m, err := cpu.NewMatrix(typ, rows, cols, b)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	pad := func(n int) int { return (n + 255) / 256 * 256 }
	ones := func(n int) []float32 { return slices.Repeat([]float32{1}, n) }
	w := Weights{OutNorm: ones(c.Dim), Output: mat(cpu.F16, c.VocabSize, c.Dim)}
	for li := range c.Layers {
		for r := range numRoles {
			if !sub && (r == AttnSubNorm || r == FFNSubNorm) {
				continue
			}
			rows, cols := c.shape(r)
			t := Tensor{Layer: li, Role: r, Name: fmt.Sprintf("blk.%d.%v.weight", li, r), Rows: rows, Cols: cols, BitLinear: projection[r]}
			if t.BitLinear {
				t.Matrix = mat(typ, rows, pad(cols))
			} else {
				t.Vec = ones(rows)
			}
			w.Block = append(w.Block, t)
		}
	}
	return w
}

// tensor returns the tensor of w of layer li and role r.
func (w *Weights) tensor(li int, r Role) *Tensor {
	for i := range w.Block {
		if w.Block[i].Layer == li && w.Block[i].Role == r {
			return &w.Block[i]
		}
	}
	return nil
}

// forward records and runs one batch through every block in the order of
// package model's block, as the engine does.
func forward(r *Runner, pos int, x []float32, want Logits) ([]float32, error) {
	if err := r.Begin(pos, x); err != nil {
		return nil, err
	}
	for li := range r.m.cfg.Layers {
		r.NormQuant(li, AttnNorm)
		r.QKV(li)
		r.Attend(li)
		r.NormQuant(li, AttnSubNorm)
		r.AddProject(li, O)
		r.NormQuant(li, FFNNorm)
		r.GateUp(li)
		r.NormQuant(li, FFNSubNorm)
		r.AddProject(li, Down)
	}
	switch want {
	case LogitsLast:
		r.Output(r.n - 1)
	case LogitsAll:
		r.Output(0)
	}
	return r.Run()
}

// Logits says which tokens of a forward call get logits.
type Logits uint8

const (
	LogitsNone Logits = iota
	LogitsLast
	LogitsAll
)

var tinyConfig = Config{Dim: 128, FFNDim: 256, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 32, VocabSize: 50, NormEps: 1e-5}

func TestLoadValidates(t *testing.T) {
	d, _ := newMemDevice()
	c := tinyConfig
	good := tinyWeights(t, c, cpu.I2_S, true)
	if _, err := d.Load(c, good); err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, tc := range []struct {
		name        string
		edit        func(c *Config, w *Weights)
		unsupported bool
	}{
		{"layer count", func(c *Config, w *Weights) { w.Block = w.Block[:len(w.Block)/2] }, false},
		{"layer out of range", func(c *Config, w *Weights) { w.Block[3].Layer = 2 }, false},
		{"missing matrix", func(c *Config, w *Weights) { w.tensor(1, Up).Matrix = nil }, false},
		{"wrong rows", func(c *Config, w *Weights) { w.tensor(0, Q).Matrix = w.tensor(0, Gate).Matrix }, false},
		{"listed shape", func(c *Config, w *Weights) { w.tensor(0, K).Rows = 3 }, false},
		{"norm as projection", func(c *Config, w *Weights) { w.tensor(0, FFNNorm).BitLinear = true }, false},
		{"twice", func(c *Config, w *Weights) { w.Block = append(w.Block, *w.tensor(1, V)) }, false},
		{"norm length", func(c *Config, w *Weights) { t := w.tensor(0, FFNNorm); t.Vec = t.Vec[:3] }, false},
		{"head dim", func(c *Config, w *Weights) { c.HeadDim = 300 }, true},
		{"ternary head", func(c *Config, w *Weights) {
			t2 := tinyWeights(t, *c, cpu.I2_S, false)
			w.Output = t2.tensor(0, Q).Matrix
		}, false},
		{"odd heads", func(c *Config, w *Weights) { c.KVHeads = 3 }, false},
	} {
		c2 := c
		w2 := tinyWeights(t, c, cpu.I2_S, true)
		tc.edit(&c2, &w2)
		_, err := d.Load(c2, w2)
		if err == nil {
			t.Errorf("%s: Load accepted it", tc.name)
			continue
		}
		if tc.unsupported != errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v (ErrUnsupported %v, want %v)", tc.name, err, errors.Is(err, ErrUnsupported), tc.unsupported)
		}
	}
	// Every type the GPU computes loads; TQ1_0 is repacked to TQ2_0.
	for _, typ := range []cpu.DType{cpu.I2_S, cpu.TQ2_0, cpu.TQ1_0, cpu.F16, cpu.Q8_0} {
		m, err := d.Load(c, tinyWeights(t, c, typ, false))
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		if typ == cpu.TQ1_0 && m.layers[0].mats[Q].typ != cpu.TQ2_0 {
			t.Errorf("TQ1_0 uploaded as %v", m.layers[0].mats[Q].typ)
		}
		if m.float != !typ.Ternary() {
			t.Errorf("%v: float projections %v", typ, m.float)
		}
	}
}

// TestGraphBindings checks every dispatch of a decode and a prompt graph:
// the argument count of its kernel, buffers bound (none unbound), offsets
// inside their buffers, threadgroup memory a multiple of 16, and the
// layer structure (one command buffer with every layer).
func TestGraphBindings(t *testing.T) {
	ks, err := parseKernels(source)
	if err != nil {
		t.Fatal(err)
	}
	nbuf := map[string]int{}
	for _, k := range ks {
		for _, p := range k.params {
			if p.attr == "buffer" {
				nbuf[k.name]++
			}
		}
	}
	for _, typ := range []cpu.DType{cpu.I2_S, cpu.TQ2_0, cpu.F32} {
		d, mb := newMemDevice()
		c := tinyConfig
		c.RopeInterleaved = typ == cpu.TQ2_0
		m, err := d.Load(c, tinyWeights(t, c, typ, typ == cpu.I2_S))
		if err != nil {
			t.Fatal(err)
		}
		const ctx = 16
		cos, sin := make([]float32, ctx*c.HeadDim/2), make([]float32, ctx*c.HeadDim/2)
		r, err := m.NewRunner(ctx, 8, cos, sin)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			pos, n int
			want   Logits
		}{{0, 8, LogitsNone}, {8, 1, LogitsLast}, {9, 5, LogitsAll}} {
			out, err := forward(r, tc.pos, make([]float32, tc.n*c.Dim), tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if wantLen := map[Logits]int{LogitsNone: 0, LogitsLast: c.VocabSize, LogitsAll: tc.n * c.VocabSize}[tc.want]; len(out) != wantLen {
				t.Fatalf("%+v: %d logits, want %d", tc, len(out), wantLen)
			}
			g := mb.graph
			perLayer := 15
			if typ == cpu.F32 {
				perLayer += 7 // a dequant_int8 before each float projection
			}
			wantN := c.Layers * perLayer
			if tc.want != LogitsNone {
				wantN += 2
			}
			if len(g.ds) != wantN {
				t.Fatalf("%v %+v: %d dispatches, want %d", typ, tc, len(g.ds), wantN)
			}
			for i, ds := range g.ds {
				name := kernelNames[ds.kernel]
				if ds.nargs != nbuf[name] {
					t.Fatalf("%v dispatch %d (%s): %d arguments, the kernel has %d", typ, i, name, ds.nargs, nbuf[name])
				}
				for j, a := range ds.args[:ds.nargs] {
					switch a.kind {
					case argBuf:
						if b, ok := mb.bufs[a.buf]; !ok || a.off < 0 || a.off >= len(b) || a.off%4 != 0 {
							t.Fatalf("dispatch %d (%s) argument %d: offset %d in buffer %d of %d bytes", i, name, j, a.off, a.buf, len(mb.bufs[a.buf]))
						}
					case argBytes:
						if a.n == 0 || a.n%4 != 0 {
							t.Fatalf("dispatch %d (%s) argument %d: %d bytes", i, name, j, a.n)
						}
					default:
						t.Fatalf("dispatch %d (%s) argument %d is unbound", i, name, j)
					}
				}
				if ds.shared%16 != 0 || ds.threads[0]*ds.threads[1]*ds.threads[2] > 1024 || ds.groups[0] < 1 {
					t.Fatalf("dispatch %d (%s): shared %d, threads %v, groups %v", i, name, ds.shared, ds.threads, ds.groups)
				}
				if tc.n == 1 && (ds.kernel == kI2SMat || ds.kernel == kTQ2Mat) {
					t.Fatalf("decode used %s", name)
				}
			}
		}
		if _, err := forward(r, 15, make([]float32, 2*c.Dim), LogitsLast); err == nil {
			t.Fatal("Forward past the context was accepted")
		}
		if _, err := forward(r, 0, make([]float32, 9*c.Dim), LogitsLast); err == nil {
			t.Fatal("Forward over maxBatch was accepted")
		}
		if err := r.ReadKV(0, 3, 2, nil, nil); err == nil {
			t.Fatal("ReadKV of a reversed range was accepted")
		}
	}
}
