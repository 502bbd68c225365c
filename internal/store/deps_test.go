package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStoreDependsOnNoAdapter keeps the dependencies pointing inward: the
// store and its drivers know SQL and River, never the crawler, the blob
// store or what those pull in.
func TestStoreDependsOnNoAdapter(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	forbidden := []string{
		"github.com/vigil-hotline/vigil/internal/crawl",
		"github.com/vigil-hotline/vigil/internal/blob",
		"github.com/vigil-hotline/vigil/internal/jobs",
		"github.com/minio/minio-go",
		"golang.org/x/net/html",
		"golang.org/x/image",
	}
	for _, pkg := range []string{".", "../sqlite", "../postgres"} {
		out, err := exec.Command(goCmd, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
