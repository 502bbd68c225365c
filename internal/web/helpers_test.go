package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

type env struct {
	t   *testing.T
	db  *store.DB
	srv *httptest.Server
	web *web.Server
}

func newEnv(t *testing.T, db *store.DB, mod ...func(*web.Config)) *env {
	t.Helper()
	cfg := web.Config{
		Reports: db, Users: db, APIKeys: db, Jobs: db,
		Secret:   []byte("0123456789abcdef0123456789abcdef"),
		FormRate: web.DefaultFormRate, APIRate: web.DefaultAPIRate,
		Accounts:   web.AccountsConfig{Audit: db, Argon2: testArgon2},
		Takedown:   web.TakedownConfig{Stats: db, Takedowns: db},
		Federation: web.FederationConfig{Partners: db, Referrals: db},
		Map:        web.MapConfig{Store: db, Rules: storetest.MapRules()},
		Exchanges:  web.ExchangesConfig{Service: db},
		Trust:      web.TrustConfig{Service: db},
	}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, srv: srv, web: s}
}

// browser is a client with a cookie jar that does not follow redirects.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) get(c *http.Client, path string, header ...string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(c, req)
}

func (e *env) postForm(c *http.Client, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(c, req)
}

func (e *env) do(c *http.Client, req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken loads a page and returns the CSRF token in its form.
func (e *env) formToken(c *http.Client, path string) string {
	e.t.Helper()
	_, body := e.get(c, path)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

var codeRE = regexp.MustCompile(`id="tracking-code">([0-9A-Z-]+)<`)

func (e *env) reportCount() int64 {
	e.t.Helper()
	c, err := e.db.ReportCounts(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return c.Reports
}

func (e *env) apiKey(name string) string {
	e.t.Helper()
	key, hash := auth.NewAPIKey()
	if err := e.db.CreateAPIKey(context.Background(), &vigil.APIKey{Name: name, Hash: hash}); err != nil {
		e.t.Fatal(err)
	}
	return key
}

// testTOTPSecret is the second factor addUser enrols for every user; login
// computes its codes.
const testTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// addUser creates a user with testTOTPSecret enrolled and returns its ID.
func (e *env) addUser(name string, role vigil.Role, password string) int64 {
	e.t.Helper()
	return e.createUser(name, role, password, testTOTPSecret)
}

// addUserWithoutTOTP creates a user who has not enrolled a second factor.
func (e *env) addUserWithoutTOTP(name string, role vigil.Role, password string) int64 {
	e.t.Helper()
	return e.createUser(name, role, password, "")
}

func (e *env) createUser(name string, role vigil.Role, password, secret string) int64 {
	e.t.Helper()
	h, err := auth.HashPassword(password, testArgon2)
	if err != nil {
		e.t.Fatal(err)
	}
	u := &vigil.User{Name: name, Role: role, PasswordHash: h, TOTPSecret: secret}
	if err := e.db.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// totpCode returns the current code of testTOTPSecret, after clearing the
// user's replay guard so that a test may sign one user in many times
// within 30 seconds.
func (e *env) totpCode(name string) string {
	e.t.Helper()
	ctx := context.Background()
	err := e.db.Driver().WithTx(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE users SET totp_last_step = 0 WHERE name = $1`, name)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	code, err := auth.TOTPCode(testTOTPSecret, auth.TOTPStep(time.Now()))
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

// testArgon2 is a cheap password hash for tests: the staff pages hash new
// passwords, and check unknown names, with it (the production cost is
// the auth package's to test).
var testArgon2 = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}
