package vigil

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// APIKey lets a partner hotline or platform use the API. The key itself is
// shown once at creation; only its SHA-256 is stored.
type APIKey struct {
	ID        int64
	Name      string
	Hash      []byte
	CreatedAt time.Time
	Revoked   bool

	// Scopes are what the key may do. A key created before scopes existed
	// holds DefaultAPIScopes: what every key could do then.
	Scopes []APIScope
	// RatePerMinute overrides the server's per-key rate (0: the default).
	RatePerMinute int
	// DailyQuota caps the key's calls per UTC day (0: no cap). A lookup
	// costs one call per hash asked.
	DailyQuota int64
	// LastUsedAt is when the key was last used (nil: never). It is
	// written about once a second per process, so it may lag a little.
	LastUsedAt *time.Time
	// UsedToday is the calls recorded for the key today (UTC), as read
	// with the key; calls not yet recorded by a process are not in it.
	UsedToday int64
	// PartnerID is the partner hotline the key belongs to (0: none), and
	// Partner its name: the referral API accepts a request only when the
	// partner that signed it is the key's partner.
	PartnerID int64
	Partner   string
}

// APIScope names one thing an API key may do.
type APIScope string

// The scopes of API keys.
const (
	// ScopeReport files reports and reads the status of the key's own.
	ScopeReport APIScope = "report"
	// ScopeReportStatus reads the status of any report, whoever filed it
	// (a partner that takes over the follow-up of a hotline's reports).
	ScopeReportStatus APIScope = "report-status"
	// ScopeLookup asks whether hashes or files are known.
	ScopeLookup APIScope = "lookup"
	// ScopeStats reads the hotline's statistics.
	ScopeStats APIScope = "stats"
	// ScopeReferral sends referrals from partner hotlines.
	ScopeReferral APIScope = "referral"
	// ScopeExchangePublish publishes hashes to the hotline's exchange.
	ScopeExchangePublish APIScope = "exchange-publish"
)

// APIScopes lists every scope, in the order they are shown.
var APIScopes = []APIScope{ScopeReport, ScopeReportStatus, ScopeLookup, ScopeStats, ScopeReferral, ScopeExchangePublish}

// DefaultAPIScopes are what every key could do before keys had scopes:
// file reports, read their status, and read the statistics.
var DefaultAPIScopes = []APIScope{ScopeReport, ScopeStats}

// ParseAPIScopes reads a comma- or space-separated list of scopes.
func ParseAPIScopes(s string) ([]APIScope, error) {
	var out []APIScope
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		sc := APIScope(strings.ToLower(f))
		if !slices.Contains(APIScopes, sc) {
			return nil, Errorf(EINVALID, "unknown API scope %q (scopes: %s)", f, FormatAPIScopes(APIScopes))
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// FormatAPIScopes writes scopes as ParseAPIScopes reads them.
func FormatAPIScopes(scopes []APIScope) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, ",")
}

// Can reports whether the key holds scope.
func (k *APIKey) Can(scope APIScope) bool { return slices.Contains(k.Scopes, scope) }

// CanReadReportStatus reports whether the key may read a report's status:
// only the key that filed it, or a key with the report-status scope. A
// report filed through the public form or by another partner is none of a
// partner's business (issue 12, item 13).
func (k *APIKey) CanReadReportStatus(r *Report) bool {
	if k.Can(ScopeReportStatus) {
		return true
	}
	return k.Can(ScopeReport) && r.APIKeyID != 0 && r.APIKeyID == k.ID
}

// OverQuota reports whether a call costing cost would take the key past
// its daily quota, counting pending calls not yet recorded.
func (k *APIKey) OverQuota(pending, cost int64) bool {
	return k.DailyQuota > 0 && k.UsedToday+pending+cost > k.DailyQuota
}

var apiKeyNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks a key before it is stored.
func (k *APIKey) Validate() error {
	if !apiKeyNameRE.MatchString(k.Name) {
		return Errorf(EINVALID, "API key name must be 1–64 characters: letters, digits, '.', '_' or '-'")
	}
	if len(k.Hash) != 32 {
		return Errorf(EINVALID, "API key hash must be 32 bytes")
	}
	for _, sc := range k.Scopes {
		if !slices.Contains(APIScopes, sc) {
			return Errorf(EINVALID, "unknown API scope %q", sc)
		}
	}
	if k.RatePerMinute < 0 || k.DailyQuota < 0 {
		return Errorf(EINVALID, "an API key's rate and quota cannot be negative")
	}
	return nil
}

// APIKeyUse is what one process saw of one key on one day, added to the
// stored totals. Only counts: never the hashes asked for.
type APIKeyUse struct {
	KeyID    int64
	Day      string // YYYY-MM-DD, UTC
	Requests int64  // calls, as counted against the quota
	Lookups  int64  // hashes and files looked up
	Matches  int64  // lookups that matched
	LastUsed time.Time
}

// APIKeyUsage is a key's recorded use on one day.
type APIKeyUsage struct {
	Name     string
	Day      string
	Requests int64
	Lookups  int64
	Matches  int64
}

// APIKeyDay is the UTC day that quotas and usage are counted by.
func APIKeyDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// APIKeyService stores API keys.
type APIKeyService interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKeyByHash returns the unrevoked key with this hash, with its
	// use today, read from the store.
	FindAPIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	// APIKeyGeneration returns a number that changes whenever any key is
	// created, changed, revoked or removed, by any process: a server
	// keeps keys in memory while it stays the same, so that a revocation
	// takes effect on the next request in every process at the cost of
	// reading one integer.
	APIKeyGeneration(ctx context.Context) (int64, error)
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	RevokeAPIKey(ctx context.Context, name string) error
	// UpdateAPIKey changes a key's scopes, rate and quota.
	UpdateAPIKey(ctx context.Context, k *APIKey) error
	// BindAPIKey makes the key named name the key of the partner named
	// partner ("": of no partner).
	BindAPIKey(ctx context.Context, name, partner string) error
	// RecordAPIKeyUse adds uses to the stored totals and last-used times.
	RecordAPIKeyUse(ctx context.Context, uses []APIKeyUse) error
	// APIKeyUsage returns the recorded use of every key since a day
	// (YYYY-MM-DD), by day and name.
	APIKeyUsage(ctx context.Context, sinceDay string) ([]APIKeyUsage, error)
}
