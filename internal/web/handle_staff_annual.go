package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/vigil-hotline/vigil"
)

// handleAnnualReport shows the annual report of ?year= in ?lang=, laid out
// for print (A4), with the previous year beside it and small counts hidden;
// ?format=csv&table=ID downloads one of its tables.
func (s *Server) handleAnnualReport(w http.ResponseWriter, r *http.Request) {
	year := s.cfg.Now().In(s.cfg.Statistics.loc()).Year()
	if y := r.URL.Query().Get("year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < 1990 || n > 9999 {
			s.staffRefusal(w, r, http.StatusBadRequest, "refuse_year")
			return
		}
		year = n
	}
	lang := s.staffLanguage(r)
	v, err := s.AnnualReport(r.Context(), year, lang)
	if err != nil {
		s.staffFigureError(w, err)
		return
	}
	if r.URL.Query().Get("format") == "csv" {
		s.serveStatsCSV(w, r, "annual-report-"+strconv.Itoa(year), v.Tables)
		return
	}
	v.CSV = fmt.Sprintf("/staff/statistics/annual?year=%d&lang=%s&format=csv", year, lang)
	body, err := s.AnnualReportHTML(v)
	if err != nil {
		s.logger.Error("annual report", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(body)
}

// AnnualReport is a year's report: the figures of the year beside the
// previous year's, in one language, with counts under the threshold
// hidden. `vigil report annual` prints it.
type AnnualReport = statsView

// AnnualReport computes the annual report of year in lang.
func (s *Server) AnnualReport(ctx context.Context, year int, lang vigil.Language) (*AnnualReport, error) {
	if s.cfg.Statistics.Service == nil {
		return nil, fmt.Errorf("annual report: no statistics service configured")
	}
	p := vigil.YearPeriod(year, s.cfg.Statistics.loc())
	cur, prev, err := s.periodFigures(ctx, p)
	if err != nil {
		return nil, err
	}
	return s.buildStatsView(lang, cur, prev, p, p.Previous(), s.cfg.Statistics.small()), nil
}

// AnnualReportHTML renders the report as a self-contained print page (its
// one style sheet is /static/report.css).
func (s *Server) AnnualReportHTML(v *AnnualReport) ([]byte, error) {
	var buf bytes.Buffer
	t := s.templates["annual_report"]
	if t == nil {
		return nil, fmt.Errorf("annual report: template missing")
	}
	if err := t.ExecuteTemplate(&buf, "annual", v); err != nil {
		return nil, fmt.Errorf("annual report: %w", err)
	}
	return buf.Bytes(), nil
}

// AnnualReportCSV writes each table of the report as CSV, calling create
// for each file name ("annual-2026-sources.csv").
func AnnualReportCSV(v *AnnualReport, create func(name string) (io.WriteCloser, error)) error {
	for _, t := range v.Tables {
		w, err := create(fmt.Sprintf("annual-%d-%s.csv", v.Year, t.ID))
		if err != nil {
			return err
		}
		err = writeCSV(w, t)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("annual report: %s: %w", t.ID, err)
		}
	}
	return nil
}

// StaticHandler serves the embedded style sheets and scripts under
// /static/, for a page rendered outside the server (the annual report's
// PDF).
func StaticHandler() http.Handler { return (*Server)(nil).handleStatic() }
