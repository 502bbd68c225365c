package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// Run runs the whole suite against stores made by open.
//
// The tests run in parallel, each on a store of its own: most of their time
// is spent waiting on the database (commits, round trips to PostgreSQL).
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	run := func(name string, fn func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t)
		})
	}
	run("Reports", func(t *testing.T) { testReports(t, open(t)) })
	run("ReportURLDedup", func(t *testing.T) { testReportURLDedup(t, open(t)) })
	run("ConcurrentSameURL", func(t *testing.T) { testConcurrentSameURL(t, open(t)) })
	run("ReportFailureIsolated", func(t *testing.T) { testReportFailureIsolated(t, open(t)) })
	run("ReportNotFound", func(t *testing.T) { testReportNotFound(t, open(t)) })
	run("Users", func(t *testing.T) { testUsers(t, open(t)) })
	run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	run("Accounts", func(t *testing.T) { testAccounts(t, open(t)) })
	run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	run("AuditConcurrent", func(t *testing.T) { testAuditConcurrent(t, open(t)) })
	run("AuditTamper", func(t *testing.T) { testAuditTamper(t, open) })
	run("AuditKeyed", func(t *testing.T) { testAuditKeyed(t, open) })
	run("APIKeys", func(t *testing.T) { testAPIKeys(t, open(t)) })
	run("Banks", func(t *testing.T) { testBanks(t, open(t)) })
	run("BankEntries", func(t *testing.T) { testBankEntries(t, open(t)) })
	run("BankChangesConcurrent", func(t *testing.T) { testBankChangesConcurrent(t, open(t)) })
	run("BankChangesPruned", func(t *testing.T) { testBankChangesPruned(t, open(t)) })
	run("WorkbenchQueue", func(t *testing.T) { testWorkbenchQueue(t, open(t)) })
	run("WorkbenchClaimConcurrent", func(t *testing.T) { testWorkbenchClaimConcurrent(t, open(t)) })
	run("WorkbenchAssess", func(t *testing.T) { testWorkbenchAssess(t, open(t)) })
	run("WorkbenchWellbeing", func(t *testing.T) { testWorkbenchWellbeing(t, open(t)) })
	run("Victims", func(t *testing.T) { testVictims(t, open(t)) })
	run("VictimFlag", func(t *testing.T) { testVictimFlag(t, open(t)) })
	run("FinishImage", func(t *testing.T) { testFinishImage(t, open(t)) })
	run("CrawlBudget", func(t *testing.T) { testCrawlBudget(t, open(t)) })
	run("CrawlClosing", func(t *testing.T) { testCrawlClosing(t, open(t)) })
	run("TakedownOpen", func(t *testing.T) { testTakedownOpen(t, open(t)) })
	run("TakedownTrace", func(t *testing.T) { testTakedownTrace(t, open(t)) })
	run("OutboundClaims", func(t *testing.T) { testOutboundClaims(t, open(t)) })
	run("TakedownRecheck", func(t *testing.T) { testTakedownRecheck(t, open(t)) })
	run("ArchiveEntries", func(t *testing.T) { testArchiveEntries(t, open(t)) })
	run("FinishImageLinks", func(t *testing.T) { testFinishImageLinks(t, open(t)) })
	run("Statistics", func(t *testing.T) { testStatistics(t, open(t)) })
	run("MapClusters", func(t *testing.T) { testMapClusters(t, open(t)) })
	run("Partners", func(t *testing.T) { testPartners(t, open(t)) })
	run("PartnerAPIKeys", func(t *testing.T) { testPartnerAPIKeys(t, open(t)) })
	run("Referrals", func(t *testing.T) { testReferrals(t, open(t)) })
	run("Exchanges", func(t *testing.T) { testExchanges(t, open(t)) })
	run("ExchangeFullList", func(t *testing.T) { testExchangeFullList(t, open(t)) })
	run("ExchangeIDNotReused", func(t *testing.T) { testExchangeIDNotReused(t, open(t)) })
	run("Trust", func(t *testing.T) { testTrust(t, open(t)) })
}

func newReport(t *testing.T, urls ...string) *vigil.Report {
	t.Helper()
	r, err := vigil.NewReport(vigil.ReportInput{URLs: urls, Language: "nl", Description: "gezien op een forum",
		SawImages: true}, vigil.SourceForm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func crawlJobs(t *testing.T, db *store.DB) []*vigil.Job {
	t.Helper()
	jobs, err := db.ListJobs(context.Background(), nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*vigil.Job
	for _, j := range jobs {
		if j.Kind == "crawl" {
			out = append(out, j)
		}
	}
	return out
}

func testReports(t *testing.T, db *store.DB) {
	ctx := context.Background()
	r := newReport(t, "HTTP://Example.COM:80/a#frag", "https://example.org/b")
	if err := db.CreateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.TrackingCode == "" {
		t.Fatalf("report not given an ID and code: %+v", r)
	}
	got, err := db.FindReportByTrackingCode(ctx, r.TrackingCode)
	if err != nil {
		t.Fatal(err)
	}
	if got.Language != vigil.LangNL || got.Description != r.Description || !got.SawImages || got.SawVideos ||
		got.Contact != "" || got.Source != vigil.SourceForm {
		t.Errorf("report read back differs: %+v", got)
	}
	if !got.ReceivedAt.Equal(r.ReceivedAt.Truncate(time.Microsecond)) {
		t.Errorf("received at %v, want %v", got.ReceivedAt, r.ReceivedAt)
	}
	if got.Status != vigil.ReportReceived {
		t.Errorf("status %q, want received", got.Status)
	}
	if len(got.URLs) != 2 || got.URLs[0].URL != "http://example.com/a" || got.URLs[1].URL != "https://example.org/b" {
		t.Fatalf("urls: %+v", got.URLs)
	}
	if got.URLs[0].Status != vigil.URLQueued || got.URLs[0].ReportCount != 1 || got.URLs[0].Host != "example.com" {
		t.Errorf("url: %+v", got.URLs[0])
	}
	// The code is found however the reporter types it.
	lower := bytes.ToLower([]byte(r.TrackingCode))
	if _, err := db.FindReportByTrackingCode(ctx, string(bytes.ReplaceAll(lower, []byte("-"), nil))); err != nil {
		t.Errorf("code typed in lower case without dashes: %v", err)
	}
	if jobs := crawlJobs(t, db); len(jobs) != 2 {
		t.Errorf("want 2 crawl jobs, got %d", len(jobs))
	}
	u, err := db.FindReportedURL(ctx, got.URLs[1].ID)
	if err != nil || u.URL != "https://example.org/b" {
		t.Errorf("FindReportedURL: %v %+v", err, u)
	}
	c, err := db.ReportCounts(ctx)
	if err != nil || c.Reports != 1 || c.ReportedURLs != 2 {
		t.Errorf("counts %+v %v", c, err)
	}
}

func testReportURLDedup(t *testing.T, db *store.DB) {
	ctx := context.Background()
	first := newReport(t, "https://example.com/x")
	if err := db.CreateReport(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := newReport(t, "HTTPS://EXAMPLE.com:443/x#again", "https://example.com/y")
	second.Contact = "someone@example.org"
	if err := db.CreateReport(ctx, second); err != nil {
		t.Fatal(err)
	}
	if second.URLs[0].New || !second.URLs[1].New {
		t.Errorf("New flags: %v %v", second.URLs[0].New, second.URLs[1].New)
	}
	if second.URLs[0].ID != first.URLs[0].ID {
		t.Errorf("same URL got two items: %d and %d", first.URLs[0].ID, second.URLs[0].ID)
	}
	got, err := db.FindReportByTrackingCode(ctx, second.TrackingCode)
	if err != nil {
		t.Fatal(err)
	}
	if got.URLs[0].ReportCount != 2 || got.Contact != "someone@example.org" {
		t.Errorf("report count %d contact %q", got.URLs[0].ReportCount, got.Contact)
	}
	if jobs := crawlJobs(t, db); len(jobs) != 2 {
		t.Errorf("want one crawl job per distinct URL (2), got %d", len(jobs))
	}
}

func testConcurrentSameURL(t *testing.T, db *store.DB) {
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := newReport(t, "https://same.example/page", fmt.Sprintf("https://other.example/%d", i))
			errs <- db.CreateReport(ctx, r)
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if jobs := crawlJobs(t, db); len(jobs) != n+1 {
		t.Errorf("want %d crawl jobs, got %d", n+1, len(jobs))
	}
	c, _ := db.ReportCounts(ctx)
	if c.Reports != n || c.ReportedURLs != n+1 {
		t.Errorf("counts %+v", c)
	}
}

func testReportNotFound(t *testing.T, db *store.DB) {
	ctx := context.Background()
	_, err := db.FindReportByTrackingCode(ctx, vigil.NewTrackingCode())
	if vigil.ErrorCode(err) != vigil.ENOTFOUND {
		t.Errorf("unknown code: want not found, got %v", err)
	}
	_, err = db.FindReportByTrackingCode(ctx, "not a code")
	if vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("malformed code: want invalid, got %v", err)
	}
	if _, err := db.FindReportedURL(ctx, 12345); !vigil.IsNotFound(err) {
		t.Errorf("unknown url: want not found, got %v", err)
	}
}

func testUsers(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := &vigil.User{Name: "anna", Role: vigil.RoleAdmin, PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &vigil.User{Name: "anna", Role: vigil.RoleAnalyst, PasswordHash: "x"}); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("duplicate user: want conflict, got %v", err)
	}
	if err := db.CreateUser(ctx, &vigil.User{Name: "Bad Name", Role: vigil.RoleAnalyst, PasswordHash: "x"}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("bad name: want invalid, got %v", err)
	}
	got, err := db.FindUserByName(ctx, "anna")
	if err != nil || got.ID != u.ID || got.Role != vigil.RoleAdmin || got.PasswordHash != u.PasswordHash {
		t.Errorf("FindUserByName: %+v %v", got, err)
	}
	if _, err := db.FindUserByID(ctx, u.ID); err != nil {
		t.Error(err)
	}
	if _, err := db.FindUserByName(ctx, "nobody"); !vigil.IsNotFound(err) {
		t.Errorf("want not found, got %v", err)
	}
	list, err := db.ListUsers(ctx)
	if err != nil || len(list) != 1 {
		t.Errorf("ListUsers: %v %v", list, err)
	}
}

func testSessions(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := &vigil.User{Name: "ben", Role: vigil.RoleAnalyst, PasswordHash: "h"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	h := sha256.Sum256([]byte("token"))
	s := &vigil.Session{TokenHash: h[:], UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindSession(ctx, h[:], now.Add(time.Minute), 30*time.Minute)
	if err != nil || got.UserID != u.ID || !got.LastSeenAt.Equal(now.Add(time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("FindSession: %+v %v", got, err)
	}
	if _, err := db.FindSession(ctx, h[:], now.Add(50*time.Minute), 30*time.Minute); !vigil.IsNotFound(err) {
		t.Errorf("idle session: want not found, got %v", err)
	}
	if _, err := db.FindSession(ctx, h[:], now.Add(2*time.Hour), 10*time.Hour); !vigil.IsNotFound(err) {
		t.Errorf("expired session: want not found, got %v", err)
	}
	if err := db.DeleteSession(ctx, h[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindSession(ctx, h[:], now, time.Hour); !vigil.IsNotFound(err) {
		t.Errorf("deleted session: want not found, got %v", err)
	}
}

func testAPIKeys(t *testing.T, db *store.DB) {
	ctx := context.Background()
	h := sha256.Sum256([]byte("vgl_secret"))
	k := &vigil.APIKey{Name: "partner-hotline", Hash: h[:]}
	if err := db.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAPIKey(ctx, &vigil.APIKey{Name: "partner-hotline", Hash: h[:]}); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("duplicate key: want conflict, got %v", err)
	}
	got, err := db.FindAPIKeyByHash(ctx, h[:])
	if err != nil || got.ID != k.ID || got.Name != k.Name {
		t.Fatalf("FindAPIKeyByHash: %+v %v", got, err)
	}
	r := newReport(t, "https://example.net/")
	r.Source, r.APIKeyID = vigil.SourceAPI, k.ID
	if err := db.CreateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	before, err := db.APIKeyGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeAPIKey(ctx, "partner-hotline"); err != nil {
		t.Fatal(err)
	}
	if after, err := db.APIKeyGeneration(ctx); err != nil || after == before {
		t.Errorf("revoking left the key generation at %d (%v): cached keys would outlive it", after, err)
	}
	if _, err := db.FindAPIKeyByHash(ctx, h[:]); !vigil.IsNotFound(err) {
		t.Errorf("revoked key: want not found, got %v", err)
	}
	if err := db.RevokeAPIKey(ctx, "nobody"); !vigil.IsNotFound(err) {
		t.Errorf("unknown key: want not found, got %v", err)
	}
	keys, err := db.ListAPIKeys(ctx)
	if err != nil || len(keys) != 1 || !keys[0].Revoked {
		t.Errorf("ListAPIKeys: %+v %v", keys, err)
	}
	testAPIKeyScopesAndUse(t, db)
}

// testReportFailureIsolated: a report that fails (here: it names an API key
// that does not exist) stores nothing, and reports sent at the same moment
// (group commit on SQLite) are stored all the same.
func testReportFailureIsolated(t *testing.T, db *store.DB) {
	ctx := context.Background()
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := newReport(t, fmt.Sprintf("https://isolated.example/%d", i))
			if i == 5 {
				r.Source, r.APIKeyID = vigil.SourceAPI, 999999
			}
			errs[i] = db.CreateReport(ctx, r)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 5) {
			t.Errorf("report %d: err = %v", i, err)
		}
	}
	c, err := db.ReportCounts(ctx)
	if err != nil || c.Reports != n-1 || c.ReportedURLs != n-1 {
		t.Errorf("counts %+v %v, want %d of each", c, err, n-1)
	}
	if jobs := crawlJobs(t, db); len(jobs) != n-1 {
		t.Errorf("want %d crawl jobs, got %d", n-1, len(jobs))
	}
}
