//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/simworld"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/web"
)

// TestReferralOnceAcrossSIGKILL kills `vigil work` after the partner
// received a referral and before the worker recorded the answer (the
// partner holds it), and starts it again: the referral found "sending" is
// sent again, and the partner, which takes one case per reference, stores
// one case.
func TestReferralOnceAcrossSIGKILL(t *testing.T) {
	needVigil(t)
	t.Parallel() // mostly waiting on the partner, the kill and the rescue
	ctx := context.Background()
	data, dbURL := storeURLs(t, "sqlite")
	sim, err := simnet.Start(simnet.Options{BenchImages: 3, BenchPerPage: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	world, err := simworld.Start(filepath.Join(t.TempDir(), "world"), sim, simworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = world.Close() }()

	// The partner: a Vigil web server on loopback whose answers wait while
	// hold is open, the first one at least.
	partner := storetest.Open(t, "sqlite")
	srv, err := web.New(web.Config{Reports: partner, Users: partner, APIKeys: partner, Jobs: partner,
		Secret: []byte("0123456789abcdef0123456789abcdef"), APIRate: web.DefaultAPIRate, FormRate: web.DefaultFormRate,
		Accounts: web.AccountsConfig{Audit: partner}, Federation: web.FederationConfig{Partners: partner, Referrals: partner}})
	if err != nil {
		t.Fatal(err)
	}
	hold, arrived := make(chan struct{}), make(chan struct{}, 16)
	var once sync.Once
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		if strings.HasSuffix(r.URL.Path, "/referrals") {
			once.Do(func() { arrived <- struct{}{}; <-hold })
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	defer ts.Close()
	defer func() {
		select {
		case <-hold:
		default:
			close(hold)
		}
	}()

	// Each side knows the other.
	ourKey := strings.TrimSpace(vigilCmd(t, data, dbURL, "", "partner", "key"))
	key, hash := auth.NewAPIKey()
	be := vigil.NewPartner("be")
	be.Countries, be.PublicKey = []string{"BE"}, ourKey
	must(t, partner.CreatePartner(ctx, be))
	must(t, partner.CreateAPIKey(ctx, &vigil.APIKey{Name: "be", Hash: hash, Scopes: []vigil.APIScope{vigil.ScopeReferral}, Partner: "be"}))
	db := openTestStore(t, "sqlite", data, dbURL)
	nl := vigil.NewPartner("nl")
	nl.Countries, nl.BaseURL, nl.APIKey = []string{"NL"}, ts.URL, key
	nl.PublicKey = federation.PublicKey(federation.SigningKey([]byte("the partner's own secret key....")))
	must(t, db.CreatePartner(ctx, nl))
	must(t, loadDemoBank(ctx, db, sim))
	rep, _ := vigil.NewReport(vigil.ReportInput{URLs: []string{sim.URL(simnet.Bench, "/page/0")}}, vigil.SourceAPI, time.Now())
	must(t, db.CreateReport(ctx, rep))

	dir := t.TempDir()
	traceCfg, _ := json.Marshal(world.Trace)
	must(t, os.WriteFile(filepath.Join(dir, "trace.json"), traceCfg, 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "routing.json"), simworld.RulesJSON(simworld.Options{RenoticeInterval: time.Hour}), 0o600))
	args := []string{"--trace-config", filepath.Join(dir, "trace.json"), "--routing-config", filepath.Join(dir, "routing.json"),
		"--trace-resolve", simnet.Bench + "=203.0.113.30", "--smtp-addr", world.Mail.Addr, "--smtp-tls", "opportunistic",
		"--recheck-first", "1h"}
	w := startWork(t, sim, data, dbURL, args...)
	select {
	case <-arrived:
	case <-time.After(60 * time.Second):
		t.Fatal("no referral reached the partner within 60 s")
	}
	_ = w.Process.Signal(syscall.SIGKILL)
	_ = w.Wait()
	close(hold)

	time.Sleep(3 * time.Second) // past --rescue-after, so the rescuer takes the job up at once
	w = startWork(t, sim, data, dbURL, args...)
	td, err := waitTakedown(t, db, rep.URLs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*vigil.Outbound
	testrig.WaitFor(t, "the referral sent again and recorded", 60*time.Second, func() bool {
		alive(t, w)
		msgs, _ = db.ListOutbound(ctx, td.ID)
		return len(msgs) == 1 && msgs[0].State == vigil.OutboundSent
	})
	if msgs[0].Kind != vigil.OutboundReferral || msgs[0].Attempts < 2 || !strings.Contains(msgs[0].Reply, `"created":false`) {
		t.Errorf("referral: %+v", msgs[0])
	}
	var referrals, reports int
	must(t, partner.Driver().Reader().QueryRow(ctx, `SELECT COUNT(*) FROM referrals_in`).Scan(&referrals))
	must(t, partner.Driver().Reader().QueryRow(ctx, `SELECT COUNT(*) FROM reports`).Scan(&reports))
	if referrals != 1 || reports != 1 {
		t.Errorf("the partner stored %d referrals and %d reports, want one each", referrals, reports)
	}
}
