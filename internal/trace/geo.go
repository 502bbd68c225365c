package trace

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Geolocator gives the country and network of an address.
type Geolocator interface {
	Locate(ip netip.Addr) (Location, error)
}

// Location is what the databases say about one address. Empty fields were
// not found.
type Location struct {
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2, upper case
	ASN     uint32 `json:"asn,omitempty"`
	ASOrg   string `json:"as_org,omitempty"`
	Source  string `json:"source,omitempty"` // databases consulted, with build dates
}

// MMDB reads MaxMind-format databases: a country (or city) database and an
// ASN database. Either path may be empty, and both may name the same file
// (IPinfo's lite database carries country and ASN in one record). Each
// record is decoded generically, so these layouts all work:
//
//   - GeoLite2 / GeoIP2 Country and City: country.iso_code (falling back to
//     registered_country.iso_code); GeoLite2 ASN and DB-IP ASN lite:
//     autonomous_system_number, autonomous_system_organization.
//   - IPinfo lite: country_code, asn ("AS123"), as_name.
//   - IPinfo country_asn (older free layout): country ("BE"), asn, as_name.
type MMDB struct {
	dbs []mmdbFile
}

type mmdbFile struct {
	r     *maxminddb.Reader
	label string
	// role is "country" or "asn": which fields this file is trusted for
	// first. Fields it has beyond its role only fill gaps.
	role string
}

// OpenMMDB opens the configured databases.
func OpenMMDB(countryPath, asnPath string) (*MMDB, error) {
	m := &MMDB{}
	open := func(path, role string) error {
		if path == "" {
			return nil
		}
		r, err := maxminddb.Open(path)
		if err != nil {
			return fmt.Errorf("open %s database %s: %w", role, path, err)
		}
		label := fmt.Sprintf("%s (%s, built %s)", filepath.Base(path), r.Metadata.DatabaseType,
			r.Metadata.BuildTime().UTC().Format(time.DateOnly))
		m.dbs = append(m.dbs, mmdbFile{r: r, label: label, role: role})
		return nil
	}
	if err := open(countryPath, "country"); err != nil {
		return nil, err
	}
	if asnPath == countryPath && asnPath != "" {
		m.dbs[0].role = "both"
	} else if err := open(asnPath, "asn"); err != nil {
		return nil, errors.Join(err, m.Close())
	}
	return m, nil
}

// Close releases the databases.
func (m *MMDB) Close() error {
	var errs []error
	for _, db := range m.dbs {
		errs = append(errs, db.r.Close())
	}
	return errors.Join(errs...)
}

// Locate looks ip up in every database. A database without a record for ip
// is not an error; a corrupt one is, but the other database still answers.
func (m *MMDB) Locate(ip netip.Addr) (Location, error) {
	var loc Location
	var labels []string
	var errs []error
	var country, asnCountry string
	var asn uint32
	var org string
	for _, db := range m.dbs {
		labels = append(labels, db.label)
		var rec map[string]any
		if err := db.r.Lookup(ip.Unmap()).Decode(&rec); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", db.label, err))
			continue
		}
		c, a, o := geoFields(rec)
		switch db.role {
		case "asn":
			asnCountry = c
			if a != 0 {
				asn, org = a, o
			}
		default:
			country = c
			if asn == 0 && a != 0 {
				asn, org = a, o
			}
		}
	}
	loc.Country = country
	if loc.Country == "" {
		loc.Country = asnCountry
	}
	loc.ASN, loc.ASOrg = asn, org
	loc.Source = strings.Join(labels, " + ")
	return loc, errors.Join(errs...)
}

// geoFields pulls country, ASN and AS name out of a record of any of the
// supported layouts.
func geoFields(rec map[string]any) (country string, asn uint32, org string) {
	if m, ok := rec["country"].(map[string]any); ok {
		country, _ = m["iso_code"].(string)
	}
	if country == "" {
		country, _ = rec["country_code"].(string)
	}
	if s, ok := rec["country"].(string); ok && country == "" && len(s) == 2 {
		country = s
	}
	if m, ok := rec["registered_country"].(map[string]any); ok && country == "" {
		country, _ = m["iso_code"].(string)
	}
	country = strings.ToUpper(country)

	asn = asnNumber(rec["autonomous_system_number"])
	if asn == 0 {
		asn = asnNumber(rec["asn"])
	}
	org, _ = rec["autonomous_system_organization"].(string)
	if org == "" {
		org, _ = rec["as_name"].(string)
	}
	return country, asn, org
}

// asnNumber accepts 13335, "13335" and "AS13335".
func asnNumber(v any) uint32 {
	switch n := v.(type) {
	case uint64:
		return uint32(n)
	case uint32:
		return n
	case uint16:
		return uint32(n)
	case int:
		return uint32(n)
	case int32:
		return uint32(n)
	case int64:
		return uint32(n)
	case string:
		s := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(n)), "AS")
		u, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return 0
		}
		return uint32(u)
	}
	return 0
}
