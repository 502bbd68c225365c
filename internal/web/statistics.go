package web

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/vigil-hotline/vigil"
)

// StatisticsConfig configures the statistics pages, the annual report and
// the statistics API.
type StatisticsConfig struct {
	Service vigil.StatisticsService
	// Location is the hotline's time zone: periods start and end at its
	// midnights. UTC when nil.
	Location *time.Location
	// Options name the home country and the partner hotlines' countries.
	Options vigil.StatsOptions
	// SmallCount is the threshold under which a published count is shown
	// as "< N" (default 5).
	SmallCount int
}

func (c StatisticsConfig) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

func (c StatisticsConfig) small() int {
	if c.SmallCount <= 0 {
		return 5
	}
	return c.SmallCount
}

// statTable is one table of figures, with its chart. The same tables make
// the staff page, the annual report and its CSV files.
type statTable struct {
	ID    string
	Title string
	Cols  []string
	Rows  [][]string
	Chart template.HTML
}

type headline struct {
	Label, Value, Previous, Change string
}

// statsView is a period's figures as people read them: labelled, in their
// language, with small counts hidden where the page is published.
type statsView struct {
	Name             string
	Lang             vigil.Language
	Label, PrevLabel string
	From, To         string
	Year             int
	Headlines        []headline
	Tables           []statTable
	SmallNote        string
	// T is the language's texts; CSV, when set, is the address a table's
	// CSV download starts with (…&table=ID is added).
	T   map[string]string
	CSV string
}

// statsFormatter writes numbers, shares and durations in one language,
// hiding counts under the threshold when small > 0.
type statsFormatter struct {
	t     func(string) string
	p     *message.Printer
	small int
}

func (s *Server) statsFormatter(lang vigil.Language, small int) statsFormatter {
	return statsFormatter{t: func(k string) string { return s.catalog.T(lang, k) },
		p: message.NewPrinter(language.Make(string(lang))), small: small}
}

func (f statsFormatter) count(n int64) string {
	if f.hidden(n) {
		return vigil.SmallCount(n, f.small)
	}
	return f.p.Sprintf("%d", n)
}

// hidden reports whether n is a count the page must not show.
func (f statsFormatter) hidden(n int64) bool { return f.small > 0 && n > 0 && n < int64(f.small) }

// barValue is the length a count's bar may have: a hidden count draws as
// the threshold, so that the bar does not tell what the text hides.
func (f statsFormatter) barValue(n int64) int64 {
	if f.hidden(n) {
		return int64(f.small)
	}
	return n
}

func (f statsFormatter) share(x float64) string { return f.p.Sprintf("%.1f %%", x*100) }

// duration writes seconds as minutes, hours or days, whichever reads best.
func (f statsFormatter) duration(sec float64) string {
	switch {
	case sec <= 0:
		return "–"
	case sec < 3600:
		return f.p.Sprintf("%.0f min", sec/60)
	case sec < 48*3600:
		return f.p.Sprintf("%.1f %s", sec/3600, f.t("st_hours"))
	}
	return f.p.Sprintf("%.1f %s", sec/86400, f.t("st_days"))
}

// change is the relative change from prev to cur, or a dash where it says
// nothing (no previous figure, or a hidden one).
func (f statsFormatter) change(cur, prev int64) string {
	if prev == 0 || (f.small > 0 && (cur < int64(f.small) || prev < int64(f.small))) {
		return "–"
	}
	return f.p.Sprintf("%+.0f %%", (float64(cur)-float64(prev))/float64(prev)*100)
}

// label is the text of a code ("src_form" for source "form"), or the code
// itself when there is none: unknown labels are shown, never guessed.
func (f statsFormatter) label(prefix, code string) string {
	if code == "" {
		return "–"
	}
	if s := f.t(prefix + code); s != prefix+code {
		return s
	}
	return code
}

// countTable makes a ranked table (and bar chart) of a breakdown.
func (f statsFormatter) countTable(id, title string, m map[string]int64, labelOf func(string) string) statTable {
	type kv struct {
		k string
		n int64
	}
	var rows []kv
	var total int64
	for k, n := range m {
		rows = append(rows, kv{k, n})
		total += n
	}
	slices.SortFunc(rows, func(a, b kv) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.k, b.k)) })
	t := statTable{ID: id, Title: title, Cols: []string{title, f.t("st_count"), f.t("st_share")}}
	var bars []chartBar
	for _, r := range rows {
		l := labelOf(r.k)
		t.Rows = append(t.Rows, []string{l, f.count(r.n), f.share(float64(r.n) / float64(max(total, 1)))})
		bars = append(bars, chartBar{Label: l, Value: f.barValue(r.n), Text: f.count(r.n)})
	}
	t.Chart = barChart(title, bars)
	return t
}

// buildStatsView lays out a period's figures beside the previous period's.
func (s *Server) buildStatsView(lang vigil.Language, cur, prev *vigil.PeriodStats, p, pp vigil.Period, small int) *statsView {
	f := s.statsFormatter(lang, small)
	v := &statsView{Name: s.chrome(lang).Name, Lang: lang, Label: p.Label(), PrevLabel: pp.Label(),
		From: cur.From, To: cur.To, Year: p.From.Year(), T: s.catalog.texts[lang]}
	if small > 0 {
		v.SmallNote = strings.ReplaceAll(f.t("st_small"), "{n}", strconv.Itoa(small))
	}
	h := func(key string, c, pr int64) {
		v.Headlines = append(v.Headlines, headline{Label: f.t(key), Value: f.count(c), Previous: f.count(pr), Change: f.change(c, pr)})
	}
	h("st_reports", cur.Reports, prev.Reports)
	h("st_urls", cur.ReportedURLs, prev.ReportedURLs)
	h("st_urls_illegal", cur.URLsIllegal, prev.URLsIllegal)
	h("st_media", cur.Media, prev.Media)
	h("st_known", cur.KnownMedia, prev.KnownMedia)
	h("st_new", cur.UnknownMedia, prev.UnknownMedia)
	h("st_assessed_illegal", cur.AssessedIllegal, prev.AssessedIllegal)
	h("st_notices", cur.NoticesSent, prev.NoticesSent)
	h("st_removed", cur.URLsRemoved, prev.URLsRemoved)

	// Trend.
	trend := statTable{ID: "trend", Title: f.t("st_trend"),
		Cols: []string{f.t("st_month"), f.t("st_reports"), f.t("st_media"), f.t("st_removed")}}
	var bars []chartBar
	for _, m := range cur.Trend {
		trend.Rows = append(trend.Rows, []string{m.Month, f.count(m.Reports), f.count(m.Media), f.count(m.Removed)})
		bars = append(bars, chartBar{Label: m.Month[5:], Value: f.barValue(m.Reports), Text: f.count(m.Reports)})
	}
	trend.Chart = columnChart(f.t("st_trend")+": "+f.t("st_reports"), bars)
	v.Tables = append(v.Tables, trend)

	langName := func(code string) string {
		if l, ok := vigil.ParseLanguage(code); ok {
			return s.catalog.T(l, "lang_name")
		}
		return code
	}
	same := func(code string) string { return code }
	v.Tables = append(v.Tables,
		f.countTable("sources", f.t("st_by_source"), cur.ReportsBySource, func(c string) string { return f.label("src_", c) }),
		f.countTable("languages", f.t("st_by_language"), cur.ReportsByLanguage, langName),
		f.countTable("banks", f.t("st_by_bank"), cur.KnownByBank, same),
		f.countTable("verdicts", f.t("st_by_verdict"), cur.Assessments.ByVerdict, func(c string) string { return f.label("verdict_", c) }),
		f.countTable("age", f.t("st_by_age"), cur.Assessments.ByAgeGroup, func(c string) string { return f.label("age_", c) }),
		f.countTable("severity", f.t("st_by_severity"), cur.Assessments.BySeverity, same),
		f.countTable("flags", f.t("st_assessments"), map[string]int64{
			f.t("st_self_generated"): cur.Assessments.SelfGenerated, f.t("st_ai_generated"): cur.Assessments.AIGenerated}, same),
		f.countTable("regions", f.t("st_hosting_region"), cur.HostingByRegion, func(c string) string { return f.label("region_", c) }),
		f.countTable("countries", f.t("st_hosting_country"), cur.HostingByCountry, same),
		f.countTable("routes", f.t("st_messages_route"), cur.MessagesByRoute, func(c string) string { return f.label("route_", c) }),
	)

	// Time to removal.
	ttr := statTable{ID: "removal", Title: f.t("st_ttr"),
		Cols: []string{f.t("st_ttr"), f.t("st_removed"), f.t("st_median"), f.t("st_p90"), f.t("st_within_24h"), f.t("st_within_72h"), f.t("st_within_7d")}}
	for _, d := range []struct {
		key string
		d   vigil.Distribution
	}{{"st_from_first_seen", cur.RemovalFromFirstSeen}, {"st_from_notice", cur.RemovalFromNotice}} {
		ttr.Rows = append(ttr.Rows, []string{f.t(d.key), f.count(d.d.Count), f.duration(d.d.MedianSeconds), f.duration(d.d.P90Seconds),
			f.share(d.d.Within24h), f.share(d.d.Within72h), f.share(d.d.Within7d)})
	}
	buckets := map[string]int64{}
	order := map[string]int{}
	for i, n := range cur.RemovalFromFirstSeen.Buckets {
		k := f.t("b_" + strconv.Itoa(i))
		buckets[k], order[k] = n, i
	}
	dist := f.countTable("removal_buckets", f.t("st_ttr")+" ("+f.t("st_from_first_seen")+")", buckets, func(c string) string { return c })
	slices.SortFunc(dist.Rows, func(a, b []string) int { return cmp.Compare(order[a[0]], order[b[0]]) })
	var distBars []chartBar
	for _, r := range dist.Rows {
		distBars = append(distBars, chartBar{Label: r[0], Value: f.barValue(buckets[r[0]]), Text: r[1]})
	}
	dist.Chart = barChart(dist.Title, distBars)
	v.Tables = append(v.Tables, ttr, dist)

	v.Tables = append(v.Tables, statTable{ID: "analysts", Title: f.t("st_analysts"),
		Cols: []string{f.t("st_figure"), f.t("st_count")},
		Rows: [][]string{{f.t("st_analyst_assessments"), f.count(cur.AnalystAssessments)},
			{f.t("st_exposure_hours"), f.p.Sprintf("%.1f", float64(cur.AnalystExposureSeconds)/3600)}}})
	return v
}

// periodFigures computes a period's and its previous period's figures.
func (s *Server) periodFigures(ctx context.Context, p vigil.Period) (cur, prev *vigil.PeriodStats, err error) {
	st := s.cfg.Statistics
	if cur, err = st.Service.PeriodStats(ctx, p, st.Options); err != nil {
		return nil, nil, err
	}
	if prev, err = st.Service.PeriodStats(ctx, p.Previous(), st.Options); err != nil {
		return nil, nil, err
	}
	return cur, prev, nil
}

// writeCSV writes one table as CSV (RFC 4180), headers first.
func writeCSV(w io.Writer, t statTable) error {
	cw := newCSVWriter(w)
	if err := cw.Write(t.Cols); err != nil {
		return err
	}
	for _, r := range t.Rows {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// serveCSV answers a table as a CSV download.
func serveCSV(w http.ResponseWriter, name string, t statTable) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".csv"))
	return writeCSV(w, t)
}
