package web_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/exchange"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

func publishKey() ed25519.PrivateKey {
	return federation.SigningKey([]byte("publish-test-secret-0123456789ab"))
}

// publishEnv serves a hotline bank of n own entries and one that came from
// an exchange, and returns the env and a partner's key.
func publishEnv(t *testing.T, n int) (*env, string) {
	t.Helper()
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, func(c *web.Config) { c.Publish = web.PublishConfig{Banks: db, Key: publishKey()} })
	ctx := context.Background()
	b := &vigil.Bank{Name: vigil.HotlineBank, Source: vigil.SourceHotline, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
	if err := db.CreateBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	var es []*vigil.BankEntry
	for i := range n {
		es = append(es, &vigil.BankEntry{Signal: vigil.SignalPDQ, Value: fmt.Sprintf("%064x", i+1), Classification: "iwf-a"})
	}
	es = append(es, &vigil.BankEntry{Signal: vigil.SignalMD5, Value: fmt.Sprintf("%032x", 77)})
	if _, err := db.AddBankEntries(ctx, b.ID, es); err != nil {
		t.Fatal(err)
	}
	x := &vigil.Exchange{Name: "iwf", Kind: vigil.ExchangeHTTPList, BankID: b.ID, URL: "https://lists.example/iwf", Enabled: true}
	if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{}); err != nil {
		t.Fatal(err)
	}
	if err := db.AcquireExchangeLease(ctx, x.ID, "p", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StoreExchangePage(ctx, x.ID, "p", &vigil.ExchangePage{Checkpoint: "c", Entries: []*vigil.BankEntry{
		{Signal: vigil.SignalSHA1, Value: fmt.Sprintf("%040x", 5), UpstreamID: "iwf-5"}}}); err != nil {
		t.Fatal(err)
	}
	key, hash := auth.NewAPIKey()
	if err := db.CreateAPIKey(ctx, &vigil.APIKey{Name: "partner-be", Hash: hash, Scopes: []vigil.APIScope{vigil.ScopeExchangePublish}}); err != nil {
		t.Fatal(err)
	}
	return e, key
}

// getList reads one answer and checks its signature (trailer) against the
// key in its header.
func getList(t *testing.T, e *env, key, query string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/exchange/list"+query, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp, body
	}
	pub, err := base64.StdEncoding.DecodeString(resp.Header.Get(federation.HeaderKey))
	if err != nil || !bytes.Equal(pub, publishKey().Public().(ed25519.PublicKey)) {
		t.Fatalf("key header %q", resp.Header.Get(federation.HeaderKey))
	}
	sig := resp.Trailer.Get(federation.HeaderSignature)
	if err := federation.VerifyList(pub, body, sig); err != nil {
		t.Fatalf("signature %q: %v", sig, err)
	}
	tampered := append(bytes.Clone(body), '\n')
	if err := federation.VerifyList(pub, tampered, sig); !errors.Is(err, federation.ErrBadListSignature) {
		t.Fatalf("a changed body verifies: %v", err)
	}
	return resp, body
}

func lines(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	var out []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var m map[string]string
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

var nextRE = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

func TestPublishedList(t *testing.T) {
	e, key := publishEnv(t, 2500)
	resp, body := getList(t, e, key, "")
	all := lines(t, body)
	if len(all) != 2501 || resp.Header.Get("Link") != "" {
		t.Fatalf("whole list: %d lines, link %q", len(all), resp.Header.Get("Link"))
	}
	for _, l := range all {
		if l["type"] == "sha1" {
			t.Fatalf("an exchange's entry was republished: %v", l)
		}
	}
	if all[0]["type"] != "pdq" || all[0]["classification"] != "iwf-a" || all[0]["id"] == "" {
		t.Errorf("first line %v", all[0])
	}
	// Paged: the pages, followed by their links, are the whole list.
	var paged []map[string]string
	q := "?limit=1000"
	for range 10 {
		resp, body := getList(t, e, key, q)
		paged = append(paged, lines(t, body)...)
		m := nextRE.FindStringSubmatch(resp.Header.Get("Link"))
		if m == nil {
			break
		}
		q = m[1][len("/api/v1/exchange/list"):]
	}
	if len(paged) != len(all) {
		t.Fatalf("pages hold %d lines, want %d", len(paged), len(all))
	}
	for i := range all {
		if paged[i]["id"] != all[i]["id"] {
			t.Fatalf("line %d: %v vs %v", i, paged[i], all[i])
		}
	}
	// Refusals.
	if resp, _ := getList(t, e, key, "?limit=0"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("limit 0: %d", resp.StatusCode)
	}
	if resp, _ := getList(t, e, e.apiKey("no-scope"), ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a key without exchange-publish: %d", resp.StatusCode)
	}
}

// TestPublishedListReadByHTTPList: another Vigil's http-list exchange
// reads the list, each entry with its id as the upstream id.
func TestPublishedListReadByHTTPList(t *testing.T) {
	e, key := publishEnv(t, 30)
	c, err := exchange.New(exchange.Config{Kind: exchange.KindHTTPList, URL: e.srv.URL + "/api/v1/exchange/list", Token: key,
		HTTP: e.srv.Client(), PageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]exchange.Entry{}
	cp := ""
	for range 100 {
		p, err := c.FetchPage(context.Background(), cp)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range p.Entries {
			got[en.UpstreamID] = en
		}
		cp = p.Checkpoint
		if p.Done {
			break
		}
	}
	if len(got) != 31 {
		t.Fatalf("the http-list read %d entries, want 31", len(got))
	}
	for id, en := range got {
		if id == "" || (en.Signal != vigil.SignalPDQ && en.Signal != vigil.SignalMD5) {
			t.Fatalf("entry %q: %+v", id, en)
		}
		if en.Signal == vigil.SignalPDQ && en.Classification != "iwf-a" {
			t.Fatalf("entry %q lost its classification: %+v", id, en)
		}
	}
}
