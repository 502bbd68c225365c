package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/printpdf"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/web"
)

const reportUsage = `Usage: vigil report annual --year YYYY [--lang nl|fr|de|en] --out FILE.pdf
       vigil report annual --year YYYY --format csv --out DIR
       vigil report annual --year YYYY --format html --out FILE.html

The annual report: the year's figures beside the previous year's, counts
under VIGIL_STATS_SMALL_COUNT (default 5) shown as "< N". PDF needs
Chromium (Debian: apt-get install chromium).
`

// runReport writes the annual report as PDF (printed by headless
// Chromium from the same page staff see), HTML, or one CSV per table.
func runReport(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "report", reportUsage, args, []subcommand{{"annual", runReportAnnual}})
}

func runReportAnnual(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "report annual", reportUsage)
	cfg := storeFlags(fs, env)
	year := fs.Int("year", time.Now().Year()-1, "the year")
	lang := fs.String("lang", "en", "language: nl, fr, de or en")
	format := fs.String("format", "pdf", "pdf, html or csv")
	out := fs.String("out", "", "file to write (a folder for csv)")
	routing := fs.String("routing-config", env.Getenv("VIGIL_ROUTING_CONFIG"), "routing rules: time zone, home and partner countries [VIGIL_ROUTING_CONFIG]")
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	l, ok := vigil.ParseLanguage(*lang)
	if !ok {
		return &exitError{code: 2, err: fmt.Errorf("report: --lang must be nl, fr, de or en")}
	}
	if *out == "" {
		return &exitError{code: 2, err: fmt.Errorf("report: --out is required")}
	}
	srv, err := reportServer(env, db, *routing)
	if err != nil {
		return err
	}
	v, err := srv.AnnualReport(ctx, *year, l)
	if err != nil {
		return err
	}
	switch *format {
	case "csv":
		if err := os.MkdirAll(*out, 0o700); err != nil {
			return err
		}
		return web.AnnualReportCSV(v, func(name string) (io.WriteCloser, error) {
			return os.OpenFile(filepath.Join(*out, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		})
	case "html", "pdf":
	default:
		return &exitError{code: 2, err: fmt.Errorf("report: --format must be pdf, html or csv")}
	}
	page, err := srv.AnnualReportHTML(v)
	if err != nil {
		return err
	}
	if *format == "html" {
		return os.WriteFile(*out, page, 0o600)
	}
	pdf, err := printPage(ctx, page)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, pdf, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "annual report %d (%s) written to %s\n", *year, l, *out)
	return nil
}

// reportServer is a web server over the store, for rendering only: it
// never listens.
func reportServer(env *Env, db *store.DB, routing string) (*web.Server, error) {
	st, err := statisticsConfig(env, &takedownConfig{RoutingConfig: routing}, db)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	return web.New(web.Config{Logger: slog.New(slog.DiscardHandler), Reports: db, Users: db, APIKeys: db, Jobs: db,
		Secret: secret, Statistics: st})
}

// printPage serves page and Vigil's style sheets on a loopback port for
// the moment it takes Chromium to print it.
func printPage(ctx context.Context, page []byte) ([]byte, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", web.StaticHandler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer func() { _ = hs.Close() }()
	pdf, err := printpdf.Print(ctx, "http://"+ln.Addr().String()+"/", 2*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if !strings.HasPrefix(string(pdf[:min(len(pdf), 5)]), "%PDF") {
		return nil, errors.New("report: the browser did not produce a PDF")
	}
	return pdf, nil
}
