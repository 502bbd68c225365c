package web

import (
	"net/http"
	"strconv"

	"github.com/vigil-hotline/vigil"
)

// statisticsRoutes serves the figures of any period to supervisors,
// admins and auditors, the annual report, the provider scorecard, and the
// scorecard over the API.
func (s *Server) statisticsRoutes(mux *http.ServeMux) {
	if s.cfg.Statistics.Service == nil {
		return
	}
	mux.Handle("GET /api/v1/stats/providers", s.apiAuth(s.handleAPIStatsProviders, vigil.ScopeStats))
	roles := []vigil.Role{vigil.RoleAdmin, vigil.RoleSupervisor, vigil.RoleAuditor}
	s.staffRoute(mux, "GET /staff/statistics", s.handleStatistics, roles...)
	s.staffRoute(mux, "GET /staff/statistics/providers", s.handleProviderScores, roles...)
	s.staffRoute(mux, "GET /staff/statistics/annual", s.handleAnnualReport, roles...)
}

// period reads ?from=&to= (dates, both included) or ?year=, in the
// hotline's time zone; the current year when none is given.
func (s *Server) period(r *http.Request) (vigil.Period, error) {
	q := r.URL.Query()
	loc := s.cfg.Statistics.loc()
	if y := q.Get("year"); y != "" {
		year, err := strconv.Atoi(y)
		if err != nil || year < 1990 || year > 9999 {
			return vigil.Period{}, vigil.Errorf(vigil.EINVALID, "year must be a year, such as 2026")
		}
		return vigil.YearPeriod(year, loc), nil
	}
	return vigil.ParsePeriod(q.Get("from"), q.Get("to"), s.cfg.Now(), loc)
}
