// Package conformance finds the PDQ conformance corpus (../shared/conformance/pdq
// beside the module) for tests.
package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv names the variable that makes the corpus required: set (CI
// sets it), a missing corpus fails the tests instead of skipping them, so
// that conformance is never silently left unchecked.
const RequireEnv = "VIGIL_REQUIRE_CONFORMANCE"

// PDQDir returns the corpus folder, or skips the test when it is not there
// (fails it when RequireEnv is set).
func PDQDir(t testing.TB) string {
	t.Helper()
	skip := t.Skipf
	if os.Getenv(RequireEnv) != "" {
		skip = t.Fatalf
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			skip("module root not found")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "conformance", "pdq")
	if _, err := os.Stat(d); err != nil {
		skip("conformance corpus not present (%s=1 makes it required): %v", RequireEnv, err)
	}
	return d
}
