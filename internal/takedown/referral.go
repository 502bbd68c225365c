package takedown

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/jobargs"
	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/trace"
)

// renderReferral makes the referral a hotline route calls for when the
// partner serving the hosting country runs Vigil; nil (and the e-mail
// package) when it does not.
func (ws *Workers) renderReferral(ctx context.Context, t *vigil.Takedown, tr *trace.Trace, r route.Route, key string,
	media []vigil.KnownMedia, now time.Time) (*vigil.Outbound, error) {
	fed := ws.cfg.Federation
	if fed == nil || fed.Partners == nil {
		return nil, nil
	}
	p, err := fed.Partners.PartnerForCountry(ctx, r.Country)
	if vigil.IsNotFound(err) || (err == nil && !p.IsVigil()) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var fetches []*vigil.Fetch
	if fed.Fetches != nil {
		if fetches, err = fed.Fetches.ListFetches(ctx, t.ReportedURLID); err != nil {
			return nil, err
		}
	}
	h := &federation.Hosting{TracedAt: tr.Started.UTC(), Host: tr.Host, Country: tr.Country, ASN: tr.ASN, Network: tr.ASOrg, CDN: tr.CDN}
	if tr.Abuse != nil {
		h.AbuseContact = tr.Abuse.Email
	}
	for _, a := range tr.Addresses {
		if len(h.Addresses) < federation.MaxAddresses {
			h.Addresses = append(h.Addresses, a.IP.String())
		}
	}
	if fed.Videos != nil {
		if media, err = withVideoFrames(ctx, fed.Videos, media); err != nil {
			return nil, err
		}
	}
	ref := ws.caseRef(t)
	body, err := federation.BuildReferral(federation.Case{Reference: ref, Hotline: ws.cfg.Hotline, URL: t.URL,
		FirstSeen: t.FirstSeenAt, Classification: t.Classification, AssessedAt: t.CreatedAt, Hosting: h,
		Media: media, Fetches: fetches}, now)
	if err != nil {
		return nil, err
	}
	return &vigil.Outbound{Key: key, Kind: vigil.OutboundReferral, RouteKind: string(r.Kind), Recipient: p.Name,
		MessageID: ref, Raw: body}, nil
}

// withVideoFrames returns media with each video's vPDQ frames, so that
// the partner knows a video by its frames and not only by its bytes (a
// video re-encoded on the way has another SHA-256). media is not changed.
func withVideoFrames(ctx context.Context, videos interface {
	MediaVideo(ctx context.Context, mediaID int64) (*vigil.MediaVideo, error)
}, media []vigil.KnownMedia) ([]vigil.KnownMedia, error) {
	out := make([]vigil.KnownMedia, len(media))
	for i, m := range media {
		out[i] = m
		if m.MediaID == 0 {
			continue
		}
		v, err := videos.MediaVideo(ctx, m.MediaID)
		if vigil.IsNotFound(err) {
			continue // not a video
		}
		if err != nil {
			return nil, fmt.Errorf("video frames of media %d: %w", m.MediaID, err)
		}
		out[i].VPDQ = v.Frames
	}
	return out, nil
}

// sendReferral posts a claimed referral to its partner.
func (ws *Workers) sendReferral(ctx context.Context, job *river.Job[jobargs.SendArgs], m *vigil.Outbound) error {
	cfg := ws.cfg
	if cfg.Federation == nil || cfg.Federation.Client == nil {
		const why = "referrals are not configured in this process"
		if err := cfg.Store.RecordOutbound(ctx, m, vigil.OutboundRetry, "", why); err != nil {
			return err
		}
		return errors.New(why)
	}
	reply, err := cfg.Federation.Client.Refer(ctx, m)
	if err == nil {
		// Accepted: the media follow where the partner's settings say so.
		// A medium the partner takes twice is stored once, so a retry
		// after a failure sends the referral and its media again.
		var note string
		if note, err = ws.sendReferralMedia(ctx, m); err == nil && note != "" {
			reply += "; " + note
		}
	}
	switch {
	case err == nil:
		cfg.Logger.Info("referral sent", "outbound", m.ID, "partner", m.Recipient, "case", m.MessageID, "reply", reply)
		return cfg.Store.RecordOutbound(ctx, m, vigil.OutboundSent, reply, "")
	case !federation.Permanent(err) && job.Attempt < jobargs.MaxAttempts:
		if rerr := cfg.Store.RecordOutbound(ctx, m, vigil.OutboundRetry, "", err.Error()); rerr != nil {
			return rerr
		}
		return fmt.Errorf("referral to %s: %w", m.Recipient, err)
	default:
		cfg.Logger.Warn("referral refused", "outbound", m.ID, "partner", m.Recipient, "err", err)
		return cfg.Store.RecordOutbound(ctx, m, vigil.OutboundFailed, "", err.Error())
	}
}

// sendReferralMedia uploads the media an accepted referral names to its
// partner, age-encrypted to it, when its settings say media are sent
// (decrypted from the vault in memory only). A medium we do not hold is
// left out; a partner that refuses media for good is noted, not retried.
func (ws *Workers) sendReferralMedia(ctx context.Context, m *vigil.Outbound) (string, error) {
	client := ws.cfg.Federation.Client
	if client.Partners == nil || ws.cfg.Blobs == nil {
		return "", nil
	}
	p, err := client.Partners.FindPartner(ctx, m.Recipient)
	if err != nil {
		return "", fmt.Errorf("partner of referral %s: %w", m.MessageID, err)
	}
	if !p.SendMedia || p.AgeRecipient == "" {
		return "", nil
	}
	var ref federation.Referral
	if err := json.Unmarshal(m.Raw, &ref); err != nil {
		return "", &federation.SendError{Message: fmt.Sprintf("referral %s as stored: %v", m.MessageID, err), Permanent: true}
	}
	seen := map[string]bool{}
	sent := 0
	for _, u := range ref.URLs {
		for _, it := range u.Media {
			if seen[it.SHA256] {
				continue
			}
			seen[it.SHA256] = true
			plain, err := ws.cfg.Blobs.Get(ctx, ws.cfg.Blobs.Name(it.SHA256))
			if err != nil {
				ws.cfg.Logger.Warn("referral medium not held", "partner", p.Name, "case", ref.Reference, "sha256", it.SHA256, "err", err)
				continue
			}
			if _, err := client.SendMedia(ctx, p, ref.Reference, plain); err != nil {
				if federation.Permanent(err) {
					return fmt.Sprintf("media not sent: %v", err), nil
				}
				return "", fmt.Errorf("medium %s of referral %s: %w", it.SHA256, ref.Reference, err)
			}
			sent++
		}
	}
	return fmt.Sprintf("%d media sent", sent), nil
}
