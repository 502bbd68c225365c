package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/statsgen"
	"github.com/vigil-hotline/vigil/internal/store"
)

// testStatistics fills the store with a generated year and a quarter
// around it and checks every figure of a period, and the provider
// scorecard, against a direct computation over the generated data. The
// periods are in Brussels time, and the generator puts events on and
// around the midnights that bound them.
func testStatistics(t *testing.T, db *store.DB) {
	ctx := context.Background()
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	a := statsgen.Generate(statsgen.Config{Year: 2026, Loc: loc, Seed: 7, Reports: 1200, Media: 3000, Messages: 900})
	if err := statsgen.Load(ctx, db, a); err != nil {
		t.Fatal(err)
	}
	opts := vigil.StatsOptions{HomeCountry: "BE", PartnerCountries: map[string]bool{"NL": true, "DE": true, "FR": true}}
	year := vigil.YearPeriod(2026, loc)
	march, err := vigil.ParsePeriod("2026-03-01", "2026-03-31", time.Now(), loc)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []vigil.Period{year, year.Previous(), march, vigil.YearPeriod(2030, loc)} {
		got, err := db.PeriodStats(ctx, p, opts)
		if err != nil {
			t.Fatal(err)
		}
		want := expectPeriodStats(a, p, opts)
		if !reflect.DeepEqual(got, want) {
			g, _ := json.MarshalIndent(got, "", " ")
			w, _ := json.MarshalIndent(want, "", " ")
			t.Errorf("period %s: figures differ\n got: %s\nwant: %s", p.Label(), g, w)
		}
		scores, err := db.ProviderScores(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if want := expectProviderScores(a, p); !reflect.DeepEqual(scores, want) {
			t.Errorf("period %s: scorecard differs\n got: %+v\nwant: %+v", p.Label(), scores, want)
		}
	}
	if got, _ := db.PeriodStats(ctx, year, opts); got.Reports == 0 || got.URLsRemoved == 0 || got.Assessments.Total == 0 {
		t.Errorf("the generated year is too thin to test anything: %+v", got)
	}
}

func in(p vigil.Period, t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

func inPtr(p vigil.Period, t *time.Time) bool { return t != nil && in(p, *t) }

// expectDistribution is the plain computation the SQL must agree with.
func expectDistribution(secs []int64) vigil.Distribution {
	if len(secs) == 0 {
		return vigil.Distribution{}
	}
	s := slices.Clone(secs)
	slices.Sort(s)
	n := len(s)
	d := vigil.Distribution{Count: int64(n)}
	d.MedianSeconds = float64(s[(n+1)/2-1]+s[(n+2)/2-1]) / 2
	d.P90Seconds = float64(s[int(math.Ceil(0.9*float64(n)))-1])
	d.Buckets = make([]int64, len(vigil.RemovalBucketBounds)+1)
	for _, v := range s {
		i := len(vigil.RemovalBucketBounds)
		for j, b := range vigil.RemovalBucketBounds {
			if v <= b {
				i = j
				break
			}
		}
		d.Buckets[i]++
	}
	within := func(k int) float64 {
		var c int64
		for _, b := range d.Buckets[:k+1] {
			c += b
		}
		return float64(c) / float64(n)
	}
	d.Within24h, d.Within72h, d.Within7d = within(1), within(2), within(3)
	return d
}

func expectPeriodStats(a *statsgen.Activity, p vigil.Period, opts vigil.StatsOptions) *vigil.PeriodStats {
	w := &vigil.PeriodStats{
		From: p.From.Format(time.DateOnly), To: p.To.AddDate(0, 0, -1).Format(time.DateOnly),
		ReportsBySource: map[string]int64{}, ReportsByLanguage: map[string]int64{},
		KnownByBank: map[string]int64{}, HostingByCountry: map[string]int64{}, HostingByRegion: map[string]int64{},
		MessagesByRoute: map[string]int64{},
		Assessments: vigil.AssessmentFigures{ByVerdict: map[string]int64{}, ByAgeGroup: map[string]int64{},
			BySeverity: map[string]int64{}},
	}
	for _, r := range a.Reports {
		if in(p, r.ReceivedAt) {
			w.Reports++
			w.ReportsBySource[r.Source]++
			w.ReportsByLanguage[r.Language]++
		}
	}
	for _, u := range a.URLs {
		if in(p, u.FirstReported) {
			w.ReportedURLs++
			if u.Takedown >= 0 {
				w.URLsIllegal++
			}
		}
	}
	if w.ReportedURLs > 0 {
		w.URLsIllegalShare = float64(w.URLsIllegal) / float64(w.ReportedURLs)
	}
	for _, m := range a.Media {
		if in(p, m.FirstSeen) {
			w.Media++
			switch m.Status {
			case "known":
				w.KnownMedia++
				w.KnownByBank[m.Bank]++
			case "unknown":
				w.UnknownMedia++
			}
		}
	}
	for _, s := range a.Assessments {
		if in(p, s.AssessedAt) {
			w.AnalystAssessments++
		}
		if s.State != "confirmed" || !inPtr(p, s.ConfirmedAt) {
			continue
		}
		w.Assessments.Total++
		w.Assessments.ByVerdict[s.Verdict]++
		w.Assessments.ByAgeGroup[s.AgeGroup]++
		if s.Severity != "" {
			w.Assessments.BySeverity[s.Severity]++
		}
		if s.SelfGenerated {
			w.Assessments.SelfGenerated++
		}
		if s.AIGenerated {
			w.Assessments.AIGenerated++
		}
		if vigil.Verdict(s.Verdict).Illegal() {
			w.AssessedIllegal++
		}
	}
	var fromSeen, fromNotice []int64
	groups := map[string]map[string][]int64{"country": {}, "provider": {}, "route": {}}
	routesOf := map[int]map[string]bool{}
	for _, m := range a.Messages {
		if routesOf[m.Takedown] == nil {
			routesOf[m.Takedown] = map[string]bool{}
		}
		routesOf[m.Takedown][m.RouteKind] = true
		if m.State == "sent" && inPtr(p, m.SentAt) {
			w.MessagesByRoute[m.RouteKind]++
			if m.Kind != "forward" {
				w.NoticesSent++
			}
		}
	}
	for i, t := range a.Takedowns {
		if in(p, t.Created) {
			if t.Country != "" {
				w.HostingByCountry[t.Country]++
			}
			w.HostingByRegion[string(vigil.RegionOf(t.Country, opts.HomeCountry, opts.PartnerCountries))]++
		}
		if !inPtr(p, t.Removed) {
			continue
		}
		s := int64(t.Removed.Sub(t.FirstSeen) / time.Second)
		fromSeen = append(fromSeen, s)
		fromNotice = append(fromNotice, int64(t.Removed.Sub(*t.FirstNotice)/time.Second))
		if t.Country != "" {
			groups["country"][t.Country] = append(groups["country"][t.Country], s)
		}
		if t.Provider != "" {
			groups["provider"][t.Provider] = append(groups["provider"][t.Provider], s)
		}
		for r := range routesOf[i] {
			groups["route"][r] = append(groups["route"][r], s)
		}
	}
	w.RemovalFromFirstSeen, w.RemovalFromNotice = expectDistribution(fromSeen), expectDistribution(fromNotice)
	w.URLsRemoved = w.RemovalFromFirstSeen.Count
	w.MedianTimeToRemovalSeconds = w.RemovalFromFirstSeen.MedianSeconds
	w.MedianTimeToRemovalFromNoticeSeconds = w.RemovalFromNotice.MedianSeconds
	figs := func(g map[string][]int64) map[string]vigil.RemovalFigures {
		out := map[string]vigil.RemovalFigures{}
		for k, v := range g {
			d := expectDistribution(v)
			out[k] = vigil.RemovalFigures{URLsRemoved: int(d.Count), MedianTimeToRemovalSeconds: d.MedianSeconds}
		}
		return out
	}
	w.ByCountry, w.ByProvider, w.ByRoute = figs(groups["country"]), figs(groups["provider"]), figs(groups["route"])
	var millis int64
	for _, e := range a.Exposure {
		if d, _ := time.ParseInLocation(time.DateOnly, e.Day, p.From.Location()); in(p, d) {
			millis += e.Millis
		}
	}
	w.AnalystExposureSeconds = millis / 1000
	for _, m := range p.Months() {
		f := vigil.MonthFigures{Month: m.From.Format("2006-01")}
		for _, r := range a.Reports {
			if in(m, r.ReceivedAt) {
				f.Reports++
			}
		}
		for _, x := range a.Media {
			if in(m, x.FirstSeen) {
				f.Media++
			}
		}
		for _, t := range a.Takedowns {
			if inPtr(m, t.Removed) {
				f.Removed++
			}
		}
		w.Trend = append(w.Trend, f)
	}
	return w
}

func expectProviderScores(a *statsgen.Activity, p vigil.Period) []vigil.ProviderScore {
	type key struct {
		provider string
		asn      int64
	}
	scores := map[key]*vigil.ProviderScore{}
	secs := map[key][]int64{}
	renotices := map[int]int64{}
	for _, m := range a.Messages {
		if m.Kind == "renotice" && m.State == "sent" {
			renotices[m.Takedown]++
		}
	}
	for i, t := range a.Takedowns {
		if !inPtr(p, t.FirstNotice) {
			continue
		}
		k := key{t.Provider, t.ASN}
		s := scores[k]
		if s == nil {
			s = &vigil.ProviderScore{Provider: t.Provider, ASN: t.ASN}
			scores[k] = s
		}
		s.Country = max(s.Country, t.Country)
		s.Notified++
		s.Renotices += renotices[i]
		if t.Escalated {
			s.Escalations++
		}
		if t.Removed == nil {
			s.StillOnline++
			continue
		}
		s.Removed++
		secs[k] = append(secs[k], int64(t.Removed.Sub(*t.FirstNotice)/time.Second))
	}
	var out []vigil.ProviderScore
	for k, s := range scores {
		d := expectDistribution(secs[k])
		s.MedianSeconds, s.P90Seconds = d.MedianSeconds, d.P90Seconds
		if d.Count > 0 {
			s.RemovedWithin24h = float64(d.Buckets[0]+d.Buckets[1]) / float64(s.Notified)
		}
		out = append(out, *s)
	}
	slices.SortFunc(out, func(x, y vigil.ProviderScore) int {
		return cmp.Or(cmp.Compare(x.Provider, y.Provider), cmp.Compare(x.ASN, y.ASN))
	})
	return out
}
