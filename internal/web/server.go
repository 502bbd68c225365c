// Package web serves Vigil over HTTP: the public reporting point, the
// partner API and the staff pages. Handlers live one per file; templates,
// translations and static assets are embedded and checked at start-up.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/web/openapi"
)

// Config is everything the web layer needs; cmd/vigil builds it.
type Config struct {
	Logger  *slog.Logger
	Reports vigil.ReportService
	Users   vigil.UserService
	APIKeys vigil.APIKeyService
	Jobs    vigil.JobService

	// Secret keys the CSRF tokens (at least 32 bytes). Every server of one
	// deployment must share it.
	Secret []byte
	// SecureCookies marks cookies Secure and sends HSTS; set it whenever
	// Vigil is reached over HTTPS (directly or behind a proxy).
	SecureCookies bool

	// FormRate limits reports and status look-ups per client address;
	// APIRate limits API calls per key.
	FormRate Rate
	APIRate  Rate
	// TrustedProxies are the reverse proxies whose Forwarded and
	// X-Forwarded-For headers name the client for rate limiting. None by
	// default: then every client behind a proxy shares the proxy's limit.
	TrustedProxies []netip.Prefix

	// Staff sessions end after SessionIdle without use, and after
	// SessionMax in any case.
	SessionIdle time.Duration
	SessionMax  time.Duration

	// Accounts and Workbench configure the staff side (issue 6).
	Accounts  AccountsConfig
	Workbench WorkbenchConfig
	// Takedown serves the statistics and the takedown views (issue 7).
	Takedown TakedownConfig
	// Lookup serves the scanning API (issue 17).
	Lookup LookupConfig
	// ObserveRequest, if set, is told of each request: its route pattern,
	// status and duration (for the metrics).
	ObserveRequest func(route string, status int, d time.Duration)
	// Ready, if set, answers GET /readyz.
	Ready http.HandlerFunc
	// Statistics serves the statistics pages, the annual report and the
	// period figures of the API (issue 18); off when its Service is nil.
	Statistics StatisticsConfig
	// Identity is the hotline's name, logo, colours, legal notices and
	// help routes on the public pages (issue 20); zero is fine.
	Identity Identity
	// Victims is the victim bank's submissions (issue 20); nil leaves the
	// victim's pages out.
	Victims vigil.VictimService
	// Federation is the partner hotlines and the referral API (issue 16).
	Federation FederationConfig
	// Publish serves the hotline's own confirmed bank to partners as a
	// signed list (issue 15); off when its Banks is nil.
	Publish PublishConfig
	// Trust serves upstream verdicts and the suppressed entries (issue
	// 15); off when its Service is nil.
	Trust TrustConfig
	// Map is the network map (issue 19).
	Map MapConfig
	// Exchanges is the administrators' page of hash exchanges (issue 15).
	Exchanges ExchangesConfig

	Now func() time.Time
}

// DefaultFormRate lets one address file 20 reports or look-ups in ten
// minutes: plenty for a person, little for a script.
var DefaultFormRate = Rate{Count: 20, Per: 10 * time.Minute}

// DefaultAPIRate lets one partner send 100 requests a second on average.
var DefaultAPIRate = Rate{Count: 6000, Per: time.Minute}

// Server is Vigil's HTTP handler.
type Server struct {
	cfg       Config
	logger    *slog.Logger
	catalog   *catalog
	templates templates
	formLimit *limiter
	keyLimit  *keyLimiter
	handler   http.Handler
	// staffRoutes lists every route registered with staffRoute.
	staffRoutes []StaffRoute
	// passwords bounds simultaneous password checks; dummyHash is checked
	// for unknown names and locked accounts (made on first use).
	passwords *auth.Verifier
	dummyHash func() (string, error)

	// The partner API's state (issue 17): use counted per key, slots for
	// files being hashed, and the OpenAPI document as a page.
	usage        *apiUsage
	keys         *keyCache
	fileSlots    chan struct{}
	videoSlots   chan struct{}
	apiReference []byte

	// mapClusters keeps the network map's last clusters (issue 19).
	mapClusters mapClusterCache
}

// New checks the configuration, parses templates and translations, and
// returns the server.
func New(cfg Config) (*Server, error) {
	if cfg.Reports == nil || cfg.Users == nil || cfg.APIKeys == nil || cfg.Jobs == nil {
		return nil, errors.New("web: a service is missing from the configuration")
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("web: the secret must be at least 32 bytes")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionMax == 0 {
		cfg.SessionMax = 12 * time.Hour
	}
	if err := cfg.Identity.Validate(); err != nil {
		return nil, fmt.Errorf("web: identity: %w", err)
	}
	cat, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, logger: cfg.Logger, catalog: cat, templates: tmpl,
		formLimit: newLimiter(cfg.FormRate, cfg.Now),
		keyLimit:  newKeyLimiter(cfg.Now),
	}
	s.usage = newAPIUsage(cfg.APIKeys, cfg.Logger, cfg.Now)
	s.keys = newKeyCache(cfg.APIKeys, cfg.Now, s.usage.writtenFor, s.usage.countedFor)
	if cfg.Lookup.MaxFiles <= 0 {
		cfg.Lookup.MaxFiles = 4
	}
	s.fileSlots = make(chan struct{}, cfg.Lookup.MaxFiles)
	if cfg.Lookup.MaxVideos <= 0 {
		cfg.Lookup.MaxVideos = 1
	}
	s.videoSlots = make(chan struct{}, cfg.Lookup.MaxVideos)
	if s.apiReference, err = openapi.Reference(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// Close writes the API keys' usage counted but not yet stored.
func (s *Server) Close(ctx context.Context) { s.usage.close(ctx) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	public := func(h http.HandlerFunc) http.Handler { return noStore(h) }

	mux.Handle("GET /{$}", public(s.handleReportForm))
	mux.Handle("POST /report", public(s.handleReportSubmit))
	mux.Handle("GET /status", public(s.handleStatusForm))
	mux.Handle("POST /status", public(s.handleStatusLookup))
	mux.Handle("GET /static/", s.handleStatic())
	mux.HandleFunc("GET /healthz", s.handleHealth)
	if s.cfg.Ready != nil {
		mux.HandleFunc("GET /readyz", s.cfg.Ready)
	}
	mux.HandleFunc("GET /identity.css", s.handleIdentityCSS)
	mux.HandleFunc("GET /identity/logo", s.handleIdentityLogo)
	mux.Handle("GET /imprint", public(s.handleLegal))
	mux.Handle("GET /privacy", public(s.handleLegal))

	mux.Handle("POST /api/v1/reports", s.apiAuth(s.handleAPIReportCreate, vigil.ScopeReport))
	// The handler admits only the key that filed the report, or one with
	// the report-status scope.
	mux.Handle("GET /api/v1/reports/{code}", s.apiAuth(s.handleAPIReportStatus, vigil.ScopeReport, vigil.ScopeReportStatus))
	mux.Handle("GET /api/v1/lookup", s.apiAuth(s.handleAPILookupGet, vigil.ScopeLookup))
	mux.Handle("POST /api/v1/lookup", s.apiAuth(s.handleAPILookupPost, vigil.ScopeLookup))
	// Every /api/ route is in openapi/openapi.json; a test holds both to
	// each other.
	mux.HandleFunc("GET /api/openapi.json", s.handleAPIOpenAPI)
	mux.HandleFunc("GET /api/{$}", s.handleAPIReference)

	// Staff routes register through s.staffRoute, which puts them behind
	// the staff gate and into the access-control test.
	s.staffRoute(mux, "GET /staff/{$}", s.handleStaffHome)
	s.staffRoute(mux, "GET /staff/jobs", s.handleStaffJobs, vigil.RoleAdmin, vigil.RoleSupervisor)
	s.accountRoutes(mux)
	s.workbenchRoutes(mux)
	s.takedownRoutes(mux)
	s.victimRoutes(mux)
	s.statisticsRoutes(mux)
	s.federationRoutes(mux)
	s.publishRoutes(mux)
	s.trustRoutes(mux)
	s.exchangeRoutes(mux)
	s.mapRoutes(mux)
	mux.Handle("/staff/", s.staff(http.NotFound))

	// Cross-origin form posts are refused from their Fetch metadata before
	// any handler runs; the CSRF token then covers browsers without it.
	cop := http.NewCrossOriginProtection()
	cop.AddInsecureBypassPattern("POST /api/v1/reports") // bearer-token API, no cookies
	cop.AddInsecureBypassPattern("POST /api/v1/lookup")
	cop.AddInsecureBypassPattern("POST /api/v1/referrals")
	cop.AddInsecureBypassPattern("POST /api/v1/referrals/{ref}/status")
	return s.logRequests(s.securityHeaders(cop.Handler(mux)))
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// httpStatus maps a domain error code to an HTTP status.
func httpStatus(err error) int {
	switch vigil.ErrorCode(err) {
	case vigil.EINVALID:
		return http.StatusBadRequest
	case vigil.ENOTFOUND:
		return http.StatusNotFound
	case vigil.ECONFLICT:
		return http.StatusConflict
	case vigil.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case vigil.EFORBIDDEN:
		return http.StatusForbidden
	case vigil.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case vigil.ERATELIMIT:
		return http.StatusTooManyRequests
	case vigil.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusInternalServerError
}
