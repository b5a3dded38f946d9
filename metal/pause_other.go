//go:build noasm || !amd64

package metal

// spinPause is the pool's busy-wait step (PAUSE on amd64).
func spinPause() {}
