package trace

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBootstrap(t *testing.T) {
	dir := t.TempDir()
	iana := filepath.Join(dir, "ipv4.json")
	// RFC 9224 layout, as IANA publishes it.
	err := os.WriteFile(iana, []byte(`{"version":"1.0","services":[
		[["198.51.100.0/24"],["http://rdap.one.test/","https://rdap.one.test/"]],
		[["64496-64511"],["https://rdap.asn.test/"]],
		[["test","example"],["https://rdap.tld.test/"]]]}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBootstrap(BootstrapConfig{
		IP:        map[string]string{"192.0.2.0/24": "https://wide.test/", "192.0.2.128/25": "https://narrow.test/", "*": "https://any.test/"},
		Domain:    map[string]string{"co.example": "https://co.test/"},
		ASN:       map[string]string{"AS13335": "https://cf.test/"},
		IANAFiles: []string{iana},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{must(b.ForIP(netip.MustParseAddr("192.0.2.200"))), "https://narrow.test/"},
		{must(b.ForIP(netip.MustParseAddr("192.0.2.1"))), "https://wide.test/"},
		{must(b.ForIP(netip.MustParseAddr("::ffff:198.51.100.1"))), "https://rdap.one.test/"},
		{must(b.ForIP(netip.MustParseAddr("2001:db8::1"))), "https://any.test/"},
		{must(b.ForDomain("shop.co.example")), "https://co.test/"},
		{must(b.ForDomain("shop.example.")), "https://rdap.tld.test/"},
		{must(b.ForASN(64500)), "https://rdap.asn.test/"},
		{must(b.ForASN(13335)), "https://cf.test/"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if _, ok := b.ForDomain("shop.invalid"); ok {
		t.Error("unconfigured TLD matched")
	}
	if _, ok := b.ForASN(1); ok {
		t.Error("unconfigured ASN matched")
	}
	for _, bad := range []BootstrapConfig{
		{IP: map[string]string{"192.0.2.0": "x"}},
		{ASN: map[string]string{"10-5": "x"}},
		{IANAFiles: []string{filepath.Join(dir, "missing.json")}},
	} {
		if _, err := NewBootstrap(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func must(s string, _ bool) string { return s }

func TestGeoFields(t *testing.T) {
	for _, c := range []struct {
		name    string
		rec     map[string]any
		country string
		asn     uint32
		org     string
	}{
		{"geolite2 city", map[string]any{"country": map[string]any{"iso_code": "be"}, "city": map[string]any{}}, "BE", 0, ""},
		{"registered only", map[string]any{"registered_country": map[string]any{"iso_code": "NL"}}, "NL", 0, ""},
		{"geolite2 asn", map[string]any{"autonomous_system_number": uint64(64500), "autonomous_system_organization": "X"}, "", 64500, "X"},
		{"ipinfo lite", map[string]any{"country_code": "US", "country": "United States", "asn": "AS13335", "as_name": "Y"}, "US", 13335, "Y"},
		{"ipinfo country_asn", map[string]any{"country": "FR", "country_name": "France", "asn": "AS64503", "as_name": "Z"}, "FR", 64503, "Z"},
		{"garbage", map[string]any{"asn": "ASX", "country": 7}, "", 0, ""},
	} {
		country, asn, org := geoFields(c.rec)
		if country != c.country || asn != c.asn || org != c.org {
			t.Errorf("%s: %q %d %q, want %q %d %q", c.name, country, asn, org, c.country, c.asn, c.org)
		}
	}
}

func TestHostOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://WWW.Shop.Example./a?b": "www.shop.example",
		"http://[2001:db8::1]:8080/":    "2001:db8::1",
		"shop.example":                  "shop.example",
		"shop.example:443":              "shop.example",
		"[2001:db8::2]":                 "2001:db8::2",
		"192.0.2.1":                     "192.0.2.1",
		"":                              "",
	} {
		if got, _ := hostOf(in); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMemoryCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewMemoryCache(2, func() time.Time { return now })
	ctx := context.Background()
	_ = c.Set(ctx, "a", []byte("1"), time.Minute)
	if v, ok, _ := c.Get(ctx, "a"); !ok || string(v) != "1" {
		t.Fatalf("get a = %q %v", v, ok)
	}
	now = now.Add(time.Minute)
	if _, ok, _ := c.Get(ctx, "a"); ok {
		t.Error("expired entry returned")
	}
	_ = c.Set(ctx, "a", []byte("1"), time.Hour)
	_ = c.Set(ctx, "b", []byte("2"), time.Hour)
	_ = c.Set(ctx, "c", []byte("3"), time.Hour)
	if c.Len() != 2 {
		t.Errorf("len %d, want the bound 2", c.Len())
	}
	if v, ok, _ := c.Get(ctx, "c"); !ok || string(v) != "3" {
		t.Error("newest entry evicted")
	}
}

type loopResolver struct{}

func (loopResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, nil
}
func (loopResolver) LookupCNAME(_ context.Context, host string) (string, error) {
	if host == "a.test" {
		return "b.test.", nil
	}
	return "a.test.", nil
}

func TestCNAMELoop(t *testing.T) {
	chain, err := cnameChain(context.Background(), loopResolver{}, "a.test")
	if err == nil || len(chain) != 1 {
		t.Errorf("loop: chain %v err %v", chain, err)
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "trace.json")
	if err := os.WriteFile(good, []byte(`{"rdap": {"ip": {"*": "http://127.0.0.1:1/"}}, "cache_ttl": "2h",
		"cdns": [{"name": "X", "prefixes": ["192.0.2.0/24"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if ttl, _ := cfg.cacheTTL(); ttl != 2*time.Hour || len(cfg.CDNs) != 1 {
		t.Errorf("cfg = %+v", cfg)
	}
	tr, err := New(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if c, why := tr.cdns.match(netip.MustParseAddr("192.0.2.9"), 0, nil); c == nil || why != "prefix 192.0.2.0/24" {
		t.Errorf("configured prefix not matched: %v %q", c, why)
	}
	for name, body := range map[string]string{
		"unknown.json": `{"cache_tl": "2h"}`,
		"ttl.json":     `{"cache_ttl": "forever"}`,
	} {
		p := filepath.Join(dir, name)
		_ = os.WriteFile(p, []byte(body), 0o600)
		if _, err := LoadConfig(p); err == nil {
			t.Errorf("%s accepted", body)
		}
	}
	if _, err := New(Config{CDNs: []CDN{{Name: "Y", Prefixes: []string{"nope"}}}}, Deps{}); err == nil {
		t.Error("bad CDN prefix accepted")
	}
	if _, err := New(Config{CountryDB: filepath.Join(dir, "missing.mmdb")}, Deps{}); err == nil {
		t.Error("missing database accepted")
	}
}
