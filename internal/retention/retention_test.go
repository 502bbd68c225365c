package retention_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/blob/s3test"
	"github.com/vigil-hotline/vigil/internal/retention"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// blobStores returns the two kinds of blob store: a folder and the fake S3.
func blobStores(t *testing.T) map[string]blob.Store {
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := s3test.NewServer("vigil-test", "")
	t.Cleanup(srv.Close)
	srv.MakeBucket("media")
	s3, err := blob.NewS3(context.Background(), blob.S3Config{Endpoint: srv.Endpoint(), Bucket: "media", AccessKey: "vigil-test",
		SecretKey: "vigil-test-secret-not-a-real-one", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]blob.Store{"folder": dir, "s3": s3}
}

type seeded struct {
	urlID, mediaID int64
	code, blobKey  string
}

// seed makes a case with one media item, its bytes in bs (generated filler,
// never real material), a contact address on the report, and the item
// classified as class; the crawl is over.
func seed(t *testing.T, db *store.DB, bs blob.Store, name, class string) seeded {
	t.Helper()
	ctx := context.Background()
	it := storetest.SeedItem{SHA256: strings.Repeat(name[:1], 64), MD5: strings.Repeat(name[:1], 32), PDQ: strings.Repeat("0", 64),
		Quality: 100, BlobKey: "blob" + strings.Repeat(name[:1], 20)}
	urlID, ids := storetest.SeedCase(t, db, "https://"+name+".example/gallery", []storetest.SeedItem{it})
	if err := bs.Put(ctx, it.BlobKey, []byte("generated filler "+name)); err != nil {
		t.Fatal(err)
	}
	storetest.Exec(t, db, `UPDATE reported_urls SET status = 'done' WHERE id = $1`, urlID)
	storetest.Exec(t, db, `UPDATE media SET status = 'known', classification = $2, queued_at = NULL WHERE id = $1`, ids[0], class)
	storetest.Exec(t, db, `UPDATE reports SET contact = $2 WHERE id IN (SELECT report_id FROM report_urls WHERE url_id = $1)`,
		urlID, "reporter-"+name+"@example.org")
	var code string
	if err := db.Driver().Reader().QueryRow(ctx, `SELECT r.tracking_code FROM reports r JOIN report_urls ru ON ru.report_id = r.id
		WHERE ru.url_id = $1`, urlID).Scan(&code); err != nil {
		t.Fatal(err)
	}
	return seeded{urlID: urlID, mediaID: ids[0], code: code, blobKey: it.BlobKey}
}

// TestPurge: on both stores and both blob stores, the purge removes what
// each kind's retention allows (rows and bytes), spares a case on legal
// hold until the hold is lifted, records counts and IDs but no content in
// the audit log, and a dry run changes nothing.
func TestPurge(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			for name, bs := range blobStores(t) {
				t.Run(name, func(t *testing.T) { testPurge(t, storetest.Open(t, kind), bs) })
			}
		})
	}
}

func testPurge(t *testing.T, db *store.DB, bs blob.Store) {
	ctx := context.Background()
	notIllegal := seed(t, db, bs, "alpha", vigil.ClassNotIllegal)
	held := seed(t, db, bs, "bravo", vigil.ClassNotIllegal)
	closed := seed(t, db, bs, "charlie", "A")
	open := seed(t, db, bs, "delta", "A")
	for _, c := range []seeded{closed, open} {
		storetest.Exec(t, db, `INSERT INTO takedowns (reported_url_id, url, state, classification, first_seen_at, created_at)
			VALUES ($1, 'https://x.example/', 'tracing', 'A', $2, $2)`, c.urlID, time.Now())
	}
	td, err := db.FindTakedownByURL(ctx, closed.urlID)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RecordRecheck(ctx, td.ID, &vigil.Recheck{Seq: 1, Up: false, Detail: `{"status":404}`}); err != nil {
		t.Fatal(err)
	}
	analyst := storetest.NewStaff(t, db, "ana", vigil.RoleAnalyst)
	if _, err := db.AddExposure(ctx, analyst.ID, time.Now().Format(time.DateOnly), time.Now(), time.Second); err != nil {
		t.Fatal(err)
	}
	if err := db.SetLegalHold(ctx, &vigil.LegalHold{CaseID: held.urlID, Reason: "  ", SetByName: "cli"}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("hold without a reason: %v", err)
	}
	if err := db.SetLegalHold(ctx, &vigil.LegalHold{CaseID: 99999, Reason: "x", SetByName: "cli"}); vigil.ErrorCode(err) != vigil.ENOTFOUND {
		t.Errorf("hold on no case: %v", err)
	}
	if err := db.SetLegalHold(ctx, &vigil.LegalHold{CaseID: held.urlID, Reason: "police request 2026/77", SetBy: analyst.ID, SetByName: "ana"}); err != nil {
		t.Fatal(err)
	}
	if h, err := db.FindLegalHold(ctx, held.urlID); err != nil || h.Reason != "police request 2026/77" || h.SetByName != "ana" {
		t.Errorf("hold read back: %+v %v", h, err)
	}

	p := &retention.Purger{Store: db, Audit: db, Blobs: bs, Policy: vigil.DefaultRetention, Logger: slog.New(slog.DiscardHandler)}
	later := time.Now().Add(800 * vigil.Day)
	exists := func(key string) bool {
		ok, err := bs.Exists(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	// Nothing is old enough today.
	res, err := p.Run(ctx, time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.Total() != 0 {
		t.Fatalf("today: %+v", res.Plan)
	}
	// A dry run shows, and changes nothing.
	res, err = p.Run(ctx, later, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[vigil.RetentionKind]int{vigil.RetainReports: 1, vigil.RetainContacts: 3, vigil.RetainMediaNotIllegal: 1,
		vigil.RetainMediaClosed: 1, vigil.RetainFetchEvidence: 2, vigil.RetainLogs: 1, vigil.RetainExposure: 1}
	for k, n := range want {
		if res.Plan.Counts[k] != n {
			t.Errorf("dry run %s: %d, want %d (%v)", k, res.Plan.Counts[k], n, res.Plan.IDs[k])
		}
	}
	if res.Plan.Held == 0 || !exists(notIllegal.blobKey) {
		t.Errorf("dry run: held %d, or it deleted", res.Plan.Held)
	}
	if _, err := db.FindReportByTrackingCode(ctx, notIllegal.code); err != nil {
		t.Errorf("dry run removed a report: %v", err)
	}

	res, err = p.Run(ctx, later, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Blobs != 2 || exists(notIllegal.blobKey) || exists(closed.blobKey) || !exists(held.blobKey) || !exists(open.blobKey) {
		t.Errorf("blobs: %d deleted; alpha %v charlie %v bravo %v delta %v", res.Blobs,
			exists(notIllegal.blobKey), exists(closed.blobKey), exists(held.blobKey), exists(open.blobKey))
	}
	if _, err := db.FindReportByTrackingCode(ctx, notIllegal.code); vigil.ErrorCode(err) != vigil.ENOTFOUND {
		t.Errorf("report without illegal content, past retention: %v", err)
	}
	for _, c := range []seeded{held, closed, open} {
		r, err := db.FindReportByTrackingCode(ctx, c.code)
		if err != nil {
			t.Fatalf("report of %d: %v", c.urlID, err)
		}
		if (r.Contact != "") != (c == held) {
			t.Errorf("contact of %d: %q", c.urlID, r.Contact)
		}
	}
	for _, c := range []seeded{notIllegal, held, closed, open} {
		m, err := db.FindMedia(ctx, c.mediaID)
		if err != nil {
			t.Fatal(err)
		}
		gone := c == notIllegal || c == closed
		if (m.BlobKey == "") != gone || m.SHA256 == "" {
			t.Errorf("media %d: blob key %q, hashes kept %v", c.mediaID, m.BlobKey, m.SHA256 != "")
		}
		fs, err := db.ListFetches(ctx, c.urlID)
		if err != nil || len(fs) == 0 {
			t.Fatalf("fetches: %v", err)
		}
		if (fs[0].Evidence == "{}" && fs[0].Connected == "") != (c != held && c != open) {
			t.Errorf("fetch evidence of %d: %q", c.urlID, fs[0].Evidence)
		}
	}
	entries, err := db.ListAudit(ctx, vigil.AuditFilter{Action: "purge.run"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("purge audit: %d entries, %v", len(entries), err)
	}
	d := entries[0].Detail
	if !strings.Contains(d, `"media-not-illegal":{"retention_days":30,"removed":1`) || strings.Contains(d, "example") ||
		strings.Contains(d, "reporter") || strings.Contains(d, "blob") && !strings.Contains(d, "blobs_deleted") {
		t.Errorf("purge audit detail: %s", d)
	}

	// Again: nothing left, and no entry for nothing.
	if res, err := p.Run(ctx, later, false); err != nil || res.Plan.Total() != 0 {
		t.Errorf("second run: %+v %v", res.Plan.Counts, err)
	}
	// The hold lifted, the held case goes too.
	if err := db.LiftLegalHold(ctx, held.urlID); err != nil {
		t.Fatal(err)
	}
	if err := db.LiftLegalHold(ctx, held.urlID); vigil.ErrorCode(err) != vigil.ENOTFOUND {
		t.Errorf("lift twice: %v", err)
	}
	if res, err := p.Run(ctx, later, false); err != nil || res.Removed[vigil.RetainReports] != 1 || exists(held.blobKey) {
		t.Errorf("after the hold: %+v %v", res.Removed, err)
	}
	if v, err := db.VerifyAudit(ctx); err != nil || v.FirstBadID != 0 {
		t.Errorf("audit after purges: %+v %v", v, err)
	}
	_ = errors.New
}
