// Package conformance finds the PDQ conformance corpus (../shared/conformance/pdq
// beside the module) for tests.
package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// PDQDir returns the corpus folder, or skips the test when it is not there.
func PDQDir(t testing.TB) string {
	t.Helper()
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
			t.Skip("module root not found")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "conformance", "pdq")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("conformance corpus not present: %v", err)
	}
	return d
}
