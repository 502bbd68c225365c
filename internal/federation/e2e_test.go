package federation_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/jobargs"
	"github.com/vigil-hotline/vigil/internal/jobs"
	"github.com/vigil-hotline/vigil/internal/mailcatcher"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/notify"
	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/simworld"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/takedown"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/trace"
	"github.com/vigil-hotline/vigil/internal/web"
)

// knownBut stands in for hotline BE's banks: every picture is known as
// baseline but one, which only an analyst could classify.
type knownBut struct{ unknown string }

func (k knownBut) Match(_ context.Context, q vigil.MatchQuery) ([]vigil.Match, error) {
	if q.SHA256 == k.unknown {
		return nil, nil
	}
	return []vigil.Match{{BankID: 1, BankName: "known", EntryID: 1, Signal: vigil.SignalSHA256, Value: q.SHA256,
		Classification: "baseline", Variant: "orig"}}, nil
}

// hotline is one Vigil instance: its store, workers and web server.
type hotline struct {
	name string
	db   *store.DB
	key  *federation.Client
	srv  *httptest.Server
	// age is the identity partners encrypt media to; vault holds media.
	age   *age.X25519Identity
	vault *blob.Vault
}

// rulesNL are hotline NL's routing rules: at home, the police and the
// provider; Belgium has its partner hotline.
func rulesNL(t *testing.T) *route.Rules {
	b, _ := json.Marshal(map[string]any{
		"home_country": "NL", "time_zone": "UTC", "simulation": true,
		"defaults": map[string]any{"deadline": "1 working day", "include_media": false},
		"police":   map[string]any{"name": "Politie (simulated)", "email": "police@politie-nl.invalid", "language": "nl"},
		"hotlines": []any{map[string]any{"countries": []string{"BE"}, "name": "Hotline BE", "email": simworld.SenderEmail}},
		"provider": map[string]any{"options": map[string]any{"notice_language": "en", "renotice_interval": "1h"}},
		"home":     map[string]any{"provider": true},
	})
	r, err := route.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// start runs a hotline's workers and web server.
func start(t *testing.T, name string, db *store.DB, sim *simnet.Net, world *simworld.World, rules *route.Rules,
	m vigil.Matcher, prefix string, firstRecheck time.Duration) *hotline {
	t.Helper()
	h := &hotline{name: name, db: db}
	h.key = &federation.Client{Key: federation.SigningKey([]byte("federation secret of hotline " + name)), Partners: db}
	f := testrig.Fetcher(t, sim)
	vault := testrig.Vault(t)
	h.vault = vault
	var err error
	if h.age, err = age.GenerateX25519Identity(); err != nil {
		t.Fatal(err)
	}
	tracer, err := trace.New(world.Trace, trace.Deps{Resolver: world.Resolver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tracer.Close() })
	mailer, err := notify.NewMailer(notify.Config{From: mail.Address{Name: "Hotline " + name, Address: "notices@hotline-" + strings.ToLower(name) + ".invalid"},
		Hotline: "Hotline " + name, SMTP: notify.SMTPConfig{Addr: world.Mail.Addr, TLS: notify.TLSOpportunistic}})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	(&jobs.Pipeline{Store: db, Fetcher: f, Blobs: vault, Matcher: m, Budget: vigil.DefaultCrawlBudget}).Register(workers)
	takedown.Register(workers, takedown.Config{Store: db, Tracer: tracer, Rules: rules, Mailer: mailer, Sender: mailer,
		Fetcher: f, Blobs: vault, Hotline: "Hotline " + name, CaseRefPrefix: prefix,
		FirstRecheck: firstRecheck, RecheckEvery: 200 * time.Millisecond,
		Federation: &takedown.Federation{Partners: db, Fetches: db, Videos: db, Client: h.key}})
	river.AddWorker(workers, &federation.StatusWorker{Store: db, Client: h.key})
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
	s, err := web.New(web.Config{Reports: db, Users: db, APIKeys: db, Jobs: db, Secret: []byte("0123456789abcdef0123456789abcdef"),
		APIRate: web.DefaultAPIRate, FormRate: web.DefaultFormRate, Accounts: web.AccountsConfig{Audit: db},
		Federation: web.FederationConfig{Partners: db, Referrals: db, PublicKey: federation.PublicKey(h.key.Key),
			MediaVault: vault, AgeIdentities: []age.Identity{h.age}}})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(s)
	t.Cleanup(h.srv.Close)
	return h
}

// pair makes each hotline the other's partner: its URL, its key, and an
// API key of scope referral issued by the other.
func pair(t *testing.T, a *hotline, aCountry string, b *hotline, bCountry string) {
	t.Helper()
	ctx := context.Background()
	for _, x := range []struct {
		at, other *hotline
		country   string
	}{{a, b, bCountry}, {b, a, aCountry}} {
		key, hash := auth.NewAPIKey()
		if err := x.other.db.CreateAPIKey(ctx, &vigil.APIKey{Name: "partner-" + x.at.name, Hash: hash,
			Scopes: []vigil.APIScope{vigil.ScopeReferral}}); err != nil {
			t.Fatal(err)
		}
		p := vigil.NewPartner(strings.ToLower(x.other.name))
		p.Countries, p.BaseURL, p.PublicKey, p.APIKey = []string{x.country}, x.other.srv.URL, federation.PublicKey(x.other.key.Key), key
		// Media are exchanged both ways, encrypted to the other's identity.
		p.SendMedia, p.AgeRecipient = true, x.other.age.Recipient().String()
		if err := x.at.db.CreatePartner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// Each key is the key of the partner that uses it (both partners exist now).
	for _, x := range []struct{ at, other *hotline }{{a, b}, {b, a}} {
		if err := x.other.db.BindAPIKey(ctx, "partner-"+x.at.name, strings.ToLower(x.at.name)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReferralBetweenHotlines is issue 16's story on two Vigil instances
// in one test (two stores, SQLite and PostgreSQL when available; two web
// servers on loopback; one simulated world): a URL reported to hotline BE
// is hosted in NL. BE classifies two of its three pictures and refers the
// case to NL; NL crawls it itself, takes BE's baseline classifications
// without an analyst, queues the third picture for its analysts, notifies
// the provider; the provider removes it; BE sees each step and "removed"
// with NL's time, its own case closed as removed.
func TestReferralBetweenHotlines(t *testing.T) {
	if testing.Short() {
		t.Skip("waits on River's scheduler for the recheck that finds the removal (about 5 s)")
	}
	begun := time.Now()
	dbBE := storetest.Open(t, "sqlite")
	kindNL := "sqlite"
	if os.Getenv(storetest.PostgresEnv) != "" {
		kindNL = "postgres"
	}
	dbNL := storetest.Open(t, kindNL)
	sim := testrig.Internet(t, simnet.Options{BenchImages: 3, BenchPerPage: 3})
	world, err := simworld.Start(filepath.Join(t.TempDir(), "world"), sim, simworld.Options{RenoticeInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = world.Close() })
	page := sim.URL(simnet.Bench, "/page/0")
	world.Mail.OnMessage = func(m mailcatcher.Message) {
		if len(world.Mail.To(simworld.ProviderNL)) > 0 {
			sim.TakeDown(simnet.Bench, "/page/0")
		}
	}
	third, err := sim.Images.Bytes(simnet.BenchSeedBase+2, simnet.Variant{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(third)
	unknown := hex.EncodeToString(sum[:])

	mNL, err := match.New(context.Background(), match.Config{Store: dbNL, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mNL.Close() })
	// BE rechecks late: the removal it records must be NL's.
	be := start(t, "BE", dbBE, sim, world, world.Rules, knownBut{unknown: unknown}, "BE-", time.Hour)
	nl := start(t, "NL", dbNL, sim, world, rulesNL(t), mNL, "NL-", 200*time.Millisecond)
	pair(t, be, "BE", nl, "NL")

	rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{page}}, vigil.SourceForm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := dbBE.CreateReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	var tdBE *vigil.Takedown
	testrig.WaitFor(t, "BE traced the case", 30*time.Second, func() bool {
		tdBE, err = dbBE.FindTakedownByURL(ctx, rep.URLs[0].ID)
		return err == nil && tdBE.State != vigil.TakedownTracing
	})
	ref := tdBE.Reference("BE-")
	testrig.WaitFor(t, "the referral sent", 30*time.Second, func() bool {
		msgs, _ := dbBE.ListOutbound(ctx, tdBE.ID)
		return len(msgs) == 1 && msgs[0].Kind == vigil.OutboundReferral && msgs[0].State == vigil.OutboundSent
	})
	if got := world.Mail.To(simworld.HotlineNL); len(got) != 0 {
		t.Errorf("hotline NL runs Vigil but got %d e-mail packages", len(got))
	}

	// NL: the case, crawled by NL; BE's two classifications applied, the
	// third picture queued for NL's analysts.
	var reportNL int64
	testrig.WaitFor(t, "NL received the referral", 10*time.Second, func() bool {
		return dbNL.Driver().Reader().QueryRow(ctx, `SELECT report_id FROM referrals_in WHERE partner = 'be' AND their_ref = $1`, ref).Scan(&reportNL) == nil
	})
	// BE's media followed the accepted referral, encrypted to NL: each
	// stored once in NL's vault, the same bytes.
	var sent federation.Referral
	if msgs, err := dbBE.ListOutbound(ctx, tdBE.ID); err != nil || json.Unmarshal(msgs[0].Raw, &sent) != nil {
		t.Fatalf("BE's referral: %v", err)
	}
	named := map[string]bool{}
	for _, u := range sent.URLs {
		for _, it := range u.Media {
			named[it.SHA256] = true
		}
	}
	got, err := dbNL.ReferralMedia(ctx, "be", ref)
	if err != nil || len(named) == 0 || len(got) != len(named) {
		t.Fatalf("NL holds %d media of the referral, want the %d it names: %v", len(got), len(named), err)
	}
	for sha, name := range got {
		b, err := nl.vault.Get(ctx, name)
		if sum := sha256.Sum256(b); err != nil || !named[sha] || hex.EncodeToString(sum[:]) != sha {
			t.Errorf("medium %s at NL: %v", sha, err)
		}
	}
	var media []storetest.MediaVerdict
	testrig.WaitFor(t, "NL matched the three pictures", 30*time.Second, func() bool {
		media = storetest.ReportMediaVerdicts(t, dbNL, reportNL)
		return len(media) == 3
	})
	var known, queued int
	for _, m := range media {
		switch {
		case m.Status == "known" && m.Class == "baseline" && !m.Queued:
			known++
		case m.Status == "unknown" && m.Queued:
			queued++
		}
	}
	if known != 2 || queued != 1 {
		t.Errorf("NL's media: %+v, want two known as baseline (BE's) and one queued for an analyst", media)
	}

	// NL's own takedown: the provider notified; the recheck finds the
	// content gone; BE hears every step.
	testrig.WaitFor(t, "BE hears of the removal", 45*time.Second, func() bool {
		st, _ := dbBE.ReferralStatuses(ctx, vigil.ReferralIn, ref)
		return len(st) > 0 && st[len(st)-1].Status == "removed"
	})
	st, _ := dbBE.ReferralStatuses(ctx, vigil.ReferralIn, ref)
	var steps []string
	for _, s := range st {
		steps = append(steps, s.Status)
	}
	for _, want := range []string{"received", "assessed", "notice_sent", "removed"} {
		if !strings.Contains(strings.Join(steps, ","), want) {
			t.Errorf("BE heard %v, missing %s", steps, want)
		}
	}
	tdBE, err = dbBE.FindTakedown(ctx, tdBE.ID)
	if err != nil || tdBE.State != vigil.TakedownRemoved || tdBE.RemovedAt == nil || !tdBE.RemovedAt.Equal(st[len(st)-1].At) {
		t.Errorf("BE's case after NL's removal: %+v %v", tdBE, err)
	}
	stats, err := dbBE.TakedownStats(ctx)
	if err != nil || stats.URLsRemoved != 1 || len(stats.TimesToRemoval) != 1 || stats.TimesToRemoval[0].Country != "NL" {
		t.Errorf("BE's figures count NL's removal: %+v %v", stats, err)
	}
	t.Logf("reported to BE, removed as NL reported back: %v (SQLite BE, %s NL)", time.Since(begun).Round(time.Millisecond), kindNL)

	// A crash between sending and recording, as SIGKILL leaves it: the
	// referral found "sending" is sent again and NL keeps one case; a
	// status likewise, and BE keeps one record of the step.
	msgs, _ := dbBE.ListOutbound(ctx, tdBE.ID)
	crash := func(db *store.DB, table string, id int64, job river.JobArgs) {
		t.Helper()
		err := db.Driver().WithTx(ctx, func(tx store.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE `+table+` SET state = 'sending' WHERE id = $1`, id); err != nil {
				return err
			}
			return tx.InsertJobs(ctx, []river.InsertManyParams{jobargs.TakedownJob(job, time.Time{})})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	crash(dbBE, "outbound", msgs[0].ID, jobargs.SendArgs{OutboundID: msgs[0].ID})
	testrig.WaitFor(t, "the interrupted referral sent again", 20*time.Second, func() bool {
		m, _ := dbBE.ListOutbound(ctx, tdBE.ID)
		return m[0].State == vigil.OutboundSent && m[0].Attempts == 2
	})
	out, _ := dbNL.ReferralStatuses(ctx, vigil.ReferralOut, ref)
	crash(dbNL, "referral_status", out[len(out)-1].ID, jobargs.ReferralStatusArgs{StatusID: out[len(out)-1].ID})
	testrig.WaitFor(t, "the interrupted status sent again", 20*time.Second, func() bool {
		o, _ := dbNL.ReferralStatuses(ctx, vigil.ReferralOut, ref)
		return o[len(o)-1].State == vigil.OutboundSent && o[len(o)-1].Attempts == 2
	})
	var referrals, reports, removedSteps int
	_ = dbNL.Driver().Reader().QueryRow(ctx, `SELECT COUNT(*) FROM referrals_in`).Scan(&referrals)
	_ = dbNL.Driver().Reader().QueryRow(ctx, `SELECT COUNT(*) FROM reports`).Scan(&reports)
	_ = dbBE.Driver().Reader().QueryRow(ctx, `SELECT COUNT(*) FROM referral_status WHERE direction = 'in' AND status = 'removed'`).Scan(&removedSteps)
	if referrals != 1 || reports != 1 || removedSteps != 1 {
		t.Errorf("after the resends: NL %d referrals, %d reports; BE %d removals recorded; want one each", referrals, reports, removedSteps)
	}
}
