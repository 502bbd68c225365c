package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/jobargs"
)

// Referrals between hotlines (issue 16): what partners referred to us,
// the nonces of their signed requests, and the statuses that travel back.

// referralCrawlDelay holds a referral's crawl until the classifications
// stored with it have reached the matchers, which read the bank change
// feed every 250 ms by default (River then starts it within seconds).
const referralCrawlDelay = 2 * time.Second

// nonceKeep is how long nonces are remembered: longer than the window in
// which a signed request's timestamp is accepted (5 minutes).
const nonceKeep = 15 * time.Minute

// useNonce records a signed request's nonce, refusing one seen before.
func (db *DB) useNonce(ctx context.Context, tx Tx, partner, nonce string, now time.Time) error {
	if _, err := tx.Exec(ctx, `DELETE FROM referral_nonces WHERE seen_at < $1`, now.Add(-nonceKeep)); err != nil {
		return err
	}
	n, err := tx.Exec(ctx, `INSERT INTO referral_nonces (partner, nonce, seen_at) VALUES ($1, $2, $3)
		ON CONFLICT (partner, nonce) DO NOTHING`, partner, nonce, now)
	if err != nil {
		return err
	}
	if n == 0 {
		return vigil.Errorf(vigil.ECONFLICT, "this request was received before (replayed nonce)")
	}
	return nil
}

// ReceiveReferral stores a partner's referral (see vigil.ReferralService).
func (db *DB) ReceiveReferral(ctx context.Context, in *vigil.InboundReferral) (bool, error) {
	if in.Report == nil || len(in.Report.URLs) == 0 {
		return false, vigil.Errorf(vigil.EINVALID, "a referral needs at least one URL")
	}
	now := db.Now()
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = now
	}
	in.Report.Source = vigil.SourceReferral
	if in.Report.ReceivedAt.IsZero() {
		in.Report.ReceivedAt = in.ReceivedAt
	}
	if in.Report.Status == "" {
		in.Report.Status = vigil.ReportReceived
	}
	if len(in.Accepted) > 0 && in.Report.CrawlAfter.IsZero() {
		in.Report.CrawlAfter = now.Add(referralCrawlDelay)
	}
	raw := make([][]byte, len(in.Accepted))
	for i, e := range in.Accepted {
		if err := e.Validate(nil); err != nil {
			return false, err
		}
		if e.AddedAt.IsZero() {
			e.AddedAt = now
		}
		raw[i], _ = hex.DecodeString(e.Value) // valid: Validate normalised it
	}
	digest := sha256.Sum256(in.Body)
	created := false
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		created = false
		if err := db.useNonce(ctx, tx, in.Partner, in.Nonce, now); err != nil {
			return err
		}
		var reportID int64
		err := tx.QueryRow(ctx, `SELECT id, report_id FROM referrals_in WHERE partner = $1 AND their_ref = $2`,
			in.Partner, in.Reference).Scan(&in.ID, &reportID)
		if err == nil {
			in.Report.ID = reportID
			return tx.QueryRow(ctx, `SELECT tracking_code FROM reports WHERE id = $1`, reportID).Scan(&in.Report.TrackingCode)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// The classifications first: the crawl the report queues must
		// find them.
		if len(in.Accepted) > 0 {
			bankID, err := db.partnerBank(ctx, tx, in.Partner, now)
			if err != nil {
				return err
			}
			for _, e := range in.Accepted {
				e.BankID = bankID
			}
			if _, err := db.addEntriesTx(ctx, tx, bankID, in.Accepted, raw, now); err != nil {
				return err
			}
		}
		if err := db.createReportRetrying(ctx, tx, in.Report); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO referrals_in (partner, their_ref, report_id, body, body_sha256, received_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, in.Partner, in.Reference, in.Report.ID, string(in.Body),
			hex.EncodeToString(digest[:]), in.ReceivedAt).Scan(&in.ID); err != nil {
			return err
		}
		created = true
		return db.queueStatusOut(ctx, tx, in.Partner, in.Reference, "received", "", "", in.ReceivedAt)
	})
	if err != nil {
		return false, wrap(err, "receive referral")
	}
	return created, nil
}

// partnerBank returns the bank of a partner's accepted classifications,
// making it on first use.
func (db *DB) partnerBank(ctx context.Context, tx Tx, partner string, now time.Time) (int64, error) {
	name := vigil.PartnerBankName(partner)
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM banks WHERE name = $1`, name).Scan(&id)
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	b := &vigil.Bank{Name: name, Source: vigil.SourceINHOPEPartner, Kind: vigil.BankBlock, Enabled: true,
		PDQThreshold: vigil.DefaultPDQThreshold, VideoQueryPercent: vigil.DefaultVideoQueryPercent,
		Terms: "Classifications referred by the partner hotline " + partner + ", accepted under its trust settings."}
	if err := b.Validate(); err != nil {
		return 0, err
	}
	if err := db.lockBankChanges(ctx, tx); err != nil {
		return 0, err
	}
	if err := tx.QueryRow(ctx, `INSERT INTO banks (name, source, terms, kind, enabled, pdq_threshold, video_query_pct,
		video_comp_pct, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		b.Name, string(b.Source), b.Terms, string(b.Kind), b.Enabled, b.PDQThreshold, b.VideoQueryPercent,
		b.VideoCompPercent, now).Scan(&id); err != nil {
		return 0, err
	}
	return id, db.bankChanged(ctx, tx, id)
}

// queueStatusOut stores a status to report to a partner and queues its
// sending; a step reported once is not queued again.
func (db *DB) queueStatusOut(ctx context.Context, tx Tx, partner, ref, status, class, detail string, at time.Time) error {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO referral_status (direction, partner, case_ref, status, classification, detail, at,
		state, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (direction, partner, case_ref, status) DO NOTHING RETURNING id`,
		vigil.ReferralOut, partner, ref, status, class, detail, at, string(vigil.OutboundPending), db.Now()).Scan(&id)
	if err := ignoreNoRows(err); err != nil || id == 0 {
		return err
	}
	return tx.InsertJobs(ctx, []river.InsertManyParams{jobargs.TakedownJob(jobargs.ReferralStatusArgs{StatusID: id}, time.Time{})})
}

// queueStatusForTakedown reports a step of a case to every partner that
// referred its URL to us.
func (db *DB) queueStatusForTakedown(ctx context.Context, tx Tx, takedownID int64, status, class, detail string, at time.Time) error {
	var urlID int64
	if err := tx.QueryRow(ctx, `SELECT reported_url_id FROM takedowns WHERE id = $1`, takedownID).Scan(&urlID); err != nil {
		return notFound(err, "no takedown %d", takedownID)
	}
	return db.queueStatusForURL(ctx, tx, urlID, status, class, detail, at)
}

// queueStatusForURL reports a step of a reported URL's case to every
// partner that referred it to us.
func (db *DB) queueStatusForURL(ctx context.Context, tx Tx, urlID int64, status, class, detail string, at time.Time) error {
	rows, err := tx.Query(ctx, `SELECT ri.partner, ri.their_ref FROM report_urls ru
		JOIN referrals_in ri ON ri.report_id = ru.report_id WHERE ru.url_id = $1`, urlID)
	if err != nil {
		return err
	}
	type ref struct{ partner, ref string }
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.partner, &r.ref); err != nil {
			rows.Close()
			return err
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range refs {
		if err := db.queueStatusOut(ctx, tx, r.partner, r.ref, status, class, detail, at); err != nil {
			return err
		}
	}
	return nil
}

// RecordPartnerStatus stores a status a partner reported about a case we
// referred to it (see vigil.ReferralService).
func (db *DB) RecordPartnerStatus(ctx context.Context, nonce string, st *vigil.ReferralStatus) (bool, error) {
	now := db.Now()
	created := false
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		created = false
		if err := db.useNonce(ctx, tx, st.Partner, nonce, now); err != nil {
			return err
		}
		var takedownID int64
		err := tx.QueryRow(ctx, `SELECT takedown_id FROM outbound WHERE kind = $1 AND recipient = $2 AND message_id = $3
			ORDER BY id LIMIT 1`, vigil.OutboundReferral, st.Partner, st.CaseRef).Scan(&takedownID)
		if err != nil {
			return notFound(err, "we referred no case %s to this partner", st.CaseRef)
		}
		err = tx.QueryRow(ctx, `INSERT INTO referral_status (direction, partner, case_ref, status, classification, detail,
			at, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (direction, partner, case_ref, status) DO NOTHING RETURNING id`,
			vigil.ReferralIn, st.Partner, st.CaseRef, st.Status, st.Classification, st.Detail, st.At, now).Scan(&st.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // reported before
		}
		if err != nil {
			return err
		}
		created = true
		if st.Status != "removed" {
			return nil
		}
		// The partner's removal closes our case: its time counts in our
		// time-to-removal figures, by route and country.
		var state string
		if err := tx.QueryRow(ctx, `SELECT state FROM takedowns WHERE id = $1`, takedownID).Scan(&state); err != nil {
			return err
		}
		if state == string(vigil.TakedownRemoved) {
			return nil
		}
		return markRemoved(ctx, tx, takedownID, st.At)
	})
	if err != nil {
		return false, wrap(err, "record partner status")
	}
	return created, nil
}

const referralStatusColumns = `id, direction, partner, case_ref, status, classification, detail, at, state, attempts, error, recorded_at`

func scanReferralStatus(row Row) (*vigil.ReferralStatus, error) {
	s := &vigil.ReferralStatus{}
	var state string
	err := row.Scan(&s.ID, &s.Direction, &s.Partner, &s.CaseRef, &s.Status, &s.Classification, &s.Detail, &s.At, &state,
		&s.Attempts, &s.Error, &s.RecordedAt)
	s.State = vigil.OutboundState(state)
	return s, err
}

// ReferralStatuses returns the statuses of a direction for a case
// reference, oldest first (every case when caseRef is "").
func (db *DB) ReferralStatuses(ctx context.Context, direction, caseRef string) ([]*vigil.ReferralStatus, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+referralStatusColumns+` FROM referral_status
		WHERE direction = $1 AND ($2 = '' OR case_ref = $2) ORDER BY at, id`, direction, caseRef)
	if err != nil {
		return nil, fmt.Errorf("referral statuses: %w", err)
	}
	defer rows.Close()
	var out []*vigil.ReferralStatus
	for rows.Next() {
		s, err := scanReferralStatus(rows)
		if err != nil {
			return nil, fmt.Errorf("referral statuses: %w", err)
		}
		out = append(out, s)
	}
	return out, wrap(rows.Err(), "referral statuses")
}

// ClaimReferralStatus marks an "out" status "sending" before it is sent
// (see vigil.ReferralStatusWork).
func (db *DB) ClaimReferralStatus(ctx context.Context, id int64) (*vigil.ReferralStatus, error) {
	var out *vigil.ReferralStatus
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		s, err := scanReferralStatus(tx.QueryRow(ctx, `SELECT `+referralStatusColumns+` FROM referral_status
			WHERE id = $1 AND direction = $2`, id, vigil.ReferralOut))
		if err != nil {
			return notFound(err, "no referral status %d to send", id)
		}
		switch s.State {
		case vigil.OutboundPending, vigil.OutboundRetry, vigil.OutboundSending:
			if _, err := tx.Exec(ctx, `UPDATE referral_status SET state = $2, attempts = attempts + 1 WHERE id = $1`,
				id, string(vigil.OutboundSending)); err != nil {
				return err
			}
			s.State, s.Attempts = vigil.OutboundSending, s.Attempts+1
			out = s
		}
		return nil
	})
	return out, wrap(err, "claim referral status")
}

// RecordReferralStatusSent records the outcome of sending a status.
func (db *DB) RecordReferralStatusSent(ctx context.Context, id int64, state vigil.OutboundState, errText string) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `UPDATE referral_status SET state = $2, error = $3 WHERE id = $1 AND state = $4`,
			id, string(state), errText, string(vigil.OutboundSending))
		return err
	}), "record referral status sent")
}

// FindReferralIn returns the referral partner sent us under reference
// (see vigil.ReferralService).
func (db *DB) FindReferralIn(ctx context.Context, partner, reference string) (*vigil.InboundReferral, error) {
	in := &vigil.InboundReferral{Report: &vigil.Report{}}
	var body string
	err := db.drv.Reader().QueryRow(ctx, `SELECT ri.id, ri.partner, ri.their_ref, ri.body, ri.received_at, ri.report_id, r.tracking_code
		FROM referrals_in ri JOIN reports r ON r.id = ri.report_id WHERE ri.partner = $1 AND ri.their_ref = $2`,
		partner, reference).Scan(&in.ID, &in.Partner, &in.Reference, &body, &in.ReceivedAt, &in.Report.ID, &in.Report.TrackingCode)
	if err != nil {
		return nil, wrap(notFound(err, "no referral %s from %s", reference, partner), "find referral")
	}
	in.Body = []byte(body)
	return in, nil
}

// ListReferralsIn returns the latest referrals received, newest first, at
// most limit, with their bodies (as received, validated then).
func (db *DB) ListReferralsIn(ctx context.Context, limit int) ([]*vigil.InboundReferral, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT ri.id, ri.partner, ri.their_ref, ri.body, ri.received_at, ri.report_id, r.tracking_code
		FROM referrals_in ri JOIN reports r ON r.id = ri.report_id ORDER BY ri.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list referrals: %w", err)
	}
	defer rows.Close()
	var out []*vigil.InboundReferral
	for rows.Next() {
		in := &vigil.InboundReferral{Report: &vigil.Report{}}
		var body string
		if err := rows.Scan(&in.ID, &in.Partner, &in.Reference, &body, &in.ReceivedAt, &in.Report.ID, &in.Report.TrackingCode); err != nil {
			return nil, fmt.Errorf("list referrals: %w", err)
		}
		in.Body = []byte(body)
		out = append(out, in)
	}
	return out, wrap(rows.Err(), "list referrals")
}

// MediaClassifications returns our classification of the media with these
// SHA-256 digests that have one (known or assessed), by digest.
func (db *DB) MediaClassifications(ctx context.Context, sha256s []string) (map[string]string, error) {
	out := map[string]string{}
	for start := 0; start < len(sha256s); start += 500 {
		batch := sha256s[start:min(start+500, len(sha256s))]
		args := make([]any, len(batch))
		ph := make([]string, len(batch))
		for i, s := range batch {
			args[i], ph[i] = s, fmt.Sprintf("$%d", i+1)
		}
		rows, err := db.drv.Reader().Query(ctx, `SELECT sha256, classification FROM media
			WHERE classification <> '' AND sha256 IN (`+strings.Join(ph, ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("media classifications: %w", err)
		}
		for rows.Next() {
			var s, c string
			if err := rows.Scan(&s, &c); err != nil {
				rows.Close()
				return nil, fmt.Errorf("media classifications: %w", err)
			}
			out[s] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("media classifications: %w", err)
		}
	}
	return out, nil
}

// AddReferralMedia records a medium the partner sent with its referral
// reference, stored in the blob store under blobName (see
// vigil.ReferralService). created is false when it was recorded before.
func (db *DB) AddReferralMedia(ctx context.Context, partner, reference, sha256, blobName string, size int64) (bool, error) {
	var created bool
	err := db.write(ctx, func(tx Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM referrals_in WHERE partner = $1 AND their_ref = $2`,
			partner, reference).Scan(&id); err != nil {
			return notFound(err, "no referral %s from %s", reference, partner)
		}
		n, err := tx.Exec(ctx, `INSERT INTO referral_media (referral_in_id, sha256, blob, size, received_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (referral_in_id, sha256) DO NOTHING`,
			id, sha256, blobName, size, db.Now())
		created = n == 1
		return err
	})
	return created, wrap(err, "add referral media")
}

// ReferralMedia returns the media received with the partner's referral
// reference: SHA-256 to blob name.
func (db *DB) ReferralMedia(ctx context.Context, partner, reference string) (map[string]string, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT rm.sha256, rm.blob FROM referral_media rm
		JOIN referrals_in ri ON ri.id = rm.referral_in_id WHERE ri.partner = $1 AND ri.their_ref = $2`, partner, reference)
	if err != nil {
		return nil, fmt.Errorf("referral media: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var sha, name string
		if err := rows.Scan(&sha, &name); err != nil {
			return nil, fmt.Errorf("referral media: %w", err)
		}
		out[sha] = name
	}
	return out, wrap(rows.Err(), "referral media")
}
