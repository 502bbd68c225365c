//go:build race

package index

// raceOn scales tests down under the race detector, which is 10-50 times slower.
const raceOn = true
