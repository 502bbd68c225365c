package web

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/federation"
)

type apiReferralAnswer struct {
	Reference    string `json:"reference"`
	TrackingCode string `json:"tracking_code"`
	Status       string `json:"status"`
	Created      bool   `json:"created"`
	// Accepted counts the items whose classification was applied under
	// the partner's trust settings (0 for a referral received before).
	Accepted int `json:"accepted"`
}

// handleAPIReferralCreate receives a partner's referral: signed by a
// configured partner, with an API key of scope referral, validated whole
// as hostile input. It becomes a case crawled by us; the partner's
// classifications its trust settings accept go into its bank, so the
// items they match never reach an analyst. The same reference sent again
// is the same case; the same request replayed is refused.
func (s *Server) handleAPIReferralCreate(w http.ResponseWriter, r *http.Request) {
	p, sig, body, ok := s.signedPartner(w, r)
	if !ok {
		return
	}
	now := s.cfg.Now().UTC()
	ref, err := federation.ParseReferral(body, now)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	in := vigil.ReportInput{Description: fmt.Sprintf("Referred by the partner hotline %s as %s.", p.Name, ref.Reference)}
	for _, u := range ref.URLs {
		in.URLs = append(in.URLs, u.URL)
	}
	rep, err := vigil.NewReport(in, vigil.SourceReferral, now)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	rep.APIKeyID = apiKeyFrom(r.Context()).ID
	accepted, items := acceptedEntries(p, ref)
	inbound := &vigil.InboundReferral{Partner: p.Name, Reference: ref.Reference, Nonce: sig.Nonce, Report: rep,
		Accepted: accepted, Body: body, ReceivedAt: now}
	created, err := s.cfg.Federation.Referrals.ReceiveReferral(r.Context(), inbound)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	ans := apiReferralAnswer{Reference: ref.Reference, TrackingCode: rep.TrackingCode, Status: "received", Created: created}
	if !created {
		writeJSON(w, http.StatusOK, ans)
		return
	}
	ans.Accepted = len(items)
	s.logger.Info("referral received", "partner", p.Name, "reference", ref.Reference, "urls", len(rep.URLs), "accepted", len(items))
	actor := &vigil.User{Name: "partner:" + p.Name}
	if err := s.auditAs(r.Context(), actor, "referral.receive", "referral:"+p.Name+":"+ref.Reference, map[string]any{
		"report": rep.TrackingCode, "urls": len(rep.URLs), "accepted": items,
		"settings": map[string]bool{"accept_baseline": p.AcceptBaseline, "accept_national": p.AcceptNational},
		"note":     "classified by " + p.Name + ", accepted under settings",
	}); err != nil {
		s.logger.Error("referral audit", "err", err)
	}
	writeJSON(w, http.StatusCreated, ans)
}

// acceptedItem is one classification accepted, for the audit log.
type acceptedItem struct {
	SHA256         string    `json:"sha256"`
	Classification string    `json:"classification"`
	AssessedBy     string    `json:"assessed_by,omitempty"`
	AssessedAt     time.Time `json:"assessed_at"`
}

// acceptedEntries turns the referral's classifications that the partner's
// trust settings accept into entries of its bank (SHA-256, MD5, PDQ and a
// video's vPDQ of each item).
func acceptedEntries(p *vigil.Partner, ref *federation.Referral) ([]*vigil.BankEntry, []acceptedItem) {
	var entries []*vigil.BankEntry
	var items []acceptedItem
	from := "referral:" + p.Name + ":" + ref.Reference
	for _, u := range ref.URLs {
		for _, m := range u.Media {
			if !p.Accepts(m.Classification) {
				continue
			}
			by := m.AssessedBy
			if by == "" {
				by = p.Name
			}
			note := fmt.Sprintf("classified by %s at %s, accepted under the settings of partner %s", by,
				m.AssessedAt.UTC().Format(time.RFC3339), p.Name)
			if len(note) > vigil.MaxEntryNote {
				note = note[:vigil.MaxEntryNote]
			}
			items = append(items, acceptedItem{SHA256: m.SHA256, Classification: m.Classification, AssessedBy: by, AssessedAt: m.AssessedAt})
			add := func(sig vigil.SignalType, v string) {
				if v != "" {
					entries = append(entries, &vigil.BankEntry{Signal: sig, Value: v, Classification: m.Classification,
						AddedFrom: from, Note: note})
				}
			}
			add(vigil.SignalSHA256, m.SHA256)
			add(vigil.SignalMD5, m.MD5)
			add(vigil.SignalPDQ, m.PDQ)
			if len(m.VPDQ) > 0 {
				// The video by its frames: a copy of it re-encoded, cut
				// or framed differently is known too (the bank's
				// thresholds decide).
				entries = append(entries, &vigil.BankEntry{Signal: vigil.SignalVPDQ, Frames: slices.Clone(m.VPDQ),
					Classification: m.Classification, AddedFrom: from, Note: note})
			}
		}
	}
	return entries, items
}
