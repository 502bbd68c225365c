package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/browsertest"
	"github.com/vigil-hotline/vigil/internal/printpdf"
	"github.com/vigil-hotline/vigil/internal/statsgen"
)

// TestReportAnnual prints the annual report of a generated year to PDF
// with Chromium and finds the year's report count in its text
// (pdftotext), and writes its tables as CSV.
func TestReportAnnual(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	db, err := openStore(ctx, &config{DataDir: data, create: true}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Brussels")
	a := statsgen.Generate(statsgen.Config{Year: 2026, Loc: loc, Seed: 11, Reports: 2400, Media: 500, Messages: 100})
	if err := statsgen.Load(ctx, db, a); err != nil {
		t.Fatal(err)
	}
	st, err := db.PeriodStats(ctx, vigil.YearPeriod(2026, loc), vigil.StatsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	run := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Logger: slog.New(slog.DiscardHandler), Getenv: func(k string) string {
			if k == "VIGIL_DATA" {
				return data
			}
			return ""
		}}
		err := runReport(ctx, env, args)
		return out.String() + errb.String(), err
	}
	dir := filepath.Join(t.TempDir(), "csv")
	if out, err := run("annual", "--year", "2026", "--format", "csv", "--out", dir); err != nil {
		t.Fatalf("csv: %v %s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "annual-2026-sources.csv")); err != nil || !strings.HasPrefix(string(b), "Reports by channel,") {
		t.Errorf("sources csv: %v %q", err, b)
	}
	if _, err := run("annual", "--year", "2026", "--lang", "xx", "--out", "x.pdf"); exitCode(err) != 2 {
		t.Errorf("an unknown language: %v", err)
	}

	if testing.Short() {
		t.Skip("the PDF is printed by Chromium: not under -short")
	}
	if _, err := printpdf.Browser(); err != nil {
		if os.Getenv(browsertest.RequireEnv) != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	if out, err := run("annual", "--year", "2026", "--lang", "nl", "--out", pdf); err != nil {
		t.Fatalf("pdf: %v %s", err, out)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv(browsertest.RequireEnv) != "" {
			t.Fatal("pdftotext is missing (apt-get install poppler-utils)")
		}
		t.Skip("pdftotext is missing")
	}
	text, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	count := message.NewPrinter(language.Dutch).Sprintf("%d", st.Reports)
	if !strings.Contains(string(text), "Jaarverslag 2026") || !strings.Contains(string(text), count) || st.Reports < 1000 {
		t.Errorf("the PDF lacks the title or the year's %s reports:\n%.2000s", count, text)
	}
}
