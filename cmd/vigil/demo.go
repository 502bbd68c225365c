//go:build !nodemo

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/mailcatcher"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/simworld"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/trace"
)

// demoBankSeeds are the pictures of the simulated gallery 1 whose hashes
// the demo bank holds; the simulated mirror serves them re-encoded and
// resized, which only PDQ recognises; and two of the three pictures of
// the page referred to the partner hotline, the third left to its
// analysts.
var demoBankSeeds = []uint64{101, 102, 103, simnet.BenchSeedBase, simnet.BenchSeedBase + 1}

// runDemo starts Vigil with a small simulated internet on loopback, loads
// a demo bank, files reports through the public form and shows what came
// of them. Everything is offline and every picture is generated.
func runDemo(ctx context.Context, env *Env, args []string) (err error) {
	fs := newFlagSet(env, "demo", "Usage: vigil demo [--addr HOST:PORT] [--data DIR] [--check]")
	cfg := storeFlags(fs, env)
	cfg.create = true
	fs.StringVar(&cfg.Addr, "addr", envOr(env, "VIGIL_ADDR", "127.0.0.1:8080"), "address to listen on [VIGIL_ADDR]")
	check := fs.Bool("check", false, "exit after the summary, with status 1 unless known, unknown and PDQ-recognised pictures all showed up (for CI)")
	logFile := fs.String("log-file", "", `where the logs go: default DATA/vigil.log, so that the story on standard output stays readable; "-" for standard error`)
	wc := workerFlags(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !isFlagSet(fs, "data") && env.Getenv("VIGIL_DATA") == "" {
		dir, err := os.MkdirTemp("", "vigil-demo-")
		if err != nil {
			return err
		}
		cfg.DataDir = dir
	}
	out := env.Stdout
	if *logFile != "-" {
		if *logFile == "" {
			*logFile = filepath.Join(cfg.DataDir, "vigil.log")
		}
		closeLog, lerr := logToFile(ctx, env, *logFile)
		if lerr != nil {
			return lerr
		}
		defer func() { err = errors.Join(err, closeLog()) }()
		fmt.Fprintf(out, "Vigil demo: data in %s, logs in %s\n", cfg.DataDir, *logFile)
	} else {
		fmt.Fprintf(out, "Vigil demo: data in %s\n", cfg.DataDir)
	}

	// bench.example (hosted in NL) is the case referred to the partner
	// hotline: one page of three pictures, two of them known.
	sim, err := simnet.Start(simnet.Options{Logger: env.Logger, BenchImages: 3, BenchPerPage: 3})
	if err != nil {
		return fmt.Errorf("simulated internet: %w", err)
	}
	defer func() { err = errors.Join(err, sim.Close()) }()
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := loadDemoBank(ctx, db, sim); err != nil {
		return fmt.Errorf("demo bank: %w", err)
	}

	// The crawler may reach the simulated sites, and only them. The rest of
	// the world — where the sites are hosted, who runs the networks, the
	// recipients' mail boxes — is simulated too, with days compressed into
	// seconds.
	wc.resolver, wc.allow, wc.MaxDepth = sim.Resolver, sim.AllowAddrs(), 2
	if wc.render.Browser == "" {
		// The demo's galleries are static HTML: no browser unless asked.
		wc.render.Browser = "off"
	}
	videoURL, stopVideo, err := demoVideoSite(ctx, db, sim, wc)
	if err != nil {
		return fmt.Errorf("demo video: %w", err)
	}
	defer stopVideo()
	world, err := simworld.Start(filepath.Join(cfg.DataDir, "world"), sim, simworld.Options{RenoticeInterval: 3 * time.Second, EscalateAfter: 3})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, world.Close()) }()
	// The simulated provider acts on the first notice it receives.
	world.Mail.OnMessage = func(m mailcatcher.Message) {
		for _, to := range m.To {
			switch to {
			case simworld.ProviderUS:
				sim.TakeDown(simnet.Mirror, "/")
			case simworld.ProviderNL:
				sim.TakeDown(simnet.Bench, "/page/0")
			}
		}
	}
	tc := wc.takedown
	tc.traceDeps, tc.traceConfig, tc.rules = trace.Deps{Resolver: world.Resolver}, &world.Trace, world.Rules
	tc.SMTPAddr, tc.SMTPTLS, tc.SMTPFrom = world.Mail.Addr, "opportunistic", "Vigil demo hotline <"+simworld.SenderEmail+">"
	tc.Hotline, tc.CaseRefPrefix, tc.FirstRecheck, tc.RecheckEvery = "Vigil demo hotline", "DEMO", 2*time.Second, 2*time.Second
	m, stopMatcher, err := newMatcher(ctx, env, db, "")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopMatcher()) }()
	wc.matcher = m
	stop, err := startWorkers(ctx, env, cfg, wc, db)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stop()) }()
	menv, mapRules, err := demoMapRules(env, cfg.DataDir)
	if err != nil {
		return err
	}
	srv, err := newWebServer(menv, cfg, wc, db, "")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	sctx, stopServe := context.WithCancel(ctx)
	defer stopServe()
	served := make(chan error, 1)
	go func() { served <- serveHTTP(sctx, env, ln, srv) }()

	partner, err := startDemoPartner(ctx, env, cfg, wc, db, world, base)
	if err != nil {
		return fmt.Errorf("partner hotline: %w", err)
	}
	defer func() { err = errors.Join(err, partner.stop()) }()
	fmt.Fprintf(out, "\nA partner hotline in the Netherlands runs Vigil beside this one: %s/ (data in %s)\n",
		partner.base, filepath.Join(cfg.DataDir, "partner-nl"))

	reports := []struct{ lang, url, what string }{
		{"nl", sim.GatewayURL(), "a gateway page leading to galleries two levels deep"},
		{"fr", sim.URL(simnet.Mirror, "/"), "a mirror with re-encoded and resized copies of known pictures"},
		{"de", sim.URL(simnet.Tricks, "/redirect/metadata"), "a page that redirects to a cloud metadata address"},
	}
	if videoURL != "" {
		reports = append(reports, struct{ lang, url, what string }{"en", videoURL, "a page with a known video, re-encoded and resized"})
	}
	shortLink, board := sim.NetworkReports()
	reports = append(reports, struct{ lang, url, what string }{"en", shortLink, "a short link someone was sent"},
		struct{ lang, url, what string }{"nl", board, "a thread on a message board, reported by someone else"})
	fmt.Fprintf(out, "\nFiling %d reports through the public form at %s/ …\n", len(reports), base)
	var codes []string
	for _, r := range reports {
		code, err := fileDemoReport(ctx, base, r.lang, r.url)
		if err != nil {
			return fmt.Errorf("file demo report: %w", err)
		}
		codes = append(codes, code)
		fmt.Fprintf(out, "  [%s] %s\n       %s\n       tracking code %s\n", r.lang, r.url, r.what, code)
	}
	referred := sim.URL(simnet.Bench, "/page/0")
	code, err := fileDemoReport(ctx, base, "en", referred)
	if err != nil {
		return fmt.Errorf("file demo report: %w", err)
	}
	fmt.Fprintf(out, "  [en] %s\n       a page hosted in the Netherlands, where a partner hotline runs Vigil\n       tracking code %s\n", referred, code)
	sum, err := waitDemo(ctx, db, codes)
	if err != nil {
		return err
	}
	printDemoSummary(out, sum)
	linked, err := showDemoNetwork(ctx, out, db, mapRules, sum, []string{shortLink, board}, base, cfg.DataDir)
	if err != nil {
		return err
	}
	removed, err := waitTakedowns(ctx, out, db, world)
	if err != nil {
		return err
	}
	referralDone, err := waitReferral(ctx, out, db, partner, sim)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `
Where to look:
  the report form          %[1]s/
  a report's status        %[1]s/status   (enter a tracking code above)
  the job queue            %[5]s jobs --data %[2]s
  match a file or a hash   %[5]s match --data %[2]s pdq:HASH
  the banks                %[5]s bank list --data %[2]s
  staff pages              %[1]s/staff/   (add an account: %[5]s user add --data %[2]s --role admin NAME)
  the network map          %[1]s/staff/map  ·  %[5]s map clusters --data %[2]s
  messages sent            %[3]d in the demo's mail catcher at %[4]s
`, base, cfg.DataDir, len(world.Mail.Messages()), world.Mail.Addr, selfCommand())
	if *check {
		if !sum.ok() || !removed || !linked || !referralDone || videoURL != "" && !sum.videoKnown() {
			return &exitError{code: 1, err: errors.New("demo check failed: see the summary")}
		}
		fmt.Fprintln(out, "\ndemo check passed")
		return nil
	}
	fmt.Fprintln(out, "\nVigil keeps running; press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	return nil
}

// loadDemoBank makes the demo bank with the SHA-256 and PDQ hashes of a
// few generated pictures.
func loadDemoBank(ctx context.Context, db *store.DB, sim *simnet.Net) error {
	b, err := db.FindBankByName(ctx, "demo-known")
	if vigil.IsNotFound(err) {
		b = &vigil.Bank{Name: "demo-known", Source: vigil.SourceHotline, Kind: vigil.BankBlock, Enabled: true,
			PDQThreshold: vigil.DefaultPDQThreshold, Terms: "demo: hashes of generated pictures"}
		err = db.CreateBank(ctx, b)
	}
	if err != nil {
		return err
	}
	var entries []*vigil.BankEntry
	for _, seed := range demoBankSeeds {
		data, err := sim.Images.Bytes(seed, simnet.Variant{})
		if err != nil {
			return err
		}
		res, err := hashing.HashBytes(data, hashing.Options{})
		if err != nil {
			return err
		}
		note := fmt.Sprintf("generated picture %d", seed)
		entries = append(entries,
			&vigil.BankEntry{Signal: vigil.SignalSHA256, Value: fmt.Sprintf("%x", res.SHA256), Classification: "baseline", AddedFrom: "demo", Note: note},
			&vigil.BankEntry{Signal: vigil.SignalPDQ, Value: res.PDQ.String(), Classification: "baseline", AddedFrom: "demo", Note: note})
	}
	_, err = db.AddBankEntries(ctx, b.ID, entries)
	return err
}

// fileDemoReport files a report as a browser would: load the report form,
// read it with an HTML parser, and post its hidden fields (the CSRF token
// among them) with what a reporter fills in, to the form's own action.
func fileDemoReport(ctx context.Context, base, lang, reported string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(req *http.Request) (*html.Node, error) {
		resp, err := c.Do(req.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: status %d", req.URL.Path, resp.StatusCode)
		}
		return html.Parse(io.LimitReader(resp.Body, 1<<20))
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/?lang="+lang, nil)
	page, err := get(req)
	if err != nil {
		return "", err
	}
	form := findElement(page, func(n *html.Node) bool { return n.Data == "form" && attr(n, "id") == "report-form" })
	if form == nil {
		return "", errors.New("no report form on the page")
	}
	fields := url.Values{}
	walkElements(form, func(n *html.Node) {
		if n.Data == "input" && attr(n, "type") == "hidden" && attr(n, "name") != "" {
			fields.Set(attr(n, "name"), attr(n, "value"))
		}
	})
	if fields.Get("csrf") == "" {
		return "", errors.New("no CSRF token on the form")
	}
	action, err := url.Parse(attr(form, "action"))
	if err != nil {
		return "", fmt.Errorf("the form's action: %w", err)
	}
	fields.Set("urls", reported)
	fields.Set("saw_images", "1")
	fields.Set("description", "Vigil demo report")
	target := req.URL.ResolveReference(action)
	req, _ = http.NewRequest(http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	page, err = get(req)
	if err != nil {
		return "", err
	}
	code := findElement(page, func(n *html.Node) bool { return attr(n, "id") == "tracking-code" })
	if code == nil || code.FirstChild == nil || code.FirstChild.Type != html.TextNode {
		return "", errors.New("no tracking code on the confirmation page")
	}
	return strings.TrimSpace(code.FirstChild.Data), nil
}

// attr returns an element's attribute, "" when it has none.
func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// walkElements calls fn on n and every element below it, in document
// order.
func walkElements(n *html.Node, fn func(*html.Node)) {
	if n.Type == html.ElementNode {
		fn(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walkElements(c, fn)
	}
}

// findElement returns the first element below n that match accepts.
func findElement(n *html.Node, match func(*html.Node) bool) *html.Node {
	var found *html.Node
	walkElements(n, func(e *html.Node) {
		if found == nil && match(e) {
			found = e
		}
	})
	return found
}

type demoURL struct {
	url     *vigil.ReportedURL
	known   []*vigil.Media
	unknown []*vigil.Media
	pdq     []vigil.Match // matches at a distance > 0: recognised by PDQ only
	videos  []vigil.Match // videos recognised by vPDQ
}

type demoSummary []demoURL

func (s demoSummary) ok() bool {
	var known, unknown, pdq, failed int
	for _, u := range s {
		known, unknown, pdq = known+len(u.known), unknown+len(u.unknown), pdq+len(u.pdq)
		if u.url.Status == vigil.URLFailed {
			failed++
		}
	}
	return known > 0 && unknown > 0 && pdq > 0 && failed == 1
}

// videoKnown reports whether the demo's video was recognised by vPDQ.
func (s demoSummary) videoKnown() bool {
	for _, u := range s {
		if len(u.videos) > 0 {
			return true
		}
	}
	return false
}

// waitDemo waits for every reported URL's crawl to end and gathers what
// came of it.
func waitDemo(ctx context.Context, db *store.DB, codes []string) (demoSummary, error) {
	deadline := time.Now().Add(2 * time.Minute)
	var sum demoSummary
	for {
		sum = sum[:0]
		done := true
		for _, code := range codes {
			rep, err := db.FindReportByTrackingCode(ctx, code)
			if err != nil {
				return nil, err
			}
			for _, u := range rep.URLs {
				if u.Status != vigil.URLDone && u.Status != vigil.URLFailed {
					done = false
				}
				sum = append(sum, demoURL{url: u})
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			return nil, errors.New("the demo crawls did not finish within two minutes")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	for i := range sum {
		media, err := db.ListMediaForURL(ctx, sum[i].url.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range media {
			if m.Status == vigil.MediaKnown {
				sum[i].known = append(sum[i].known, m)
				matches, err := db.MediaMatches(ctx, m.ID)
				if err != nil {
					return nil, err
				}
				for _, x := range matches {
					if x.Signal == vigil.SignalVPDQ {
						sum[i].videos = append(sum[i].videos, x)
						break
					}
					if x.Signal == vigil.SignalPDQ && x.Distance > 0 {
						sum[i].pdq = append(sum[i].pdq, x)
						break
					}
				}
			} else {
				sum[i].unknown = append(sum[i].unknown, m)
			}
		}
	}
	return sum, nil
}

func printDemoSummary(w io.Writer, sum demoSummary) {
	fmt.Fprintln(w, "\nWhat the crawler found:")
	for _, u := range sum {
		fmt.Fprintf(w, "  %s\n    %s", u.url.URL, u.url.Status)
		if u.url.StatusReason != "" {
			fmt.Fprintf(w, " (%s)", u.url.StatusReason)
		}
		fmt.Fprintf(w, ": %d media known from the demo bank without an analyst, %d queued for assessment\n",
			len(u.known), len(u.unknown))
		for _, m := range u.pdq {
			fmt.Fprintf(w, "    recognised by PDQ at distance %d (%s, %s): a re-encoded or resized copy\n",
				m.Distance, m.BankName, m.Classification)
		}
		for _, m := range u.videos {
			fmt.Fprintf(w, "    video recognised by vPDQ (%s, %s): a re-encoded copy of a known video\n", m.BankName, m.Classification)
		}
	}
}

// waitTakedowns follows the takedown path of the demo's cases until the
// case notified to a provider is closed as removed, printing each step.
func waitTakedowns(ctx context.Context, out io.Writer, db *store.DB, world *simworld.World) (bool, error) {
	fmt.Fprintln(out, "\nThe takedown path (days compressed into seconds):")
	deadline := time.Now().Add(time.Minute)
	for {
		tds, err := db.ListTakedowns(ctx, "", 10)
		if err != nil {
			return false, err
		}
		var removed *vigil.Takedown
		for _, td := range tds {
			if td.State == vigil.TakedownRemoved {
				removed = td
			}
		}
		if removed != nil || time.Now().After(deadline) {
			for i := len(tds) - 1; i >= 0; i-- {
				td := tds[i]
				fmt.Fprintf(out, "  %s\n    hosted in %s (AS%d %s): routed to %s; %s\n", td.URL, td.Country, td.ASN, td.ASOrg,
					strings.Join(td.Routes, " and "), td.State)
				msgs, err := db.ListOutbound(ctx, td.ID)
				if err != nil {
					return false, err
				}
				for _, m := range msgs {
					fmt.Fprintf(out, "    %s to %s (%s): %s\n", m.Kind, m.Recipient, m.RouteKind, m.State)
				}
				if td.RemovedAt != nil {
					fmt.Fprintf(out, "    removed %s after it was first seen", td.RemovedAt.Sub(td.FirstSeenAt).Round(time.Millisecond))
					if td.FirstNoticeAt != nil {
						fmt.Fprintf(out, ", %s after the first notice", td.RemovedAt.Sub(*td.FirstNoticeAt).Round(time.Millisecond))
					}
					fmt.Fprintln(out)
				}
			}
			return removed != nil, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// selfCommand is how the person who started the demo runs vigil again:
// "go run ./cmd/vigil" after go run (whose binary is temporary), "vigil"
// when that is this binary on the PATH, else this binary's path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "vigil"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/vigil"
	}
	if p, err := exec.LookPath("vigil"); err == nil {
		if a, err := filepath.EvalSymlinks(p); err == nil {
			if b, err := filepath.EvalSymlinks(exe); err == nil && a == b {
				return "vigil"
			}
		}
	}
	return exe
}

// logToFile sends env's logs to a file, at the level they had (debug stays
// debug) and in the configured format.
func logToFile(ctx context.Context, env *Env, path string) (func() error, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	level := "info"
	if env.Logger.Enabled(ctx, slog.LevelDebug) {
		level = "debug"
	}
	l, err := newLoggerChecked(f, level, env.Getenv("VIGIL_LOG_FORMAT"))
	if err != nil {
		l = newLogger(f, level, "")
	}
	env.Logger = l
	return f.Close, nil
}
