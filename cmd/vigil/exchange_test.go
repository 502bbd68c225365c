package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// fakeListMD5 is a synthetic md5-length value (no real material).
func fakeListMD5(seed string) string {
	s := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(s[:16])
}

func TestExchangeCommands(t *testing.T) {
	vigil := bankEnv(t)
	var n atomic.Int32
	n.Store(5)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-123" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		fmt.Fprintln(w, "type,value,classification,id")
		for i := range int(n.Load()) {
			fmt.Fprintf(w, "md5,%s,A1,up-%d\n", fakeListMD5(fmt.Sprint(i)), i)
		}
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := vigil("bank", "create", "partner", "--source", "inhope-partner"); err != nil {
		t.Fatalf("%v %s", err, stderr)
	}
	// Flags before and after NAME.
	out, stderr, err := vigil("exchange", "add", "--kind", "http-list", "partner-list", "--bank", "partner",
		"--url", srv.URL+"/list.csv", "--token-file", tokenFile, "--allow-private", "--schedule", "1h")
	if err != nil || !strings.Contains(out, "credentials: token") {
		t.Fatalf("add: %v %s %s", err, out, stderr)
	}
	if _, _, err := vigil("exchange", "add", "guarded", "--kind", "http-list", "--bank", "partner",
		"--url", srv.URL+"/list.csv", "--token", "tok-123"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := vigil("exchange", "add", "bad", "--kind", "gopher", "--bank", "partner", "--url", srv.URL); exitCode(err) != 2 {
		t.Errorf("unknown kind: %v", err)
	}
	out, _, err = vigil("exchange", "fetch", "partner-list")
	if err != nil || !strings.Contains(out, "5 added") {
		t.Fatalf("fetch: %v %s", err, out)
	}
	n.Store(7)
	out, _, err = vigil("exchange", "fetch", "partner-list")
	if err != nil || !strings.Contains(out, "2 added, 0 removed") {
		t.Fatalf("second fetch: %v %s", err, out)
	}
	// Loopback is refused without --allow-private.
	if _, _, err := vigil("exchange", "fetch", "guarded"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("guarded fetch of loopback: %v", err)
	}
	out, _, err = vigil("exchange", "status", "partner-list")
	if err != nil || !strings.Contains(out, "entries:") || !strings.Contains(out, "7") || !strings.Contains(out, "ok (+2 -0)") {
		t.Errorf("status: %v\n%s", err, out)
	}
	all, _, err := vigil("exchange", "status")
	if err != nil || !strings.Contains(all, "guarded") || !strings.Contains(all, "refused") {
		t.Errorf("status of all: %v\n%s", err, all)
	}
	list, _, err := vigil("exchange", "list")
	if err != nil || !strings.Contains(list, "partner-list") || !strings.Contains(list, "http-list") {
		t.Errorf("list: %v\n%s", err, list)
	}
	for _, o := range []string{out, all, list} {
		if strings.Contains(o, "tok-123") {
			t.Errorf("a credential is shown:\n%s", o)
		}
	}
	// Provenance in vigil match.
	out, _, err = vigil("match", fakeListMD5("3"))
	if err != nil || !strings.Contains(out, "partner-list") || !strings.Contains(out, "up-3") || !strings.Contains(out, "A1") {
		t.Errorf("match with provenance: %v\n%s", err, out)
	}
	if out, _, err := vigil("exchange", "remove", "guarded"); err != nil || !strings.Contains(out, "removed") {
		t.Errorf("remove: %v %s", err, out)
	}
	if _, _, err := vigil("exchange", "status", "guarded"); err == nil {
		t.Error("status of a removed exchange")
	}
}

// TestExchangeScheduler: the workers' scheduler fetches a due exchange by
// itself and sets its next fetch a schedule later.
func TestExchangeScheduler(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		fmt.Fprintln(w, "type,value,id")
		for i := range 4 {
			fmt.Fprintf(w, "md5,%s,s-%d\n", fakeListMD5("sched"+fmt.Sprint(i)), i)
		}
	}))
	defer srv.Close()
	b := &vigil.Bank{Name: "sched", Source: vigil.SourceOther, Kind: vigil.BankBlock, Enabled: true, PDQThreshold: 31}
	if err := db.CreateBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	x := &vigil.Exchange{Name: "sched", Kind: vigil.ExchangeHTTPList, BankID: b.ID, URL: srv.URL, Schedule: time.Hour,
		AllowPrivate: true, Enabled: true}
	if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{}); err != nil {
		t.Fatal(err)
	}
	env := &Env{Getenv: func(string) string { return "" }, Logger: slog.New(slog.DiscardHandler)}
	stop := startExchangeScheduler(ctx, env, db)
	testrig.WaitFor(t, "the scheduled fetch", 10*time.Second, func() bool {
		got, err := db.FindExchangeByID(ctx, x.ID)
		return err == nil && !got.Last.FinishedAt.IsZero()
	})
	stop()
	got, err := db.FindExchangeByID(ctx, x.ID)
	if err != nil || got.Entries != 4 || got.Last.Error != "" || got.NextFetchAt.Before(time.Now().Add(50*time.Minute)) {
		t.Errorf("after the scheduled fetch: %v %+v", err, got)
	}
}
