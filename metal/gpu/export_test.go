package gpu

import "testing"

// EmulatedDevice is the emulated Metal device for the external tests (the
// engine's sessions on the emulator); it skips tb without a C++ compiler.
func EmulatedDevice(tb testing.TB) *Device { return emulated(tb) }

// Dispatches is the number of kernels the last Run ran.
func (r *Runner) Dispatches() int { return r.dispatchesLast }

// DevicesForTest returns the devices the tests run on: the emulator (with a
// C++ compiler) and Metal (on a Mac); it skips t when there is neither.
func DevicesForTest(t *testing.T) []*Device { return devices(t) }

// LiveBuffers lists the buffers the emulated device d holds (ids are never
// reused); nil for another device.
func LiveBuffers(d *Device) map[uint64]bool {
	e, ok := d.b.(*emuBackend)
	if !ok {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	live := map[uint64]bool{}
	for id := range e.sizes {
		live[uint64(id)] = true
	}
	return live
}
