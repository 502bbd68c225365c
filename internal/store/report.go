package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/jobargs"
)

// CreateReport stores a validated report, upserts its URLs (a URL already
// known gets its report count raised) and queues one crawl job per new URL,
// all in one transaction.
func (db *DB) CreateReport(ctx context.Context, r *vigil.Report) error {
	if len(r.URLs) == 0 {
		return vigil.Errorf(vigil.EINVALID, "a report needs at least one URL")
	}
	if r.ReceivedAt.IsZero() {
		r.ReceivedAt = db.Now()
	}
	if r.Status == "" {
		r.Status = vigil.ReportReceived
	}
	return wrap(db.write(ctx, func(tx Tx) error { return db.createReportRetrying(ctx, tx, r) }), "create report")
}

// createReportRetrying writes a report, retrying with a fresh tracking code
// on the (80-bit) chance of a collision.
func (db *DB) createReportRetrying(ctx context.Context, tx Tx, r *vigil.Report) error {
	for attempt := 0; ; attempt++ {
		if r.TrackingCode == "" || attempt > 0 {
			r.TrackingCode = vigil.NewTrackingCode()
		}
		err := inSavepoint(ctx, tx, "report", func(tx Tx) error { return db.createReport(ctx, tx, r) })
		if err == nil {
			return nil
		}
		r.ID = 0
		for _, u := range r.URLs {
			u.ID, u.New = 0, false
		}
		if !db.drv.IsUniqueViolation(err) || attempt >= 3 {
			return err
		}
	}
}

func (db *DB) createReport(ctx context.Context, tx Tx, r *vigil.Report) error {
	var apiKey *int64
	if r.APIKeyID != 0 {
		apiKey = &r.APIKeyID
	}
	var contact *string
	if r.Contact != "" {
		sealed, err := db.sealValue("contact", r.Contact)
		if err != nil {
			return err
		}
		contact = &sealed
	}
	err := tx.QueryRow(ctx, `INSERT INTO reports
		(tracking_code, received_at, language, source, api_key_id, description,
		 saw_images, saw_videos, saw_other, contact, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		r.TrackingCode, r.ReceivedAt, string(r.Language), string(r.Source), apiKey, r.Description,
		r.SawImages, r.SawVideos, r.SawOther, contact, string(r.Status)).Scan(&r.ID)
	if err != nil {
		return err
	}
	// Upsert in URL order so that two concurrent reports naming the same
	// URLs lock them in the same order and cannot deadlock.
	order := make([]int, len(r.URLs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return r.URLs[order[a]].URL < r.URLs[order[b]].URL })
	var crawl []river.InsertManyParams
	for _, i := range order {
		u := r.URLs[i]
		if err := upsertURL(ctx, tx, u, r.ReceivedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO report_urls (report_id, url_id, position) VALUES ($1, $2, $3)`,
			r.ID, u.ID, i); err != nil {
			return err
		}
		if u.New {
			crawl = append(crawl, river.InsertManyParams{
				Args:       jobargs.CrawlArgs{ReportedURLID: u.ID},
				InsertOpts: &river.InsertOpts{Queue: jobargs.QueueCrawl, ScheduledAt: r.CrawlAfter},
			})
		}
	}
	if len(crawl) > 0 {
		if err := tx.InsertJobs(ctx, crawl); err != nil {
			return fmt.Errorf("queue crawl jobs: %w", err)
		}
	}
	return nil
}

const urlColumns = `id, url, host, first_reported_at, last_reported_at, report_count, status, status_reason`

func scanURL(row Row, u *vigil.ReportedURL) error {
	var status string
	err := row.Scan(&u.ID, &u.URL, &u.Host, &u.FirstReportedAt, &u.LastReportedAt, &u.ReportCount, &status, &u.StatusReason)
	u.Status = vigil.URLStatus(status)
	return err
}

func upsertURL(ctx context.Context, tx Tx, u *vigil.ReportedURL, now time.Time) error {
	host := vigil.URLHost(u.URL)
	err := scanURL(tx.QueryRow(ctx, `INSERT INTO reported_urls
		(url, host, first_reported_at, last_reported_at, report_count, status, status_reason, updated_at)
		VALUES ($1, $2, $3, $3, 1, $4, '', $3)
		ON CONFLICT (url) DO NOTHING
		RETURNING `+urlColumns, u.URL, host, now, string(vigil.URLQueued)), u)
	if err == nil {
		u.New = true
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return scanURL(tx.QueryRow(ctx, `UPDATE reported_urls
		SET report_count = report_count + 1, last_reported_at = $2
		WHERE url = $1 RETURNING `+urlColumns, u.URL, now), u)
}

// FindReportByTrackingCode returns a report and its URLs. The code is
// normalised first, so a code typed by hand is found.
func (db *DB) FindReportByTrackingCode(ctx context.Context, code string) (*vigil.Report, error) {
	code, err := vigil.NormalizeTrackingCode(code)
	if err != nil {
		return nil, err
	}
	q := db.drv.Reader()
	r := &vigil.Report{}
	var lang, source, status string
	var apiKey *int64
	var contact *string
	err = q.QueryRow(ctx, `SELECT id, tracking_code, received_at, language, source, api_key_id, description,
		saw_images, saw_videos, saw_other, contact, status FROM reports WHERE tracking_code = $1`, code).Scan(
		&r.ID, &r.TrackingCode, &r.ReceivedAt, &lang, &source, &apiKey, &r.Description,
		&r.SawImages, &r.SawVideos, &r.SawOther, &contact, &status)
	if err != nil {
		return nil, wrap(notFound(err, "no report with tracking code %s", code), "find report")
	}
	r.Language, r.Source, r.Status = vigil.Language(lang), vigil.ReportSource(source), vigil.ReportStatus(status)
	if apiKey != nil {
		r.APIKeyID = *apiKey
	}
	if contact != nil {
		if r.Contact, err = db.openValue("contact", *contact); err != nil {
			return nil, wrap(err, "find report")
		}
	}
	rows, err := q.Query(ctx, `SELECT u.id, u.url, u.host, u.first_reported_at, u.last_reported_at, u.report_count,
		u.status, u.status_reason FROM report_urls ru JOIN reported_urls u ON u.id = ru.url_id
		WHERE ru.report_id = $1 ORDER BY ru.position`, r.ID)
	if err != nil {
		return nil, fmt.Errorf("find report urls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u := &vigil.ReportedURL{}
		if err := scanURL(rows, u); err != nil {
			return nil, fmt.Errorf("find report urls: %w", err)
		}
		r.URLs = append(r.URLs, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find report urls: %w", err)
	}
	if r.Status, err = db.coarseStatus(ctx, r); err != nil {
		return nil, fmt.Errorf("report status: %w", err)
	}
	return r, nil
}

// coarseStatus is what a reporter may learn (vigil.ReporterStatus). Whether
// anything waits for an analyst is only looked up once the crawls ended.
func (db *DB) coarseStatus(ctx context.Context, r *vigil.Report) (vigil.ReportStatus, error) {
	var waiting int
	if r.Status != vigil.ReportClosed && vigil.CrawlsEnded(r.URLs) {
		err := db.drv.Reader().QueryRow(ctx, `SELECT count(*) FROM media m JOIN media_sightings s ON s.media_id = m.id
			JOIN report_urls ru ON ru.url_id = s.reported_url_id
			WHERE ru.report_id = $1 AND m.status IN ('pending', 'unknown')`, r.ID).Scan(&waiting)
		if err != nil {
			return "", err
		}
	}
	return vigil.ReporterStatus(r, waiting > 0), nil
}

// FindReportedURL returns one reported URL.
func (db *DB) FindReportedURL(ctx context.Context, id int64) (*vigil.ReportedURL, error) {
	u := &vigil.ReportedURL{}
	err := scanURL(db.drv.Reader().QueryRow(ctx, `SELECT `+urlColumns+` FROM reported_urls WHERE id = $1`, id), u)
	if err != nil {
		return nil, wrap(notFound(err, "no reported URL %d", id), "find reported url")
	}
	return u, nil
}

// ReportCounts counts reports and distinct reported URLs.
func (db *DB) ReportCounts(ctx context.Context) (vigil.ReportCounts, error) {
	var c vigil.ReportCounts
	err := db.drv.Reader().QueryRow(ctx, `SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM reported_urls)`).
		Scan(&c.Reports, &c.ReportedURLs)
	return c, wrap(err, "count reports")
}
