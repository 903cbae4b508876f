//go:build race

package sql

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// code that pools (Go's regexp machines) allocates under it.
const raceEnabled = true
