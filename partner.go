package vigil

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Partner is another hotline that Vigil refers cases to and receives
// referrals from. A partner with a BaseURL runs Vigil: referrals go to it
// over HTTPS, signed; one without is reached by today's e-mail package
// (the routing rules' hotlines).
type Partner struct {
	ID   int64
	Name string
	// Countries are the hosting countries the partner serves (ISO 3166-1
	// alpha-2, upper case).
	Countries []string
	// BaseURL is the partner's Vigil (https://vigil.example.org); its API
	// is under /api/v1/.
	BaseURL string
	// PublicKey is the partner's Ed25519 public key (base64): what its
	// referrals and status updates are checked with.
	PublicKey string
	// APIKey is our key at the partner (scope referral). Sealed at rest;
	// plain here.
	APIKey string
	// AgeRecipient is the partner's age public key (age1…): media sent to
	// it are encrypted to it. Needed only when SendMedia.
	AgeRecipient string
	// Trust settings. AcceptBaseline: the partner's baseline (and other
	// non-national) classifications are applied without our analyst;
	// AcceptNational: so are its national-law ones; SendMedia: our
	// referrals carry the media, not only their hashes.
	AcceptBaseline bool
	AcceptNational bool
	SendMedia      bool
	CreatedAt      time.Time
}

// NewPartner returns a partner with the default trust settings: baseline
// assessments accepted, national-law ones not, hashes only.
func NewPartner(name string) *Partner {
	return &Partner{Name: name, AcceptBaseline: true}
}

var partnerNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

var countryCodeRE = regexp.MustCompile(`^[A-Z]{2}$`)

// ParseCountries reads "NL,LU" (any case, commas or spaces).
func ParseCountries(s string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		c := strings.ToUpper(f)
		if !countryCodeRE.MatchString(c) {
			return nil, Errorf(EINVALID, "%q is not an ISO 3166-1 alpha-2 country code", f).WithKey("partners_err_country", f)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// ParsePartnerKey reads a partner's Ed25519 public key (base64).
func ParsePartnerKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, Errorf(EINVALID, "the public key must be a base64 Ed25519 public key (as `vigil partner key` prints it)").WithKey("partners_err_public_key")
	}
	return ed25519.PublicKey(b), nil
}

// MaxPartnerAPIKey bounds the stored key at the partner.
const MaxPartnerAPIKey = 512

// Validate checks and normalises a partner before it is stored.
func (p *Partner) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	if !partnerNameRE.MatchString(p.Name) {
		return Errorf(EINVALID, "partner name %q must be 1–64 characters: lower-case letters, digits, '.', '_' or '-'", p.Name).WithKey("partners_err_name", p.Name)
	}
	if len(p.Countries) == 0 {
		return Errorf(EINVALID, "a partner serves at least one country").WithKey("partners_err_no_country")
	}
	cs, err := ParseCountries(strings.Join(p.Countries, ","))
	if err != nil {
		return err
	}
	p.Countries = cs
	p.BaseURL = strings.TrimRight(strings.TrimSpace(p.BaseURL), "/")
	if p.BaseURL != "" {
		u, err := url.Parse(p.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" {
			return Errorf(EINVALID, "the partner's URL must be an https:// address with no credentials, query or fragment").WithKey("partners_err_url")
		}
	}
	if _, err := ParsePartnerKey(p.PublicKey); err != nil {
		return err
	}
	p.PublicKey = strings.TrimSpace(p.PublicKey)
	p.APIKey = strings.TrimSpace(p.APIKey)
	if len(p.APIKey) > MaxPartnerAPIKey || strings.ContainsAny(p.APIKey, " \t\r\n") {
		return Errorf(EINVALID, "the API key at the partner must be one token of at most %d bytes", MaxPartnerAPIKey).WithKey("partners_err_api_key", MaxPartnerAPIKey)
	}
	if p.BaseURL != "" && p.APIKey == "" {
		return Errorf(EINVALID, "a partner running Vigil needs our API key at the partner (scope referral)").WithKey("partners_err_api_key_needed")
	}
	p.AgeRecipient = strings.TrimSpace(p.AgeRecipient)
	if p.AgeRecipient != "" && (!strings.HasPrefix(p.AgeRecipient, "age1") || len(p.AgeRecipient) > 100) {
		return Errorf(EINVALID, "the partner's media key must be an age public key (age1…)").WithKey("partners_err_age")
	}
	if p.SendMedia && p.AgeRecipient == "" {
		return Errorf(EINVALID, "sending media needs the partner's age public key: media are never sent in plain form").WithKey("partners_err_age_needed")
	}
	return nil
}

// IsVigil reports whether referrals go to the partner over the API.
func (p *Partner) IsVigil() bool { return p.BaseURL != "" }

// Serves reports whether the partner serves the hosting country.
func (p *Partner) Serves(country string) bool {
	return slices.Contains(p.Countries, strings.ToUpper(country))
}

// Accepts reports whether the partner's classification is applied without
// our own analyst under its trust settings: national-law assessments only
// when AcceptNational, "not illegal" never (an item a partner refers as
// not illegal is looked at by our analysts), every other (baseline, the
// IWF's and NCMEC's categories) when AcceptBaseline.
func (p *Partner) Accepts(class string) bool {
	switch class {
	case "":
		return false
	case ClassNotIllegal:
		return false
	case string(VerdictNational):
		return p.AcceptNational
	}
	return p.AcceptBaseline
}

// PartnerBankName is the hash bank that holds the classifications a
// partner's referrals brought and that were accepted: the matcher then
// treats the items as known, so they never reach an analyst.
func PartnerBankName(partner string) string { return "partner-" + partner }

// PartnerService stores the partners.
type PartnerService interface {
	CreatePartner(ctx context.Context, p *Partner) error
	// UpdatePartner changes a partner found by name (all fields but the
	// name and ID).
	UpdatePartner(ctx context.Context, p *Partner) error
	FindPartner(ctx context.Context, name string) (*Partner, error)
	// FindPartnerByKey finds the partner whose signing key (base64) it is.
	FindPartnerByKey(ctx context.Context, key string) (*Partner, error)
	// PartnerForCountry returns the partner serving a hosting country.
	PartnerForCountry(ctx context.Context, country string) (*Partner, error)
	// ListPartners returns every partner by name.
	ListPartners(ctx context.Context) ([]*Partner, error)
	RemovePartner(ctx context.Context, name string) error
}
