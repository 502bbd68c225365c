// Package testrig holds what tests across packages share: an encrypted
// media vault in a temporary folder, the simulated internet with a fetcher
// allowed to reach it, and one way to wait for a condition. Test code only.
package testrig

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/simnet"
)

// Vault opens an encrypted media store, with a fresh key, in a temporary
// folder removed when the test ends.
func Vault(t testing.TB) *blob.Vault {
	t.Helper()
	dir := t.TempDir()
	bs, err := blob.NewDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := blob.LoadOrCreateKey(filepath.Join(dir, "keys", "media.key"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := blob.NewVault(bs, key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Internet starts the simulated internet, stopped when the test ends.
func Internet(t testing.TB, opts simnet.Options) *simnet.Net {
	t.Helper()
	n, err := simnet.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

// Fetcher is a crawler's fetcher that reaches the simulated internet (and
// only it: its loopback addresses are the one exception to the SSRF
// policy), retrying fast.
func Fetcher(t testing.TB, n *simnet.Net) *crawl.Fetcher {
	t.Helper()
	f := crawl.NewFetcher(crawl.Config{Policy: crawl.Policy{AllowAddrs: n.AllowAddrs()}, Resolver: n.Resolver,
		Timeout: 10 * time.Second, RetryBase: 10 * time.Millisecond})
	t.Cleanup(f.Close)
	return f
}

// Poll calls cond until it holds or limit has passed, and says whether it
// held. Limits are generous: CI machines are busy, and a test waits for a
// condition, never for a time.
func Poll(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// WaitFor polls cond and fails the test when it does not hold within
// limit; what says what was awaited.
func WaitFor(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	if !Poll(limit, cond) {
		t.Fatalf("%s: not within %s", what, limit)
	}
}
