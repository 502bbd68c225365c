package takedown_test

import (
	"context"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/jobargs"
	"github.com/vigil-hotline/vigil/internal/jobs"
	"github.com/vigil-hotline/vigil/internal/mailcatcher"
	"github.com/vigil-hotline/vigil/internal/notify"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/simworld"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/takedown"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/trace"
)

// allKnown stands in for the bank matcher: every picture is known, IWF
// category A.
type allKnown struct{}

func (allKnown) Match(_ context.Context, q vigil.MatchQuery) ([]vigil.Match, error) {
	return []vigil.Match{{BankID: 1, BankName: "test", EntryID: 1, Signal: vigil.SignalSHA256, Value: q.SHA256,
		Classification: "iwf-a", Variant: "orig"}}, nil
}

type harness struct {
	db    *store.DB
	sim   *simnet.Net
	world *simworld.World
}

// newHarness starts the simulated world and the workers; matcher replaces
// allKnown when given.
func newHarness(t *testing.T, db *store.DB, opts simworld.Options, matcher ...vigil.Matcher) *harness {
	t.Helper()
	sim := testrig.Internet(t, simnet.Options{BenchImages: 20, BenchPerPage: 10})
	dir := t.TempDir()
	world, err := simworld.Start(filepath.Join(dir, "world"), sim, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := world.Close(); err != nil {
			t.Error(err)
		}
	})
	f := testrig.Fetcher(t, sim)
	vault := testrig.Vault(t)
	tracer, err := trace.New(world.Trace, trace.Deps{Resolver: world.Resolver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tracer.Close() })
	mailer, err := notify.NewMailer(notify.Config{From: mail.Address{Name: "Hotline BE", Address: simworld.SenderEmail},
		Hotline: "Hotline BE (test)", SMTP: notify.SMTPConfig{Addr: world.Mail.Addr, TLS: notify.TLSOpportunistic}})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	var m vigil.Matcher = allKnown{}
	if len(matcher) > 0 {
		m = matcher[0]
	}
	(&jobs.Pipeline{Store: db, Fetcher: f, Blobs: vault, Matcher: m, Budget: vigil.DefaultCrawlBudget}).Register(workers)
	takedown.Register(workers, takedown.Config{Store: db, Tracer: tracer, Rules: world.Rules, Mailer: mailer, Sender: mailer,
		Fetcher: f, Blobs: vault, Hotline: "Hotline BE (test)", CaseRefPrefix: "BE-",
		FirstRecheck: 200 * time.Millisecond, RecheckEvery: 200 * time.Millisecond})
	queues := jobs.Queues(4, 2)
	queues[jobargs.QueueTakedown] = takedown.QueueConfig()
	stop, err := db.Driver().StartWorkers(context.Background(), store.WorkerConfig{Workers: workers, Queues: queues,
		PollInterval: 50 * time.Millisecond, RescueAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = stop(ctx)
	})
	return &harness{db: db, sim: sim, world: world}
}

// report files a report and returns the reported URL's ID.
func (h *harness) report(t *testing.T, url string) int64 {
	t.Helper()
	rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{url}}, vigil.SourceForm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.db.CreateReport(context.Background(), rep); err != nil {
		t.Fatal(err)
	}
	return rep.URLs[0].ID
}

func (h *harness) takedown(t *testing.T, urlID int64) *vigil.Takedown {
	t.Helper()
	var td *vigil.Takedown
	testrig.WaitFor(t, "takedown opened and traced", 30*time.Second, func() bool {
		var err error
		td, err = h.db.FindTakedownByURL(context.Background(), urlID)
		return err == nil && td.State != vigil.TakedownTracing
	})
	return td
}

func sent(t *testing.T, db *store.DB, id int64) []*vigil.Outbound {
	t.Helper()
	msgs, err := db.ListOutbound(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []*vigil.Outbound
	for _, m := range msgs {
		if m.State == vigil.OutboundSent {
			out = append(out, m)
		}
	}
	return out
}

// TestRoutesByHostingCountry: content traced to BE goes to the police with
// its severity, to NL to the partner hotline, to the US to the police and
// the provider.
func TestRoutesByHostingCountry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, simworld.Options{RenoticeInterval: time.Hour})
		be := h.report(t, h.sim.URL(simnet.Gallery, "/galleries/1/"))
		nl := h.report(t, h.sim.BenchURL())
		us := h.report(t, h.sim.URL(simnet.Mirror, "/"))

		tdBE, tdNL, tdUS := h.takedown(t, be), h.takedown(t, nl), h.takedown(t, us)
		check := func(td *vigil.Takedown, country string, state vigil.TakedownState, routes string, msgs int) {
			t.Helper()
			sorted := append([]string(nil), td.Routes...)
			slices.Sort(sorted)
			if td.Country != country || td.State != state || strings.Join(sorted, ",") != routes || td.Severity != "A" {
				t.Errorf("%s: country %q state %q routes %v severity %q", td.URL, td.Country, td.State, td.Routes, td.Severity)
			}
			testrig.WaitFor(t, td.URL+" messages sent", 20*time.Second, func() bool { return len(sent(t, db, td.ID)) == msgs })
		}
		check(tdBE, "BE", vigil.TakedownForwarded, "police", 1)
		check(tdNL, "NL", vigil.TakedownForwarded, "hotline", 1)
		check(tdUS, "US", vigil.TakedownNotified, "police,provider", 2)

		mails := h.world.Mail
		police := mails.To(simworld.Police)
		if len(police) != 2 {
			t.Fatalf("police got %d messages, want 2 (BE and US)", len(police))
		}
		for _, m := range police {
			pkg := attachedPackage(t, m.Data)
			item := pkg.Manifest.Items[0]
			if item.Severity != "A" || item.Classification != "iwf-a" || item.Hosting == nil || len(item.Media) == 0 {
				t.Errorf("police package: %+v", item)
			}
			if pkg.Manifest.MediaIncluded {
				t.Error("media in a package whose route does not include them")
			}
		}
		if got := mails.To(simworld.HotlineNL); len(got) != 1 || attachedPackage(t, got[0].Data).Manifest.Items[0].URL != tdNL.URL {
			t.Errorf("NL hotline got %d messages", len(got))
		}
		notices := mails.To(simworld.ProviderUS)
		if len(notices) != 1 {
			t.Fatalf("US provider got %d notices, want 1", len(notices))
		}
		body := string(notices[0].Data)
		if !strings.Contains(body, tdUS.URL) || !strings.Contains(body, "iwf-a") || strings.Contains(body, "Content-Type: image") {
			t.Errorf("provider notice lacks the URL or category, or carries media:\n%s", body)
		}
		if len(mails.To(simworld.ProviderBE))+len(mails.To(simworld.ProviderNL)) != 0 {
			t.Error("a provider in BE or NL was notified directly")
		}
	})
}

// TestRemovedAfterSecondNotice: the content stays up after the first
// notice, a renotice follows, the provider takes it down, and the case
// closes as removed with both notices and the time to removal.
func TestRemovedAfterSecondNotice(t *testing.T) {
	if testing.Short() {
		t.Skip("waits on River's scheduler, which moves a scheduled job every 5 s; the store's recheck writes are in storetest (TakedownRecheck)")
	}
	t.Parallel() // waiting on River's scheduler, as the tests beside it
	storetest.ForEachParallel(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, simworld.Options{RenoticeInterval: 300 * time.Millisecond, EscalateAfter: 5})
		h.world.Mail.OnMessage = func(m mailcatcher.Message) {
			if len(h.world.Mail.To(simworld.ProviderUS)) == 2 {
				h.sim.TakeDown(simnet.Mirror, "/")
			}
		}
		id := h.report(t, h.sim.URL(simnet.Mirror, "/"))
		td := h.takedown(t, id)
		testrig.WaitFor(t, "removed", 30*time.Second, func() bool {
			td, _ = db.FindTakedown(context.Background(), td.ID)
			return td.State == vigil.TakedownRemoved
		})
		if td.Notices != 2 || td.FirstNoticeAt == nil || td.LastNoticeAt == nil || td.RemovedAt == nil || td.Escalated {
			t.Fatalf("removed case: %+v", td)
		}
		if !td.RemovedAt.After(*td.LastNoticeAt) || !td.LastNoticeAt.After(*td.FirstNoticeAt) {
			t.Errorf("times out of order: first %v last %v removed %v", td.FirstNoticeAt, td.LastNoticeAt, td.RemovedAt)
		}
		var kinds []string
		for _, m := range sent(t, db, td.ID) {
			if m.RouteKind == "provider" {
				kinds = append(kinds, m.Kind)
			}
		}
		if strings.Join(kinds, ",") != "notice,renotice" {
			t.Errorf("provider messages %v", kinds)
		}
		stats, err := db.TakedownStats(context.Background())
		if err != nil || stats.URLsRemoved != 1 || len(stats.TimesToRemoval) != 1 || stats.TimesToRemoval[0].FromFirstNotice <= 0 {
			t.Errorf("stats %+v %v", stats, err)
		}
	})
}

// TestEscalatedWhileUp: content that stays up is escalated after the
// configured number of renotices, to the upstream network and the police.
func TestEscalatedWhileUp(t *testing.T) {
	if testing.Short() {
		t.Skip("waits on River's scheduler, which moves a scheduled job every 5 s; the store's recheck writes are in storetest (TakedownRecheck)")
	}
	t.Parallel() // waiting on River's scheduler, as the tests beside it
	db := storetest.Open(t, "sqlite")
	h := newHarness(t, db, simworld.Options{RenoticeInterval: 200 * time.Millisecond, EscalateAfter: 1})
	id := h.report(t, h.sim.URL(simnet.Mirror, "/"))
	td := h.takedown(t, id)
	testrig.WaitFor(t, "escalated", 30*time.Second, func() bool {
		td, _ = db.FindTakedown(context.Background(), td.ID)
		return td.Escalated && len(h.world.Mail.To(simworld.Police)) >= 2
	})
	var escalations int
	for _, m := range h.world.Mail.Messages() {
		if strings.Contains(string(m.Data), "X-Vigil-Kind: escalation") || strings.Contains(m.Header("Subject"), "scalat") {
			escalations++
		}
	}
	if td.Notices != 2 || td.State == vigil.TakedownRemoved || escalations == 0 {
		t.Errorf("case %+v, %d escalation messages", td, escalations)
	}
}
