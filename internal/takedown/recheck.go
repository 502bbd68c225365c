package takedown

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/jobargs"
	"github.com/vigil-hotline/vigil/internal/notify"
	"github.com/vigil-hotline/vigil/internal/route"
)

type recheckWorker struct {
	river.WorkerDefaults[jobargs.RecheckArgs]
	ws *Workers
}

// maxRecheckFetches bounds the media a recheck fetches again.
const maxRecheckFetches = 200

func (w *recheckWorker) Work(ctx context.Context, job *river.Job[jobargs.RecheckArgs]) error {
	cfg := w.ws.cfg
	t, err := w.ws.findCase(ctx, job.Args.TakedownID)
	if err != nil {
		return err
	}
	if t.State == vigil.TakedownRemoved {
		return nil
	}
	up, detail, err := w.ws.stillUp(ctx, t)
	if err != nil {
		return err
	}
	now := cfg.Now()
	r := &vigil.Recheck{Seq: job.Args.Seq, Up: up, Detail: detail, NextCheck: now.Add(cfg.RecheckEvery)}
	if up {
		if err := w.ws.followUp(ctx, t, r); err != nil {
			return err
		}
	} else {
		cfg.Logger.Info("content removed", "takedown", t.ID, "url", t.URL, "detail", detail)
	}
	return cfg.Store.RecordRecheck(ctx, t.ID, r)
}

// stillUp reports whether the case's illegal content is still served: the
// page answers and at least one of the known media is still among what it
// serves, by SHA-256.
func (ws *Workers) stillUp(ctx context.Context, t *vigil.Takedown) (bool, string, error) {
	page, err := ws.cfg.Fetcher.FetchPage(ctx, t.URL, "")
	switch {
	case err != nil && crawl.ReasonOf(err).Retryable():
		return false, "", err // try again later rather than call it gone
	case err != nil:
		return false, "page gone: " + err.Error(), nil
	case page.Evidence.Status == 404 || page.Evidence.Status == 410:
		return false, fmt.Sprintf("page gone: HTTP %d", page.Evidence.Status), nil
	}
	media, err := ws.cfg.Store.CaseMedia(ctx, t.ReportedURLID)
	if err != nil {
		return false, "", err
	}
	known := map[string]bool{}
	urls := map[string]bool{}
	for _, m := range media {
		known[m.SHA256] = true
		urls[m.URL] = true
	}
	if page.Evidence.Class != crawl.ClassHTML && known[page.Evidence.SHA256] {
		return true, "the reported URL still serves a known file", nil
	}
	for _, l := range page.Links.Media {
		urls[l.URL] = true
	}
	n := 0
	for u := range urls {
		if n++; n > maxRecheckFetches {
			break
		}
		resp, err := ws.cfg.Fetcher.FetchMedia(ctx, u, t.URL)
		if err == nil && resp.Evidence.Status < 400 && known[resp.Evidence.SHA256] {
			return true, "still served: " + u, nil
		}
	}
	return false, fmt.Sprintf("the page answers, but none of the %d known files is among what it serves", len(known)), nil
}

// followUp adds what a case still up calls for: a renotice once the
// provider's interval has passed, and an escalation after the configured
// number of renotices.
func (ws *Workers) followUp(ctx context.Context, t *vigil.Takedown, r *vigil.Recheck) error {
	plan, err := ws.cfg.Store.RoutePlan(ctx, t.ID)
	if err != nil {
		return err
	}
	var routes []route.Route
	// An empty plan is a case not routed yet; a corrupt one would silently
	// stop renotices and escalation, so it fails the job where it shows.
	if plan != "" {
		if err := json.Unmarshal([]byte(plan), &routes); err != nil {
			return fmt.Errorf("takedown %d: route plan: %w", t.ID, err)
		}
	}
	var p *route.Route
	for i := range routes {
		if routes[i].Kind == route.Provider {
			p = &routes[i]
		}
	}
	now := ws.cfg.Now()
	if p == nil || t.LastNoticeAt == nil || t.Escalated || now.Sub(*t.LastNoticeAt) < p.RenoticeInterval {
		return nil
	}
	renotices := t.Notices - 1
	lang := notify.Language(p.NoticeLanguage)
	if p.EscalateAfter > 0 && renotices >= p.EscalateAfter {
		r.Escalate = true
		for i, e := range p.Escalation {
			key := fmt.Sprintf("case%d-escalation-%d", t.ID, i)
			msg, err := ws.cfg.Mailer.RenderNotice(&notify.Notice{ID: key, Kind: notify.KindEscalation,
				Lang: notify.Language(e.Recipient.Language), To: []mail.Address{{Name: e.Recipient.Name, Address: e.Recipient.Email}},
				Date: now, CaseRef: ws.caseRef(t), URL: t.URL, SeenAt: t.FirstSeenAt, Category: t.Classification,
				EvidenceRef: ws.caseRef(t) + "/rechecks", Count: t.Notices, FirstNoticeAt: *t.FirstNoticeAt,
				Provider: t.Provider})
			if err != nil {
				return fmt.Errorf("render escalation: %w", err)
			}
			r.Messages = append(r.Messages, &vigil.Outbound{Key: key, Kind: "escalation", RouteKind: strings.ToLower(e.To),
				Recipient: e.Recipient.Email, MessageID: msg.MessageID, Raw: msg.Raw})
		}
		return nil
	}
	key := fmt.Sprintf("case%d-renotice-%d", t.ID, t.Notices+1)
	msg, err := ws.cfg.Mailer.RenderNotice(&notify.Notice{ID: key, Kind: notify.KindRenotice, Lang: lang,
		To: []mail.Address{{Address: p.Recipient.Email, Name: p.Recipient.Name}}, Date: now, CaseRef: ws.caseRef(t),
		URL: t.URL, SeenAt: t.FirstSeenAt, Category: t.Classification, EvidenceRef: ws.caseRef(t) + "/rechecks",
		Count: t.Notices + 1, FirstNoticeAt: *t.FirstNoticeAt})
	if err != nil {
		return fmt.Errorf("render renotice: %w", err)
	}
	// A renotice counts as a provider notice when it is sent.
	r.Messages = append(r.Messages, &vigil.Outbound{Key: key, Kind: "renotice", RouteKind: "provider",
		Recipient: p.Recipient.Email, MessageID: msg.MessageID, Raw: msg.Raw})
	return nil
}
