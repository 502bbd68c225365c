package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange/ncmectest"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// ncmecFingerprints is how many bank entries the fake's first n entries
// give: an MD5 each and a PDQ every third.
func ncmecFingerprints(n int) int64 { return int64(n + (n+2)/3) }

// exchangeProcess starts `vigil exchange fetch NAME`.
func exchangeProcess(t *testing.T, data, dbURL, name string, out *bytes.Buffer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(vigilBin, "exchange", "fetch", name)
	cmd.Env = append(os.Environ(), "VIGIL_DATA="+data, "VIGIL_DATABASE_URL="+dbURL, "VIGIL_EXCHANGE_LEASE=2s")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// startNCMEC starts a fake NCMEC serving total entries in pages of 300,
// each delay late, and adds it to the store as exchange and bank "ncmec".
func startNCMEC(t *testing.T, data, dbURL string, total int, delay time.Duration) *ncmectest.Server {
	t.Helper()
	srv := ncmectest.New(t, ncmectest.Options{User: "esp", Password: "pw", Entries: total, PageSize: 300, PageDelay: delay})
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vigilCmd(t, data, dbURL, "", "bank", "create", "ncmec", "--source", "ncmec")
	vigilCmd(t, data, dbURL, "", "exchange", "add", "ncmec", "--kind", "ncmec", "--bank", "ncmec", "--url", srv.BaseURL(),
		"--user", "esp", "--password-file", pw, "--allow-private", "--schedule", "0")
	return srv
}

// checkOnce checks that the bank holds every entry of the fake once, and
// that the change feed announced each once.
func checkOnce(t *testing.T, db *store.DB, want int64) {
	t.Helper()
	ctx := context.Background()
	b, err := db.FindBankByName(ctx, "ncmec")
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.CountBankEntries(ctx, b.ID)
	if err != nil || n != want {
		t.Fatalf("bank holds %d entries, want %d (%v)", n, want, err)
	}
	announced := map[int64]int{}
	var after int64
	for {
		cs, err := db.BankChanges(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			after = c.Seq
			if c.Op == vigil.ChangeAdd {
				for id := c.FirstEntryID; id <= c.LastEntryID; id++ {
					announced[id]++
				}
			}
		}
	}
	var last int64
	for {
		es, err := db.BankEntries(ctx, b.ID, last, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			last = e.ID
			if announced[e.ID] != 1 {
				t.Fatalf("entry %d announced %d times in the change feed", e.ID, announced[e.ID])
			}
		}
	}
}

// TestExchangeFetchSurvivesSIGKILL: a fetch killed mid-way resumes from its
// stored checkpoint and ends with every entry present once.
func TestExchangeFetchSurvivesSIGKILL(t *testing.T) {
	needVigil(t)
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			data, dbURL := storeURLs(t, kind)
			const total = 12000
			srv := startNCMEC(t, data, dbURL, total, 30*time.Millisecond)
			db := openTestStore(t, kind, data, dbURL)
			ctx := context.Background()
			b, err := db.FindBankByName(ctx, "ncmec")
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			cmd := exchangeProcess(t, data, dbURL, "ncmec", &out)
			deadline := time.Now().Add(60 * time.Second)
			for {
				n, err := db.CountBankEntries(ctx, b.ID)
				if err != nil {
					t.Fatal(err)
				}
				if n > ncmecFingerprints(total)/4 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("fetch made no progress: %d entries\n%s", n, out.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			mid, _ := db.CountBankEntries(ctx, b.ID)
			if mid >= ncmecFingerprints(total) {
				t.Fatal("the fetch finished before the kill: the test proves nothing")
			}
			x, err := db.FindExchangeByName(ctx, "ncmec")
			if err != nil || !strings.Contains(x.Checkpoint, "next") || !x.Last.FinishedAt.IsZero() {
				t.Fatalf("after the kill: %v %+v", err, x)
			}
			t.Logf("killed with %d entries, checkpoint %s", mid, x.Checkpoint)
			// The dead process's lease keeps others off until it lapses.
			var busy bytes.Buffer
			if err := exchangeProcess(t, data, dbURL, "ncmec", &busy).Wait(); err == nil ||
				!strings.Contains(busy.String(), "another process") {
				t.Fatalf("fetch under a live lease: %v\n%s", err, busy.String())
			}
			time.Sleep(2100 * time.Millisecond)
			pagesBefore := srv.Pages()
			out.Reset()
			if err := exchangeProcess(t, data, dbURL, "ncmec", &out).Wait(); err != nil {
				t.Fatalf("resumed fetch: %v\n%s", err, out.String())
			}
			checkOnce(t, db, ncmecFingerprints(total))
			// Resumed, not restarted: fewer pages than the whole window.
			if resumed := srv.Pages() - pagesBefore; resumed >= total/300 {
				t.Errorf("the resumed fetch read %d pages: it started over", resumed)
			}
			x, _ = db.FindExchangeByName(ctx, "ncmec")
			if x.Last.Added != ncmecFingerprints(total) || x.Last.Error != "" {
				t.Errorf("status after the resumed fetch: %+v", x.Last)
			}
		})
	}
}

// TestExchangeFetchTwoProcesses: two processes fetching the same exchange
// at once: one fetches, the other is turned away, nothing is doubled.
func TestExchangeFetchTwoProcesses(t *testing.T) {
	needVigil(t)
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			data, dbURL := storeURLs(t, kind)
			const total = 3000
			startNCMEC(t, data, dbURL, total, 50*time.Millisecond)
			var wg sync.WaitGroup
			outs := make([]bytes.Buffer, 2)
			errs := make([]error, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = exchangeProcess(t, data, dbURL, "ncmec", &outs[i]).Wait()
				}()
			}
			wg.Wait()
			ok, busy := 0, 0
			for i := range 2 {
				switch {
				case errs[i] == nil && strings.Contains(outs[i].String(), "added"):
					ok++
				case errs[i] != nil && strings.Contains(outs[i].String(), "another process"):
					busy++
				default:
					t.Errorf("process %d: %v\n%s", i, errs[i], outs[i].String())
				}
			}
			if ok != 1 || busy != 1 {
				t.Errorf("%d fetched, %d turned away; want one each", ok, busy)
			}
			checkOnce(t, openTestStore(t, kind, data, dbURL), ncmecFingerprints(total))
		})
	}
}
