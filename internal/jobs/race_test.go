//go:build race

package jobs_test

// raceEnabled: under the race detector SQLite (transpiled C) and hashing
// run many times slower; the heaviest crawls test fewer sites there.
const raceEnabled = true
