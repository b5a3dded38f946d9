package gpu

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// ErrUnavailable is wrapped by the errors of Open when there is no Metal
// device: on every system but macOS, and on Macs without a Metal GPU (or
// with one whose simdgroups are not 32 wide).
var ErrUnavailable = errors.New("Metal needs macOS on Apple silicon or a Mac with a Metal GPU")

// ErrUnsupported is wrapped by the errors of Load for models the kernels do
// not cover (a weight type, a shape); the CPU runs those.
var ErrUnsupported = errors.New("not supported by the GPU kernels")

// MetalError is an error reported by Metal: a failed library compilation,
// pipeline or buffer creation, or a command buffer that did not complete.
type MetalError struct {
	Op  string // what was being done, e.g. "compile kernels.metal", "command buffer"
	Msg string // Metal's localizedDescription, or a description of the failure
}

func (e *MetalError) Error() string { return "gpu: " + e.Op + ": " + e.Msg }

// backend is what a Device runs on: Metal (metal_darwin.go), or in the
// tests a CPU emulator of it (emu_test.go). Buffers are shared with the CPU
// (unified memory), so write and read are plain copies on Metal.
type backend interface {
	name() string
	// newBuffer returns a zero-filled buffer of size bytes.
	newBuffer(size int) (bufID, error)
	// weights makes read-only buffers holding data (one ref per slice),
	// without copying where the backend can (Metal: page-aligned spans of
	// memory-mapped files).
	weights(data [][]byte) ([]ref, []bufID, error)
	write(b bufID, off int, src []byte) error
	read(b bufID, off int, dst []byte) error
	// run executes g as one command buffer and waits for it.
	run(g *graph) error
	free(b bufID)
	close() error
}

// Device is an open GPU with the kernels compiled. It is safe for concurrent
// use; each Runner is used by one goroutine at a time.
type Device struct {
	b backend
}

var (
	defaultOnce sync.Once
	defaultDev  *Device
	defaultErr  error
)

// Default returns the system's Metal device, opened on the first call (which
// compiles the kernels) and shared afterwards. The error wraps
// ErrUnavailable when there is none.
func Default() (*Device, error) {
	defaultOnce.Do(func() { defaultDev, defaultErr = Open() })
	return defaultDev, defaultErr
}

// Open opens the system's default Metal device and compiles the kernels.
// On systems other than macOS it returns an error wrapping ErrUnavailable.
func Open() (*Device, error) {
	b, err := openMetal()
	if err != nil {
		return nil, err
	}
	return &Device{b: b}, nil
}

// Name describes the device, e.g. "Metal: Apple M2".
func (d *Device) Name() string { return d.b.name() }

// Close releases the device. Models and runners of it must not be used
// afterwards.
func (d *Device) Close() error { return d.b.close() }

// asBytes views a float32 slice as its bytes (little endian, as on every
// platform with Metal).
func asBytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}

func int8Bytes(v []int8) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v))
}

// checkOS is the error of openMetal on systems without Metal.
func checkOS() error {
	return fmt.Errorf("gpu: %s/%s: %w", runtime.GOOS, runtime.GOARCH, ErrUnavailable)
}
