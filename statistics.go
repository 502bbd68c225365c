package vigil

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Period is a span of the hotline's calendar, [From, To). Its bounds are
// midnights in the hotline's time zone, so that "2026" means what the
// hotline's annual report means by it, not a UTC year.
type Period struct {
	From time.Time
	To   time.Time
}

// YearPeriod is the calendar year in loc.
func YearPeriod(year int, loc *time.Location) Period {
	return Period{From: time.Date(year, 1, 1, 0, 0, 0, 0, loc), To: time.Date(year+1, 1, 1, 0, 0, 0, 0, loc)}
}

// ParsePeriod reads a period given as two dates, YYYY-MM-DD, both
// included. An empty from means the start of to's year; an empty to means
// the end of from's year; both empty is the current year.
func ParsePeriod(from, to string, now time.Time, loc *time.Location) (Period, error) {
	day := func(name, s string) (time.Time, error) {
		t, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			return time.Time{}, Errorf(EINVALID, "%s must be a date, YYYY-MM-DD", name)
		}
		return t, nil
	}
	var p Period
	switch {
	case from == "" && to == "":
		return YearPeriod(now.In(loc).Year(), loc), nil
	case from == "":
		t, err := day("to", to)
		if err != nil {
			return p, err
		}
		p = Period{From: time.Date(t.Year(), 1, 1, 0, 0, 0, 0, loc), To: t.AddDate(0, 0, 1)}
	case to == "":
		f, err := day("from", from)
		if err != nil {
			return p, err
		}
		p = Period{From: f, To: time.Date(f.Year()+1, 1, 1, 0, 0, 0, 0, loc)}
	default:
		f, err := day("from", from)
		if err != nil {
			return p, err
		}
		t, err := day("to", to)
		if err != nil {
			return p, err
		}
		p = Period{From: f, To: t.AddDate(0, 0, 1)}
	}
	if !p.From.Before(p.To) {
		return p, Errorf(EINVALID, "from must not be after to")
	}
	if p.To.Sub(p.From) > 20*366*24*time.Hour {
		return p, Errorf(EINVALID, "a period may span at most twenty years")
	}
	return p, nil
}

// Previous is the period of the same calendar length just before p: the
// previous year for a year, the previous quarter for a quarter, the same
// number of days otherwise.
func (p Period) Previous() Period {
	f, t := p.From, p.To
	if f.Day() == 1 && t.Day() == 1 && f.Hour() == 0 && t.Hour() == 0 {
		months := (t.Year()-f.Year())*12 + int(t.Month()) - int(f.Month())
		return Period{From: f.AddDate(0, -months, 0), To: f}
	}
	days := int(t.Sub(f).Round(24*time.Hour) / (24 * time.Hour))
	return Period{From: f.AddDate(0, 0, -days), To: f}
}

// Months splits p into calendar months (the first and last may be
// partial), the buckets of the trend charts.
func (p Period) Months() []Period {
	var out []Period
	for start := p.From; start.Before(p.To); {
		next := time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, start.Location())
		if next.After(p.To) {
			next = p.To
		}
		out = append(out, Period{From: start, To: next})
		start = next
	}
	return out
}

// Label names the period as the hotline would: "2026", "2026-03", or the
// two dates.
func (p Period) Label() string {
	last := p.To.AddDate(0, 0, -1)
	switch {
	case p.From.Month() == 1 && p.From.Day() == 1 && p.To.Equal(p.From.AddDate(1, 0, 0)):
		return strconv.Itoa(p.From.Year())
	case p.From.Day() == 1 && p.To.Equal(p.From.AddDate(0, 1, 0)):
		return p.From.Format("2006-01")
	}
	return p.From.Format(time.DateOnly) + " – " + last.Format(time.DateOnly)
}

// HostingRegion says where content was hosted from the hotline's point of
// view, as INHOPE and the annual reports break it down.
type HostingRegion string

const (
	HostingHome      HostingRegion = "home"
	HostingPartner   HostingRegion = "partner"
	HostingElsewhere HostingRegion = "elsewhere"
	HostingUnknown   HostingRegion = "unknown"
)

// RegionOf says which region a hosting country belongs to.
func RegionOf(country, home string, partners map[string]bool) HostingRegion {
	switch {
	case country == "":
		return HostingUnknown
	case country == home:
		return HostingHome
	case partners[country]:
		return HostingPartner
	}
	return HostingElsewhere
}

// Distribution summarises times to removal, in seconds. The median of an
// even count is the mean of the two middle values; the 90th percentile is
// the nearest rank, ceil(0.9·n).
type Distribution struct {
	Count         int64   `json:"count"`
	MedianSeconds float64 `json:"median_seconds"`
	P90Seconds    float64 `json:"p90_seconds"`
	Within24h     float64 `json:"within_24h"`
	Within72h     float64 `json:"within_72h"`
	Within7d      float64 `json:"within_7d"`
	// Buckets counts removals within 1 h, 24 h, 72 h, 7 d, 28 d, and
	// beyond, the bars of the distribution chart.
	Buckets []int64 `json:"buckets"`
}

// RemovalBucketBounds are the upper bounds, in seconds, of
// Distribution.Buckets; the last bucket has none.
var RemovalBucketBounds = []int64{3600, 86400, 3 * 86400, 7 * 86400, 28 * 86400}

// MonthFigures is one month of the trend.
type MonthFigures struct {
	Month   string `json:"month"` // YYYY-MM
	Reports int64  `json:"reports"`
	Media   int64  `json:"media"`
	Removed int64  `json:"removed"`
}

// AssessmentFigures break down the confirmed assessments of a period.
type AssessmentFigures struct {
	Total         int64            `json:"total"`
	ByVerdict     map[string]int64 `json:"by_verdict"`
	ByAgeGroup    map[string]int64 `json:"by_age_group"`
	BySeverity    map[string]int64 `json:"by_severity"`
	SelfGenerated int64            `json:"self_generated"`
	AIGenerated   int64            `json:"ai_generated"`
}

// PeriodStats are the figures of a period: today's totals for the period
// (Stats) and the breakdowns of the annual report.
type PeriodStats struct {
	Stats
	From string `json:"from"` // YYYY-MM-DD, included
	To   string `json:"to"`   // YYYY-MM-DD, included

	ReportsBySource   map[string]int64 `json:"reports_by_source"`
	ReportsByLanguage map[string]int64 `json:"reports_by_language"`
	// URLsIllegal are the reported URLs of the period where illegal
	// material was found (a takedown was opened).
	URLsIllegal      int64             `json:"urls_illegal"`
	URLsIllegalShare float64           `json:"urls_illegal_share"`
	KnownByBank      map[string]int64  `json:"known_by_bank"`
	Assessments      AssessmentFigures `json:"assessments"`
	// Hosting counts the takedowns opened in the period by hosting
	// country and by region.
	HostingByCountry map[string]int64 `json:"hosting_by_country"`
	HostingByRegion  map[string]int64 `json:"hosting_by_region"`
	MessagesByRoute  map[string]int64 `json:"messages_by_route"`
	// RemovalFromFirstSeen and RemovalFromNotice summarise the removals of
	// the period.
	RemovalFromFirstSeen Distribution `json:"removal_from_first_seen"`
	RemovalFromNotice    Distribution `json:"removal_from_notice"`
	// AnalystAssessments and AnalystExposureSeconds are totals over every
	// analyst; figures per person are for supervisors' views only.
	AnalystAssessments     int64          `json:"analyst_assessments"`
	AnalystExposureSeconds int64          `json:"analyst_exposure_seconds"`
	Trend                  []MonthFigures `json:"trend"`
}

// StatsOptions say how the hotline sees the world: its own country and
// those of its partner hotlines.
type StatsOptions struct {
	HomeCountry      string
	PartnerCountries map[string]bool
}

// ProviderScore is one hosting provider's record over a period: the
// scorecard a hotline can publish or confront a slow provider with.
type ProviderScore struct {
	Provider         string  `json:"provider"`
	ASN              int64   `json:"asn"`
	Country          string  `json:"country,omitempty"`
	Notified         int64   `json:"notified"`
	Removed          int64   `json:"removed"`
	MedianSeconds    float64 `json:"median_time_to_removal_seconds"`
	P90Seconds       float64 `json:"p90_time_to_removal_seconds"`
	RemovedWithin24h float64 `json:"removed_within_24h"`
	Renotices        int64   `json:"renotices"`
	Escalations      int64   `json:"escalations"`
	StillOnline      int64   `json:"still_online"`
}

// StatisticsService computes the figures of a period. Every figure comes
// from aggregates in the database, so that a year of a busy hotline
// answers in seconds.
type StatisticsService interface {
	PeriodStats(ctx context.Context, p Period, opts StatsOptions) (*PeriodStats, error)
	ProviderScores(ctx context.Context, p Period) ([]ProviderScore, error)
}

// SmallCount is how a published figure below the threshold is written, so
// that no published figure can single out a reporter or a victim.
func SmallCount(n int64, threshold int) string {
	if threshold > 0 && n > 0 && n < int64(threshold) {
		return fmt.Sprintf("< %d", threshold)
	}
	return strconv.FormatInt(n, 10)
}
