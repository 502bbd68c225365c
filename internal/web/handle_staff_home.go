package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

type staffHome struct {
	Counts vigil.ReportCounts
}

// handleStaffHome is the staff landing page.
func (s *Server) handleStaffHome(w http.ResponseWriter, r *http.Request) {
	c, err := s.cfg.Reports.ReportCounts(r.Context())
	if err != nil {
		s.logger.Error("staff home", "err", err)
	}
	s.render(w, r, http.StatusOK, "staff_home", s.newStaffPage(w, r, staffHome{Counts: c}))
}

// handleStaffJobs lists the job queue: what is pending, running, failed.
func (s *Server) handleStaffJobs(w http.ResponseWriter, r *http.Request) {
	var states []string
	if st := r.URL.Query().Get("state"); st != "" {
		states = []string{st}
	}
	jobs, err := s.cfg.Jobs.ListJobs(r.Context(), states, 200)
	if err != nil {
		s.logger.Error("staff jobs", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.render(w, r, http.StatusOK, "staff_jobs", s.newStaffPage(w, r, jobs))
}
