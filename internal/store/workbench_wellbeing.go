package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-hotline/vigil"
)

// AddExposure credits visible media time. The credit is at most step and
// at most the time since the last credit, so that two tabs, or a page that
// sends its heartbeats too fast, never count more than the wall clock.
// last_at is the time up to which exposure is counted: a reveal charged by
// the server moves it ahead (ChargeExposure), and heartbeats within that
// time credit nothing.
func (db *DB) AddExposure(ctx context.Context, userID int64, day string, now time.Time, step time.Duration) (vigil.Exposure, error) {
	return db.exposureCredit(ctx, userID, day, now, step, false)
}

// ChargeExposure counts cost from now, or from the end of what was
// counted already, whichever is later.
func (db *DB) ChargeExposure(ctx context.Context, userID int64, day string, now time.Time, cost time.Duration) (vigil.Exposure, error) {
	return db.exposureCredit(ctx, userID, day, now, max(cost, 0), true)
}

func (db *DB) exposureCredit(ctx context.Context, userID int64, day string, now time.Time, step time.Duration, charge bool) (vigil.Exposure, error) {
	e := vigil.Exposure{UserID: userID, Day: day}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO exposure (user_id, day, millis, extra_millis) VALUES ($1, $2, 0, 0)
			ON CONFLICT DO NOTHING`, userID, day); err != nil {
			return err
		}
		q := `SELECT millis, extra_millis, last_at FROM exposure WHERE user_id = $1 AND day = $2` + db.drv.ForUpdate()
		var visible, extra int64
		var last *time.Time
		if err := tx.QueryRow(ctx, q, userID, day).Scan(&visible, &extra, &last); err != nil {
			return err
		}
		until := now
		if last != nil && last.After(now) {
			until = *last
		}
		credit := step
		switch {
		case charge:
			until = until.Add(step)
		case last != nil:
			credit = max(min(credit, now.Sub(*last)), 0)
		}
		visible += credit.Milliseconds()
		e.Visible, e.Extra = time.Duration(visible)*time.Millisecond, time.Duration(extra)*time.Millisecond
		_, err := tx.Exec(ctx, `UPDATE exposure SET millis = $3, last_at = $4 WHERE user_id = $1 AND day = $2`,
			userID, day, visible, until)
		return err
	})
	return e, wrap(err, "add exposure")
}

// FindExposure returns an analyst's exposure on a day (zero when none).
func (db *DB) FindExposure(ctx context.Context, userID int64, day string) (vigil.Exposure, error) {
	e := vigil.Exposure{UserID: userID, Day: day}
	var visible, extra int64
	err := db.drv.Reader().QueryRow(ctx, `SELECT millis, extra_millis FROM exposure WHERE user_id = $1 AND day = $2`,
		userID, day).Scan(&visible, &extra)
	if errors.Is(err, sql.ErrNoRows) {
		return e, nil
	}
	e.Visible, e.Extra = time.Duration(visible)*time.Millisecond, time.Duration(extra)*time.Millisecond
	return e, wrap(err, "find exposure")
}

// ExtendExposure grants extra time on a day.
func (db *DB) ExtendExposure(ctx context.Context, userID int64, day string, extra time.Duration) (vigil.Exposure, error) {
	if extra <= 0 || extra > 24*time.Hour {
		return vigil.Exposure{}, vigil.Errorf(vigil.EINVALID, "extra time must be between 1 minute and 24 hours")
	}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO exposure (user_id, day, millis, extra_millis) VALUES ($1, $2, 0, $3)
			ON CONFLICT (user_id, day) DO UPDATE SET extra_millis = exposure.extra_millis + $3`, userID, day, extra.Milliseconds())
		return err
	})
	if err != nil {
		return vigil.Exposure{}, wrap(err, "extend exposure")
	}
	return db.FindExposure(ctx, userID, day)
}

// ListExposure returns the exposure of every analyst with some on a day.
func (db *DB) ListExposure(ctx context.Context, day string) ([]vigil.Exposure, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT user_id, millis, extra_millis FROM exposure WHERE day = $1 ORDER BY user_id`, day)
	if err != nil {
		return nil, fmt.Errorf("list exposure: %w", err)
	}
	defer rows.Close()
	var out []vigil.Exposure
	for rows.Next() {
		e := vigil.Exposure{Day: day}
		var visible, extra int64
		if err := rows.Scan(&e.UserID, &visible, &extra); err != nil {
			return nil, fmt.Errorf("list exposure: %w", err)
		}
		e.Visible, e.Extra = time.Duration(visible)*time.Millisecond, time.Duration(extra)*time.Millisecond
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "list exposure")
}

// FindPrefs returns an analyst's viewing preferences, or the defaults.
func (db *DB) FindPrefs(ctx context.Context, userID int64) (vigil.WorkbenchPrefs, error) {
	p := vigil.DefaultWorkbenchPrefs
	err := db.drv.Reader().QueryRow(ctx, `SELECT blur, grey_reveal FROM workbench_prefs WHERE user_id = $1`, userID).
		Scan(&p.Blur, &p.GreyReveal)
	if errors.Is(err, sql.ErrNoRows) {
		return vigil.DefaultWorkbenchPrefs, nil
	}
	return p, wrap(err, "find preferences")
}

// SetPrefs stores an analyst's viewing preferences.
func (db *DB) SetPrefs(ctx context.Context, userID int64, p vigil.WorkbenchPrefs) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO workbench_prefs (user_id, blur, grey_reveal, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id) DO UPDATE SET blur = $2, grey_reveal = $3, updated_at = $4`, userID, p.Blur, p.GreyReveal, db.Now())
		return err
	}), "set preferences")
}

// CaseReports returns the reports that named a reported URL. The
// reporter's contact address stays out: the case view does not need it.
func (db *DB) CaseReports(ctx context.Context, reportedURLID int64) ([]*vigil.CaseReport, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT r.id, r.received_at, r.source, r.language, r.description, r.saw_images,
		r.saw_videos, r.saw_other FROM reports r JOIN report_urls ru ON ru.report_id = r.id WHERE ru.url_id = $1
		ORDER BY r.received_at, r.id`, reportedURLID)
	if err != nil {
		return nil, fmt.Errorf("case reports: %w", err)
	}
	defer rows.Close()
	var out []*vigil.CaseReport
	for rows.Next() {
		r := &vigil.CaseReport{}
		var source, lang string
		if err := rows.Scan(&r.ID, &r.ReceivedAt, &source, &lang, &r.Description, &r.SawImages, &r.SawVideos, &r.SawOther); err != nil {
			return nil, fmt.Errorf("case reports: %w", err)
		}
		r.Source, r.Language = vigil.ReportSource(source), vigil.Language(lang)
		out = append(out, r)
	}
	return out, wrap(rows.Err(), "case reports")
}

// MediaCases returns the reported URLs a media item was seen in.
func (db *DB) MediaCases(ctx context.Context, mediaID int64) ([]int64, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT DISTINCT reported_url_id FROM media_sightings WHERE media_id = $1
		ORDER BY reported_url_id`, mediaID)
	if err != nil {
		return nil, fmt.Errorf("media cases: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("media cases: %w", err)
		}
		out = append(out, id)
	}
	return out, wrap(rows.Err(), "media cases")
}
