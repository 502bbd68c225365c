package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/blob/s3test"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestScaleOut is issue 17's proof of the scale-out design: one `vigil
// serve --workers=false` and three `vigil work` processes on one
// PostgreSQL database and one (fake) S3 store. Reports come in through
// the API; one worker is killed with SIGKILL midway; every image is still
// hashed and matched exactly once. An entry imported by another process
// is answered by serve's lookup API (polled: within about a second, never
// asserted on time), and the job counts of serve's /metrics are the
// database's.
//
// Scaled down from the 200 reports and 2,000 images to 40 reports
// and 400 images, so that it runs in well under a minute on CI's two busy
// cores; VIGIL_SCALEOUT_IMAGES raises it (e.g. 2000).
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts four processes")
	}
	images := 400
	if v, err := strconv.Atoi(os.Getenv("VIGIL_SCALEOUT_IMAGES")); err == nil && v >= 100 {
		images = v
	}
	c := newScaleOutCluster(t, images)
	n, db, base, key, data, dbURL, reports, metricsAddr := c.net, c.db, c.base, c.key, c.data, c.dbURL, c.reports, c.metricsAddr

	workers := make([]*exec.Cmd, 3)
	for i := range workers {
		workers[i] = startWork(t, n, data, dbURL, "--metrics-addr", "off", "--crawl-depth", "0")
	}
	start := time.Now()
	for i := 0; i < reports; i++ {
		postReport(t, base, key, n.URL(simnet.Bench, fmt.Sprintf("/page/%d", i)))
	}
	count := func(q string) int { t.Helper(); return c.count(t, q) }
	waitFor(t, 120*time.Second, "a third of the images matched", func() bool {
		alive(t, workers[0])
		return count(`SELECT count(*) FROM media WHERE match_runs > 0`) >= images/3
	})
	_ = workers[0].Process.Signal(syscall.SIGKILL)
	_ = workers[0].Wait()
	killedAt := count(`SELECT count(*) FROM media WHERE match_runs > 0`)
	if killedAt >= images {
		t.Fatal("everything was matched before the kill: the test proves nothing")
	}
	waitFor(t, 240*time.Second, "every reported URL crawled", func() bool {
		alive(t, workers[1])
		return count(`SELECT count(*) FROM reported_urls WHERE status IN ('done', 'failed')`) == reports
	})
	elapsed := time.Since(start)
	media := count(`SELECT count(*) FROM media`)
	once := count(`SELECT count(*) FROM media WHERE hash_runs = 1 AND match_runs = 1`)
	failed := count(`SELECT count(*) FROM reported_urls WHERE status <> 'done'`)
	if media != images || once != images || failed != 0 {
		t.Errorf("%d media, %d hashed and matched exactly once, %d URLs not done; want %d, %d, 0", media, once, failed, images, images)
	}
	t.Logf("%d reports, %d images: %.1f s with three workers (one killed after %d), %.0f images/s",
		reports, images, elapsed.Seconds(), killedAt, float64(images)/elapsed.Seconds())

	// An entry imported by another process is answered by serve.
	vigilCmd(t, data, dbURL, "", "bank", "create", "imported", "--source", "hotline")
	digest := "5ca1e0075ca1e0075ca1e0075ca1e007"
	vigilCmd(t, data, dbURL, digest+"\n", "bank", "import", "imported", "-", "--format", "lines", "--type", "md5")
	waitFor(t, 60*time.Second, "serve to answer the imported entry", func() bool {
		req, _ := http.NewRequest("GET", base+"/api/v1/lookup?md5="+digest, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200 && strings.Contains(string(b), `"bank":"imported"`)
	})

	// The job counts in serve's /metrics are the database's. Jobs may
	// still finish between the two reads (a report closing), so compare
	// until both agree.
	var scraped, inDB map[string]int
	deadline := time.Now().Add(60 * time.Second)
	for {
		scraped, inDB = scrapeJobs(t, "http://"+metricsAddr+"/metrics"), dbJobs(t, db)
		if len(inDB) > 0 && fmt.Sprint(scraped) == fmt.Sprint(inDB) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs in /metrics %v, in the database %v", scraped, inDB)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// scaleOutCluster is serve (without workers) on a PostgreSQL database of
// its own and a fake S3 bucket, the simulated internet with its bench
// site of images, and an API key; the workers are the caller's.
type scaleOutCluster struct {
	net                    *simnet.Net
	db                     *store.DB
	base, key, data, dbURL string
	metricsAddr            string
	images, reports        int
}

func newScaleOutCluster(t *testing.T, images int) *scaleOutCluster {
	t.Helper()
	dbURL := storetest.MigratedPostgresURL(t) // skips without VIGIL_TEST_POSTGRES
	const perPage = 10
	c := &scaleOutCluster{dbURL: dbURL, images: images, reports: images / perPage, data: t.TempDir()}
	c.db = storetest.OpenPostgres(t, dbURL) // a database of its own, migrated
	s3 := s3test.NewServer("AK", "")
	t.Cleanup(s3.Close)
	for k, v := range map[string]string{
		"VIGIL_S3_ENDPOINT": "http://" + s3.Endpoint(), "VIGIL_S3_BUCKET": "scaleout", "VIGIL_S3_ACCESS_KEY": "AK",
		"VIGIL_S3_SECRET_KEY": "generated-test-secret", "VIGIL_S3_CREATE_BUCKET": "true", "VIGIL_S3_SSL": "false",
	} {
		t.Setenv(k, v)
	}
	var err error
	c.net, err = simnet.Start(simnet.Options{BenchImages: images, BenchPerPage: perPage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.net.Close() })

	// serve, without workers.
	addr := freeAddr(t, "127.0.0.1")
	c.metricsAddr = freeAddr(t, "127.0.0.1")
	serve := exec.Command(vigilBin, "serve", "--workers=false", "--addr", addr, "--metrics-addr", c.metricsAddr, "--allow-example-routing")
	serve.Env = append(os.Environ(), "VIGIL_DATA="+c.data, "VIGIL_DATABASE_URL="+dbURL)
	serve.Stdout, serve.Stderr = io.Discard, io.Discard
	if testing.Verbose() {
		serve.Stderr = os.Stderr
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve.Process.Kill(); _ = serve.Wait() })
	c.base = "http://" + addr
	waitFor(t, 60*time.Second, "serve to be ready", func() bool {
		resp, err := http.Get(c.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	c.key = strings.TrimSpace(vigilCmd(t, c.data, dbURL, "", "apikey", "create", "--scopes", "report,lookup", "platform"))
	return c
}

// count runs a query that answers one number.
func (c *scaleOutCluster) count(t *testing.T, q string) int {
	t.Helper()
	var v int
	if err := c.db.Driver().Reader().QueryRow(context.Background(), q).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestScaleOutThroughput gives the ratio: the same reports and
// images crawled, hashed and matched by one worker and by three (no kill),
// each on a fresh database. Slow, so opt-in: VIGIL_SCALEOUT_THROUGHPUT=1
// (VIGIL_SCALEOUT_IMAGES sets the size, 400 by default). On a machine of
// two cores the three workers share them, as serve and PostgreSQL do.
func TestScaleOutThroughput(t *testing.T) {
	if testing.Short() || os.Getenv("VIGIL_SCALEOUT_THROUGHPUT") != "1" {
		t.Skip("opt-in: VIGIL_SCALEOUT_THROUGHPUT=1 (starts serve and one, then three, workers)")
	}
	images := 400
	if v, err := strconv.Atoi(os.Getenv("VIGIL_SCALEOUT_IMAGES")); err == nil && v >= 100 {
		images = v
	}
	rate := map[int]float64{}
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			c := newScaleOutCluster(t, images)
			var ws []*exec.Cmd
			for range workers {
				ws = append(ws, startWork(t, c.net, c.data, c.dbURL, "--metrics-addr", "off", "--crawl-depth", "0"))
			}
			start := time.Now()
			for i := 0; i < c.reports; i++ {
				postReport(t, c.base, c.key, c.net.URL(simnet.Bench, fmt.Sprintf("/page/%d", i)))
			}
			waitFor(t, 600*time.Second, "every reported URL crawled", func() bool {
				for _, w := range ws {
					alive(t, w)
				}
				return c.count(t, `SELECT count(*) FROM reported_urls WHERE status IN ('done', 'failed')`) == c.reports
			})
			elapsed := time.Since(start)
			if once := c.count(t, `SELECT count(*) FROM media WHERE hash_runs = 1 AND match_runs = 1`); once != images {
				t.Errorf("%d images hashed and matched exactly once, want %d", once, images)
			}
			rate[workers] = float64(images) / elapsed.Seconds()
			t.Logf("%d reports, %d images, %d worker(s): %.1f s, %.1f images/s", c.reports, images, workers, elapsed.Seconds(), rate[workers])
		})
	}
	if rate[1] > 0 {
		t.Logf("three workers against one: %.2f×", rate[3]/rate[1])
	}
}

var jobsMetricRE = regexp.MustCompile(`(?m)^vigil_jobs\{kind="([^"]+)",state="([^"]+)"\} (\d+)$`)

func scrapeJobs(t *testing.T, url string) map[string]int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out := map[string]int{}
	for _, m := range jobsMetricRE.FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.Atoi(m[3])
		out[m[1]+"/"+m[2]] = v
	}
	return out
}

func dbJobs(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	rows, err := db.Driver().Reader().Query(context.Background(), `SELECT kind, state, count(*) FROM river_job GROUP BY kind, state`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var kind, state string
		var v int
		if err := rows.Scan(&kind, &state, &v); err != nil {
			t.Fatal(err)
		}
		out[kind+"/"+state] = v
	}
	return out
}

// waitFor polls cond until it holds, failing after timeout (generous: CI's
// cores are busy; nothing is asserted on time).
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
