package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// SeedItem is a media item for SeedCase. Its values are synthetic (or the
// hashes of a generated benign picture).
type SeedItem struct {
	SHA256, MD5, PDQ string
	Quality          int
	BlobKey          string
	Class, MIME      string
	Page             string // the page it is found on; "" for the reported URL itself
	// Matches are the bank entries the matcher found for it (none: it
	// goes to the queue).
	Matches []vigil.Match
	// Video and Duration are a video's vPDQ frames and length.
	Video    []vigil.VideoFrame
	Duration float64
}

// SeedCase reports url and runs its crawl through the store as the
// pipeline would, finding items, none of which matches a bank: they end
// up in the queue. It returns the reported URL's ID and the media IDs.
func SeedCase(t *testing.T, db *store.DB, url string, items []SeedItem) (int64, []int64) {
	t.Helper()
	ctx := context.Background()
	urlID, task := startCrawl(t, db, url)
	var children []vigil.CrawlChild
	for i := range items {
		children = append(children, vigil.CrawlChild{Kind: vigil.TaskMedia, Target: fmt.Sprintf("%s/img/%d.jpg", url, i)})
	}
	now := time.Now().UTC()
	if err := db.FinishPage(ctx, task, &vigil.Fetch{RequestedURL: task.Target, FinalURL: task.Target, Status: 200,
		StartedAt: now, Class: "html", Connected: "192.0.2.7:443", Evidence: `{"resolved_ips":["192.0.2.7"]}`},
		children, vigil.DefaultCrawlBudget); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, it := range items {
		target := children[i].Target
		mt := findTask(t, db, urlID, vigil.TaskMedia, target)
		m := &vigil.Media{SHA256: it.SHA256, MD5: it.MD5, SHA1: it.SHA256[:40], Size: 100, Class: cmpOr(it.Class, "image"),
			MIME: cmpOr(it.MIME, "image/jpeg"), BlobKey: cmpOr(it.BlobKey, "blob-"+it.SHA256)}
		if err := db.FinishMedia(ctx, mt, &vigil.Fetch{RequestedURL: target, FinalURL: target, Status: 200, StartedAt: now,
			Class: m.Class, Evidence: "{}"}, m); err != nil {
			t.Fatal(err)
		}
		ht := findTask(t, db, urlID, vigil.TaskHash, fmt.Sprintf("media:%d", m.ID))
		h := &vigil.MediaHashes{PDQ: it.PDQ, Quality: it.Quality, Width: 64, Height: 48, Format: "jpeg"}
		if it.Class == "video" {
			h = &vigil.MediaHashes{Format: "video", Video: it.Video, Duration: it.Duration}
		}
		if err := db.FinishHash(ctx, ht, h); err != nil {
			t.Fatal(err)
		}
		xt := findTask(t, db, urlID, vigil.TaskMatch, fmt.Sprintf("media:%d", m.ID))
		cur, err := db.FindMedia(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.FinishMatch(ctx, xt, it.Matches, cur.MatchedAt == nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	return urlID, ids
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func findTask(t *testing.T, db *store.DB, urlID int64, kind vigil.TaskKind, target string) *vigil.CrawlTask {
	t.Helper()
	var id int64
	if err := db.Driver().Reader().QueryRow(context.Background(), `SELECT id FROM crawl_tasks
		WHERE reported_url_id = $1 AND kind = $2 AND target = $3`, urlID, string(kind), target).Scan(&id); err != nil {
		t.Fatalf("task %s %s: %v", kind, target, err)
	}
	task, err := db.FindTask(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// NewStaff adds a staff account with an unusable password hash.
func NewStaff(t *testing.T, db *store.DB, name string, role vigil.Role) *vigil.User {
	t.Helper()
	u := &vigil.User{Name: name, Role: role, PasswordHash: "$argon2id$unusable"}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func seedItem(seed string, pdq string) SeedItem {
	return SeedItem{SHA256: fakeHash(vigil.SignalSHA256, seed), MD5: fakeHash(vigil.SignalMD5, seed), PDQ: pdq, Quality: 100}
}

func mediaIDs(items []*vigil.QueueItem) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.Media.ID)
	}
	return out
}

func testWorkbenchQueue(t *testing.T, db *store.DB) {
	ctx := context.Background()
	ann := NewStaff(t, db, "ann", vigil.RoleAnalyst)
	bob := NewStaff(t, db, "bob", vigil.RoleAnalyst)
	shared := seedItem("shared", "")
	_, a := SeedCase(t, db, "https://a.example/gallery", []SeedItem{seedItem("a1", ""), shared, seedItem("a2", "")})
	_, b := SeedCase(t, db, "https://b.example/forum", []SeedItem{seedItem("b1", ""), shared})
	if a[1] != b[1] {
		t.Fatalf("the same file is two media items: %d %d", a[1], b[1])
	}
	// New material first (a1, a2, b1: seen in one case), oldest report
	// first, then the item seen in two cases.
	want := []int64{a[0], a[2], b[0], a[1]}
	got, err := db.ClaimQueue(ctx, ann.ID, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mediaIDs(got), want) {
		t.Fatalf("queue order %v, want %v", mediaIDs(got), want)
	}
	if got[0].CaseURL != "https://a.example/gallery" || got[0].Sightings != 1 || got[3].Sightings != 2 || got[0].ClaimedBy != ann.ID {
		t.Errorf("item: %+v", got[0])
	}
	if err := db.ReleaseClaims(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	first, _ := db.ClaimQueue(ctx, ann.ID, 2, time.Minute)
	second, _ := db.ClaimQueue(ctx, bob.ID, 3, time.Minute)
	if !slices.Equal(mediaIDs(first), want[:2]) || !slices.Equal(mediaIDs(second), want[2:]) {
		t.Fatalf("claims %v and %v", mediaIDs(first), mediaIDs(second))
	}
	// Asking again renews the same claims.
	again, _ := db.ClaimQueue(ctx, ann.ID, 2, time.Minute)
	if !slices.Equal(mediaIDs(again), want[:2]) {
		t.Errorf("renewed claims %v", mediaIDs(again))
	}
	// Claims expire: an hour later Bob may take Ann's items.
	real := db.Now
	db.Now = func() time.Time { return real().Add(time.Hour) }
	defer func() { db.Now = real }()
	later, _ := db.ClaimQueue(ctx, bob.ID, 4, time.Minute)
	if len(later) != 4 {
		t.Errorf("after expiry Bob holds %v", mediaIDs(later))
	}
	st, err := db.QueueStats(ctx)
	if err != nil || st.Queued != 4 || st.Claimed != 4 {
		t.Errorf("stats %+v %v", st, err)
	}
}

func testWorkbenchClaimConcurrent(t *testing.T, db *store.DB) {
	ctx := context.Background()
	var items []SeedItem
	for i := range 30 {
		items = append(items, seedItem(fmt.Sprintf("c%d", i), ""))
	}
	SeedCase(t, db, "https://c.example/", items)
	const analysts = 8
	users := make([]*vigil.User, analysts)
	for i := range users {
		users[i] = NewStaff(t, db, fmt.Sprintf("analyst%d", i), vigil.RoleAnalyst)
	}
	for round := range 3 {
		if round > 0 {
			for _, u := range users {
				if err := db.ReleaseClaims(ctx, u.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		var wg sync.WaitGroup
		got := make([][]int64, analysts)
		errs := make([]error, analysts)
		start := make(chan struct{})
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				its, err := db.ClaimQueue(ctx, u.ID, 3, time.Minute)
				got[i], errs[i] = mediaIDs(its), err
			}()
		}
		close(start)
		wg.Wait()
		seen := map[int64]int{}
		for i := range users {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if len(got[i]) != 3 {
				t.Errorf("round %d: analyst %d got %v", round, i, got[i])
			}
			for _, id := range got[i] {
				if prev, ok := seen[id]; ok {
					t.Fatalf("round %d: item %d given to analysts %d and %d", round, id, prev, i)
				}
				seen[id] = i
			}
		}
	}
}

// pdqNear returns a PDQ hash k bits away from the all-zero one.
func pdqNear(k int) string {
	b := make([]byte, 32)
	for i := range k {
		b[i/8] |= 1 << (i % 8)
	}
	return fmt.Sprintf("%x", b)
}

func testWorkbenchAssess(t *testing.T, db *store.DB) {
	ctx := context.Background()
	ann := NewStaff(t, db, "ann", vigil.RoleAnalyst)
	bob := NewStaff(t, db, "bob", vigil.RoleAnalyst)
	sue := NewStaff(t, db, "sue", vigil.RoleSupervisor)
	_, ids := SeedCase(t, db, "https://d.example/", []SeedItem{
		seedItem("d0", pdqNear(0)), seedItem("d1", pdqNear(5)), seedItem("d2", pdqNear(200)), seedItem("d3", ""), seedItem("d4", "")})
	if _, err := db.ClaimQueue(ctx, bob.ID, 1, time.Minute); err != nil { // Bob holds d0
		t.Fatal(err)
	}
	a := &vigil.Assessment{MediaID: ids[0], AnalystID: ann.ID, Verdict: vigil.VerdictBaseline, AgeGroup: vigil.AgePrepubescent, Severity: "A"}
	if err := db.Assess(ctx, a); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Fatalf("assessing an item another analyst holds: %v", err)
	}
	if err := db.ReleaseClaims(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	near, err := db.NearDuplicates(ctx, ids[0], ann.ID, vigil.DefaultPDQThreshold, 10)
	if err != nil || len(near) != 1 || near[0].Media.ID != ids[1] || near[0].Distance != 5 {
		t.Fatalf("near duplicates: %v %v", near, err)
	}
	if err := db.Assess(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.State != vigil.AssessmentPending {
		t.Fatalf("assessment %+v", a)
	}
	if err := db.Assess(ctx, a); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("assessing an item out of the queue: %v", err)
	}
	// A second opinion leaves the item for someone else.
	op := &vigil.Assessment{MediaID: ids[3], AnalystID: ann.ID, Verdict: vigil.VerdictSecondOpinion}
	if err := db.Assess(ctx, op); err != nil || op.State != vigil.AssessmentOpinion {
		t.Fatal(err, op.State)
	}
	annQ, _ := db.ClaimQueue(ctx, ann.ID, 10, time.Minute)
	if slices.Contains(mediaIDs(annQ), ids[3]) || slices.Contains(mediaIDs(annQ), ids[0]) {
		t.Errorf("Ann's queue %v holds an item she assessed", mediaIDs(annQ))
	}
	if err := db.ReleaseClaims(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	// Four eyes: not the assessor herself.
	if _, err := db.ConfirmAssessment(ctx, a.ID, ann.ID, true, ""); vigil.ErrorCode(err) != vigil.EFORBIDDEN {
		t.Fatalf("self-confirmation: %v", err)
	}
	pending, err := db.PendingAssessments(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].Analyst != "ann" {
		t.Fatalf("pending %v %v", pending, err)
	}
	got, err := db.ConfirmAssessment(ctx, a.ID, sue.ID, true, "agreed")
	if err != nil || got.State != vigil.AssessmentConfirmed || got.Confirmer != "sue" {
		t.Fatalf("confirm: %+v %v", got, err)
	}
	if _, err := db.ConfirmAssessment(ctx, a.ID, bob.ID, true, ""); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("confirming twice: %v", err)
	}
	// Learnt: the hotline bank holds its SHA-256, MD5 and PDQ as iwf-a.
	bank, err := db.FindBankByName(ctx, vigil.HotlineBank)
	if err != nil || bank.Kind != vigil.BankBlock || bank.Source != vigil.SourceHotline || !bank.Enabled {
		t.Fatalf("hotline bank %+v %v", bank, err)
	}
	entries, _ := db.BankEntries(ctx, bank.ID, 0, 10)
	if len(entries) != 3 || entries[0].Classification != "iwf-a" {
		t.Fatalf("bank entries %+v", entries)
	}
	m, _ := db.FindMedia(ctx, ids[0])
	if m.Status != vigil.MediaKnown || m.Classification != "iwf-a" || m.QueuedAt != nil {
		t.Errorf("learnt media %+v", m)
	}
	if mm, _ := db.MediaMatches(ctx, ids[0]); len(mm) != 3 || mm[0].BankName != vigil.HotlineBank {
		t.Errorf("matches %+v", mm)
	}
	// Not illegal: the not-illegal list; a rejection: back to the queue.
	ni := &vigil.Assessment{MediaID: ids[2], AnalystID: bob.ID, Verdict: vigil.VerdictNotIllegal}
	rej := &vigil.Assessment{MediaID: ids[4], AnalystID: bob.ID, Verdict: vigil.VerdictNational}
	for _, x := range []*vigil.Assessment{ni, rej} {
		if err := db.Assess(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ConfirmAssessment(ctx, ni.ID, ann.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if nb, err := db.FindBankByName(ctx, vigil.NotIllegalBank); err != nil || nb.PDQThreshold != vigil.NotIllegalPDQThreshold {
		t.Errorf("not-illegal bank %+v %v", nb, err)
	}
	if m, _ := db.FindMedia(ctx, ids[2]); m.Classification != vigil.ClassNotIllegal || m.Status != vigil.MediaKnown {
		t.Errorf("not-illegal media %+v", m)
	}
	if _, err := db.ConfirmAssessment(ctx, rej.ID, sue.ID, false, "look again"); err != nil {
		t.Fatal(err)
	}
	if m, _ := db.FindMedia(ctx, ids[4]); m.QueuedAt == nil || m.Status != vigil.MediaUnknown {
		t.Errorf("rejected media not queued again: %+v", m)
	}
	hist, err := db.ListAssessments(ctx, ids[4])
	if err != nil || len(hist) != 1 || hist[0].State != vigil.AssessmentRejected || hist[0].ConfirmNote != "look again" {
		t.Errorf("history %+v %v", hist, err)
	}
}

func testWorkbenchWellbeing(t *testing.T, db *store.DB) {
	ctx := context.Background()
	ann := NewStaff(t, db, "ann", vigil.RoleAnalyst)
	day := "2025-03-04"
	t0 := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	e, err := db.AddExposure(ctx, ann.ID, day, t0, 10*time.Second)
	if err != nil || e.Visible != 10*time.Second {
		t.Fatalf("first beat %+v %v", e, err)
	}
	// Two seconds later, a claim of ten counts two.
	if e, _ = db.AddExposure(ctx, ann.ID, day, t0.Add(2*time.Second), 10*time.Second); e.Visible != 12*time.Second {
		t.Errorf("capped beat: %v", e.Visible)
	}
	if e, _ = db.AddExposure(ctx, ann.ID, day, t0.Add(time.Minute), 5*time.Second); e.Visible != 17*time.Second {
		t.Errorf("beat: %v", e.Visible)
	}
	if !e.Over(15*time.Second) || e.Over(20*time.Second) {
		t.Errorf("over: %+v", e)
	}
	// A reveal charged by the server counts whatever the page says, and
	// heartbeats within what it charged credit nothing more.
	t1 := t0.Add(2 * time.Minute)
	for i := range 3 {
		if e, err = db.ChargeExposure(ctx, ann.ID, day, t1, 10*time.Second); err != nil || e.Visible != time.Duration(27+10*i)*time.Second {
			t.Fatalf("charge %d: %v %v", i, e.Visible, err)
		}
	}
	if e, _ = db.AddExposure(ctx, ann.ID, day, t1.Add(20*time.Second), 10*time.Second); e.Visible != 47*time.Second {
		t.Errorf("beat within the charged time: %v, want 47s", e.Visible)
	}
	if e, _ = db.AddExposure(ctx, ann.ID, day, t1.Add(35*time.Second), 10*time.Second); e.Visible != 52*time.Second {
		t.Errorf("beat beyond the charged time: %v, want 52s", e.Visible)
	}
	if e, err = db.ExtendExposure(ctx, ann.ID, day, 30*time.Minute); err != nil || e.Extra != 30*time.Minute || e.Over(50*time.Second) {
		t.Errorf("extend %+v %v", e, err)
	}
	if list, err := db.ListExposure(ctx, day); err != nil || len(list) != 1 || list[0].UserID != ann.ID {
		t.Errorf("list %+v %v", list, err)
	}
	if other, _ := db.FindExposure(ctx, ann.ID, "2025-03-05"); other.Visible != 0 {
		t.Errorf("next day starts at %v", other.Visible)
	}
	p, err := db.FindPrefs(ctx, ann.ID)
	if err != nil || p != vigil.DefaultWorkbenchPrefs {
		t.Errorf("default prefs %+v %v", p, err)
	}
	if err := db.SetPrefs(ctx, ann.ID, vigil.WorkbenchPrefs{Blur: 5, GreyReveal: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPrefs(ctx, ann.ID, vigil.WorkbenchPrefs{Blur: 9}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("blur 9: %v", err)
	}
	if p, _ = db.FindPrefs(ctx, ann.ID); p.Blur != 5 || !p.GreyReveal {
		t.Errorf("prefs %+v", p)
	}
}
