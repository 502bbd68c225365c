package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/browsertest"
	"github.com/vigil-hotline/vigil/internal/statsgen"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// withStatistics serves the statistics over db in Brussels time, with a
// generated 2026 (and 2025) loaded.
func withStatistics(t *testing.T, db *store.DB) func(*web.Config) {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	a := statsgen.Generate(statsgen.Config{Year: 2026, Loc: loc, Seed: 3, Reports: 300, Media: 600, Messages: 200})
	if err := statsgen.Load(context.Background(), db, a); err != nil {
		t.Fatal(err)
	}
	return func(c *web.Config) {
		c.Statistics = web.StatisticsConfig{Service: db, Location: loc,
			Options: vigil.StatsOptions{HomeCountry: "BE", PartnerCountries: map[string]bool{"NL": true}}}
	}
}

func (e *env) apiGet(path, key string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, body := e.do(http.DefaultClient, req)
	return resp.StatusCode, body
}

// TestAPIPeriodStats: a period keeps today's fields and adds the
// breakdowns; the scorecard answers its documented fields; bad periods are
// refused with a JSON error.
func TestAPIPeriodStats(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, withStatistics(t, db))
		key := e.apiKey("stats")
		status, body := e.apiGet("/api/v1/stats?from=2026-01-01&to=2026-12-31", key)
		if status != 200 {
			t.Fatalf("period stats: %d %s", status, body)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"reports", "reported_urls", "media", "known_media", "notices_sent", "urls_removed",
			"median_time_to_removal_seconds", "by_route", "by_country", "by_provider", "reports_by_source",
			"reports_by_language", "assessments", "hosting_by_country", "hosting_by_region", "messages_by_route",
			"removal_from_first_seen", "removal_from_notice", "trend", "analyst_exposure_seconds"} {
			if _, ok := got[k]; !ok {
				t.Errorf("period stats lack %q", k)
			}
		}
		want, err := db.PeriodStats(context.Background(), vigil.YearPeriod(2026, mustBrussels(t)), vigil.StatsOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got["reports"] != float64(want.Reports) || want.Reports == 0 {
			t.Errorf("reports %v, want %d", got["reports"], want.Reports)
		}
		status, body = e.apiGet("/api/v1/stats/providers?from=2026-01-01&to=2026-12-31", key)
		var scores struct {
			Providers []map[string]any `json:"providers"`
		}
		if status != 200 || json.Unmarshal([]byte(body), &scores) != nil || len(scores.Providers) == 0 {
			t.Fatalf("providers: %d %s", status, body)
		}
		for _, k := range []string{"provider", "asn", "notified", "removed", "median_time_to_removal_seconds",
			"p90_time_to_removal_seconds", "removed_within_24h"} {
			if _, ok := scores.Providers[0][k]; !ok {
				t.Errorf("provider scores lack %q", k)
			}
		}
		for _, q := range []string{"from=2026-13-01", "from=2026-05-01&to=2026-04-01", "from=yesterday"} {
			status, body := e.apiGet("/api/v1/stats?"+q, key)
			if status != 400 || !strings.Contains(body, `"error"`) {
				t.Errorf("%s: %d %s", q, status, body)
			}
		}
		if status, _ := e.apiGet("/api/v1/stats/providers", ""); status != http.StatusUnauthorized {
			t.Errorf("providers without a key: %d", status)
		}
	})
}

func mustBrussels(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestStatisticsPages: supervisors read the figures, the scorecard and the
// annual report in each language, download tables as CSV, and a published
// report never shows a count under the threshold; analysts may not.
func TestStatisticsPages(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withStatistics(t, db))
	e.addUser("sue", vigil.RoleSupervisor, "a long supervisor password")
	e.addUser("ana", vigil.RoleAnalyst, "a long analyst password")
	c := e.login("sue", "a long supervisor password")
	titles := map[string]string{"nl": "Statistieken", "fr": "Statistiques", "de": "Statistik", "en": "Statistics"}
	annual := map[string]string{"nl": "Jaarverslag 2026", "fr": "Rapport annuel 2026", "de": "Jahresbericht 2026", "en": "Annual report 2026"}
	for lang, title := range titles {
		resp, body := e.get(c, "/staff/statistics?year=2026&lang="+lang)
		if resp.StatusCode != 200 || !strings.Contains(body, title) || !strings.Contains(body, `<svg class="chart"`) ||
			!strings.Contains(body, `id="headlines"`) || !strings.Contains(body, `id="table-trend"`) {
			t.Errorf("statistics page in %s: %d", lang, resp.StatusCode)
		}
		resp, body = e.get(c, "/staff/statistics/annual?year=2026&lang="+lang)
		if resp.StatusCode != 200 || !strings.Contains(body, annual[lang]) || !strings.Contains(body, `id="small-note"`) {
			t.Errorf("annual report in %s: %d %.300s", lang, resp.StatusCode, body)
		}
	}
	// A published table hides small counts: some hosting countries have
	// only a few cases in the generated year.
	resp, body := e.get(c, "/staff/statistics/annual?year=2026&lang=en&format=csv&table=countries")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("annual csv: %d", resp.StatusCode)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "Hosting countries" {
		t.Fatalf("annual csv: %v %q", err, body)
	}
	for _, r := range rows[1:] {
		if n := r[1]; n != "< 5" && len(n) == 1 && n >= "1" && n <= "4" {
			t.Errorf("a count under 5 is published: %v", r)
		}
	}
	// The staff view shows exact counts, and the scorecard sorts.
	resp, body = e.get(c, "/staff/statistics/providers?from=2026-01-01&to=2026-12-31&sort=notified&desc=1&lang=en")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="providers"`) || !strings.Contains(body, "OVH") {
		t.Errorf("scorecard: %d", resp.StatusCode)
	}
	resp, body = e.get(c, "/staff/statistics/providers?from=2026-01-01&to=2026-12-31&format=csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "Provider,ASN,") {
		t.Errorf("scorecard csv: %d %.100s", resp.StatusCode, body)
	}
	if resp, _ := e.get(c, "/staff/statistics?from=2026-02-30"); resp.StatusCode != 400 {
		t.Errorf("a bad date: %d", resp.StatusCode)
	}
	analyst := e.login("ana", "a long analyst password")
	if resp, _ := e.get(analyst, "/staff/statistics"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an analyst reads the statistics: %d", resp.StatusCode)
	}
}

// TestBrowserStatistics opens the statistics page and the annual report
// in each language in Chromium: the charts draw and the report's title is
// in the language asked for.
func TestBrowserStatistics(t *testing.T) {
	ctx := browsertest.New(t)
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withStatistics(t, db))
	e.addUser("sue", vigil.RoleSupervisor, "a long supervisor password")
	if err := e.browserLogin(ctx, "sue", "a long supervisor password"); err != nil {
		t.Fatal(err)
	}
	annual := map[string]string{"nl": "Jaarverslag 2026", "fr": "Rapport annuel 2026", "de": "Jahresbericht 2026", "en": "Annual report 2026"}
	for lang, title := range annual {
		var h1 string
		var charts int
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.srv.URL+"/staff/statistics?year=2026&lang="+lang),
			chromedp.WaitVisible("#headlines"),
			chromedp.Click("#annual-link"),
			chromedp.WaitVisible("#report-title"),
		)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		h1, err = chromedp.Run(ctx, chromedp.Text("#report-title"))
		if err == nil {
			charts, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart rect").length`))
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(h1) != title || charts == 0 {
			t.Errorf("annual report in %s: title %q, %d bars", lang, h1, charts)
		}
		browsertest.Screenshot(ctx, t, "annual-"+lang)
	}
}
