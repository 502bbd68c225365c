package web_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/video"
	"github.com/vigil-hotline/vigil/internal/web"
	"github.com/vigil-hotline/vigil/internal/web/openapi"
)

// routerAPIRoutes reads the web package's sources and returns every route
// registered under /api/ ("METHOD /path"): the router as written, so that
// a route added without its entry in the document fails the test.
func routerAPIRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			pattern, _ := strconv.Unquote(lit.Value)
			method, path, ok := strings.Cut(pattern, " ")
			if !ok {
				method, path = "", pattern
			}
			if strings.HasPrefix(path, "/api/") || path == "/api" {
				if method == "" {
					t.Errorf("%s: route %q under /api/ has no method", fset.Position(lit.Pos()), pattern)
				}
				out = append(out, method+" "+strings.TrimSuffix(path, "{$}"))
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIRoutes: the document names every /api/ route of the router,
// and no route that the router lacks.
func TestOpenAPIRoutes(t *testing.T) {
	documented, err := openapi.Operations()
	if err != nil {
		t.Fatal(err)
	}
	routed := routerAPIRoutes(t)
	if len(routed) < 5 {
		t.Fatalf("found only %d /api/ routes in the sources: %v", len(routed), routed)
	}
	// Path parameters are written {name} in both.
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is not in the OpenAPI document", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("the OpenAPI document names %q, which the router does not serve", d)
		}
	}
}

func TestOpenAPIResponses(t *testing.T) {
	ctx := context.Background()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("document version %s, want 3.1", doc.OpenAPI)
	}
	// The reference page is HTML: read as a string, which its schema is.
	openapi3filter.RegisterBodyDecoder("text/html", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
	// Video lookups are checked where ffmpeg is (CI requires it), not
	// under -short (ffmpeg runs as a subprocess).
	var mods []func(*web.Config)
	_, noFFmpeg := video.Find()
	videoLookups := !testing.Short() && (noFFmpeg == nil || os.Getenv("VIGIL_REQUIRE_FFMPEG") == "1")
	if videoLookups {
		mods = append(mods, withVideoLookups(t))
	}
	// The published list is signed JSON lines: read as a string.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
	db := storetest.Open(t, "sqlite")
	mods = append(mods, func(c *web.Config) { c.Publish = web.PublishConfig{Banks: db, Key: publishKey()} })
	mediaID, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	mods = append(mods, func(c *web.Config) {
		c.Federation.MediaVault, c.Federation.AgeIdentities = testrig.Vault(t), []age.Identity{mediaID}
	})
	f := newLookupFixture(t, db, nil, mods...)
	doc.Servers = openapi3.Servers{{URL: f.srv.URL}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	reporter := f.apiKey("reporter")
	seen := map[string]bool{}
	var signWith *referralPartner // signs the referral calls
	check := func(method, path, key, ct string, body []byte, want int) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
		if signWith != nil {
			federation.Sign(req, signWith.key, body, time.Now())
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		// The route is found on a body-less copy: the request was sent.
		vreq, _ := http.NewRequest(method, f.srv.URL+path, nil)
		route, params, err := router.FindRoute(vreq)
		if err != nil {
			t.Errorf("%s %s: not in the document: %v", method, path, err)
			return b
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
			Status:                 resp.StatusCode, Header: resp.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		in.SetBodyBytes(b)
		if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
			t.Errorf("%s %s → %d: the answer does not follow the document: %v\n%s", method, path, resp.StatusCode, err, b)
		}
		seen[strings.ToUpper(method)+" "+route.Path] = true
		return b
	}

	page := check("GET", "/api/", "", "", nil, 200)
	if !bytes.Contains(page, []byte("/api/v1/lookup")) || bytes.Contains(page, []byte("<script")) ||
		bytes.Contains(page, []byte(`src="http`)) || bytes.Contains(page, []byte(`href="http`)) || bytes.Contains(page, []byte(`href="//`)) {
		t.Errorf("the reference page lacks the endpoints or loads something from elsewhere")
	}
	check("GET", "/api/openapi.json", "", "", nil, 200)

	out := check("POST", "/api/v1/reports", reporter, "application/json", []byte(`{"urls": ["https://example.com/a"]}`), 201)
	code := jsonField(t, out, "tracking_code")
	check("POST", "/api/v1/reports", reporter, "application/json", []byte(`{"urls": 5}`), 400)
	check("POST", "/api/v1/reports", "", "application/json", []byte(`{}`), 401)
	check("POST", "/api/v1/reports", f.key, "application/json", []byte(`{"urls": ["https://example.com/b"]}`), 403)
	check("GET", "/api/v1/reports/"+code, reporter, "", nil, 200)
	check("GET", "/api/v1/reports/"+code, f.apiKey("someone-else"), "", nil, 404)
	check("GET", "/api/v1/stats", reporter, "", nil, 200)
	check("GET", "/api/v1/stats", f.key, "", nil, 403)
	check("GET", "/api/v1/stats?from=2026-01-01&to=2026-12-31", reporter, "", nil, 200)
	check("GET", "/api/v1/stats?from=2026-02-30", reporter, "", nil, 400)
	check("GET", "/api/v1/stats/providers?from=2026-01-01&to=2026-12-31", reporter, "", nil, 200)

	md5Hex := hex.EncodeToString(f.hashes.MD5[:])
	check("GET", "/api/v1/lookup?pdq="+f.hashes.PDQ.String(), f.key, "", nil, 200)
	check("GET", "/api/v1/lookup?md5="+md5Hex+"&bank=partner", f.key, "", nil, 200)
	check("GET", "/api/v1/lookup?sha1=zz", f.key, "", nil, 400)
	batch := fmt.Sprintf(`{"hashes": [{"signal": "md5", "value": "%s"}, {"signal": "pdq", "value": "%s"}]}`, md5Hex, f.hashes.PDQ)
	check("POST", "/api/v1/lookup", f.key, "application/json", []byte(batch), 200)
	check("POST", "/api/v1/lookup", f.key, "image/png", f.png, 200)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "x.png")
	_, _ = fw.Write(f.png)
	_ = mw.Close()
	check("POST", "/api/v1/lookup", f.key, mw.FormDataContentType(), mp.Bytes(), 200)
	check("POST", "/api/v1/lookup", f.key, "application/octet-stream", []byte("not an image"), 415)
	check("POST", "/api/v1/lookup", f.key, "application/octet-stream", bytes.Repeat([]byte{1}, 2<<20), 413)
	if videoLookups {
		known := addKnownVideo(t, f)
		if out := check("POST", "/api/v1/lookup", f.key, "video/mp4", known, 200); !bytes.Contains(out, []byte(`"compared_percent"`)) {
			t.Errorf("video lookup: %s", out)
		}
		check("POST", "/api/v1/lookup", f.key, "video/mp4", known[:len(known)/3], 400)
	}
	partner := f.apiKeyWith("partner", []vigil.APIScope{vigil.ScopeExchangePublish}, 0, 0)
	check("GET", "/api/v1/exchange/list", partner, "", nil, 200)
	check("GET", "/api/v1/exchange/list?after=0&limit=10", partner, "", nil, 200)
	check("GET", "/api/v1/exchange/list?limit=0", partner, "", nil, 400)
	check("GET", "/api/v1/exchange/list", "", "", nil, 401)
	check("GET", "/api/v1/exchange/list", f.key, "", nil, 403)
	capped := f.apiKeyWith("capped", []vigil.APIScope{vigil.ScopeLookup}, 0, 1)
	check("POST", "/api/v1/lookup", capped, "application/json", []byte(batch), 429)

	rp := f.addReferralPartner("meldpunt", "NL")
	signWith = rp
	referral := referralBody("NL-2026-000042", "https://files.example.nl/a")
	check("POST", "/api/v1/referrals", rp.apiKey, "application/json", referral, 201)
	check("POST", "/api/v1/referrals", rp.apiKey, "application/json", referral, 200)
	check("POST", "/api/v1/referrals", rp.apiKey, "application/json", []byte(`{"version":1}`), 400)
	check("POST", "/api/v1/referrals", reporter, "application/json", referral, 403)
	up := []byte(fmt.Sprintf(`{"reference":"BE-2026-000001","status":"removed","at":%q}`, time.Now().UTC().Format(time.RFC3339)))
	check("POST", "/api/v1/referrals/BE-2026-000001/status", rp.apiKey, "application/json", up, 404)
	check("POST", "/api/v1/referrals/BE-2026-000001/status", rp.apiKey, "application/json", []byte(`{}`), 400)
	withMedia, medium, mediumSHA := mediaReferral(t, "NL-2026-000044")
	check("POST", "/api/v1/referrals", rp.apiKey, "application/json", withMedia, 201)
	sealed, err := federation.SealMedia(mediaID.Recipient().String(), medium)
	if err != nil {
		t.Fatal(err)
	}
	mediaPath := "/api/v1/referrals/NL-2026-000044/media/"
	check("PUT", mediaPath+mediumSHA, rp.apiKey, federation.MediaContentType, sealed, 403)
	mediaPartner, err := db.FindPartner(ctx, "meldpunt")
	if err != nil {
		t.Fatal(err)
	}
	mediaPartner.SendMedia, mediaPartner.AgeRecipient = true, mediaID.Recipient().String()
	if err := db.UpdatePartner(ctx, mediaPartner); err != nil {
		t.Fatal(err)
	}
	check("PUT", mediaPath+strings.Repeat("e", 64), rp.apiKey, federation.MediaContentType, sealed, 400)
	check("PUT", "/api/v1/referrals/NL-2026-000045/media/"+mediumSHA, rp.apiKey, federation.MediaContentType, sealed, 404)
	check("PUT", mediaPath+mediumSHA, rp.apiKey, federation.MediaContentType, sealed, 201)
	check("PUT", mediaPath+mediumSHA, rp.apiKey, federation.MediaContentType, sealed, 200)
	signWith = nil
	check("POST", "/api/v1/referrals", rp.apiKey, "application/json", referral, 401)
	check("GET", "/api/v1/referrals/NL-2026-000042", rp.apiKey, "", nil, 200)
	check("GET", "/api/v1/referrals/NL-2026-000043", rp.apiKey, "", nil, 404)
	check("GET", "/api/v1/referrals/..bad", rp.apiKey, "", nil, 400)
	check("GET", "/api/v1/referrals/NL-2026-000042", f.apiKeyWith("loose", []vigil.APIScope{vigil.ScopeReferral}, 0, 0), "", nil, 403)
	check("GET", "/api/v1/referrals/NL-2026-000042", "", "", nil, 401)

	// Every documented operation was called.
	ops, _ := openapi.Operations()
	for _, op := range ops {
		if !seen[op] {
			t.Errorf("%s: no real answer was checked against the document", op)
		}
	}
}

func jsonField(t *testing.T, b []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	s, _ := m[name].(string)
	return s
}
