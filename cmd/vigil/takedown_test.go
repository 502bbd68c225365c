//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/mailcatcher"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/simworld"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// TestNoticeSentOnceAcrossSIGKILL kills the worker between sending a
// message and recording that it was sent — the mail server holds its
// final answer — and starts it again: no message reaches the server twice,
// and the interrupted one is marked for a person to check.
func TestNoticeSentOnceAcrossSIGKILL(t *testing.T) {
	needVigil(t)
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			// The stores side by side: most of the time is spent waiting
			// on River's rescuer and leader election, not working.
			t.Parallel()
			data, dbURL := storeURLs(t, kind)
			ctx := context.Background()
			sim, err := simnet.Start(simnet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			world, err := simworld.Start(filepath.Join(t.TempDir(), "world"), sim, simworld.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = world.Close() }()
			hold := make(chan struct{})
			arrived := make(chan struct{}, 16)
			world.Mail.Hold = hold
			world.Mail.OnMessage = func(mailcatcher.Message) { arrived <- struct{}{} }

			db := openTestStore(t, kind, data, dbURL)
			if err := loadDemoBank(ctx, db, sim); err != nil {
				t.Fatal(err)
			}
			rep, _ := vigil.NewReport(vigil.ReportInput{URLs: []string{sim.URL(simnet.Mirror, "/")}}, vigil.SourceAPI, time.Now())
			if err := db.CreateReport(ctx, rep); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			traceCfg, _ := json.Marshal(world.Trace)
			must(t, os.WriteFile(filepath.Join(dir, "trace.json"), traceCfg, 0o600))
			must(t, os.WriteFile(filepath.Join(dir, "routing.json"), simworld.RulesJSON(simworld.Options{RenoticeInterval: time.Hour}), 0o600))
			args := []string{"--trace-config", filepath.Join(dir, "trace.json"), "--routing-config", filepath.Join(dir, "routing.json"),
				"--trace-resolve", simnet.Mirror + "=198.51.100.50", "--smtp-addr", world.Mail.Addr, "--smtp-tls", "opportunistic",
				"--recheck-first", "1h"}

			w := startWork(t, sim, data, dbURL, args...)
			select {
			case <-arrived:
			case <-time.After(60 * time.Second):
				t.Fatal("no message reached the mail server within 60 s")
			}
			time.Sleep(100 * time.Millisecond) // let any other send reach the server too
			_ = w.Process.Signal(syscall.SIGKILL)
			_ = w.Wait()
			close(hold)
			inFlight := len(world.Mail.Messages())

			time.Sleep(3 * time.Second) // past --rescue-after, so the rescuer takes the jobs up at once
			w = startWork(t, sim, data, dbURL, args...)
			td, err := waitTakedown(t, db, rep.URLs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []*vigil.Outbound
			deadline := time.Now().Add(60 * time.Second)
			for {
				if msgs, err = db.ListOutbound(ctx, td.ID); err != nil {
					t.Fatal(err)
				}
				final := len(msgs) > 0
				for _, m := range msgs {
					if m.State != vigil.OutboundSent && m.State != vigil.OutboundUncertain {
						final = false
					}
				}
				if final {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("messages not settled: %+v", msgs)
				}
				alive(t, w)
				time.Sleep(100 * time.Millisecond)
			}
			seen := map[string]int{}
			// Every message names the case by its one reference: the
			// case's number, which the staff pages show, not the takedown's.
			ref := vigil.CaseReference(vigil.DefaultCaseRefPrefix, rep.URLs[0].ID, td.FirstSeenAt)
			for _, m := range world.Mail.Messages() {
				seen[m.Header("Message-Id")]++
				if !strings.Contains(m.Header("Subject")+string(m.Data), ref) {
					t.Errorf("message %s does not name case %s", m.Header("Subject"), ref)
				}
			}
			uncertain := 0
			for _, m := range msgs {
				if n := seen[m.MessageID]; n != 1 {
					t.Errorf("%s %s (%s) reached the server %d times", m.Kind, m.MessageID, m.State, n)
				}
				if m.State == vigil.OutboundUncertain {
					uncertain++
				}
			}
			if uncertain == 0 || uncertain > inFlight {
				t.Errorf("%d messages uncertain, %d were in flight at the kill", uncertain, inFlight)
			}
		})
	}
}

func waitTakedown(t *testing.T, db interface {
	FindTakedownByURL(context.Context, int64) (*vigil.Takedown, error)
}, urlID int64) (*vigil.Takedown, error) {
	var td *vigil.Takedown
	var err error
	testrig.Poll(30*time.Second, func() bool {
		td, err = db.FindTakedownByURL(context.Background(), urlID)
		return err == nil
	})
	return td, err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
