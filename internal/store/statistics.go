package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

var _ vigil.StatisticsService = (*DB)(nil)

// PeriodStats computes the figures of a period with aggregate queries only:
// the database does the counting, medians and percentiles (window
// functions, which both SQLite and PostgreSQL have), so a year of a busy
// hotline costs a few index range scans, not a load of rows into Go.
func (db *DB) PeriodStats(ctx context.Context, p vigil.Period, opts vigil.StatsOptions) (*vigil.PeriodStats, error) {
	q := db.drv.Reader()
	s := &vigil.PeriodStats{
		From: p.From.Format(time.DateOnly), To: p.To.AddDate(0, 0, -1).Format(time.DateOnly),
		ReportsBySource: map[string]int64{}, ReportsByLanguage: map[string]int64{},
		KnownByBank: map[string]int64{}, HostingByCountry: map[string]int64{}, HostingByRegion: map[string]int64{},
		MessagesByRoute: map[string]int64{},
		Assessments: vigil.AssessmentFigures{ByVerdict: map[string]int64{}, ByAgeGroup: map[string]int64{},
			BySeverity: map[string]int64{}},
	}
	from, to := p.From.UTC(), p.To.UTC()

	// Intake.
	err := eachRow(ctx, q, `SELECT source, language, count(*) FROM reports
		WHERE received_at >= $1 AND received_at < $2 GROUP BY source, language`, []any{from, to},
		func(r Rows) error {
			var src, lang string
			var n int64
			if err := r.Scan(&src, &lang, &n); err != nil {
				return err
			}
			s.Reports += n
			s.ReportsBySource[src] += n
			s.ReportsByLanguage[lang] += n
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("period stats: reports: %w", err)
	}
	if err := q.QueryRow(ctx, `SELECT count(*),
		COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM takedowns t WHERE t.reported_url_id = u.id) THEN 1 ELSE 0 END), 0)
		FROM reported_urls u WHERE first_reported_at >= $1 AND first_reported_at < $2`, from, to).
		Scan(&s.ReportedURLs, &s.URLsIllegal); err != nil {
		return nil, fmt.Errorf("period stats: urls: %w", err)
	}
	s.URLsIllegalShare = share(s.URLsIllegal, s.ReportedURLs)

	// Media.
	if err := q.QueryRow(ctx, `SELECT count(*),
		COALESCE(SUM(CASE WHEN status = 'known' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'unknown' THEN 1 ELSE 0 END), 0)
		FROM media WHERE first_seen_at >= $1 AND first_seen_at < $2`, from, to).
		Scan(&s.Media, &s.KnownMedia, &s.UnknownMedia); err != nil {
		return nil, fmt.Errorf("period stats: media: %w", err)
	}
	// Known media by the bank that knew them, counted when they were
	// matched (as they were first seen).
	if err := countBy(ctx, q, s.KnownByBank, `SELECT bank_name, count(DISTINCT media_id) FROM media_matches
		WHERE matched_at >= $1 AND matched_at < $2 GROUP BY bank_name`, from, to); err != nil {
		return nil, fmt.Errorf("period stats: banks: %w", err)
	}

	// Assessments: the confirmed ones, by when they were confirmed.
	err = eachRow(ctx, q, `SELECT verdict, age_group, severity, count(*),
		SUM(CASE WHEN self_generated THEN 1 ELSE 0 END), SUM(CASE WHEN ai_generated THEN 1 ELSE 0 END)
		FROM assessments WHERE state = 'confirmed' AND confirmed_at >= $1 AND confirmed_at < $2
		GROUP BY verdict, age_group, severity`, []any{from, to},
		func(r Rows) error {
			var verdict, age, sev string
			var n, self, ai int64
			if err := r.Scan(&verdict, &age, &sev, &n, &self, &ai); err != nil {
				return err
			}
			a := &s.Assessments
			a.Total += n
			a.ByVerdict[verdict] += n
			if age != "" {
				a.ByAgeGroup[age] += n
			}
			if sev != "" {
				a.BySeverity[sev] += n
			}
			a.SelfGenerated += self
			a.AIGenerated += ai
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("period stats: assessments: %w", err)
	}
	if err := q.QueryRow(ctx, `SELECT count(DISTINCT media_id) FROM assessments
		WHERE state = 'confirmed' AND verdict IN ($3, $4) AND confirmed_at >= $1 AND confirmed_at < $2`,
		from, to, string(vigil.VerdictBaseline), string(vigil.VerdictNational)).Scan(&s.AssessedIllegal); err != nil {
		return nil, fmt.Errorf("period stats: illegal: %w", err)
	}

	// Hosting of the cases opened in the period.
	if err := countBy(ctx, q, s.HostingByCountry, `SELECT country, count(*) FROM takedowns
		WHERE created_at >= $1 AND created_at < $2 GROUP BY country`, from, to); err != nil {
		return nil, fmt.Errorf("period stats: hosting: %w", err)
	}
	for c, n := range s.HostingByCountry {
		s.HostingByRegion[string(vigil.RegionOf(c, opts.HomeCountry, opts.PartnerCountries))] += n
	}
	delete(s.HostingByCountry, "")

	// Messages.
	if err := countBy(ctx, q, s.MessagesByRoute, `SELECT route_kind, count(*) FROM outbound
		WHERE state = 'sent' AND sent_at >= $1 AND sent_at < $2 GROUP BY route_kind`, from, to); err != nil {
		return nil, fmt.Errorf("period stats: messages: %w", err)
	}
	if err := q.QueryRow(ctx, `SELECT count(*) FROM outbound WHERE state = 'sent'
		AND kind IN ('notice', 'renotice', 'escalation') AND sent_at >= $1 AND sent_at < $2`, from, to).
		Scan(&s.NoticesSent); err != nil {
		return nil, fmt.Errorf("period stats: notices: %w", err)
	}

	// Removals in the period.
	removed := `FROM takedowns WHERE removed_at >= $1 AND removed_at < $2 AND removal_seconds IS NOT NULL`
	all, err := distributions(ctx, q, `SELECT '' AS g, removal_seconds AS s `+removed, from, to)
	if err != nil {
		return nil, fmt.Errorf("period stats: removals: %w", err)
	}
	s.RemovalFromFirstSeen = all[""]
	fromNotice, err := distributions(ctx, q, `SELECT '' AS g, notice_removal_seconds AS s `+removed+
		` AND notice_removal_seconds IS NOT NULL`, from, to)
	if err != nil {
		return nil, fmt.Errorf("period stats: removals: %w", err)
	}
	s.RemovalFromNotice = fromNotice[""]
	s.URLsRemoved = s.RemovalFromFirstSeen.Count
	s.MedianTimeToRemovalSeconds = s.RemovalFromFirstSeen.MedianSeconds
	s.MedianTimeToRemovalFromNoticeSeconds = s.RemovalFromNotice.MedianSeconds
	groups := map[string]string{
		"country":  `SELECT country AS g, removal_seconds AS s ` + removed + ` AND country <> ''`,
		"provider": `SELECT provider AS g, removal_seconds AS s ` + removed + ` AND provider <> ''`,
		"route": `SELECT DISTINCT o.route_kind AS g, t.id AS tid, t.removal_seconds AS s FROM takedowns t
			JOIN outbound o ON o.takedown_id = t.id
			WHERE t.removed_at >= $1 AND t.removed_at < $2 AND t.removal_seconds IS NOT NULL`,
	}
	for name, src := range groups {
		d, err := distributions(ctx, q, src, from, to)
		if err != nil {
			return nil, fmt.Errorf("period stats: removals by %s: %w", name, err)
		}
		figs := map[string]vigil.RemovalFigures{}
		for g, v := range d {
			figs[g] = vigil.RemovalFigures{URLsRemoved: int(v.Count), MedianTimeToRemovalSeconds: v.MedianSeconds}
		}
		switch name {
		case "country":
			s.ByCountry = figs
		case "provider":
			s.ByProvider = figs
		default:
			s.ByRoute = figs
		}
	}

	// Analysts, aggregated.
	if err := q.QueryRow(ctx, `SELECT count(*) FROM assessments WHERE assessed_at >= $1 AND assessed_at < $2`, from, to).
		Scan(&s.AnalystAssessments); err != nil {
		return nil, fmt.Errorf("period stats: analysts: %w", err)
	}
	loc := p.From.Location()
	var millis int64
	if err := q.QueryRow(ctx, `SELECT COALESCE(SUM(millis), 0) FROM exposure WHERE day >= $1 AND day < $2`,
		p.From.In(loc).Format(time.DateOnly), p.To.In(loc).Format(time.DateOnly)).Scan(&millis); err != nil {
		return nil, fmt.Errorf("period stats: exposure: %w", err)
	}
	s.AnalystExposureSeconds = millis / 1000

	if s.Trend, err = db.trend(ctx, p); err != nil {
		return nil, err
	}
	return s, nil
}

// trend counts reports, media and removals per calendar month of p: one
// COUNT per month and table, each a range of a covering index, which is far
// cheaper than one pass evaluating a bucket expression per row.
func (db *DB) trend(ctx context.Context, p vigil.Period) ([]vigil.MonthFigures, error) {
	months := p.Months()
	out := make([]vigil.MonthFigures, len(months))
	q := db.drv.Reader()
	for i, m := range months {
		out[i].Month = m.From.Format("2006-01")
		from, to := m.From.UTC(), m.To.UTC()
		for _, t := range []struct {
			query string
			dest  *int64
		}{
			{`SELECT count(*) FROM reports WHERE received_at >= $1 AND received_at < $2`, &out[i].Reports},
			{`SELECT count(*) FROM media WHERE first_seen_at >= $1 AND first_seen_at < $2`, &out[i].Media},
			{`SELECT count(*) FROM takedowns WHERE removed_at >= $1 AND removed_at < $2`, &out[i].Removed},
		} {
			if err := q.QueryRow(ctx, t.query, from, to).Scan(t.dest); err != nil {
				return nil, fmt.Errorf("period stats: trend: %w", err)
			}
		}
	}
	return out, nil
}

// ProviderScores is the hosting-provider scorecard: every provider (and
// network) notified in the period, with what became of the notices. Time
// to removal runs from the first notice, the part a provider answers for.
func (db *DB) ProviderScores(ctx context.Context, p vigil.Period) ([]vigil.ProviderScore, error) {
	q := db.drv.Reader()
	from, to := p.From.UTC(), p.To.UTC()
	const key = `provider || '|' || CAST(asn AS TEXT)`
	cohort := `FROM takedowns t WHERE t.first_notice_at >= $1 AND t.first_notice_at < $2`
	var out []vigil.ProviderScore
	idx := map[string]int{}
	err := eachRow(ctx, q, `SELECT provider, asn, MAX(country), count(*),
		COALESCE(SUM(CASE WHEN removed_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN escalated THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN removed_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM((SELECT count(*) FROM outbound o WHERE o.takedown_id = t.id AND o.kind = 'renotice' AND o.state = 'sent')), 0)
		`+cohort+` GROUP BY provider, asn`, []any{from, to},
		func(r Rows) error {
			var ps vigil.ProviderScore
			if err := r.Scan(&ps.Provider, &ps.ASN, &ps.Country, &ps.Notified, &ps.Removed, &ps.Escalations,
				&ps.StillOnline, &ps.Renotices); err != nil {
				return err
			}
			out = append(out, ps)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("provider scores: %w", err)
	}
	d, err := distributions(ctx, q, `SELECT `+key+` AS g, notice_removal_seconds AS s `+cohort+
		` AND t.notice_removal_seconds IS NOT NULL`, from, to)
	if err != nil {
		return nil, fmt.Errorf("provider scores: %w", err)
	}
	// Sorted here, not by the database, whose collation may differ.
	slices.SortFunc(out, func(a, b vigil.ProviderScore) int {
		return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.ASN, b.ASN))
	})
	for i, ps := range out {
		idx[ps.Provider+"|"+strconv.FormatInt(ps.ASN, 10)] = i
	}
	for g, v := range d {
		if i, ok := idx[g]; ok {
			out[i].MedianSeconds, out[i].P90Seconds = v.MedianSeconds, v.P90Seconds
			out[i].RemovedWithin24h = share(v.Buckets[0]+v.Buckets[1], out[i].Notified)
		}
	}
	return out, nil
}

// distributions summarises, per group, the values of src: a query
// yielding a group g and a value s (seconds, never NULL). The ranks come
// from window functions, so only one row per group leaves the database.
func distributions(ctx context.Context, q Querier, src string, args ...any) (map[string]vigil.Distribution, error) {
	var cum []string
	for _, b := range vigil.RemovalBucketBounds {
		cum = append(cum, fmt.Sprintf("SUM(CASE WHEN s <= %d THEN 1 ELSE 0 END)", b))
	}
	query := `SELECT g, count(*),
		CAST(AVG(CASE WHEN rn = (cnt + 1) / 2 OR rn = (cnt + 2) / 2 THEN s END) AS DOUBLE PRECISION),
		CAST(MIN(CASE WHEN rn >= (9 * cnt + 9) / 10 THEN s END) AS DOUBLE PRECISION), ` + strings.Join(cum, ", ") + `
		FROM (SELECT g, s, ROW_NUMBER() OVER (PARTITION BY g ORDER BY s) AS rn,
			COUNT(*) OVER (PARTITION BY g) AS cnt FROM (` + src + `) src) ranked GROUP BY g`
	out := map[string]vigil.Distribution{}
	err := eachRow(ctx, q, query, args, func(r Rows) error {
		var g string
		var d vigil.Distribution
		c := make([]int64, len(vigil.RemovalBucketBounds))
		dest := []any{&g, &d.Count, &d.MedianSeconds, &d.P90Seconds}
		for i := range c {
			dest = append(dest, &c[i])
		}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		d.Within24h, d.Within72h, d.Within7d = share(c[1], d.Count), share(c[2], d.Count), share(c[3], d.Count)
		d.Buckets = make([]int64, len(c)+1)
		prev := int64(0)
		for i, v := range c {
			d.Buckets[i] = v - prev
			prev = v
		}
		d.Buckets[len(c)] = d.Count - prev
		out[g] = d
		return nil
	})
	return out, err
}

// countBy adds up a two-column (key, count) query into m.
func countBy(ctx context.Context, q Querier, m map[string]int64, query string, args ...any) error {
	return eachRow(ctx, q, query, args, func(r Rows) error {
		var k string
		var n int64
		if err := r.Scan(&k, &n); err != nil {
			return err
		}
		m[k] += n
		return nil
	})
}

// eachRow runs query and calls fn for every row.
func eachRow(ctx context.Context, q Querier, query string, args []any, fn func(Rows) error) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func share(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}
