package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// The takedown path's writes (vigil.TakedownWorkService): a case opens in
// the transaction that ends a crawl with illegal media, its trace and each
// recheck are recorded once however often their jobs run, and an outbound
// message is claimed before it is sent, so it is never sent twice.

// jobsOf returns the queued jobs of a kind, oldest first.
func jobsOf(t *testing.T, db *store.DB, kind string) []*vigil.Job {
	t.Helper()
	all, err := db.ListJobs(context.Background(), nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*vigil.Job
	for _, j := range slices.Backward(all) {
		if j.Kind == kind {
			out = append(out, j)
		}
	}
	return out
}

// jobArg returns an integer argument of a job.
func jobArg(t *testing.T, j *vigil.Job, name string) int64 {
	t.Helper()
	var args map[string]int64
	if err := json.Unmarshal([]byte(j.Args), &args); err != nil {
		t.Fatalf("job %d args %s: %v", j.ID, j.Args, err)
	}
	return args[name]
}

// knownCase reports url and runs its crawl to the end, finding one item
// per classification, each matched by a bank entry of that
// classification. It returns the reported URL's ID.
func knownCase(t *testing.T, db *store.DB, url string, classes ...string) int64 {
	t.Helper()
	var items []SeedItem
	for i, c := range classes {
		it := seedItem(fmt.Sprintf("%s %d", url, i), fakeHash(vigil.SignalPDQ, fmt.Sprintf("%s %d", url, i)))
		it.Matches = []vigil.Match{{BankID: 1, BankName: "hotline-confirmed", EntryID: int64(100 + i), Signal: vigil.SignalPDQ,
			Value: it.PDQ, Classification: c, Variant: "orig"}}
		items = append(items, it)
	}
	urlID, _ := SeedCase(t, db, url, items)
	return urlID
}

// fixedClock makes db's clock stand still at a whole second (both
// databases keep times to the second or finer) and returns a function
// that moves it on.
func fixedClock(db *store.DB) (now func() time.Time, advance func(time.Duration)) {
	t := time.Now().UTC().Truncate(time.Second)
	db.Now = func() time.Time { return t }
	return db.Now, func(d time.Duration) { t = t.Add(d) }
}

func outbound(key, kind, route string) *vigil.Outbound {
	return &vigil.Outbound{Key: key, Kind: kind, RouteKind: route, Recipient: route + "@example.org",
		MessageID: "<" + key + "@vigil.test>", Raw: []byte("Subject: " + kind + "\r\n\r\ngenerated test message\r\n")}
}

func testTakedownOpen(t *testing.T, db *store.DB) {
	ctx := context.Background()
	// Media the hotline lists as not illegal opens nothing.
	benign := knownCase(t, db, "https://benign.example/p", vigil.ClassNotIllegal)
	if _, err := db.FindTakedownByURL(ctx, benign); !vigil.IsNotFound(err) {
		t.Fatalf("a crawl of not-illegal media opened a case: %v", err)
	}
	if cm, err := db.CaseMedia(ctx, benign); err != nil || len(cm) != 0 {
		t.Fatalf("case media of a benign crawl: %v, %v", cm, err)
	}
	if got := jobsOf(t, db, "trace"); len(got) != 0 {
		t.Fatalf("%d trace jobs for a benign crawl", len(got))
	}

	// Two illegal items: the case takes the first classification in sort
	// order (vigil.CaseClassification) and its severity from it.
	urlID := knownCase(t, db, "https://bad.example/p", "iwf-c", "iwf-a", vigil.ClassNotIllegal)
	td, err := db.FindTakedownByURL(ctx, urlID)
	if err != nil {
		t.Fatal(err)
	}
	if td.State != vigil.TakedownTracing || td.Classification != "iwf-a" || td.Severity != "A" ||
		td.URL != "https://bad.example/p" || td.FirstSeenAt.IsZero() || td.TracedAt != nil || td.Notices != 0 {
		t.Fatalf("opened case: %+v", td)
	}
	if byID, err := db.FindTakedown(ctx, td.ID); err != nil || byID.ReportedURLID != urlID {
		t.Fatalf("FindTakedown: %+v, %v", byID, err)
	}
	traces := jobsOf(t, db, "trace")
	if len(traces) != 1 || jobArg(t, traces[0], "takedown_id") != td.ID {
		t.Fatalf("%d trace jobs, want one for case %d", len(traces), td.ID)
	}
	// CaseMedia lists the illegal items only.
	cm, err := db.CaseMedia(ctx, urlID)
	if err != nil || len(cm) != 2 || cm[0].URL == "" || cm[0].SHA256 == "" || cm[0].FetchID == 0 {
		t.Fatalf("case media %+v, %v", cm, err)
	}
	for _, state := range []vigil.TakedownState{"", vigil.TakedownTracing} {
		if l, err := db.ListTakedowns(ctx, state, 10); err != nil || len(l) != 1 || l[0].ID != td.ID {
			t.Errorf("ListTakedowns(%q) = %d cases, %v", state, len(l), err)
		}
	}
	if l, err := db.ListTakedowns(ctx, vigil.TakedownRemoved, 10); err != nil || len(l) != 0 {
		t.Errorf("ListTakedowns(removed) = %d cases, %v", len(l), err)
	}
	// Every item the two crawls saw matched a bank: known, none pending.
	if c, err := db.MediaCounts(ctx); err != nil || c != (vigil.MediaCounts{Media: 4, Known: 4}) {
		t.Errorf("MediaCounts = %+v, %v", c, err)
	}
	if _, err := db.FindTakedown(ctx, td.ID+1000); !vigil.IsNotFound(err) {
		t.Errorf("FindTakedown(missing) = %v", err)
	}
	if _, err := db.RoutePlan(ctx, td.ID+1000); !vigil.IsNotFound(err) {
		t.Errorf("RoutePlan(missing) = %v", err)
	}
}

// tracedCase opens a case and records its trace: a provider notice and a
// forward to the police, first recheck an hour on.
func tracedCase(t *testing.T, db *store.DB, url string, now func() time.Time) (*vigil.Takedown, *vigil.TraceResult) {
	t.Helper()
	urlID := knownCase(t, db, url, "iwf-b")
	td, err := db.FindTakedownByURL(context.Background(), urlID)
	if err != nil {
		t.Fatal(err)
	}
	deadline := now().Add(24 * time.Hour)
	r := &vigil.TraceResult{Trace: `{"ips":["192.0.2.7"]}`, Country: "US", ASN: 64500, ASOrg: "Example Hosting",
		Provider: "abuse@hosting.example", Routes: []string{"provider", "police"}, Plan: `{"routes":["provider","police"]}`,
		Deadline: &deadline, State: vigil.TakedownNotified, FirstRecheck: now().Add(time.Hour),
		Messages: []*vigil.Outbound{outbound(url+"/notice", "notice", "provider"), outbound(url+"/police", "forward", "police")}}
	if err := db.RecordTrace(context.Background(), td.ID, r); err != nil {
		t.Fatal(err)
	}
	return td, r
}

func testTakedownTrace(t *testing.T, db *store.DB) {
	ctx := context.Background()
	now, _ := fixedClock(db)
	td, r := tracedCase(t, db, "https://traced.example/p", now)
	got, err := db.FindTakedown(ctx, td.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != vigil.TakedownNotified || got.Country != "US" || got.ASN != 64500 || got.ASOrg != "Example Hosting" ||
		got.Provider != "abuse@hosting.example" || !slices.Equal(got.Routes, r.Routes) || got.Trace != r.Trace ||
		got.Deadline == nil || !got.Deadline.Equal(*r.Deadline) || got.TracedAt == nil || !got.TracedAt.Equal(now()) ||
		got.NextCheckAt == nil || !got.NextCheckAt.Equal(r.FirstRecheck) {
		t.Fatalf("traced case: %+v", got)
	}
	if plan, err := db.RoutePlan(ctx, td.ID); err != nil || plan != r.Plan {
		t.Fatalf("RoutePlan = %q, %v", plan, err)
	}
	msgs, err := db.ListOutbound(ctx, td.ID)
	if err != nil || len(msgs) != 2 || msgs[0].State != vigil.OutboundPending || msgs[0].Key != r.Messages[0].Key ||
		msgs[0].ID != r.Messages[0].ID || string(msgs[0].Raw) != string(r.Messages[0].Raw) {
		t.Fatalf("outbound %+v, %v", msgs, err)
	}
	sends, rechecks := jobsOf(t, db, "send"), jobsOf(t, db, "recheck")
	if len(sends) != 2 || len(rechecks) != 1 || jobArg(t, sends[0], "outbound_id") != msgs[0].ID ||
		jobArg(t, rechecks[0], "seq") != 1 {
		t.Fatalf("after the trace: %d send jobs, %d recheck jobs (want 2 and 1, the recheck at %v)", len(sends), len(rechecks), r.FirstRecheck)
	}
	if at := rechecks[0].ScheduledAt; !at.Equal(r.FirstRecheck) {
		t.Errorf("the first recheck is scheduled at %v, want %v", at, r.FirstRecheck)
	}

	// The trace job run again (a crash after its commit) changes nothing.
	again := *r
	again.Country = "NL"
	again.Messages = []*vigil.Outbound{outbound("https://traced.example/p/notice", "notice", "provider"),
		outbound("https://traced.example/p/other", "notice", "provider")}
	if err := db.RecordTrace(ctx, td.ID, &again); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindTakedown(ctx, td.ID); got.Country != "US" {
		t.Errorf("a second trace changed the case: %+v", got)
	}
	if msgs, _ := db.ListOutbound(ctx, td.ID); len(msgs) != 2 {
		t.Errorf("a second trace added messages: %d", len(msgs))
	}
	if len(jobsOf(t, db, "send")) != 2 || len(jobsOf(t, db, "recheck")) != 1 {
		t.Error("a second trace queued jobs")
	}
}

// testOutboundClaims: a message is claimed durably before it is sent; a
// sent provider notice counts on its case, once; a message found claimed
// but unrecorded after a crash is marked uncertain, never sent again.
func testOutboundClaims(t *testing.T, db *store.DB) {
	ctx := context.Background()
	now, advance := fixedClock(db)
	td, r := tracedCase(t, db, "https://claims.example/p", now)
	notice, police := r.Messages[0], r.Messages[1]

	m, err := db.ClaimOutbound(ctx, notice.ID)
	if err != nil || m == nil || m.State != vigil.OutboundSending || m.Attempts != 1 {
		t.Fatalf("claim: %+v, %v", m, err)
	}
	advance(time.Minute)
	if err := db.RecordOutbound(ctx, m, vigil.OutboundSent, "250 2.0.0 queued", ""); err != nil {
		t.Fatal(err)
	}
	sentAt := now()
	check := func(what string, notices int) {
		t.Helper()
		got, err := db.FindTakedown(ctx, td.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Notices != notices || got.FirstNoticeAt == nil || !got.FirstNoticeAt.Equal(sentAt) ||
			got.LastNoticeAt == nil || !got.LastNoticeAt.Equal(sentAt) {
			t.Errorf("%s: notices %d first %v last %v, want %d at %v", what, got.Notices, got.FirstNoticeAt, got.LastNoticeAt, notices, sentAt)
		}
	}
	check("after the notice", 1)
	// Recorded again (a job run twice): the notice still counts once.
	advance(time.Minute)
	if err := db.RecordOutbound(ctx, m, vigil.OutboundSent, "250 again", ""); err != nil {
		t.Fatal(err)
	}
	check("after recording twice", 1)
	if again, err := db.ClaimOutbound(ctx, notice.ID); err != nil || again != nil {
		t.Errorf("a sent message claimed again: %+v, %v", again, err)
	}

	// A forward to the police is sent but is not a provider notice.
	p, err := db.ClaimOutbound(ctx, police.ID)
	if err != nil || p == nil {
		t.Fatalf("claim police: %+v, %v", p, err)
	}
	if err := db.RecordOutbound(ctx, p, vigil.OutboundRetry, "", "421 try later"); err != nil {
		t.Fatal(err)
	}
	// A retry is claimed again, counting the attempt...
	p, err = db.ClaimOutbound(ctx, police.ID)
	if err != nil || p == nil || p.Attempts != 2 {
		t.Fatalf("claim a retry: %+v, %v", p, err)
	}
	// ...and a claim found unrecorded (a crash between sending and
	// recording) turns it uncertain, for a person, never sent again.
	if again, err := db.ClaimOutbound(ctx, police.ID); err != nil || again != nil {
		t.Fatalf("a message left sending was claimed again: %+v, %v", again, err)
	}
	msgs, err := db.ListOutbound(ctx, td.ID)
	if err != nil || len(msgs) != 2 {
		t.Fatal(err)
	}
	if got := msgs[1]; got.State != vigil.OutboundUncertain || !strings.Contains(got.Error, police.MessageID) || got.SentAt != nil {
		t.Errorf("the interrupted message: %+v", got)
	}
	if got := msgs[0]; got.State != vigil.OutboundSent || got.Reply != "250 2.0.0 queued" || got.SentAt == nil {
		t.Errorf("the sent notice: %+v", got)
	}
	if err := db.RecordOutbound(ctx, p, vigil.OutboundSent, "250", ""); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := db.ListOutbound(ctx, td.ID); msgs[1].State != vigil.OutboundUncertain {
		t.Errorf("an uncertain message recorded as %s", msgs[1].State)
	}
	check("after the police forward", 1)
	if _, err := db.ClaimOutbound(ctx, police.ID+1000); !vigil.IsNotFound(err) {
		t.Errorf("ClaimOutbound(missing) = %v", err)
	}
	if all, err := db.ListOutbound(ctx, 0); err != nil || len(all) != 2 {
		t.Errorf("ListOutbound(all) = %d, %v", len(all), err)
	}
}

// testTakedownRecheck: content still up queues what the recheck decided
// and the next recheck; content gone closes the case as removed, with its
// times to removal; each recheck is recorded once, in order, and nothing
// reopens a removed case.
func testTakedownRecheck(t *testing.T, db *store.DB) {
	ctx := context.Background()
	now, advance := fixedClock(db)
	td, r := tracedCase(t, db, "https://recheck.example/p", now)
	n, err := db.ClaimOutbound(ctx, r.Messages[0].ID)
	if err != nil || n == nil {
		t.Fatalf("claim: %v", err)
	}
	if err := db.RecordOutbound(ctx, n, vigil.OutboundSent, "250", ""); err != nil {
		t.Fatal(err)
	}
	noticeAt := now()
	rechecks := func() int {
		t.Helper()
		var c int
		if err := db.Driver().Reader().QueryRow(ctx, `SELECT count(*) FROM rechecks WHERE takedown_id = $1`, td.ID).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	advance(time.Hour)
	up := &vigil.Recheck{Seq: 1, Up: true, Detail: "200 image/jpeg", Escalate: true, NextCheck: now().Add(2 * time.Hour),
		Messages: []*vigil.Outbound{outbound("https://recheck.example/p/renotice-1", "renotice", "provider")}}
	if err := db.RecordRecheck(ctx, td.ID, up); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindTakedown(ctx, td.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != vigil.TakedownNotified || !got.Escalated || got.NextCheckAt == nil || !got.NextCheckAt.Equal(up.NextCheck) {
		t.Fatalf("after a recheck found it up: %+v", got)
	}
	if msgs, _ := db.ListOutbound(ctx, td.ID); len(msgs) != 3 || msgs[2].Kind != "renotice" || msgs[2].State != vigil.OutboundPending {
		t.Fatalf("after a recheck found it up: messages %+v", msgs)
	}
	jobs := jobsOf(t, db, "recheck")
	if len(jobs) != 2 || jobArg(t, jobs[1], "seq") != 2 || jobArg(t, jobs[1], "takedown_id") != td.ID {
		t.Fatalf("%d recheck jobs, want the second for seq 2", len(jobs))
	}
	if at := jobs[1].ScheduledAt; !at.Equal(up.NextCheck) {
		t.Errorf("the next recheck is scheduled at %v, want %v", at, up.NextCheck)
	}
	sends := len(jobsOf(t, db, "send"))

	// The same recheck again (its job run twice), and one out of order,
	// change nothing.
	dup := *up
	dup.Messages = []*vigil.Outbound{outbound("https://recheck.example/p/renotice-dup", "renotice", "provider")}
	if err := db.RecordRecheck(ctx, td.ID, &dup); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordRecheck(ctx, td.ID, &vigil.Recheck{Seq: 3, Up: false, Detail: "404"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindTakedown(ctx, td.ID); got.State != vigil.TakedownNotified || rechecks() != 1 {
		t.Fatalf("a repeated or early recheck was recorded: %+v, %d rechecks", got, rechecks())
	}
	if msgs, _ := db.ListOutbound(ctx, td.ID); len(msgs) != 3 || len(jobsOf(t, db, "send")) != sends || len(jobsOf(t, db, "recheck")) != 2 {
		t.Fatalf("a repeated recheck queued work: %d messages", len(msgs))
	}

	// Gone: the case is removed.
	advance(30 * time.Minute)
	if err := db.RecordRecheck(ctx, td.ID, &vigil.Recheck{Seq: 2, Up: false, Detail: "404 not found"}); err != nil {
		t.Fatal(err)
	}
	got, err = db.FindTakedown(ctx, td.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != vigil.TakedownRemoved || got.RemovedAt == nil || !got.RemovedAt.Equal(now()) || got.NextCheckAt != nil {
		t.Fatalf("removed case: %+v", got)
	}
	// Nothing reopens it.
	late := &vigil.Recheck{Seq: 3, Up: true, NextCheck: now().Add(time.Hour),
		Messages: []*vigil.Outbound{outbound("https://recheck.example/p/renotice-late", "renotice", "provider")}}
	if err := db.RecordRecheck(ctx, td.ID, late); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindTakedown(ctx, td.ID); got.State != vigil.TakedownRemoved || rechecks() != 2 {
		t.Fatalf("a recheck after removal: %+v, %d rechecks", got, rechecks())
	}
	if l, err := db.ListTakedowns(ctx, vigil.TakedownRemoved, 10); err != nil || len(l) != 1 {
		t.Errorf("ListTakedowns(removed) = %d, %v", len(l), err)
	}
	stats, err := db.TakedownStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.URLsRemoved != 1 || stats.NoticesSent != 1 || len(stats.TimesToRemoval) != 1 {
		t.Fatalf("stats %+v", stats)
	}
	ttr := stats.TimesToRemoval[0]
	if ttr.FromFirstNotice != now().Sub(noticeAt) || ttr.FromFirstSeen <= 0 || ttr.Country != "US" ||
		ttr.Provider != "abuse@hosting.example" || !slices.Equal(ttr.Routes, r.Routes) {
		t.Errorf("time to removal %+v, want %v from the notice", ttr, now().Sub(noticeAt))
	}
}
