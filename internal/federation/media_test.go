package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil"
)

// benignPNG is a generated gradient, nothing else.
func benignPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 8), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSendMedia(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	key := SigningKey([]byte("a secret of at least 32 bytes...."))
	pub := key.Public().(ed25519.PublicKey)
	var mu sync.Mutex
	received := map[string][]byte{}
	puts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		puts++
		body, _ := io.ReadAll(r.Body)
		if _, err := Verify(r, pub, body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPut || r.Header.Get("Authorization") != "Bearer vgl_key" ||
			r.Header.Get("Content-Type") != MediaContentType || !strings.HasPrefix(r.URL.Path, "/api/v1/referrals/NL-1/media/") {
			http.Error(w, "unexpected request "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
			return
		}
		sha := strings.TrimPrefix(r.URL.Path, "/api/v1/referrals/NL-1/media/")
		plain, err := OpenMedia(bytes.NewReader(body), sha, id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, ok := received[sha]; ok {
			w.WriteHeader(http.StatusOK) // stored before: nothing twice
			return
		}
		received[sha] = plain
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	c := &Client{Key: key}
	p := &vigil.Partner{Name: "lu", BaseURL: srv.URL, APIKey: "vgl_key", AgeRecipient: id.Recipient().String(), SendMedia: true}
	img := benignPNG(t)
	sum := sha256.Sum256(img)
	ctx := context.Background()
	for range 2 {
		if _, err := c.SendMedia(ctx, p, "NL-1", img); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	got := received[hex.EncodeToString(sum[:])]
	if len(received) != 1 || sha256.Sum256(got) != sum {
		t.Fatalf("received %d media; want the one, same SHA-256", len(received))
	}

	// Not allowed: nothing sent.
	p.SendMedia = false
	before := puts
	if _, err := c.SendMedia(ctx, p, "NL-1", img); !Permanent(err) || puts != before {
		t.Fatalf("send-media off: %v, %d requests", err, puts-before)
	}
}

func TestOpenMediaRefuses(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	other, _ := age.GenerateX25519Identity()
	img := benignPNG(t)
	sum := sha256.Sum256(img)
	sha := hex.EncodeToString(sum[:])
	sealed, err := SealMedia(id.Recipient().String(), img)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, img[8:40]) {
		t.Fatal("the sealed medium holds the plain bytes")
	}
	if plain, err := OpenMedia(bytes.NewReader(sealed), sha, id); err != nil || !bytes.Equal(plain, img) {
		t.Fatalf("open: %v", err)
	}
	wrong := strings.Repeat("0", 64)
	for what, f := range map[string]func() ([]byte, error){
		"wrong hash":     func() ([]byte, error) { return OpenMedia(bytes.NewReader(sealed), wrong, id) },
		"not a hash":     func() ([]byte, error) { return OpenMedia(bytes.NewReader(sealed), "../x", id) },
		"other identity": func() ([]byte, error) { return OpenMedia(bytes.NewReader(sealed), sha, other) },
		"plain body":     func() ([]byte, error) { return OpenMedia(bytes.NewReader(img), sha, id) },
		"too large":      func() ([]byte, error) { return OpenMedia(io.LimitReader(zeros{}, MaxSealedBytes+10), sha, id) },
	} {
		if b, err := f(); vigil.ErrorCode(err) != vigil.EINVALID || b != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	if _, err := SealMedia("not-a-recipient", img); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("bad recipient: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
