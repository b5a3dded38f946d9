//go:build darwin

package gpu

// The Metal backend: Metal.framework through the Objective-C runtime
// (purego's objc package, no cgo). Objects made by new*/alloc are owned (+1)
// and released in free/close; everything else is autoreleased into a pool
// drained after each call that makes such objects.
//
// None of this file runs on Linux: the tests there run the same graphs on
// the C++ emulation of the kernels (emu_test.go). On a Mac, `go test
// ./metal/gpu/` runs every kernel test on this backend as well.

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/ebitengine/purego/objc"
)

// mtlSize is MTLSize (three NSUInteger).
type mtlSize struct{ W, H, D uintptr }

const (
	mtlStorageShared         = 0 // MTLResourceStorageModeShared
	mtlCommandBufferComplete = 4 // MTLCommandBufferStatusCompleted
	nsUTF8StringEncoding     = 4
)

// Selectors and classes, registered once.
var (
	objcOnce sync.Once
	sel      struct {
		alloc, new, release, retain, drain, initWithBytes, utf8, localizedDescription    objc.SEL
		name, newCommandQueue, maxBufferLength, newLibrary, newFunction, newPipeline     objc.SEL
		setFastMath, threadWidth, maxThreads, newBuffer, newBufferBytes, newBufferNoCopy objc.SEL
		contents, commandBuffer, computeEncoder, setPipeline, setBuffer, setBytes        objc.SEL
		setThreadgroupMemory, dispatch, endEncoding, commit, waitUntilCompleted, status  objc.SEL
		errorSel, count, objectAtIndex                                                   objc.SEL
	}
	classNSString, classPool, classCompileOptions objc.ID
	msgSendFn                                     uintptr // objc_msgSend, for the encoder's hot calls
)

func initObjC() {
	r := objc.RegisterName
	s := &sel
	s.alloc, s.new, s.release, s.retain, s.drain = r("alloc"), r("new"), r("release"), r("retain"), r("drain")
	s.initWithBytes, s.utf8, s.localizedDescription = r("initWithBytes:length:encoding:"), r("UTF8String"), r("localizedDescription")
	s.name, s.newCommandQueue, s.maxBufferLength = r("name"), r("newCommandQueue"), r("maxBufferLength")
	s.newLibrary, s.newFunction = r("newLibraryWithSource:options:error:"), r("newFunctionWithName:")
	s.newPipeline = r("newComputePipelineStateWithFunction:error:")
	s.setFastMath, s.threadWidth, s.maxThreads = r("setFastMathEnabled:"), r("threadExecutionWidth"), r("maxTotalThreadsPerThreadgroup")
	s.newBuffer, s.newBufferBytes = r("newBufferWithLength:options:"), r("newBufferWithBytes:length:options:")
	s.newBufferNoCopy = r("newBufferWithBytesNoCopy:length:options:deallocator:")
	s.contents, s.commandBuffer, s.computeEncoder = r("contents"), r("commandBuffer"), r("computeCommandEncoder")
	s.setPipeline, s.setBuffer, s.setBytes = r("setComputePipelineState:"), r("setBuffer:offset:atIndex:"), r("setBytes:length:atIndex:")
	s.setThreadgroupMemory = r("setThreadgroupMemoryLength:atIndex:")
	s.dispatch = r("dispatchThreadgroups:threadsPerThreadgroup:")
	s.endEncoding, s.commit, s.waitUntilCompleted, s.status = r("endEncoding"), r("commit"), r("waitUntilCompleted"), r("status")
	s.errorSel, s.count, s.objectAtIndex = r("error"), r("count"), r("objectAtIndex:")
	if h, err := purego.Dlopen("/usr/lib/libobjc.A.dylib", purego.RTLD_LAZY|purego.RTLD_GLOBAL); err == nil {
		msgSendFn, _ = purego.Dlsym(h, "objc_msgSend")
	}
	classNSString = objc.ID(objc.GetClass("NSString"))
	classPool = objc.ID(objc.GetClass("NSAutoreleasePool"))
	classCompileOptions = objc.ID(objc.GetClass("MTLCompileOptions"))
}

// send2 and send3 send a message with integer (or pointer) arguments and no
// result straight through objc_msgSend: the encoder makes thousands of these
// calls per token, and objc.ID.Send marshals each through reflection.
func send2(id objc.ID, s objc.SEL, a, b uintptr) {
	purego.SyscallN(msgSendFn, uintptr(id), uintptr(s), a, b)
}

func send3(id objc.ID, s objc.SEL, a, b, c uintptr) {
	purego.SyscallN(msgSendFn, uintptr(id), uintptr(s), a, b, c)
}

// withPool runs f on a locked OS thread inside an autorelease pool.
func withPool(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pool := classPool.Send(sel.new)
	defer pool.Send(sel.drain)
	return f()
}

// nsString returns an owned NSString holding s.
func nsString(s string) objc.ID {
	b := append([]byte(s), 0)
	str := classNSString.Send(sel.alloc).Send(sel.initWithBytes, unsafe.Pointer(&b[0]), uintptr(len(s)), uintptr(nsUTF8StringEncoding))
	runtime.KeepAlive(b)
	return str
}

// goString copies an NSString.
func goString(ns objc.ID) string {
	if ns == 0 {
		return ""
	}
	p := objc.Send[unsafe.Pointer](ns, sel.utf8)
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(p), n))
}

// errorText is the localizedDescription of an NSError (or what to say when
// Metal gave none).
func errorText(e objc.ID, fallback string) string {
	if e == 0 {
		return fallback
	}
	if s := goString(e.Send(sel.localizedDescription)); s != "" {
		return s
	}
	return fallback
}

type mtlBuffer struct {
	id  objc.ID
	mem []byte // contents (nil for weights)
}

type metalBackend struct {
	dev, queue objc.ID
	pipes      [numKernels]objc.ID
	devName    string
	maxLen     uintptr

	mu   sync.RWMutex
	bufs map[bufID]*mtlBuffer
	next bufID
}

// kernelThreads is the threadgroup size each kernel is dispatched with.
var kernelThreads = [numKernels]int{
	kNormQuant: normThreads, kI2SVec: ternSG * simdWidth, kI2SMat: ternSG * simdWidth,
	kTQ2Vec: ternSG * simdWidth, kTQ2Mat: ternSG * simdWidth, kMatF32: floatSG * simdWidth,
	kMatF16: floatSG * simdWidth, kMatBF16: floatSG * simdWidth, kMatQ8_0: floatSG * simdWidth,
	kMatQ4_0: floatSG * simdWidth, kMatQ6K: floatSG * simdWidth, kRope: elemThreads,
	kAttention: attThreads, kActMul: elemThreads, kDequantInt8: elemThreads,
}

func openMetal() (backend, error) {
	h, err := purego.Dlopen("/System/Library/Frameworks/Metal.framework/Metal", purego.RTLD_LAZY|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("gpu: loading Metal.framework: %v: %w", err, ErrUnavailable)
	}
	// Command-line programs must link CoreGraphics for the system to offer
	// a default Metal device.
	_, _ = purego.Dlopen("/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics", purego.RTLD_LAZY|purego.RTLD_GLOBAL)
	objcOnce.Do(initObjC)
	b := &metalBackend{bufs: map[bufID]*mtlBuffer{}}
	err = withPool(func() error {
		if sym, err := purego.Dlsym(h, "MTLCreateSystemDefaultDevice"); err == nil {
			d, _, _ := purego.SyscallN(sym)
			b.dev = objc.ID(d)
		}
		if b.dev == 0 {
			if sym, err := purego.Dlsym(h, "MTLCopyAllDevices"); err == nil {
				all, _, _ := purego.SyscallN(sym)
				if arr := objc.ID(all); arr != 0 {
					if uintptr(arr.Send(sel.count)) > 0 {
						b.dev = arr.Send(sel.objectAtIndex, uintptr(0)).Send(sel.retain)
					}
					arr.Send(sel.release)
				}
			}
		}
		if b.dev == 0 {
			return fmt.Errorf("gpu: the system offers no Metal device: %w", ErrUnavailable)
		}
		if msgSendFn == 0 {
			return &MetalError{Op: "dlsym objc_msgSend", Msg: "not found in libobjc"}
		}
		b.devName = "Metal: " + goString(b.dev.Send(sel.name))
		b.maxLen = uintptr(b.dev.Send(sel.maxBufferLength))
		b.queue = b.dev.Send(sel.newCommandQueue)
		if b.queue == 0 {
			return &MetalError{Op: "newCommandQueue", Msg: "no queue"}
		}
		return b.compile()
	})
	if err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// compile builds the library from the embedded source and a pipeline per
// kernel, with fast math off (the exact integer paths need IEEE rounding).
func (b *metalBackend) compile() error {
	src := nsString(source)
	defer src.Send(sel.release)
	opts := classCompileOptions.Send(sel.new)
	defer opts.Send(sel.release)
	opts.Send(sel.setFastMath, false)
	var errObj objc.ID
	lib := b.dev.Send(sel.newLibrary, src, opts, unsafe.Pointer(&errObj))
	if lib == 0 {
		return &MetalError{Op: "compile kernels.metal", Msg: errorText(errObj, "no library and no error")}
	}
	defer lib.Send(sel.release)
	for k := kernelID(0); k < numKernels; k++ {
		name := nsString(kernelNames[k])
		fn := lib.Send(sel.newFunction, name)
		name.Send(sel.release)
		if fn == 0 {
			return &MetalError{Op: "newFunctionWithName", Msg: "kernels.metal has no kernel " + kernelNames[k]}
		}
		errObj = 0
		p := b.dev.Send(sel.newPipeline, fn, unsafe.Pointer(&errObj))
		fn.Send(sel.release)
		if p == 0 {
			return &MetalError{Op: "pipeline " + kernelNames[k], Msg: errorText(errObj, "no pipeline and no error")}
		}
		b.pipes[k] = p
		if w := int(p.Send(sel.threadWidth)); w != simdWidth {
			return fmt.Errorf("gpu: %s: simdgroups are %d threads wide, the kernels need %d: %w", b.devName, w, simdWidth, ErrUnavailable)
		}
		if mt := int(p.Send(sel.maxThreads)); mt < kernelThreads[k] {
			return fmt.Errorf("gpu: %s: kernel %s allows %d threads per threadgroup, it needs %d: %w", b.devName, kernelNames[k], mt, kernelThreads[k], ErrUnavailable)
		}
	}
	return nil
}

func (b *metalBackend) name() string { return b.devName }

func (b *metalBackend) add(id objc.ID, mem []byte) bufID {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	b.bufs[b.next] = &mtlBuffer{id: id, mem: mem}
	return b.next
}

func (b *metalBackend) get(id bufID) (*mtlBuffer, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	mb, ok := b.bufs[id]
	if !ok {
		return nil, fmt.Errorf("gpu: no buffer %d", id)
	}
	return mb, nil
}

func (b *metalBackend) newBuffer(size int) (bufID, error) {
	if size <= 0 || uintptr(size) > b.maxLen {
		return 0, &MetalError{Op: "newBufferWithLength", Msg: fmt.Sprintf("%d bytes (the device allows up to %d)", size, b.maxLen)}
	}
	id := b.dev.Send(sel.newBuffer, uintptr(size), uintptr(mtlStorageShared))
	if id == 0 {
		return 0, &MetalError{Op: "newBufferWithLength", Msg: fmt.Sprintf("no buffer of %d bytes", size)}
	}
	p := objc.Send[unsafe.Pointer](id, sel.contents)
	return b.add(id, unsafe.Slice((*byte)(p), size)), nil
}

// weights wraps the page-aligned regions around the weights without copying
// (memory-mapped files stay shared with the GPU) and copies the rest.
func (b *metalBackend) weights(data [][]byte) ([]ref, []bufID, error) {
	spans := make([]span, len(data))
	for i, d := range data {
		spans[i] = dataSpan(d)
	}
	regions, idx := planRegions(spans, uintptr(os.Getpagesize()), b.maxLen)
	refs := make([]ref, len(data))
	var bufs []bufID
	regionBuf := make([]bufID, len(regions))
	for i, d := range data {
		r := idx[i]
		if r < 0 {
			continue
		}
		if regionBuf[r] == 0 {
			// The region starts at this (its lowest) weight's page.
			base := unsafe.Add(unsafe.Pointer(unsafe.SliceData(d)), -int(spans[i].start-regions[r].start))
			id := b.dev.Send(sel.newBufferNoCopy, base, regions[r].end-regions[r].start, uintptr(mtlStorageShared), uintptr(0))
			if id == 0 {
				regionBuf[r] = ^bufID(0) // refused: copy its weights
			} else {
				regionBuf[r] = b.add(id, nil)
				bufs = append(bufs, regionBuf[r])
			}
		}
		if regionBuf[r] != ^bufID(0) {
			refs[i] = ref{buf: regionBuf[r], off: int(spans[i].start - regions[r].start)}
		}
	}
	for i, d := range data {
		if refs[i].buf != 0 {
			continue
		}
		if len(d) == 0 || uintptr(len(d)) > b.maxLen {
			for _, x := range bufs {
				b.free(x)
			}
			return nil, nil, &MetalError{Op: "newBufferWithBytes", Msg: fmt.Sprintf("weight %d has %d bytes (the device allows up to %d)", i, len(d), b.maxLen)}
		}
		id := b.dev.Send(sel.newBufferBytes, unsafe.Pointer(unsafe.SliceData(d)), uintptr(len(d)), uintptr(mtlStorageShared))
		if id == 0 {
			for _, x := range bufs {
				b.free(x)
			}
			return nil, nil, &MetalError{Op: "newBufferWithBytes", Msg: fmt.Sprintf("no buffer of %d bytes", len(d))}
		}
		refs[i] = ref{buf: b.add(id, nil)}
		bufs = append(bufs, refs[i].buf)
	}
	return refs, bufs, nil
}

func (b *metalBackend) write(id bufID, off int, src []byte) error {
	mb, err := b.get(id)
	if err != nil {
		return err
	}
	if off < 0 || off+len(src) > len(mb.mem) {
		return fmt.Errorf("gpu: write of %d bytes at %d into a %d-byte buffer", len(src), off, len(mb.mem))
	}
	copy(mb.mem[off:], src)
	return nil
}

func (b *metalBackend) read(id bufID, off int, dst []byte) error {
	mb, err := b.get(id)
	if err != nil {
		return err
	}
	if off < 0 || off+len(dst) > len(mb.mem) {
		return fmt.Errorf("gpu: read of %d bytes at %d from a %d-byte buffer", len(dst), off, len(mb.mem))
	}
	copy(dst, mb.mem[off:])
	return nil
}

// run encodes g into one command buffer (one compute encoder, serial
// dispatches), commits it and waits.
func (b *metalBackend) run(g *graph) error {
	// Resolve every buffer first: a bad graph is a Go error, not an
	// Objective-C exception.
	ids := make([][maxArgs]objc.ID, len(g.ds))
	for di := range g.ds {
		d := &g.ds[di]
		for i, a := range d.args[:d.nargs] {
			if a.kind != argBuf {
				continue
			}
			mb, err := b.get(a.buf)
			if err != nil {
				return fmt.Errorf("gpu: dispatch %d (%v) argument %d: %w", di, d.kernel, i, err)
			}
			ids[di][i] = mb.id
		}
	}
	return withPool(func() error {
		cb := b.queue.Send(sel.commandBuffer)
		if cb == 0 {
			return &MetalError{Op: "commandBuffer", Msg: "no command buffer"}
		}
		enc := cb.Send(sel.computeEncoder)
		if enc == 0 {
			return &MetalError{Op: "computeCommandEncoder", Msg: "no encoder"}
		}
		for di := range g.ds {
			d := &g.ds[di]
			purego.SyscallN(msgSendFn, uintptr(enc), uintptr(sel.setPipeline), uintptr(b.pipes[d.kernel]))
			for i, a := range d.args[:d.nargs] {
				switch a.kind {
				case argBuf:
					send3(enc, sel.setBuffer, uintptr(ids[di][i]), uintptr(a.off), uintptr(i))
				case argBytes:
					p := g.argBytes(a) // g.bytes is heap memory, kept alive below
					send3(enc, sel.setBytes, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), uintptr(i))
				}
			}
			if d.shared > 0 {
				send2(enc, sel.setThreadgroupMemory, uintptr(d.shared), 0)
			}
			enc.Send(sel.dispatch,
				mtlSize{uintptr(d.groups[0]), uintptr(d.groups[1]), uintptr(d.groups[2])},
				mtlSize{uintptr(d.threads[0]), uintptr(d.threads[1]), uintptr(d.threads[2])})
		}
		enc.Send(sel.endEncoding)
		cb.Send(sel.commit)
		cb.Send(sel.waitUntilCompleted)
		runtime.KeepAlive(g.bytes)
		if st := uintptr(cb.Send(sel.status)); st != mtlCommandBufferComplete {
			return &MetalError{Op: "command buffer", Msg: errorText(cb.Send(sel.errorSel), fmt.Sprintf("status %d", st))}
		}
		return nil
	})
}

func (b *metalBackend) free(id bufID) {
	b.mu.Lock()
	mb, ok := b.bufs[id]
	delete(b.bufs, id)
	b.mu.Unlock()
	if ok {
		mb.id.Send(sel.release)
	}
}

func (b *metalBackend) close() error {
	b.mu.Lock()
	for id, mb := range b.bufs {
		mb.id.Send(sel.release)
		delete(b.bufs, id)
	}
	b.mu.Unlock()
	for k, p := range b.pipes {
		if p != 0 {
			p.Send(sel.release)
			b.pipes[k] = 0
		}
	}
	if b.queue != 0 {
		b.queue.Send(sel.release)
		b.queue = 0
	}
	if b.dev != 0 {
		b.dev.Send(sel.release)
		b.dev = 0
	}
	return nil
}
