package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// lookupFixture is a server with a matcher over two banks, and a benign
// generated picture whose PDQ hash the first bank holds.
type lookupFixture struct {
	*env
	key    string
	png    []byte
	hashes hashing.Result
	pdqID  int64
	md5ID  int64
}

// generatedPNG draws coloured noise blocks (which PDQ rates high quality).
func generatedPNG(t testing.TB, seed uint64, w, h int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for by := 0; by < h; by += 16 {
		for bx := 0; bx < w; bx += 16 {
			c := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			for y := by; y < min(by+16, h); y++ {
				for x := bx; x < min(bx+16, w); x++ {
					m.Set(x, y, c)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newLookupFixture(t *testing.T, db *store.DB, observe func(string, bool), mods ...func(*web.Config)) *lookupFixture {
	t.Helper()
	ctx := context.Background()
	f := &lookupFixture{png: generatedPNG(t, 7, 128, 96)}
	var err error
	if f.hashes, err = hashing.HashBytes(f.png, hashing.Options{}); err != nil {
		t.Fatal(err)
	}
	known := &vigil.Bank{Name: "known", Source: vigil.SourceNCMEC, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
	other := &vigil.Bank{Name: "partner", Source: vigil.SourceINHOPEPartner, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
	for _, b := range []*vigil.Bank{known, other} {
		if err := db.CreateBank(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	pdqE := &vigil.BankEntry{Signal: vigil.SignalPDQ, Value: f.hashes.PDQ.String(), Classification: "a1", AddedFrom: "test"}
	md5E := &vigil.BankEntry{Signal: vigil.SignalMD5, Value: hex.EncodeToString(f.hashes.MD5[:]), Classification: "b2", AddedFrom: "test"}
	if _, err := db.AddBankEntries(ctx, known.ID, []*vigil.BankEntry{pdqE}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddBankEntries(ctx, other.ID, []*vigil.BankEntry{md5E}); err != nil {
		t.Fatal(err)
	}
	f.pdqID, f.md5ID = pdqE.ID, md5E.ID
	m, err := match.New(ctx, match.Config{Store: db, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	f.env = newEnv(t, db, func(c *web.Config) {
		c.Lookup = web.LookupConfig{Matcher: m, Hashing: hashing.Options{MaxBytes: 1 << 20, MaxPixels: 4_000_000}, Observe: observe}
		c.Statistics = web.StatisticsConfig{Service: db}
		for _, mod := range mods {
			mod(c)
		}
	})
	f.key = f.apiKeyWith("platform", []vigil.APIScope{vigil.ScopeLookup}, 0, 0)
	return f
}

type lookupMatchJSON struct {
	Signal         string `json:"signal"`
	Bank           string `json:"bank"`
	EntryID        string `json:"entry_id"`
	Distance       int    `json:"distance"`
	Classification string `json:"classification"`
	Source         string `json:"source"`
	Variant        string `json:"variant"`
	Transformed    bool   `json:"transformed"`
	// A video match's shares of frames found.
	QueryPercent    float64 `json:"query_percent"`
	ComparedPercent float64 `json:"compared_percent"`
}

type lookupAnswerJSON struct {
	Matches []lookupMatchJSON `json:"matches"`
	Hashes  map[string]any    `json:"hashes"`
	Results []struct {
		Signal  string            `json:"signal"`
		Value   string            `json:"value"`
		Matches []lookupMatchJSON `json:"matches"`
	} `json:"results"`
	Error string `json:"error"`
}

func (f *lookupFixture) call(method, path, ct string, body []byte) (int, lookupAnswerJSON) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.key)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, b := f.do(http.DefaultClient, req)
	var out lookupAnswerJSON
	if err := json.Unmarshal([]byte(b), &out); err != nil {
		f.t.Fatalf("%s %s: not JSON: %q", method, path, b)
	}
	return resp.StatusCode, out
}

func TestAPILookup(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		observed := map[string]int{}
		var mu = make(chan struct{}, 1)
		f := newLookupFixture(t, db, func(sig string, matched bool) {
			mu <- struct{}{}
			observed[fmt.Sprintf("%s/%v", sig, matched)]++
			<-mu
		})
		pdqHex, md5Hex := f.hashes.PDQ.String(), hex.EncodeToString(f.hashes.MD5[:])
		near := f.hashes.PDQ
		near[0] ^= 0b111 // three bits away

		status, out := f.call("GET", "/api/v1/lookup?pdq="+near.String(), "", nil)
		if status != 200 || len(out.Matches) != 1 {
			t.Fatalf("pdq: %d %+v", status, out)
		}
		want := lookupMatchJSON{Signal: "pdq", Bank: "known", EntryID: fmt.Sprint(f.pdqID), Distance: 3,
			Classification: "a1", Source: "ncmec", Variant: "orig"}
		if out.Matches[0] != want {
			t.Errorf("pdq match: %+v, want %+v", out.Matches[0], want)
		}
		status, out = f.call("GET", "/api/v1/lookup?md5="+strings.ToUpper(md5Hex), "", nil)
		if status != 200 || len(out.Matches) != 1 || out.Matches[0].Bank != "partner" || out.Matches[0].Source != "inhope-partner" {
			t.Errorf("md5: %d %+v", status, out)
		}
		// Nothing known: an empty list, not null.
		status, out = f.call("GET", "/api/v1/lookup?sha256="+strings.Repeat("ab", 32), "", nil)
		if status != 200 || out.Matches == nil || len(out.Matches) != 0 {
			t.Errorf("unknown: %d %+v", status, out)
		}
		// Filters by bank and classification.
		if _, out = f.call("GET", "/api/v1/lookup?pdq="+pdqHex+"&md5="+md5Hex+"&bank=partner", "", nil); len(out.Matches) != 1 || out.Matches[0].Signal != "md5" {
			t.Errorf("bank filter: %+v", out)
		}
		if _, out = f.call("GET", "/api/v1/lookup?pdq="+pdqHex+"&md5="+md5Hex+"&classification=a1", "", nil); len(out.Matches) != 1 || out.Matches[0].Signal != "pdq" {
			t.Errorf("classification filter: %+v", out)
		}
		for _, bad := range []string{"", "?pdq=xyz", "?md5=abc", "?pdq=" + pdqHex + "&pdq=" + pdqHex} {
			if status, out := f.call("GET", "/api/v1/lookup"+bad, "", nil); status != 400 || out.Error == "" {
				t.Errorf("GET %q: %d %+v, want 400", bad, status, out)
			}
		}

		// A batch.
		batch, _ := json.Marshal(map[string]any{"hashes": []map[string]string{
			{"signal": "pdq", "value": near.String()}, {"signal": "md5", "value": md5Hex}, {"signal": "sha1", "value": strings.Repeat("0", 40)},
		}})
		status, out = f.call("POST", "/api/v1/lookup", "application/json", batch)
		if status != 200 || len(out.Results) != 3 || len(out.Results[0].Matches) != 1 || len(out.Results[1].Matches) != 1 ||
			out.Results[2].Matches == nil || len(out.Results[2].Matches) != 0 || out.Results[1].Value != md5Hex {
			t.Errorf("batch: %d %+v", status, out)
		}
		var big bytes.Buffer
		big.WriteString(`{"hashes": [`)
		for i := 0; i <= vigil.MaxLookupBatch; i++ {
			if i > 0 {
				big.WriteString(",")
			}
			fmt.Fprintf(&big, `{"signal": "md5", "value": "%032x"}`, i)
		}
		big.WriteString(`]}`)
		if status, out := f.call("POST", "/api/v1/lookup", "application/json", big.Bytes()); status != 400 || !strings.Contains(out.Error, "1000") {
			t.Errorf("1001 hashes: %d %+v", status, out)
		}

		// A file as the raw body, and in a multipart form.
		status, out = f.call("POST", "/api/v1/lookup", "image/png", f.png)
		if status != 200 || len(out.Matches) != 2 || out.Hashes["pdq"] != pdqHex || out.Hashes["md5"] != md5Hex {
			t.Errorf("raw file: %d %+v", status, out)
		}
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		_ = mw.WriteField("bank", "known")
		fw, _ := mw.CreateFormFile("file", "picture.png")
		_, _ = fw.Write(f.png)
		_ = mw.Close()
		status, out = f.call("POST", "/api/v1/lookup", mw.FormDataContentType(), mp.Bytes())
		if status != 200 || len(out.Matches) != 1 || out.Matches[0].Bank != "known" {
			t.Errorf("multipart file: %d %+v", status, out)
		}
		if observed["pdq/true"] == 0 || observed["sha256/false"] == 0 {
			t.Errorf("observed: %v", observed)
		}
	})
}

// TestAPILookupRotated: a rotated copy of a known picture matches, and the
// answer says so.
func TestAPILookupRotated(t *testing.T) {
	f := newLookupFixture(t, storetest.Open(t, "sqlite"), nil)
	img, err := png.Decode(bytes.NewReader(f.png))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	rot := image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			rot.Set(b.Dy()-1-y, x, img.At(x, y))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, rot); err != nil {
		t.Fatal(err)
	}
	status, out := f.call("POST", "/api/v1/lookup", "application/octet-stream", buf.Bytes())
	if status != 200 || len(out.Matches) != 1 || !out.Matches[0].Transformed || out.Matches[0].Variant == "orig" {
		t.Errorf("rotated: %d %+v", status, out)
	}
}

// TestAPILookupHostileFiles: files that are not images, cut short, too
// large or bombs get a 4xx with the reason, and the server goes on.
func TestAPILookupHostileFiles(t *testing.T) {
	f := newLookupFixture(t, storetest.Open(t, "sqlite"), nil)
	var bomb bytes.Buffer
	// A PNG header declaring 30000×30000 pixels: over MaxPixels, refused
	// before any pixel memory is taken.
	if err := png.Encode(&bomb, image.NewGray(image.Rect(0, 0, 30000, 1))); err != nil {
		t.Fatal(err)
	}
	hdr := bomb.Bytes()
	hdr[16+4], hdr[16+5], hdr[16+6], hdr[16+7] = 0, 0, 0x75, 0x30 // height 30000
	binary.BigEndian.PutUint32(hdr[29:], crc32.ChecksumIEEE(hdr[12:29]))
	for _, tc := range []struct {
		name string
		body []byte
		want int
	}{
		{"empty", nil, 400},
		{"text", []byte("hello, this is not an image"), 415},
		{"cut short", f.png[:len(f.png)/2], 400},
		{"too large", bytes.Repeat([]byte{0xff}, 2<<20), 413},
		{"pixel bomb", hdr, 413},
	} {
		status, out := f.call("POST", "/api/v1/lookup", "application/octet-stream", tc.body)
		if status != tc.want || out.Error == "" {
			t.Errorf("%s: %d %+v, want %d", tc.name, status, out, tc.want)
		}
	}
	if status, _ := f.call("GET", "/api/v1/lookup?md5="+strings.Repeat("0", 32), "", nil); status != 200 {
		t.Errorf("after hostile files: %d", status)
	}
}

// TestAPILookupCounted: lookups are counted per key (a batch costs one
// call per hash), and the hashes asked are stored nowhere.
func TestAPILookupCounted(t *testing.T) {
	dir := t.TempDir()
	db := storetest.OpenSQLite(t, filepath.Join(dir, "vigil.db"))
	f := newLookupFixture(t, db, nil)
	md5Hex := hex.EncodeToString(f.hashes.MD5[:])
	asked := strings.Repeat("c0ffee", 10) + "abcd"
	f.call("GET", "/api/v1/lookup?md5="+md5Hex, "", nil)
	f.call("GET", "/api/v1/lookup?pdq="+asked, "", nil)
	batch := fmt.Sprintf(`{"hashes": [{"signal": "md5", "value": "%s"}, {"signal": "sha256", "value": "%s"}]}`, md5Hex, asked)
	f.call("POST", "/api/v1/lookup", "application/json", []byte(batch))
	f.web.Close(context.Background())
	use, err := db.APIKeyUsage(context.Background(), "2000-01-01")
	if err != nil || len(use) != 1 || use[0].Requests != 4 || use[0].Lookups != 4 || use[0].Matches != 2 {
		t.Errorf("usage: %+v %v", use, err)
	}
	// A quota counts a batch's hashes.
	capped := f.apiKeyWith("capped", []vigil.APIScope{vigil.ScopeLookup}, 0, 2)
	f.key = capped
	if status, _ := f.call("POST", "/api/v1/lookup", "application/json", []byte(batch+"")); status != 200 {
		t.Errorf("batch of 2 within a quota of 2: %d", status)
	}
	if status, _ := f.call("POST", "/api/v1/lookup", "application/json", []byte(batch)); status != 429 {
		t.Errorf("batch over the quota: %d, want 429", status)
	}
	// The database, its WAL and anything else in the folder: no trace of
	// the hash asked, as text or as bytes.
	raw, _ := hex.DecodeString(asked)
	files, _ := os.ReadDir(dir)
	for _, fi := range files {
		b, err := os.ReadFile(filepath.Join(dir, fi.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(asked)) || bytes.Contains(b, raw[:16]) {
			t.Errorf("%s holds a hash that was only asked about", fi.Name())
		}
	}
}
