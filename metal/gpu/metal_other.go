//go:build !darwin

package gpu

// openMetal: Metal exists on macOS only.
func openMetal() (backend, error) { return nil, checkOS() }
