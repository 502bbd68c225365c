package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/web"
)

func TestReferralMedia(t *testing.T) { storetest.ForEach(t, testReferralMedia) }

// testReferralMedia: a partner's client sends a medium its referral names,
// age-encrypted to us; it is refused (403, nothing stored) while our
// settings for the partner exchange no media, refused (400, nothing
// stored) when it does not hash to the path or the referral names no such
// medium, and otherwise stored once, encrypted, decrypting to the same
// SHA-256; sent again, it is not stored twice.
func testReferralMedia(t *testing.T, db *store.DB) {
	ctx := context.Background()
	ours, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	vault := testrig.Vault(t)
	e := newEnv(t, db, func(c *web.Config) {
		c.Federation.MediaVault, c.Federation.AgeIdentities = vault, []age.Identity{ours}
	})
	rp := e.addReferralPartner("meldpunt", "NL")

	body, medium, sha := mediaReferral(t, "NL-2026-000077")
	sum := sha256.Sum256(medium)
	if st, b := e.send(e.signed(rp, "/api/v1/referrals", body, nil)); st/100 != 2 {
		t.Fatalf("referral: %d %s", st, b)
	}
	stored := func() int { return count(t, db, `SELECT COUNT(*) FROM referral_media`) }
	put := func(path string, sealed []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, e.srv.URL+path, bytes.NewReader(sealed))
		req.Header.Set("Content-Type", federation.MediaContentType)
		req.Header.Set("Authorization", "Bearer "+rp.apiKey)
		federation.Sign(req, rp.key, sealed, time.Now())
		return e.send(req)
	}
	sealed, err := federation.SealMedia(ours.Recipient().String(), medium)
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/referrals/NL-2026-000077/media/"

	// Our settings for the partner exchange no media (the default).
	if st, b := put(path+sha, sealed); st != http.StatusForbidden || stored() != 0 {
		t.Errorf("media not accepted: %d %s, %d stored", st, b, stored())
	}
	p, err := db.FindPartner(ctx, "meldpunt")
	if err != nil {
		t.Fatal(err)
	}
	p.SendMedia, p.AgeRecipient = true, ours.Recipient().String() // any valid recipient
	if err := db.UpdatePartner(ctx, p); err != nil {
		t.Fatal(err)
	}
	for what, c := range map[string]struct {
		path string
		want int
	}{
		"wrong hash (another named medium)": {path + strings.Repeat("e", 64), http.StatusBadRequest},
		"a medium the referral names not":   {path + strings.Repeat("0", 64), http.StatusBadRequest},
		"not a hash":                        {path + "ABC", http.StatusBadRequest},
		"another reference":                 {"/api/v1/referrals/NL-2026-000078/media/" + sha, http.StatusNotFound},
	} {
		if st, b := put(c.path, sealed); st != c.want || !strings.Contains(b, `"error"`) || stored() != 0 {
			t.Errorf("%s: %d %s, %d stored", what, st, b, stored())
		}
	}
	if st, b := put(path+sha, medium); st != http.StatusBadRequest || stored() != 0 {
		t.Errorf("plain bytes: %d %s", st, b)
	}

	// The partner's client, as the sender runs it.
	client := &federation.Client{Key: rp.key}
	sender := *p
	sender.BaseURL, sender.APIKey = e.srv.URL, rp.apiKey
	for i, want := range []string{"201", "200"} {
		reply, err := client.SendMedia(ctx, &sender, "NL-2026-000077", medium)
		if err != nil || !strings.HasPrefix(reply, want) {
			t.Fatalf("send %d: %q %v", i, reply, err)
		}
	}
	if stored() != 1 {
		t.Fatalf("%d media stored, want 1", stored())
	}
	media, err := db.ReferralMedia(ctx, "meldpunt", "NL-2026-000077")
	if err != nil || media[sha] == "" {
		t.Fatalf("referral media: %v %v", media, err)
	}
	got, err := vault.Get(ctx, media[sha])
	if err != nil || sha256.Sum256(got) != sum {
		t.Fatalf("stored medium: %v (SHA-256 differs or unreadable)", err)
	}
}

// mediaReferral returns a referral (as referralBody) whose third item is a
// generated, benign image, with the image and its SHA-256.
func mediaReferral(t *testing.T, reference string) (body, medium []byte, sha string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 24, 24))
	for y := range 24 {
		for x := range 24 {
			img.Set(x, y, color.RGBA{uint8(x * 10), 90, uint8(y * 10), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	var ref federation.Referral
	if err := json.Unmarshal(referralBody(reference, "https://files.example.nl/m"), &ref); err != nil {
		t.Fatal(err)
	}
	ref.URLs[0].Media[2].SHA256 = hex.EncodeToString(sum[:])
	body, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	return body, buf.Bytes(), hex.EncodeToString(sum[:])
}
