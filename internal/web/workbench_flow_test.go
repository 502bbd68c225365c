package web_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/web"
)

// newVault is testrig.Vault under the name the workbench tests use.
func newVault(t *testing.T) *blob.Vault { return testrig.Vault(t) }

// withWorkbench configures the workbench on db and vault.
func withWorkbench(db *store.DB, vault *blob.Vault, mod ...func(*web.WorkbenchConfig)) func(*web.Config) {
	return func(c *web.Config) {
		c.Workbench = web.WorkbenchConfig{Store: db, Media: db, Blobs: vault}
		for _, m := range mod {
			m(&c.Workbench)
		}
	}
}

var benignImages = simnet.NewImages(256, 192)

// benignItem generates a benign picture (simnet's gradients and shapes),
// stores it in the vault and describes it for storetest.SeedCase.
func benignItem(t *testing.T, vault *blob.Vault, seed uint64, v simnet.Variant) (storetest.SeedItem, []byte) {
	t.Helper()
	b, err := benignImages.Bytes(seed, v)
	if err != nil {
		t.Fatal(err)
	}
	res, err := hashing.HashBytes(b, hashing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, m := sha256.Sum256(b), md5.Sum(b)
	it := storetest.SeedItem{SHA256: hex.EncodeToString(sum[:]), MD5: hex.EncodeToString(m[:]), PDQ: res.PDQ.String(),
		Quality: res.Quality, MIME: "image/jpeg"}
	if v.Format == "png" {
		it.MIME = "image/png"
	}
	it.BlobKey = vault.Name(it.SHA256)
	if err := vault.Put(context.Background(), it.BlobKey, b); err != nil {
		t.Fatal(err)
	}
	return it, b
}

var itemRE = regexp.MustCompile(`id="item-(\d+)"`)

// queueIDs lists the items a queue page shows.
func queueIDs(body string) []string {
	var out []string
	for _, m := range itemRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func (e *env) postJSON(c *http.Client, path string, form url.Values) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, body := e.do(c, req)
	var out map[string]any
	_ = json.Unmarshal([]byte(body), &out)
	return resp.StatusCode, out
}

func (e *env) auditHas(action, object string) bool {
	e.t.Helper()
	es, err := e.db.ListAudit(context.Background(), vigil.AuditFilter{Action: action, Object: object, Limit: 10})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(es) > 0
}

func TestWorkbenchFlow(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	vault := testrig.Vault(t)
	e := newEnv(t, db, withWorkbench(db, vault))
	a, orig := benignItem(t, vault, 101, simnet.Variant{})
	near, _ := benignItem(t, vault, 101, simnet.Variant{Format: "png"})
	other, _ := benignItem(t, vault, 102, simnet.Variant{})
	caseID, ids := storetest.SeedCase(t, db, "https://flow.example/album", []storetest.SeedItem{a, near, other})
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	e.addUser("sue", vigil.RoleSupervisor, "sue-password-1")
	e.addUser("ada", vigil.RoleAuditor, "ada-password-1")
	ann := e.login("ann", "ann-password-1")

	resp, body := e.get(ann, "/staff/queue")
	if resp.StatusCode != http.StatusOK || !slices.Equal(queueIDs(body), []string{fmt.Sprint(ids[0]), fmt.Sprint(ids[1]), fmt.Sprint(ids[2])}) {
		t.Fatalf("queue: %d %v", resp.StatusCode, queueIDs(body))
	}
	if !strings.Contains(body, `data-key="1"`) || !strings.Contains(body, "/static/workbench.js") || strings.Contains(body, "<script>") {
		t.Error("queue page lacks its shortcuts or script, or has an inline script")
	}
	// The preview is a blurred greyscale rendition, never the original.
	resp, body = e.get(ann, fmt.Sprintf("/staff/media/%d/preview", ids[0]))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("preview: %d %v", resp.StatusCode, resp.Header)
	}
	img, _, err := image.Decode(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if _, grey := img.(*image.Gray); !grey || img.Bounds().Dx() > 320 {
		t.Errorf("preview is %T %v", img, img.Bounds())
	}
	if !e.auditHas("media.view", fmt.Sprintf("media:%d", ids[0])) {
		t.Error("the view is not on the audit log")
	}
	// Revealing: on the record, then the original bytes, not stored.
	resp, body = e.get(ann, fmt.Sprintf("/staff/media/%d/original", ids[0]))
	if resp.StatusCode != http.StatusOK || !bytes.Equal([]byte(body), orig) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal: %d, %d bytes", resp.StatusCode, len(body))
	}
	if !e.auditHas("media.reveal", fmt.Sprintf("media:%d", ids[0])) {
		t.Error("the reveal is not on the audit log")
	}
	tok := e.formToken(ann, "/staff/queue")
	if st, _ := e.postJSON(ann, fmt.Sprintf("/staff/media/%d/assess", ids[0]), url.Values{"csrf": {tok}, "verdict": {"bogus"}}); st != http.StatusBadRequest {
		t.Errorf("bogus verdict: %d", st)
	}
	st, res := e.postJSON(ann, fmt.Sprintf("/staff/media/%d/assess", ids[0]), url.Values{"csrf": {tok}, "verdict": {"baseline"},
		"age": {"prepubescent"}, "severity": {"A"}, "victim_id": {"1"}, "note": {"test note"}})
	if st != http.StatusOK || res["state"] != "pending" {
		t.Fatalf("assess: %d %v", st, res)
	}
	nearList, _ := res["near"].([]any)
	if len(nearList) != 1 || nearList[0].(map[string]any)["id"] != float64(ids[1]) {
		t.Fatalf("near duplicates offered: %v", res["near"])
	}
	st, res = e.postJSON(ann, fmt.Sprintf("/staff/media/%d/apply", ids[0]), url.Values{"csrf": {tok},
		"from": {fmt.Sprint(res["assessment"])}, "ids": {fmt.Sprint(ids[1])}})
	if applied, _ := res["applied"].([]any); st != http.StatusOK || len(applied) != 1 {
		t.Fatalf("apply: %d %v", st, res)
	}
	// Without JavaScript the form posts and the page comes back.
	resp, _ = e.postForm(ann, fmt.Sprintf("/staff/media/%d/assess", ids[2]), url.Values{"csrf": {tok}, "verdict": {"not-illegal"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/staff/queue?decided=") {
		t.Fatalf("plain form: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := e.get(ann, resp.Header.Get("Location")); resp.StatusCode != http.StatusOK {
		t.Errorf("queue after a decision: %d", resp.StatusCode)
	}
	// Four eyes: Ann may not confirm; Sue confirms.
	if resp, _ := e.get(ann, "/staff/confirm"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("analyst confirming: %d", resp.StatusCode)
	}
	sue := e.login("sue", "sue-password-1")
	_, body = e.get(sue, "/staff/confirm")
	pending := regexp.MustCompile(`/staff/assessments/(\d+)/confirm`).FindAllStringSubmatch(body, -1)
	if len(pending) != 3 {
		t.Fatalf("%d assessments to confirm", len(pending))
	}
	stok := e.formToken(sue, "/staff/confirm")
	for _, p := range pending {
		resp, _ := e.postForm(sue, "/staff/assessments/"+p[1]+"/confirm", url.Values{"csrf": {stok}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm %s: %d", p[1], resp.StatusCode)
		}
	}
	hot, err := db.FindBankByName(context.Background(), vigil.HotlineBank)
	if err != nil {
		t.Fatal(err)
	}
	// Two items by SHA-256 and MD5; the PNG copy may share the PDQ hash.
	entries, _ := db.BankEntries(context.Background(), hot.ID, 0, 100)
	bySignal := map[vigil.SignalType]int{}
	for _, en := range entries {
		bySignal[en.Signal]++
		if en.Classification != "iwf-a" {
			t.Errorf("entry %+v", en)
		}
	}
	if bySignal[vigil.SignalSHA256] != 2 || bySignal[vigil.SignalMD5] != 2 || bySignal[vigil.SignalPDQ] < 1 {
		t.Errorf("hotline bank holds %v", bySignal)
	}
	// The case view shows the verdicts and the history.
	resp, body = e.get(sue, fmt.Sprintf("/staff/cases/%d", caseID))
	for _, want := range []string{"https://flow.example/album", "known from bank <strong>hotline</strong>", "confirmed by sue",
		"assessed <strong>Baseline CSAM</strong>", "hotline-not-illegal", "media.reveal", "media.assess", "assessment.confirm", "192.0.2.7"} {
		if !strings.Contains(body, want) {
			t.Errorf("case view lacks %q", want)
		}
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("case view: %d", resp.StatusCode)
	}
	ada := e.login("ada", "ada-password-1")
	for _, p := range []string{"/staff/queue", fmt.Sprintf("/staff/media/%d/original", ids[0]), fmt.Sprintf("/staff/cases/%d", caseID)} {
		if resp, _ := e.get(ada, p); resp.StatusCode != http.StatusForbidden {
			t.Errorf("auditor on %s: %d", p, resp.StatusCode)
		}
	}
}

// TestWorkbenchQueueConcurrent: two analysts who open the queue at the
// same moment never get the same item, on both stores.
func TestWorkbenchQueueConcurrent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		vault := testrig.Vault(t)
		e := newEnv(t, db, withWorkbench(db, vault, func(c *web.WorkbenchConfig) { c.PageSize = 4 }))
		var items []storetest.SeedItem
		for i := range 10 {
			it, _ := benignItem(t, vault, uint64(200+i), simnet.Variant{})
			items = append(items, it)
		}
		storetest.SeedCase(t, db, "https://busy.example/", items)
		names := []string{"ann", "ben", "cas"}
		clients := make([]*http.Client, len(names))
		for i, n := range names {
			e.addUser(n, vigil.RoleAnalyst, n+"-password-1")
			clients[i] = e.login(n, n+"-password-1")
		}
		for round := range 3 {
			got := make([][]string, len(names))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/staff/queue", nil)
					resp, err := c.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					var b bytes.Buffer
					_, _ = b.ReadFrom(resp.Body)
					resp.Body.Close()
					got[i] = queueIDs(b.String())
				}()
			}
			close(start)
			wg.Wait()
			seen := map[string]string{}
			for i, ids := range got {
				if round == 0 && len(ids) == 0 {
					t.Errorf("%s got nothing", names[i])
				}
				for _, id := range ids {
					if prev, ok := seen[id]; ok {
						t.Fatalf("round %d: item %s shown to %s and %s", round, id, prev, names[i])
					}
					seen[id] = names[i]
				}
			}
		}
	})
}

// TestWorkbenchExposureBudget: the heartbeat counts visible time, and at
// the budget the analyst is stopped until a supervisor extends it.
func TestWorkbenchExposureBudget(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	vault := testrig.Vault(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := newEnv(t, db, withWorkbench(db, vault, func(c *web.WorkbenchConfig) {
		c.Budget, c.BreakEvery, c.Heartbeat = time.Minute, 30*time.Second, 5*time.Second
	}), func(c *web.Config) { c.Now = clock })
	it, _ := benignItem(t, vault, 300, simnet.Variant{})
	_, ids := storetest.SeedCase(t, db, "https://budget.example/", []storetest.SeedItem{it})
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	e.addUser("sue", vigil.RoleSupervisor, "sue-password-1")
	// Both sign in first: the server's clock moves on below, and TOTP
	// codes follow it.
	ann := e.login("ann", "ann-password-1")
	sue := e.login("sue", "sue-password-1")
	tok := e.formToken(ann, "/staff/queue")
	var last map[string]any
	reminded := false
	for range 7 {
		advance(10 * time.Second)
		// The page claims far more than the heartbeat allows: capped.
		st, res := e.postJSON(ann, "/staff/exposure", url.Values{"csrf": {tok}, "ms": {"600000"}})
		if st != http.StatusOK {
			t.Fatalf("beat: %d %v", st, res)
		}
		reminded = reminded || res["remind"] == true
		last = res
	}
	if last["stop"] != true || last["visible_min"] != float64(1) {
		t.Fatalf("after 70 s against a budget of 60 s: %v", last)
	}
	if !reminded {
		t.Error("no break reminder")
	}
	resp, body := e.get(ann, "/staff/queue")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="wb-stop"`) {
		t.Fatalf("queue at the limit: %d", resp.StatusCode)
	}
	for _, p := range []string{"preview", "original"} {
		if resp, _ := e.get(ann, fmt.Sprintf("/staff/media/%d/%s", ids[0], p)); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s at the limit: %d", p, resp.StatusCode)
		}
	}
	if !e.auditHas("exposure.limit", "") {
		t.Error("the stop is not on the record")
	}
	// Ann cannot lift it; Sue can.
	annID := e.user("ann").ID
	if resp, _ := e.postForm(ann, fmt.Sprintf("/staff/wellbeing/%d/extend", annID), url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("analyst lifting her own stop: %d", resp.StatusCode)
	}
	_, body = e.get(sue, "/staff/wellbeing")
	if !strings.Contains(body, "stopped") {
		t.Error("the wellbeing page does not show the stop")
	}
	stok := e.formToken(sue, "/staff/wellbeing")
	if resp, _ := e.postForm(sue, fmt.Sprintf("/staff/wellbeing/%d/extend", annID), url.Values{"csrf": {stok}, "minutes": {"15"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("extend: %d", resp.StatusCode)
	}
	if !e.auditHas("exposure.extend", fmt.Sprintf("user:%d", annID)) {
		t.Error("the extension is not on the record")
	}
	if resp, _ := e.get(ann, "/staff/queue"); resp.StatusCode != http.StatusOK {
		t.Errorf("queue after the extension: %d", resp.StatusCode)
	}
	// Preferences: stored per analyst, on the record.
	resp, _ = e.postForm(ann, "/staff/preferences", url.Values{"csrf": {tok}, "blur": {"5"}, "grey_reveal": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("preferences: %d", resp.StatusCode)
	}
	if p, _ := db.FindPrefs(context.Background(), annID); p.Blur != 5 || !p.GreyReveal {
		t.Errorf("preferences %+v", p)
	}
	resp, body = e.get(ann, fmt.Sprintf("/staff/media/%d/original", ids[0]))
	if img, _, err := image.Decode(strings.NewReader(body)); err != nil || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("greyscale reveal: %v %s", err, resp.Header.Get("Content-Type"))
	} else if _, grey := img.(*image.Gray); !grey {
		t.Errorf("revealed %T, want greyscale", img)
	}
}
