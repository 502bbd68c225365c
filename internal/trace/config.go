package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Config is the tracer's configuration file (JSON):
//
//	{
//	  "country_db": "/var/lib/vigil/GeoLite2-Country.mmdb",
//	  "asn_db": "/var/lib/vigil/GeoLite2-ASN.mmdb",
//	  "rdap": {
//	    "ip": {"*": "https://rdap.db.ripe.net/"},
//	    "domain": {"be": "https://rdap.dns.be/", "*": "https://rdap.example/"},
//	    "asn": {"*": "https://rdap.db.ripe.net/"},
//	    "iana_files": ["/var/lib/vigil/rdap/ipv4.json"]
//	  },
//	  "cache_ttl": "24h",
//	  "max_rdap_addresses": 4,
//	  "cdns": [{"name": "Cloudflare", "asns": [13335], "country": "US"}]
//	}
//
// Omitting "cdns" means DefaultCDNs; "cdns": [] means none.
type Config struct {
	CountryDB        string          `json:"country_db,omitempty"`
	ASNDB            string          `json:"asn_db,omitempty"`
	RDAP             BootstrapConfig `json:"rdap"`
	CacheTTL         string          `json:"cache_ttl,omitempty"` // Go duration; default 24h
	MaxRDAPAddresses int             `json:"max_rdap_addresses,omitempty"`
	CDNs             []CDN           `json:"cdns"`
}

func (c Config) cacheTTL() (time.Duration, error) {
	if c.CacheTTL == "" {
		return 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(c.CacheTTL)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("trace config: cache_ttl %q: want a positive duration such as \"24h\"", c.CacheTTL)
	}
	return d, nil
}

// LoadConfig reads a Config from a JSON file. Unknown fields are errors, so
// a misspelt key does not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("trace config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("trace config %s: %w", path, err)
	}
	if _, err := c.cacheTTL(); err != nil {
		return Config{}, err
	}
	return c, nil
}
