// Package browsertest starts headless Chromium (Debian's chromium package)
// for Vigil's browser tests, driven with chromedp.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// RequireEnv names the variable that turns a missing browser from a skip
// into a failure; .ci/run sets it, so CI never silently skips.
const RequireEnv = "VIGIL_REQUIRE_BROWSER"

// New returns a chromedp context on a fresh headless Chromium, closed when
// the test ends, or skips the test when no browser is installed.
func New(t *testing.T) context.Context {
	t.Helper()
	return NewTimeout(t, 90*time.Second)
}

// NewTimeout is New for a test that needs more than New's 90 seconds.
func NewTimeout(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	// A browser test starts a Chromium process and takes seconds: like
	// the subprocess tests, not under -short (CI runs it in full).
	if testing.Short() {
		t.Skip("starts Chromium: not under -short")
	}
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("no Chromium found, and %s is set", RequireEnv)
		}
		t.Skip("no Chromium found (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// Screenshot saves a full-page PNG (quality 100 means PNG) when VIGIL_SCREENSHOTS names a folder,
// so a person can look at what the test saw.
func Screenshot(ctx context.Context, t *testing.T, name string) {
	dir := os.Getenv("VIGIL_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(dir+"/"+name+".png", png, 0o644)
}
