package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// testReferrals: a referral is stored once per partner and reference with
// its accepted classifications in the partner's bank and a "received"
// status to send back; a replayed nonce stores nothing; statuses out are
// claimed before sending and claimed again after a crash (the partner
// takes them once); a partner's status is taken only for a case we
// referred to it, and its removal closes our case.
func testReferrals(t *testing.T, db *store.DB) {
	ctx := context.Background()
	now := db.Now().UTC().Truncate(time.Second)
	in := func(nonce string) *vigil.InboundReferral {
		return &vigil.InboundReferral{Partner: "meldpunt", Reference: "NL-2026-000001", Nonce: nonce,
			Report:   newReport(t, "https://files.example.nl/a"),
			Accepted: []*vigil.BankEntry{{Signal: vigil.SignalSHA256, Value: strings.Repeat("a", 64), Classification: "baseline", AddedFrom: "referral:meldpunt:NL-2026-000001"}},
			Body:     []byte(`{"version":1}`)}
	}
	first := in("n1")
	created, err := db.ReceiveReferral(ctx, first)
	if err != nil || !created || first.Report.ID == 0 || first.Report.TrackingCode == "" {
		t.Fatalf("receive: %v %v %+v", created, err, first.Report)
	}
	if _, err := db.ReceiveReferral(ctx, in("n1")); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("replayed nonce: %v", err)
	}
	again := in("n2")
	created, err = db.ReceiveReferral(ctx, again)
	if err != nil || created || again.Report.ID != first.Report.ID || again.Report.TrackingCode != first.Report.TrackingCode {
		t.Errorf("same reference again: %v %v %+v", created, err, again.Report)
	}
	rep, err := db.FindReportByTrackingCode(ctx, first.Report.TrackingCode)
	if err != nil || rep.Source != vigil.SourceReferral {
		t.Errorf("report: %+v %v", rep, err)
	}
	bank, err := db.FindBankByName(ctx, vigil.PartnerBankName("meldpunt"))
	if err != nil || !bank.Enabled || bank.Source != vigil.SourceINHOPEPartner {
		t.Fatalf("partner bank: %+v %v", bank, err)
	}
	if n, err := db.CountBankEntries(ctx, bank.ID); err != nil || n != 1 {
		t.Errorf("accepted entries: %d %v", n, err)
	}
	ins, err := db.ListReferralsIn(ctx, 10)
	if err != nil || len(ins) != 1 || ins[0].Partner != "meldpunt" || string(ins[0].Body) != `{"version":1}` ||
		ins[0].Report.TrackingCode != first.Report.TrackingCode {
		t.Errorf("referrals in: %+v %v", ins, err)
	}
	if got, err := db.FindReferralIn(ctx, "meldpunt", "NL-2026-000001"); err != nil || got.ID != first.ID ||
		got.Report.TrackingCode != first.Report.TrackingCode || got.ReceivedAt.IsZero() {
		t.Errorf("find referral: %+v %v", got, err)
	}
	// Media sent with the referral: recorded once per digest.
	sha := strings.Repeat("a", 64)
	for i, want := range []bool{true, false} {
		if created, err := db.AddReferralMedia(ctx, "meldpunt", "NL-2026-000001", sha, "blob-a", 42); err != nil || created != want {
			t.Errorf("add referral media %d: %v %v", i, created, err)
		}
	}
	if _, err := db.AddReferralMedia(ctx, "ecpat", "NL-2026-000001", sha, "blob-a", 42); !vigil.IsNotFound(err) {
		t.Errorf("media for another partner's reference: %v", err)
	}
	if got, err := db.ReferralMedia(ctx, "meldpunt", "NL-2026-000001"); err != nil || len(got) != 1 || got[sha] != "blob-a" {
		t.Errorf("referral media: %v %v", got, err)
	}
	if got, err := db.FindReferralIn(ctx, "meldpunt", "NL-2026-000001"); err != nil || string(got.Body) != `{"version":1}` {
		t.Errorf("find referral body: %v", err)
	}
	if _, err := db.FindReferralIn(ctx, "ecpat", "NL-2026-000001"); !vigil.IsNotFound(err) {
		t.Errorf("another partner's reference: %v", err)
	}
	if cls, err := db.MediaClassifications(ctx, []string{strings.Repeat("a", 64)}); err != nil || len(cls) != 0 {
		t.Errorf("classifications of media never seen: %v %v", cls, err)
	}
	out, err := db.ReferralStatuses(ctx, vigil.ReferralOut, "NL-2026-000001")
	if err != nil || len(out) != 1 || out[0].Status != "received" || out[0].State != vigil.OutboundPending {
		t.Fatalf("statuses out: %+v %v", out, err)
	}
	st, err := db.ClaimReferralStatus(ctx, out[0].ID)
	if err != nil || st == nil || st.State != vigil.OutboundSending {
		t.Fatalf("claim: %+v %v", st, err)
	}
	// A crash between sending and recording: claimed again.
	if st, err = db.ClaimReferralStatus(ctx, out[0].ID); err != nil || st == nil || st.Attempts != 2 {
		t.Fatalf("claim after a crash: %+v %v", st, err)
	}
	if err := db.RecordReferralStatusSent(ctx, st.ID, vigil.OutboundSent, ""); err != nil {
		t.Fatal(err)
	}
	if st, err = db.ClaimReferralStatus(ctx, out[0].ID); err != nil || st != nil {
		t.Errorf("claim after sending: %+v %v", st, err)
	}

	// A case we referred to the partner: a takedown and its referral.
	ours := newReport(t, "https://files.example.nl/ours")
	if err := db.CreateReport(ctx, ours); err != nil {
		t.Fatal(err)
	}
	drv := db.Driver()
	var takedownID int64
	err = drv.WithTx(ctx, func(tx store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO takedowns (reported_url_id, url, state, classification, severity, first_seen_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, ours.URLs[0].ID, ours.URLs[0].URL, string(vigil.TakedownForwarded),
			"baseline", "high", now.Add(-time.Hour), now.Add(-time.Hour)).Scan(&takedownID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO outbound (takedown_id, key, kind, route_kind, recipient, message_id, raw, state, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, takedownID, "case1-hotline-0", vigil.OutboundReferral, "hotline",
			"meldpunt", "BE-2026-000001", []byte("{}"), string(vigil.OutboundSent), now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	removed := &vigil.ReferralStatus{Partner: "meldpunt", CaseRef: "BE-2026-000001", Status: "removed", At: now}
	if _, err := db.RecordPartnerStatus(ctx, "s0", &vigil.ReferralStatus{Partner: "other", CaseRef: "BE-2026-000001", Status: "removed", At: now}); !vigil.IsNotFound(err) {
		t.Errorf("status from a partner we did not refer to: %v", err)
	}
	if created, err := db.RecordPartnerStatus(ctx, "s1", removed); err != nil || !created {
		t.Fatalf("status: %v %v", created, err)
	}
	if _, err := db.RecordPartnerStatus(ctx, "s1", removed); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("replayed status: %v", err)
	}
	if created, err := db.RecordPartnerStatus(ctx, "s2", removed); err != nil || created {
		t.Errorf("status again: %v %v", created, err)
	}
	td, err := db.FindTakedown(ctx, takedownID)
	if err != nil || td.State != vigil.TakedownRemoved || td.RemovedAt == nil || !td.RemovedAt.Equal(now) {
		t.Errorf("our case after the partner's removal: %+v %v", td, err)
	}
	in2, err := db.ReferralStatuses(ctx, vigil.ReferralIn, "BE-2026-000001")
	if err != nil || len(in2) != 1 || in2[0].Status != "removed" {
		t.Errorf("statuses in: %+v %v", in2, err)
	}
}
