package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/metrics"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

var jobsRE = regexp.MustCompile(`(?m)^vigil_jobs\{kind="([^"]+)",state="([^"]+)"\} (\d+)$`)

// TestMetricsAgreeWithStore: the job counts scraped are the database's,
// the process's counters count, and readiness says why it is not.
func TestMetricsAgreeWithStore(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i := 0; i < 3; i++ {
			r, err := vigil.NewReport(vigil.ReportInput{URLs: []string{"https://example.com/" + strconv.Itoa(i)}}, vigil.SourceForm, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := db.CreateReport(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		m := metrics.New(metrics.Config{Store: db, Index: func() metrics.IndexStats {
			return metrics.IndexStats{Banks: 1, PDQ: 10, Exact: 5, Loaded: true, LoadSeconds: 0.5}
		}})
		m.ObserveRequest("GET /api/v1/lookup", 200, 3*time.Millisecond)
		m.ObserveLookup("pdq", true)
		m.ObserveLookup("md5", false)
		status, body := get(t, m.Handler(), "/metrics")
		if status != 200 {
			t.Fatalf("/metrics: %d", status)
		}
		for _, want := range []string{
			`vigil_store_up 1`,
			`vigil_http_requests_total{route="GET /api/v1/lookup",status="200"} 1`,
			`vigil_http_request_duration_seconds_bucket{route="GET /api/v1/lookup",le="0.005"} 1`,
			`vigil_lookups_total{signal="pdq"} 1`,
			`vigil_lookup_matches_total{signal="pdq"} 1`,
			`vigil_index_entries{kind="pdq"} 10`,
			`vigil_index_load_seconds 0.5`,
			`vigil_analyst_queue{what="queued"} 0`,
			`vigil_job_oldest_age_seconds{kind=`,
			`vigil_job_queue_depth{kind=`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		scraped := map[string]int64{}
		for _, mm := range jobsRE.FindAllStringSubmatch(body, -1) {
			n, _ := strconv.ParseInt(mm[3], 10, 64)
			scraped[mm[1]+"/"+mm[2]] += n
		}
		jobs, err := db.ListJobs(ctx, nil, 10000)
		if err != nil {
			t.Fatal(err)
		}
		inDB := map[string]int64{}
		for _, j := range jobs {
			inDB[j.Kind+"/"+j.State]++
		}
		if len(inDB) == 0 || len(scraped) != len(inDB) {
			t.Errorf("jobs: scraped %v, database %v", scraped, inDB)
		}
		for k, n := range inDB {
			if scraped[k] != n {
				t.Errorf("jobs %s: scraped %d, database %d", k, scraped[k], n)
			}
		}
		if status, body := get(t, m.Handler(), "/readyz"); status != 200 || body != "ready\n" {
			t.Errorf("/readyz: %d %q", status, body)
		}
		if status, _ := get(t, m.Handler(), "/healthz"); status != 200 {
			t.Errorf("/healthz: %d", status)
		}
		behind := metrics.New(metrics.Config{Store: db, LatestMigration: 9999})
		if status, body := get(t, behind.Handler(), "/readyz"); status != 503 || !strings.Contains(body, "migration") {
			t.Errorf("/readyz behind on migrations: %d %q", status, body)
		}
		unloaded := metrics.New(metrics.Config{Store: db, Index: func() metrics.IndexStats { return metrics.IndexStats{} }})
		if status, body := get(t, unloaded.Handler(), "/readyz"); status != 503 || !strings.Contains(body, "index") {
			t.Errorf("/readyz without index: %d %q", status, body)
		}
	})
}
