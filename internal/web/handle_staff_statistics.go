package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// handleStatistics shows a period's figures beside the previous period's,
// each breakdown as a chart with its table beneath; ?format=csv&table=ID
// downloads one table. Staff see the exact counts.
func (s *Server) handleStatistics(w http.ResponseWriter, r *http.Request) {
	p, err := s.period(r)
	if err != nil {
		s.staffFigureError(w, err)
		return
	}
	cur, prev, err := s.periodFigures(r.Context(), p)
	if err != nil {
		s.staffFigureError(w, err)
		return
	}
	lang := s.staffLanguage(r)
	v := s.buildStatsView(lang, cur, prev, p, p.Previous(), 0)
	if r.URL.Query().Get("format") == "csv" {
		s.serveStatsCSV(w, r, "statistics-"+v.From+"-"+v.To, v.Tables)
		return
	}
	v.CSV = "/staff/statistics?from=" + v.From + "&to=" + v.To + "&lang=" + string(lang) + "&format=csv"
	s.render(w, r, http.StatusOK, "staff_statistics", s.statsPage(w, r, lang, v))
}

// statsPage is a staff page in the language the statistics were asked in.
func (s *Server) statsPage(w http.ResponseWriter, r *http.Request, lang vigil.Language, data any) *staffPage {
	pg := s.newStaffPage(w, r, data)
	pg.Lang, pg.T = lang, s.catalog.texts[lang]
	for i := range pg.Langs {
		pg.Langs[i].Current = pg.Langs[i].Code == lang
	}
	return pg
}

// serveStatsCSV answers the table named by ?table= as CSV.
func (s *Server) serveStatsCSV(w http.ResponseWriter, r *http.Request, name string, tables []statTable) {
	id := r.URL.Query().Get("table")
	for _, t := range tables {
		if t.ID == id {
			if err := serveCSV(w, name+"-"+t.ID, t); err != nil {
				s.logger.Error("statistics csv", "err", err)
			}
			return
		}
	}
	s.staffRefusal(w, r, http.StatusNotFound, "refuse_no_table")
}

// staffFigureError answers a bad period with 400 and anything else with
// 500, logged.
func (s *Server) staffFigureError(w http.ResponseWriter, err error) {
	if vigil.ErrorCode(err) == vigil.EINVALID {
		http.Error(w, vigil.ErrorMessage(err), http.StatusBadRequest)
		return
	}
	s.logger.Error("statistics", "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
