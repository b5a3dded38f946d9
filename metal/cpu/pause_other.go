//go:build noasm || !amd64

package cpu

// spinPause is the pool's busy-wait step (PAUSE on amd64).
func spinPause() {}
