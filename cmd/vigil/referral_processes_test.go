//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/mailcatcher"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/simworld"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// startWebOnly runs `vigil serve --workers=false` on addr: the web server
// of one hotline, whose workers run apart in `vigil work`.
func startWebOnly(t *testing.T, addr, data, dbURL string) {
	t.Helper()
	cmd := exec.Command(vigilBin, "serve", "--addr", addr, "--workers=false", "--allow-example-routing")
	cmd.Env = append(os.Environ(), "VIGIL_DATA="+data, "VIGIL_DATABASE_URL="+dbURL)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	testrig.WaitFor(t, "vigil serve answers on "+addr, 30*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("vigil serve on %s exited at start-up", addr)
		default:
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
}

// TestReferralBetweenTwoProcesses is issue 16's story on two Vigil
// hotlines, each its own processes (serve for the web, work for the
// workers), data folder, keys and database (BE on SQLite; NL on
// PostgreSQL when VIGIL_TEST_POSTGRES is set), paired with the CLI. A URL
// reported to BE through its API is hosted in NL: BE refers it; NL crawls
// it, takes BE's baseline classifications for the two pictures BE knows,
// queues the third for its analysts, notifies the provider, finds the
// page gone on recheck, and BE hears "removed" with the time.
func TestReferralBetweenTwoProcesses(t *testing.T) {
	needVigil(t)
	begun := time.Now()
	ctx := context.Background()
	kindNL := "sqlite"
	if os.Getenv(storetest.PostgresEnv) != "" {
		kindNL = "postgres"
	}
	dataBE, urlBE := storeURLs(t, "sqlite")
	dataNL, urlNL := storeURLs(t, kindNL)

	sim, err := simnet.Start(simnet.Options{BenchImages: 3, BenchPerPage: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	world, err := simworld.Start(filepath.Join(t.TempDir(), "world"), sim, simworld.Options{RenoticeInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = world.Close() }()
	page := sim.URL(simnet.Bench, "/page/0")
	// The provider in NL takes the page down when NL's notice reaches it.
	world.Mail.OnMessage = func(mailcatcher.Message) {
		if len(world.Mail.To(simworld.ProviderNL)) > 0 {
			sim.TakeDown(simnet.Bench, "/page/0")
		}
	}

	// Each hotline's address is chosen first, so that each can name the
	// other as a partner before either starts.
	addrBE, addrNL := freeAddr(t, "127.0.0.1"), freeAddr(t, "127.0.0.1")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	pubBE := strings.TrimSpace(vigilCmd(t, dataBE, urlBE, "", "partner", "key"))
	pubNL := strings.TrimSpace(vigilCmd(t, dataNL, urlNL, "", "partner", "key"))
	// NL's key at BE (for NL's status updates) and BE's key at NL (for
	// BE's referrals), each bound to its partner once the partner exists.
	keyNLatBE := write("nl-at-be", vigilCmd(t, dataBE, urlBE, "", "apikey", "create", "hotline-nl", "--scopes", "referral"))
	keyBEatNL := write("be-at-nl", vigilCmd(t, dataNL, urlNL, "", "apikey", "create", "hotline-be", "--scopes", "referral"))
	vigilCmd(t, dataBE, urlBE, "", "partner", "add", "nl", "--countries", "NL", "--public-key", pubNL,
		"--url", "http://"+addrNL, "--api-key-file", keyBEatNL)
	vigilCmd(t, dataNL, urlNL, "", "partner", "add", "be", "--countries", "BE", "--public-key", pubBE,
		"--url", "http://"+addrBE, "--api-key-file", keyNLatBE)
	vigilCmd(t, dataBE, urlBE, "", "apikey", "update", "hotline-nl", "--partner", "nl")
	vigilCmd(t, dataNL, urlNL, "", "apikey", "update", "hotline-be", "--partner", "be")
	reporterKey := strings.TrimSpace(vigilCmd(t, dataBE, urlBE, "", "apikey", "create", "reporter"))

	dbBE := openTestStore(t, "sqlite", dataBE, urlBE)
	dbNL := openTestStore(t, kindNL, dataNL, urlNL)
	// BE's banks know two of the page's three pictures (the demo bank);
	// NL has none: it knows what BE tells it.
	must(t, loadDemoBank(ctx, dbBE, sim))

	traceCfg, _ := json.Marshal(world.Trace)
	tracePath := write("trace.json", string(traceCfg))
	rulesBE := write("routing-be.json", string(simworld.RulesJSON(simworld.Options{RenoticeInterval: time.Hour})))
	rulesNL, _ := json.Marshal(map[string]any{
		"home_country": "NL", "time_zone": "UTC", "simulation": true,
		"defaults": map[string]any{"deadline": "1 working day", "include_media": false},
		"police":   map[string]any{"name": "Politie (simulated)", "email": "police@politie-nl.invalid", "language": "nl"},
		"hotlines": []any{map[string]any{"countries": []string{"BE"}, "name": "Hotline BE", "email": simworld.SenderEmail}},
		"provider": map[string]any{"options": map[string]any{"notice_language": "en", "renotice_interval": "1h"}},
		"home":     map[string]any{"provider": true},
	})
	rulesNLPath := write("routing-nl.json", string(rulesNL))
	common := []string{"--trace-config", tracePath, "--trace-resolve", simnet.Bench + "=203.0.113.30",
		"--smtp-addr", world.Mail.Addr, "--smtp-tls", "opportunistic"}

	startWebOnly(t, addrBE, dataBE, urlBE)
	startWebOnly(t, addrNL, dataNL, urlNL)
	// BE rechecks late: the removal it records must be NL's.
	workBE := startWork(t, sim, dataBE, urlBE, append([]string{"--routing-config", rulesBE, "--case-prefix", "BE",
		"--hotline-name", "Hotline BE", "--recheck-first", "1h"}, common...)...)
	workNL := startWork(t, sim, dataNL, urlNL, append([]string{"--routing-config", rulesNLPath, "--case-prefix", "NL",
		"--hotline-name", "Hotline NL", "--recheck-first", "1s", "--recheck-every", "1s"}, common...)...)

	code := postReport(t, "http://"+addrBE, reporterKey, page)
	rep, err := dbBE.FindReportByTrackingCode(ctx, code)
	must(t, err)
	td, err := waitTakedown(t, dbBE, rep.URLs[0].ID)
	must(t, err)

	// BE refers the case to NL over the API, not by e-mail.
	var ref string
	var reportNL int64
	testrig.WaitFor(t, "NL received BE's referral", 60*time.Second, func() bool {
		alive(t, workBE)
		return dbNL.Driver().Reader().QueryRow(ctx, `SELECT their_ref, report_id FROM referrals_in WHERE partner = 'be'`).Scan(&ref, &reportNL) == nil
	})
	if got := world.Mail.To(simworld.HotlineNL); len(got) != 0 {
		t.Errorf("hotline NL runs Vigil but got %d e-mail packages", len(got))
	}

	// NL crawled the page itself: two pictures known as baseline (BE's
	// word, no analyst), the third queued for NL's analysts.
	var media []storetest.MediaVerdict
	testrig.WaitFor(t, "NL matched the three pictures", 60*time.Second, func() bool {
		alive(t, workNL)
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

	// NL notifies the provider (who takes the page down), rechecks, finds
	// it gone and tells BE, which records the removal with NL's time.
	testrig.WaitFor(t, "BE hears of the removal", 60*time.Second, func() bool {
		alive(t, workBE)
		alive(t, workNL)
		st, _ := dbBE.ReferralStatuses(ctx, vigil.ReferralIn, ref)
		return len(st) > 0 && st[len(st)-1].Status == "removed"
	})
	if len(world.Mail.To(simworld.ProviderNL)) == 0 {
		t.Error("NL sent no notice to the provider")
	}
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
	td, err = dbBE.FindTakedown(ctx, td.ID)
	if err != nil || td.State != vigil.TakedownRemoved || td.RemovedAt == nil || !td.RemovedAt.Equal(st[len(st)-1].At) {
		t.Errorf("BE's case after NL's removal: %+v %v", td, err)
	}
	t.Logf("reported to BE, removed as NL reported back: %v (two processes each; SQLite BE, %s NL)", time.Since(begun).Round(time.Millisecond), kindNL)
}
