// Package takedown works the path from an assessed URL to content that is
// gone: it traces where the content is hosted, decides by the routing rules
// who must know (police, a partner hotline, the provider), sends notices
// and forwards exactly once, rechecks the URL on a schedule, renotices and
// escalates while the content stays up, and records the time to removal.
package takedown

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/jobargs"
	"github.com/vigil-hotline/vigil/internal/notify"
	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/trace"
)

// Tracer traces a URL's hosting (internal/trace).
type Tracer interface {
	Trace(ctx context.Context, target string) (*trace.Trace, error)
}

// Sender sends a rendered message: the SMTP mailer, or an outbox folder.
type Sender interface {
	Send(ctx context.Context, msg *notify.Message) (notify.Receipt, error)
}

// Config is the takedown path's configuration and collaborators.
type Config struct {
	Store   vigil.TakedownWorkService
	Tracer  Tracer
	Rules   *route.Rules
	Mailer  *notify.Mailer
	Sender  Sender
	Fetcher *crawl.Fetcher
	Blobs   *blob.Vault
	// Hotline is the sending organisation's name, for packages.
	Hotline string
	// CaseRefPrefix starts every case reference ("BE-").
	CaseRefPrefix string
	// FirstRecheck is how long after the notices the URL is first checked
	// again (default 24 h); RecheckEvery how often after that (default
	// daily). The demo compresses both to seconds.
	FirstRecheck time.Duration
	RecheckEvery time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
	// Federation refers cases hosted in a Vigil partner's country to it
	// over the API instead of by e-mail package (issue 16); nil: e-mail
	// packages only.
	Federation *Federation
}

// Federation is what referrals to partners running Vigil need.
type Federation struct {
	Partners interface {
		PartnerForCountry(ctx context.Context, country string) (*vigil.Partner, error)
	}
	Fetches interface {
		ListFetches(ctx context.Context, reportedURLID int64) ([]*vigil.Fetch, error)
	}
	// Videos gives a video's vPDQ frames for the referral (nil: none sent).
	Videos interface {
		MediaVideo(ctx context.Context, mediaID int64) (*vigil.MediaVideo, error)
	}
	Client *federation.Client
}

// Workers holds the takedown path's River workers.
type Workers struct{ cfg Config }

// Register adds the trace, send and recheck workers.
func Register(w *river.Workers, cfg Config) *Workers {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.FirstRecheck == 0 {
		cfg.FirstRecheck = 24 * time.Hour
	}
	if cfg.RecheckEvery == 0 {
		cfg.RecheckEvery = 24 * time.Hour
	}
	if cfg.CaseRefPrefix == "" {
		cfg.CaseRefPrefix = vigil.DefaultCaseRefPrefix
	}
	ws := &Workers{cfg: cfg}
	river.AddWorker(w, &traceWorker{ws: ws})
	river.AddWorker(w, &sendWorker{ws: ws})
	river.AddWorker(w, &recheckWorker{ws: ws})
	return ws
}

// QueueConfig is the takedown queue: few jobs, mostly waiting on the
// network.
func QueueConfig() river.QueueConfig { return river.QueueConfig{MaxWorkers: 4} }

func (ws *Workers) caseRef(t *vigil.Takedown) string {
	return t.Reference(ws.cfg.CaseRefPrefix)
}

// findCase returns a job's case; a case that is not there cancels the
// job, since retrying would not bring it back.
func (ws *Workers) findCase(ctx context.Context, id int64) (*vigil.Takedown, error) {
	t, err := ws.cfg.Store.FindTakedown(ctx, id)
	if vigil.IsNotFound(err) {
		return nil, river.JobCancel(err)
	}
	return t, err
}

type traceWorker struct {
	river.WorkerDefaults[jobargs.TraceArgs]
	ws *Workers
}

func (w *traceWorker) Work(ctx context.Context, job *river.Job[jobargs.TraceArgs]) error {
	cfg := w.ws.cfg
	t, err := w.ws.findCase(ctx, job.Args.TakedownID)
	if err != nil {
		return err
	}
	if t.State != vigil.TakedownTracing {
		return nil
	}
	tr, err := cfg.Tracer.Trace(ctx, t.URL)
	if err != nil {
		return fmt.Errorf("trace %s: %w", t.URL, err)
	}
	now := cfg.Now()
	routes := cfg.Rules.Decide(tr, t.Severity, now)
	media, err := cfg.Store.CaseMedia(ctx, t.ReportedURLID)
	if err != nil {
		return err
	}
	evidence, err := json.Marshal(tr)
	if err != nil {
		return fmt.Errorf("trace evidence: %w", err)
	}
	plan, err := json.Marshal(routes)
	if err != nil {
		return fmt.Errorf("route plan: %w", err)
	}
	res := &vigil.TraceResult{
		Trace: string(evidence), Country: tr.Country, ASN: tr.ASN, ASOrg: tr.ASOrg, CDN: tr.CDN, Plan: string(plan),
		State: vigil.TakedownForwarded, FirstRecheck: now.Add(cfg.FirstRecheck),
	}
	for i, r := range routes {
		res.Routes = append(res.Routes, string(r.Kind))
		if r.Kind == route.Provider {
			res.Provider, res.State = r.Recipient.Email, vigil.TakedownNotified
		} else if res.Deadline == nil || r.Deadline.Before(*res.Deadline) {
			d := r.Deadline
			res.Deadline = &d
		}
		msg, err := w.ws.render(ctx, t, tr, r, i, media, now)
		if err != nil {
			return fmt.Errorf("render %s message: %w", r.Kind, err)
		}
		res.Messages = append(res.Messages, msg)
	}
	cfg.Logger.Info("traced", "takedown", t.ID, "country", tr.Country, "asn", tr.ASN, "routes", res.Routes)
	return cfg.Store.RecordTrace(ctx, t.ID, res)
}

// render makes the message a route calls for: a notice to a provider, a
// package to the police or a partner hotline. Rendering is deterministic,
// and the stored bytes are what is sent, on every attempt.
func (ws *Workers) render(ctx context.Context, t *vigil.Takedown, tr *trace.Trace, r route.Route, i int, media []vigil.KnownMedia, now time.Time) (*vigil.Outbound, error) {
	to := []mail.Address{{Name: r.Recipient.Name, Address: r.Recipient.Email}}
	lang := notify.Language(r.Recipient.Language)
	if r.NoticeLanguage != "" {
		lang = notify.Language(r.NoticeLanguage)
	}
	key := fmt.Sprintf("case%d-%s-%d", t.ID, r.Kind, i)
	if r.Kind == route.Hotline {
		if out, err := ws.renderReferral(ctx, t, tr, r, key, media, now); out != nil || err != nil {
			return out, err
		}
	}
	out := &vigil.Outbound{Key: key, RouteKind: string(r.Kind), Recipient: r.Recipient.Email}
	var msg *notify.Message
	var err error
	if r.Kind == route.Provider {
		out.Kind = "notice"
		msg, err = ws.cfg.Mailer.RenderNotice(&notify.Notice{ID: key, Kind: notify.KindNotice, Lang: lang, To: to, Date: now,
			CaseRef: ws.caseRef(t), URL: t.URL, SeenAt: t.FirstSeenAt, Category: t.Classification,
			EvidenceRef: fmt.Sprintf("%s/trace", ws.caseRef(t)), Priority: r.Priority})
	} else {
		out.Kind = "forward"
		msg, err = ws.renderForward(ctx, t, tr, r, key, lang, to, media, now)
	}
	if err != nil {
		return nil, err
	}
	out.MessageID, out.Raw = msg.MessageID, msg.Raw
	return out, nil
}

func (ws *Workers) renderForward(ctx context.Context, t *vigil.Takedown, tr *trace.Trace, r route.Route, key string, lang notify.Language,
	to []mail.Address, media []vigil.KnownMedia, now time.Time) (*notify.Message, error) {
	item := notify.Item{URL: t.URL, SeenAt: []time.Time{t.FirstSeenAt}, Classification: t.Classification, Severity: r.Severity,
		Hosting: &notify.Hosting{TracedAt: tr.Started, Host: tr.Host, CNAMEs: tr.CNAMEs, Country: tr.Country, ASN: tr.ASN,
			Network: tr.ASOrg, CDN: tr.CDN, EvidenceRef: ws.caseRef(t) + "/trace"}}
	if tr.Abuse != nil {
		item.Hosting.AbuseContact = tr.Abuse.Email
	}
	for _, a := range tr.Addresses {
		item.Hosting.Addresses = append(item.Hosting.Addresses, a.IP.String())
	}
	for _, m := range media {
		item.Media = append(item.Media, notify.Media{SHA256: m.SHA256, MD5: m.MD5, PDQ: m.PDQ,
			EvidenceRef: fmt.Sprintf("fetch-%d", m.FetchID)})
		item.EvidenceRefs = append(item.EvidenceRefs, fmt.Sprintf("fetch-%d", m.FetchID))
	}
	man := notify.Manifest{ID: key, CaseRef: ws.caseRef(t), CreatedAt: now,
		Sender:    notify.Party{Name: ws.cfg.Hotline, Kind: "hotline"},
		Recipient: notify.Party{Name: r.Recipient.Name, Kind: string(r.Kind), Country: r.Country, Email: r.Recipient.Email},
		Items:     []notify.Item{item}}
	opts := notify.PackageOptions{Lang: lang, IncludeMedia: r.IncludeMedia && r.Recipient.PublicKey != ""}
	if r.Recipient.PublicKey != "" {
		opts.Recipients = []string{r.Recipient.PublicKey}
	} else {
		opts.Unencrypted = true
	}
	if opts.IncludeMedia {
		keys := map[string]string{}
		for _, m := range media {
			keys[m.SHA256] = ws.cfg.Blobs.Name(m.SHA256)
		}
		// BuildPackage calls Open before it returns: the job's context
		// bounds the reads.
		opts.Open = func(sha string) (io.ReadCloser, error) {
			b, err := ws.cfg.Blobs.Get(ctx, keys[sha])
			if err != nil {
				return nil, err
			}
			return io.NopCloser(bytes.NewReader(b)), nil
		}
	}
	pkg, err := ws.cfg.Mailer.BuildPackage(man, opts)
	if err != nil {
		return nil, err
	}
	return ws.cfg.Mailer.RenderForward(&notify.Delivery{ID: key, Lang: lang, To: to, Date: now, Package: pkg})
}

type sendWorker struct {
	river.WorkerDefaults[jobargs.SendArgs]
	ws *Workers
}

func (w *sendWorker) Work(ctx context.Context, job *river.Job[jobargs.SendArgs]) error {
	cfg := w.ws.cfg
	m, err := cfg.Store.ClaimOutbound(ctx, job.Args.OutboundID)
	if err != nil {
		if vigil.IsNotFound(err) {
			return river.JobCancel(err)
		}
		return err
	}
	if m == nil {
		return nil // sent, failed, or interrupted: never sent twice
	}
	if m.Kind == vigil.OutboundReferral {
		return w.ws.sendReferral(ctx, job, m)
	}
	msg := &notify.Message{ID: m.Key, MessageID: m.MessageID, Raw: m.Raw}
	if err := parseEnvelope(msg); err != nil {
		return cfg.Store.RecordOutbound(ctx, m, vigil.OutboundFailed, "", err.Error())
	}
	rec, err := cfg.Sender.Send(ctx, msg)
	switch outcome := notify.Classify(err); {
	case err == nil:
		cfg.Logger.Info("message sent", "outbound", m.ID, "kind", m.Kind, "route", m.RouteKind, "reply", rec.Reply)
		return cfg.Store.RecordOutbound(ctx, m, vigil.OutboundSent, rec.Reply, "")
	case outcome == notify.OutcomeUncertain:
		return cfg.Store.RecordOutbound(ctx, m, vigil.OutboundUncertain, rec.Reply, err.Error())
	case outcome == notify.OutcomeRetry && job.Attempt < jobargs.MaxAttempts:
		if rerr := cfg.Store.RecordOutbound(ctx, m, vigil.OutboundRetry, rec.Reply, err.Error()); rerr != nil {
			return rerr
		}
		return err
	default:
		return cfg.Store.RecordOutbound(ctx, m, vigil.OutboundFailed, rec.Reply, err.Error())
	}
}

// parseEnvelope fills the envelope (sender, recipients) of a stored
// message from its headers.
func parseEnvelope(msg *notify.Message) error {
	parsed, err := mail.ReadMessage(bytes.NewReader(msg.Raw))
	if err != nil {
		return fmt.Errorf("stored message does not parse: %w", err)
	}
	from, err := mail.ParseAddress(parsed.Header.Get("From"))
	if err != nil {
		return fmt.Errorf("stored message has no sender: %w", err)
	}
	msg.From = from.Address
	for _, h := range []string{"To", "Cc"} {
		if parsed.Header.Get(h) == "" {
			continue
		}
		list, err := parsed.Header.AddressList(h)
		if err != nil {
			return fmt.Errorf("stored message: %s: %w", h, err)
		}
		for _, a := range list {
			msg.To = append(msg.To, a.Address)
		}
	}
	return nil
}
