package vigil

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Exchange kinds (internal/exchange has a client for each).
const (
	ExchangeNCMEC          = "ncmec"
	ExchangeThreatExchange = "threatexchange"
	ExchangeStopNCII       = "stopncii"
	ExchangeHTTPList       = "http-list"
)

// ExchangeKinds lists every exchange kind.
var ExchangeKinds = []string{ExchangeNCMEC, ExchangeThreatExchange, ExchangeStopNCII, ExchangeHTTPList}

// Exchange is a configured source of known hashes bound to a bank: Vigil
// fetches it on its schedule and keeps the bank in step with it.
type Exchange struct {
	ID   int64
	Name string
	Kind string
	// BankID is the bank its entries go to; BankName is read with it.
	BankID   int64
	BankName string
	URL      string
	// Schedule is the time between fetches; zero fetches only on demand.
	Schedule time.Duration
	// AllowPrivate lets this exchange reach private and loopback addresses
	// (an on-premises list server); otherwise the crawler's guard applies.
	AllowPrivate bool
	Enabled      bool
	// SignalTypes and Classifications say what the exchange brings (for
	// the page and for filtering: an entry of another signal type is
	// skipped); empty means whatever the service sends.
	SignalTypes     []SignalType
	Classifications []string
	// Auth says which credentials are kept ("none", "token", "basic"):
	// the credentials themselves are sealed and never read back here.
	Auth string
	// Checkpoint is where the next fetch resumes (opaque, per kind).
	Checkpoint  string
	CreatedAt   time.Time
	NextFetchAt time.Time
	// Last is the last fetch, finished or not (zero when none yet).
	Last ExchangeFetch
	// Entries counts the bank entries that came from this exchange.
	Entries int64
}

// ExchangeFetch describes one fetch of an exchange.
type ExchangeFetch struct {
	StartedAt  time.Time
	FinishedAt time.Time // zero while running or when it died
	Added      int64
	Removed    int64
	// Skipped counts entries Vigil cannot use (a signal it does not
	// support, such as PhotoDNA, or a malformed value).
	Skipped int64
	Error   string
	// LagMax and LagMean are the time from an entry's addition upstream
	// (when the service says) to its commit here, from which it can match.
	LagMax  time.Duration
	LagMean time.Duration
}

// ExchangeCredentials are an exchange's secrets: sealed at rest, unsealed
// only for the fetcher, never logged or shown.
type ExchangeCredentials struct {
	Token    string
	User     string
	Password string
}

// AuthKind says which credentials are set.
func (c ExchangeCredentials) AuthKind() string {
	switch {
	case c.Token != "":
		return "token"
	case c.User != "" || c.Password != "":
		return "basic"
	}
	return "none"
}

var exchangeNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// MinExchangeSchedule keeps a schedule from hammering a service.
const MinExchangeSchedule = time.Minute

// Validate checks an exchange and its credentials before they are stored.
func (x *Exchange) Validate(c ExchangeCredentials) error {
	if !exchangeNameRE.MatchString(x.Name) {
		return Errorf(EINVALID, "exchange name %q must be 1–64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", x.Name).WithKey("exch_err_name", x.Name)
	}
	if !slices.Contains(ExchangeKinds, x.Kind) {
		return Errorf(EINVALID, "unknown exchange kind %q (want %s)", x.Kind, strings.Join(ExchangeKinds, ", ")).WithKey("exch_err_kind", x.Kind)
	}
	if x.URL == "" && (x.Kind == ExchangeHTTPList || x.Kind == ExchangeNCMEC) {
		return Errorf(EINVALID, "an exchange of kind %s needs --url", x.Kind).WithKey("exch_err_url_needed", x.Kind)
	}
	if x.URL != "" {
		u, err := url.Parse(x.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return Errorf(EINVALID, "exchange URL must be an http(s) URL without credentials in it").WithKey("exch_err_url")
		}
		if len(x.URL) > 2000 {
			return Errorf(EINVALID, "exchange URL is too long").WithKey("exch_err_url_long")
		}
	}
	if x.Schedule != 0 && x.Schedule < MinExchangeSchedule {
		return Errorf(EINVALID, "schedule must be 0 (on demand) or at least %s", MinExchangeSchedule).WithKey("exch_err_schedule_min")
	}
	for _, t := range x.SignalTypes {
		if t.HexLen() == 0 {
			return Errorf(EINVALID, "unknown signal type %q", string(t)).WithKey("exch_err_signal", string(t))
		}
	}
	for _, cl := range x.Classifications {
		if cl == "" || len(cl) > 200 || !utf8.ValidString(cl) {
			return Errorf(EINVALID, "classification %q must be 1–200 characters of text", cl).WithKey("exch_err_classification", cl)
		}
	}
	if c.Token != "" && (c.User != "" || c.Password != "") {
		return Errorf(EINVALID, "give a token or a user and password, not both").WithKey("exch_err_token_and_user")
	}
	if (c.User == "") != (c.Password == "") {
		return Errorf(EINVALID, "basic authentication needs both a user and a password").WithKey("exch_err_basic")
	}
	for _, s := range []string{c.Token, c.User, c.Password} {
		if len(s) > 4096 || strings.ContainsAny(s, "\r\n") {
			return Errorf(EINVALID, "credentials must be one line of at most 4096 bytes").WithKey("exch_err_credentials")
		}
	}
	if x.Kind == ExchangeNCMEC && c.User == "" {
		return Errorf(EINVALID, "NCMEC's API takes basic authentication: give --user and --password-file").WithKey("exch_err_ncmec_basic")
	}
	return nil
}

// Brings says whether the exchange takes entries of signal t.
func (x *Exchange) Brings(t SignalType) bool {
	return len(x.SignalTypes) == 0 || slices.Contains(x.SignalTypes, t)
}

// ExchangeDeletion withdraws entries of an exchange: all those with the
// upstream id, or, when it is empty, the one with the signal and value.
type ExchangeDeletion struct {
	UpstreamID string
	Signal     SignalType
	Value      string
}

// ExchangePage is one page of a fetch, stored in one transaction with its
// checkpoint.
type ExchangePage struct {
	// Entries carry their provenance (UpstreamID, UpstreamClassification,
	// Tags); the store sets ExchangeID and FetchedAt.
	Entries   []*BankEntry
	Deletions []ExchangeDeletion
	// Checkpoint is stored with the page.
	Checkpoint string
	// Replace says the fetch delivers the exchange's whole list (an
	// http-list). Each pass over the list is a round: its first page has
	// Restart set (a new round begins), every entry it delivers is marked
	// with the round, and on its Final page every entry of the exchange
	// not marked with it is removed. A pass that died midway leaves marks
	// of its own round, older than the next pass's: nothing stale survives.
	Replace bool
	Restart bool
	Final   bool
}

// ExchangePageResult says what a page changed.
type ExchangePageResult struct {
	Added   int
	Removed int
}

// ExchangeService stores exchanges, their credentials, and the pages their
// fetches bring.
type ExchangeService interface {
	CreateExchange(ctx context.Context, x *Exchange, c ExchangeCredentials) error
	FindExchangeByName(ctx context.Context, name string) (*Exchange, error)
	FindExchangeByID(ctx context.Context, id int64) (*Exchange, error)
	// ListExchanges returns every exchange by name.
	ListExchanges(ctx context.Context) ([]*Exchange, error)
	// ExchangeCredentials unseals an exchange's credentials, for the
	// fetcher alone.
	ExchangeCredentials(ctx context.Context, id int64) (ExchangeCredentials, error)
	SetExchangeEnabled(ctx context.Context, id int64, enabled bool) error
	// RemoveExchange forgets an exchange; its entries stay in the bank
	// with their upstream id.
	RemoveExchange(ctx context.Context, id int64) error

	// AcquireExchangeLease takes the exchange's fetch lease for owner
	// until ttl passes: ECONFLICT when another owner holds a live one.
	// Renewing is acquiring again.
	AcquireExchangeLease(ctx context.Context, id int64, owner string, ttl time.Duration) error
	ReleaseExchangeLease(ctx context.Context, id int64, owner string) error
	// StartExchangeFetch records a fetch's start (owner must hold the lease).
	StartExchangeFetch(ctx context.Context, id int64, owner string) error
	// StoreExchangePage adds and removes a page's entries and stores its
	// checkpoint in one transaction, if owner still holds the lease
	// (ECONFLICT otherwise: nothing is written).
	StoreExchangePage(ctx context.Context, id int64, owner string, p *ExchangePage) (ExchangePageResult, error)
	// FinishExchangeFetch records how a fetch ended and when the next is
	// due, and releases the lease.
	FinishExchangeFetch(ctx context.Context, id int64, owner string, f ExchangeFetch) error
	// DueExchanges returns the enabled, scheduled exchanges whose next
	// fetch is due at now.
	DueExchanges(ctx context.Context, now time.Time) ([]*Exchange, error)
}
