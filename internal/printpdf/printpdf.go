// Package printpdf prints a web page to PDF with headless Chromium
// (Debian's chromium package), driven with chromedp: the annual report is
// an HTML page laid out for A4, and the browser is the typesetter.
package printpdf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ErrNoBrowser is returned when no Chromium is installed.
var ErrNoBrowser = errors.New("printpdf: no Chromium found (apt-get install chromium)")

// Browser returns the path of an installed Chromium.
func Browser() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Print loads url (a page Vigil serves itself on loopback) in a fresh
// headless Chromium with a throw-away profile and returns it as PDF, the
// page size taken from its CSS (@page). It gives up after timeout.
func Print(ctx context.Context, url string, timeout time.Duration) ([]byte, error) {
	exe, err := Browser()
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "vigil-printpdf-")
	if err != nil {
		return nil, fmt.Errorf("printpdf: %w", err)
	}
	defer func() { _ = os.RemoveAll(profile) }()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // Vigil may run as root in a container, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitReady("body")); err != nil {
		return nil, fmt.Errorf("printpdf: %w", err)
	}
	pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF(chromedp.PDFPrintBackground(),
		func(p *page.PrintToPDFParams) { t := true; p.PreferCSSPageSize = &t }))
	if err != nil {
		return nil, fmt.Errorf("printpdf: %w", err)
	}
	return pdf, nil
}
