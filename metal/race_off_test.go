//go:build !race

package metal

// raceEnabled: the race detector makes sync.Pool drop items, so allocation
// counts are not checked.
const raceEnabled = false
