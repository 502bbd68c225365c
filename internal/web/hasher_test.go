package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestHasherWasmUpToDate rebuilds the hashing module as `go generate`
// does and compares it with the committed one, so that a change to the
// hashing code cannot leave the victim's page hashing differently from
// the crawler. Any change to the code the module links (even one that
// keeps every hash) changes its bytes, so the check runs when
// VIGIL_CHECK_WASM is set; TestBrowserRemoveHashesOnDevice checks the
// hashes themselves on every run.
func TestHasherWasmUpToDate(t *testing.T) {
	if os.Getenv("VIGIL_CHECK_WASM") == "" {
		t.Skip("set VIGIL_CHECK_WASM=1 to rebuild the WebAssembly module and compare")
	}
	out := filepath.Join(t.TempDir(), "hasher.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-buildvcs=false", "-o", out, "./hasher")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("static/hasher.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Errorf("static/hasher.wasm is out of date with the Go sources: run go generate ./internal/web")
	}
	goExec, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	if js, _ := os.ReadFile("static/wasm_exec.js"); !bytes.Equal(js, goExec) {
		t.Errorf("static/wasm_exec.js differs from this Go's: run go generate ./internal/web")
	}
}

// TestRemovePageServed: the page allows WebAssembly and nothing more than
// the site's own policy; the module is served from Vigil as
// application/wasm, gzipped when the browser accepts it.
func TestRemovePageServed(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withVictims(db))
	c := e.browser()
	resp, body := e.get(c, "/remove?lang=de")
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="remove-form"`) || !strings.Contains(body, "/static/remove.js") {
		t.Fatalf("/remove: %d", resp.StatusCode)
	}
	if !strings.Contains(csp, "script-src 'self' 'wasm-unsafe-eval';") || !strings.Contains(csp, "connect-src 'self'") ||
		!strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "http") || strings.Count(csp, "unsafe") != 1 {
		t.Errorf("CSP %q", csp)
	}
	if _, body := e.get(c, "/?lang=de"); !strings.Contains(body, `href="/remove?lang=de"`) {
		t.Error("the public pages do not link to the victim's page")
	}
	committed, _ := os.ReadFile("static/hasher.wasm")
	resp, body = e.get(c, "/static/hasher.wasm")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/wasm" || !bytes.Equal([]byte(body), committed) {
		t.Errorf("hasher.wasm: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	resp, body = e.get(c, "/static/hasher.wasm", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not gzipped: %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, committed) {
		t.Error("the gzipped module differs")
	}
	t.Logf("hasher.wasm: %d bytes, %d gzipped", len(committed), len(body))
	if resp, _ := e.get(c, "/static/wasm_exec.js"); resp.StatusCode != 200 {
		t.Errorf("wasm_exec.js: %d", resp.StatusCode)
	}
}
