//go:build !linux

package cpu

import "testing"

// fencedBytes returns nil (no fence on this system).
func fencedBytes(t testing.TB, n int) []byte { return nil }
