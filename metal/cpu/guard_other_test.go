//go:build !linux && !darwin

package cpu

import "testing"

// readGuard returns b (no page guard on this system).
func readGuard(t testing.TB, b []byte) []byte { return b }

// readGuardFloats returns x (no page guard on this system).
func readGuardFloats(t testing.TB, x []float32) []float32 { return x }
