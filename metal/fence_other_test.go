//go:build !linux

package metal

import "testing"

// fencedBytes returns nil (no fence on this system).
func fencedBytes(t testing.TB, n int) []byte { return nil }
