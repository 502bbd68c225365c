package web

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"

	"github.com/vigil-hotline/vigil"
)

type providersPage struct {
	From, To string
	Sort     string
	Desc     bool
	Rows     []vigil.ProviderScore
	Table    statTable
	// SortKeys are the sort names of Table's columns, in order.
	SortKeys []string
}

// providerSorts are the scorecard's sortable columns.
var providerSorts = map[string]func(a, b vigil.ProviderScore) int{
	"provider":    func(a, b vigil.ProviderScore) int { return cmp.Compare(a.Provider, b.Provider) },
	"asn":         func(a, b vigil.ProviderScore) int { return cmp.Compare(a.ASN, b.ASN) },
	"notified":    func(a, b vigil.ProviderScore) int { return cmp.Compare(a.Notified, b.Notified) },
	"removed":     func(a, b vigil.ProviderScore) int { return cmp.Compare(a.Removed, b.Removed) },
	"median":      func(a, b vigil.ProviderScore) int { return cmp.Compare(a.MedianSeconds, b.MedianSeconds) },
	"p90":         func(a, b vigil.ProviderScore) int { return cmp.Compare(a.P90Seconds, b.P90Seconds) },
	"within24h":   func(a, b vigil.ProviderScore) int { return cmp.Compare(a.RemovedWithin24h, b.RemovedWithin24h) },
	"renotices":   func(a, b vigil.ProviderScore) int { return cmp.Compare(a.Renotices, b.Renotices) },
	"escalations": func(a, b vigil.ProviderScore) int { return cmp.Compare(a.Escalations, b.Escalations) },
	"online":      func(a, b vigil.ProviderScore) int { return cmp.Compare(a.StillOnline, b.StillOnline) },
}

// handleProviderScores shows the hosting-provider scorecard of a period,
// sortable by any column (?sort=median&desc=1), and as CSV (?format=csv).
func (s *Server) handleProviderScores(w http.ResponseWriter, r *http.Request) {
	p, err := s.period(r)
	if err != nil {
		s.staffFigureError(w, err)
		return
	}
	scores, err := s.cfg.Statistics.Service.ProviderScores(r.Context(), p)
	if err != nil {
		s.staffFigureError(w, err)
		return
	}
	q := r.URL.Query()
	pg := providersPage{From: p.From.Format("2006-01-02"), To: p.To.AddDate(0, 0, -1).Format("2006-01-02"),
		Sort: q.Get("sort"), Desc: q.Get("desc") == "1",
		SortKeys: []string{"provider", "asn", "provider", "notified", "removed", "median", "p90", "within24h",
			"renotices", "escalations", "online"}}
	by, ok := providerSorts[pg.Sort]
	if !ok {
		pg.Sort, pg.Desc, by = "median", true, providerSorts["median"]
	}
	slices.SortStableFunc(scores, func(a, b vigil.ProviderScore) int {
		if pg.Desc {
			return by(b, a)
		}
		return by(a, b)
	})
	lang := s.staffLanguage(r)
	f := s.statsFormatter(lang, 0)
	pg.Rows = scores
	pg.Table = statTable{ID: "providers", Title: f.t("st_providers"), Cols: []string{f.t("st_provider"), "ASN", f.t("st_country"),
		f.t("st_notified"), f.t("st_removed"), f.t("st_median"), f.t("st_p90"), f.t("st_within_24h"),
		f.t("st_renotices"), f.t("st_escalations"), f.t("st_still_online")}}
	for _, sc := range scores {
		pg.Table.Rows = append(pg.Table.Rows, []string{sc.Provider, strconv.FormatInt(sc.ASN, 10), sc.Country,
			f.count(sc.Notified), f.count(sc.Removed), f.duration(sc.MedianSeconds), f.duration(sc.P90Seconds),
			f.share(sc.RemovedWithin24h), f.count(sc.Renotices), f.count(sc.Escalations), f.count(sc.StillOnline)})
	}
	if q.Get("format") == "csv" {
		if err := serveCSV(w, "providers-"+pg.From+"-"+pg.To, pg.Table); err != nil {
			s.logger.Error("providers csv", "err", err)
		}
		return
	}
	s.render(w, r, http.StatusOK, "staff_providers", s.statsPage(w, r, lang, pg))
}
