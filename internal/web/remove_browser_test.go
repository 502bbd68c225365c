package web_test

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/browsertest"
	"github.com/vigil-hotline/vigil/internal/conformance"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// wantHashes is what the page must send for a file: exactly what
// `vigil hash` computes for it (hashing.HashFile with the default
// options, as cmd/vigil/hash.go calls it): the PDQ hash when its quality
// is 50 or more, and the MD5 and SHA-256 of the bytes; for a video, the
// digests only.
func wantHashes(t *testing.T, path string, video bool) []vigil.VictimHash {
	t.Helper()
	res, err := hashing.HashFile(path, hashing.Options{})
	if err != nil && !video {
		t.Fatalf("%s: %v", path, err)
	}
	var out []vigil.VictimHash
	if !video && res.Quality >= 50 {
		q := res.Quality
		out = append(out, vigil.VictimHash{Type: vigil.SignalPDQ, Value: res.PDQ.String(), Quality: &q})
	}
	return append(out, vigil.VictimHash{Type: vigil.SignalMD5, Value: hex.EncodeToString(res.MD5[:])},
		vigil.VictimHash{Type: vigil.SignalSHA256, Value: hex.EncodeToString(res.SHA256[:])})
}

// bitExactImages lists the conformance images whose PDQ hash the pure-Go
// build computes exactly as the C++ reference does.
func bitExactImages(t *testing.T) []string {
	t.Helper()
	dir := conformance.PDQDir(t)
	f, err := os.Open(filepath.Join(dir, "expected", "cpp-reference-local.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || cols[0] == "path" {
			continue
		}
		p := filepath.Join(dir, cols[0])
		if res, err := hashing.HashFile(p, hashing.Options{}); err == nil && res.PDQ.String() == cols[1] {
			out = append(out, p)
		}
	}
	return out
}

type sentRequest struct {
	URL, Method string
	Body        []byte
}

// TestBrowserRemoveHashesOnDevice picks generated pictures, a video and
// every bit-exact conformance image on the victim's page in headless
// Chromium. Chromium's network log must show that the only request with a
// body is the confirmed submission, to Vigil itself, holding nothing but
// hashes (and the description), and that those hashes are `vigil hash`'s
// for every file. It logs the time the page took to hash a 12-megapixel
// JPEG.
func TestBrowserRemoveHashesOnDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes about fifty pictures in WebAssembly; skipped with -short")
	}
	ctx := browsertest.NewTimeout(t, 8*time.Minute)
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withVictims(db))

	dir := t.TempDir()
	write := func(name string, b []byte, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	im := simnet.NewImages(640, 480)
	b1, err1 := im.Bytes(7, simnet.Variant{})
	gen1 := write("holiday-1.jpg", b1, err1)
	b2, err2 := im.Bytes(8, simnet.Variant{Format: "png"})
	gen2 := write("holiday-2.png", b2, err2)
	b3, err3 := simnet.NewImages(4000, 3000).Bytes(9, simnet.Variant{Quality: 90})
	big := write("camera-12mp.jpg", b3, err3)
	video := write("clip.mp4", simnet.FakeVideo(3), nil)
	files := append([]string{gen1, gen2, big, video}, bitExactImages(t)...)

	var mu sync.Mutex
	var requests []sentRequest
	err := chromedp.Listen(ctx, func(ev any) {
		if r, ok := ev.(*network.EventRequestWillBeSent); ok {
			var body []byte
			for _, p := range r.Request.PostDataEntries {
				body = append(body, p.Bytes...)
			}
			mu.Lock()
			requests = append(requests, sentRequest{URL: r.Request.URL, Method: r.Request.Method, Body: body})
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	posts := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, r := range requests {
			if r.Method != "GET" {
				n++
			}
		}
		return n
	}

	want := map[string][]vigil.VictimHash{}
	var batches int
	// At most 16 files (48 hashes) a submission: the cap is 50.
	for start := 0; start < len(files); start += 16 {
		batch := files[start:min(start+16, len(files))]
		err := chromedp.Do(ctx,
			chromedp.Navigate(e.srv.URL+"/remove?lang=nl"),
			chromedp.WaitVisible("#remove-form"),
		)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("remove-form").dataset.ready === "1"`,
			chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
			t.Fatalf("the hashing module did not load: %v", err)
		}
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#files", batch)); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
			`document.getElementById("remove-form").dataset.hashed === "`+itoa(len(batch))+`"`,
			chromedp.WithPollingTimeout(5*time.Minute), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			t.Fatalf("hashing batch %d: %v", batches, err)
		}
		items, err := chromedp.Run(ctx, chromedp.Evaluate[[]map[string]string](
			`Array.from(document.querySelectorAll("#items li")).map(li => ({name: li.dataset.name, ms: li.dataset.ms, hashes: li.dataset.hashes || ""}))`))
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range items {
			p := batch[i]
			if it["name"] != filepath.Base(p) {
				t.Fatalf("item %d is %q, want %q", i, it["name"], filepath.Base(p))
			}
			if p == big || strings.HasSuffix(p, "exif-rotn-6.jpg") {
				t.Logf("the page hashed %s (12 megapixels) in %s ms", filepath.Base(p), it["ms"])
			}
			want[p] = wantHashes(t, p, p == video)
		}
		if n := posts(); n != batches {
			t.Fatalf("%d requests with a body before the person confirmed batch %d", n-batches, batches)
		}
		browsertest.Screenshot(ctx, t, "remove-preview-"+itoa(batches))
		if err := chromedp.Do(ctx, chromedp.Click("#confirm"), chromedp.WaitVisible("#tracking-code")); err != nil {
			t.Fatal(err)
		}
		batches++
	}

	// What left the page: everything to Vigil itself (or local blob:
	// thumbnails), and one body per confirmed batch, holding hashes only.
	mu.Lock()
	defer mu.Unlock()
	var sent []vigil.VictimHash
	var bodies int
	for _, r := range requests {
		if !strings.HasPrefix(r.URL, e.srv.URL+"/") && !strings.HasPrefix(r.URL, "blob:") {
			t.Errorf("a request left for %s", r.URL)
		}
		if r.Method == "GET" && len(r.Body) == 0 {
			continue
		}
		bodies++
		if r.Method != "POST" || !strings.HasPrefix(r.URL, e.srv.URL+"/remove?") {
			t.Errorf("%s %s carried a body", r.Method, r.URL)
			continue
		}
		for _, p := range files {
			if strings.Contains(string(r.Body), filepath.Base(p)) {
				t.Errorf("the submission names the file %s", filepath.Base(p))
			}
		}
		dec := json.NewDecoder(strings.NewReader(string(r.Body)))
		dec.DisallowUnknownFields()
		var body struct {
			Hashes      []vigil.VictimHash `json:"hashes"`
			Description string             `json:"description"`
		}
		if err := dec.Decode(&body); err != nil {
			t.Fatalf("submission is not hashes only: %v\n%.300s", err, r.Body)
		}
		sent = append(sent, body.Hashes...)
	}
	if bodies != batches {
		t.Errorf("%d requests with a body, want %d (one per confirmed batch)", bodies, batches)
	}
	var all []vigil.VictimHash
	for _, p := range files {
		all = append(all, want[p]...)
	}
	key := func(h vigil.VictimHash) string {
		q := -1
		if h.Quality != nil {
			q = *h.Quality
		}
		return string(h.Type) + ":" + h.Value + ":" + itoa(q)
	}
	var got, exp []string
	for _, h := range sent {
		got = append(got, key(h))
	}
	for _, h := range all {
		exp = append(exp, key(h))
	}
	if !slices.Equal(got, exp) {
		for i := range max(len(got), len(exp)) {
			g, w := "", ""
			if i < len(got) {
				g = got[i]
			}
			if i < len(exp) {
				w = exp[i]
			}
			if g != w {
				t.Errorf("hash %d: page sent %s, vigil hash gives %s", i, g, w)
			}
		}
	}
	t.Logf("%d files in %d submissions; the page sent the same %d hashes as vigil hash", len(files), batches, len(sent))
	subs, err := db.ListVictimSubmissions(t.Context(), 100)
	if err != nil || len(subs) != batches {
		t.Errorf("%d submissions stored (%v), want %d", len(subs), err, batches)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
