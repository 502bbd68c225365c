package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/exchange/stopncii/stopnciitest"
	"github.com/vigil-hotline/vigil/internal/exchange/threatexchange/threatexchangetest"
)

// TestExchangeUpstreamKinds: ThreatExchange and StopNCII exchanges are
// fetched by the command (their clients wired into the fetch loop), and
// an exchange's trust settings are shown and set.
func TestExchangeUpstreamKinds(t *testing.T) {
	vigil := bankEnv(t)
	te := threatexchangetest.New("4242", "1|app-secret")
	defer te.Close()
	past := time.Now().Add(-time.Hour).Unix()
	for i := range 30 {
		te.Add(threatexchangetest.Descriptor{Type: "HASH_PDQ", Indicator: fmt.Sprintf("%064x", i+1), LastUpdated: past})
	}
	sn := stopnciitest.New("sub-key", "")
	defer sn.Close()
	for i := range 20 {
		sn.Put(stopnciitest.Record{SignalType: "ImagePDQ", HashValue: fmt.Sprintf("%064x", 1000+i)})
	}
	if _, stderr, err := vigil("bank", "create", "upstream", "--source", "other"); err != nil {
		t.Fatalf("%v %s", err, stderr)
	}
	for _, x := range []struct{ name, kind, url, token string }{
		{"te", "threatexchange", te.GroupURL(), "1|app-secret"},
		{"ncii", "stopncii", sn.BaseURL(), "sub-key"},
	} {
		if _, stderr, err := vigil("exchange", "add", x.name, "--kind", x.kind, "--bank", "upstream", "--url", x.url,
			"--token", x.token, "--allow-private"); err != nil {
			t.Fatalf("add %s: %v %s", x.name, err, stderr)
		}
		out, stderr, err := vigil("exchange", "fetch", x.name)
		if err != nil || !strings.Contains(out, "added") {
			t.Fatalf("fetch %s: %v %s %s", x.name, err, out, stderr)
		}
	}
	out, _, err := vigil("exchange", "status", "te")
	if err != nil || !strings.Contains(out, "30") || !strings.Contains(out, "0 quarantined, 0 disputed") {
		t.Errorf("status: %v\n%s", err, out)
	}
	out, stderr, err := vigil("exchange", "trust", "te", "--map", "csam=iwf-a", "--quarantine-share", "0.2", "--quarantine-min", "3")
	if err != nil || !strings.Contains(out, "0.2") || !strings.Contains(out, "at least 3") || !strings.Contains(out, "csam=iwf-a") {
		t.Fatalf("trust: %v %s %s", err, out, stderr)
	}
	if out, _, err := vigil("exchange", "trust", "te"); err != nil || !strings.Contains(out, "csam=iwf-a") {
		t.Errorf("trust shown: %v %s", err, out)
	}
	if _, _, err := vigil("exchange", "trust", "te", "--quarantine-share", "2"); err == nil {
		t.Error("a share of 2 was accepted")
	}
	if _, _, err := vigil("exchange", "trust", "te", "--map", "x=not-a-class"); err == nil {
		t.Error("a mapping outside the vocabulary was accepted")
	}
	if out, _, err := vigil("exchange", "suppressed"); err != nil || !strings.Contains(out, "no entry is suppressed") {
		t.Errorf("suppressed: %v %s", err, out)
	}
	if _, _, err := vigil("exchange", "suppressed", "--release", "12345"); err == nil {
		t.Error("released an entry that is not suppressed")
	}
}
