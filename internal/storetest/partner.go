package storetest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// testPartners: partners are stored with their trust settings, found by
// name and by country, their API key sealed at rest; no two partners serve
// one country; removal is by name.
func testPartners(t *testing.T, db *store.DB) {
	ctx := context.Background()
	pub, _, _ := ed25519.GenerateKey(nil)
	key := base64.StdEncoding.EncodeToString(pub)
	p := vigil.NewPartner("meldpunt")
	p.Countries, p.BaseURL, p.PublicKey, p.APIKey = []string{"nl", "LU"}, "https://vigil.example.nl/", key, "vgl_secret_at_partner"
	if err := db.CreatePartner(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindPartner(ctx, "meldpunt")
	if err != nil || !slices.Equal(got.Countries, []string{"NL", "LU"}) || got.BaseURL != "https://vigil.example.nl" ||
		got.APIKey != "vgl_secret_at_partner" || !got.AcceptBaseline || got.AcceptNational || got.SendMedia || !got.IsVigil() {
		t.Fatalf("find: %+v %v", got, err)
	}
	var stored string
	if err := db.Driver().Reader().QueryRow(ctx, `SELECT api_key FROM partners WHERE name = $1`, "meldpunt").Scan(&stored); err != nil ||
		strings.Contains(stored, "secret") || !strings.HasPrefix(stored, "enc1:") {
		t.Errorf("API key at rest: %q %v", stored, err)
	}
	if by, err := db.PartnerForCountry(ctx, "lu"); err != nil || by.Name != "meldpunt" {
		t.Errorf("by country: %+v %v", by, err)
	}
	if by, err := db.FindPartnerByKey(ctx, key); err != nil || by.Name != "meldpunt" {
		t.Errorf("by key: %+v %v", by, err)
	}
	if _, err := db.PartnerForCountry(ctx, "DE"); !vigil.IsNotFound(err) {
		t.Errorf("no partner for DE: %v", err)
	}
	other := vigil.NewPartner("other")
	other.Countries, other.PublicKey = []string{"DE", "NL"}, key
	if err := db.CreatePartner(ctx, other); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("NL twice: %v", err)
	}
	other.Countries = []string{"DE"}
	if err := db.CreatePartner(ctx, other); err != nil {
		t.Fatalf("e-mail-only partner: %v", err)
	}
	dup := vigil.NewPartner("other")
	dup.Countries, dup.PublicKey = []string{"FR"}, key
	if err := db.CreatePartner(ctx, dup); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("name twice: %v", err)
	}
	bad := vigil.NewPartner("bad")
	bad.Countries, bad.PublicKey, bad.SendMedia = []string{"FR"}, key, true
	if err := db.CreatePartner(ctx, bad); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("media without an age key: %v", err)
	}
	got.AcceptNational, got.Countries = true, []string{"NL"}
	if err := db.UpdatePartner(ctx, got); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PartnerForCountry(ctx, "LU"); !vigil.IsNotFound(err) {
		t.Errorf("LU after update: %v", err)
	}
	list, err := db.ListPartners(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "meldpunt" || !list[0].AcceptNational || list[1].IsVigil() {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := db.RemovePartner(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if err := db.RemovePartner(ctx, "other"); !vigil.IsNotFound(err) {
		t.Errorf("remove twice: %v", err)
	}
}

// testPartnerAPIKeys: an API key is bound to a partner, at creation or
// later, and unbound; the binding moves the key generation (servers keep
// keys in memory) and is read with the key; a partner removed leaves no
// key bound to its ID for a partner added after it.
func testPartnerAPIKeys(t *testing.T, db *store.DB) {
	ctx := context.Background()
	pub, _, _ := ed25519.GenerateKey(nil)
	for _, name := range []string{"meldpunt", "ecpat"} {
		p := vigil.NewPartner(name)
		p.Countries, p.PublicKey = []string{map[string]string{"meldpunt": "NL", "ecpat": "SE"}[name]}, base64.StdEncoding.EncodeToString(pub)
		if err := db.CreatePartner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	meldpunt, err := db.FindPartner(ctx, "meldpunt")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("vgl_partner_key"))
	k := &vigil.APIKey{Name: "from-meldpunt", Hash: h[:], Scopes: []vigil.APIScope{vigil.ScopeReferral}, Partner: "meldpunt"}
	if err := db.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if got, err := db.FindAPIKeyByHash(ctx, h[:]); err != nil || got.PartnerID != meldpunt.ID || got.Partner != "meldpunt" {
		t.Fatalf("bound at creation: %+v %v", got, err)
	}
	h2 := sha256.Sum256([]byte("vgl_nobody"))
	if err := db.CreateAPIKey(ctx, &vigil.APIKey{Name: "to-nobody", Hash: h2[:], Partner: "nobody"}); !vigil.IsNotFound(err) {
		t.Errorf("a key of an unknown partner: %v", err)
	}
	g0, _ := db.APIKeyGeneration(ctx)
	if err := db.BindAPIKey(ctx, "from-meldpunt", "ecpat"); err != nil {
		t.Fatal(err)
	}
	if g1, _ := db.APIKeyGeneration(ctx); g1 == g0 {
		t.Error("binding a key left the key generation as it was: servers would keep the old binding")
	}
	if keys, err := db.ListAPIKeys(ctx); err != nil || len(keys) != 1 || keys[0].Partner != "ecpat" {
		t.Errorf("list after binding: %+v %v", keys, err)
	}
	if err := db.BindAPIKey(ctx, "from-meldpunt", "nobody"); !vigil.IsNotFound(err) {
		t.Errorf("bind to an unknown partner: %v", err)
	}
	if err := db.BindAPIKey(ctx, "nokey", "ecpat"); !vigil.IsNotFound(err) {
		t.Errorf("bind an unknown key: %v", err)
	}
	if err := db.BindAPIKey(ctx, "from-meldpunt", ""); err != nil {
		t.Fatal(err)
	}
	if got, err := db.FindAPIKeyByHash(ctx, h[:]); err != nil || got.PartnerID != 0 || got.Partner != "" {
		t.Errorf("unbound: %+v %v", got, err)
	}
	// Removing a partner unbinds its keys: the next partner may get its ID.
	if err := db.BindAPIKey(ctx, "from-meldpunt", "ecpat"); err != nil {
		t.Fatal(err)
	}
	if err := db.RemovePartner(ctx, "ecpat"); err != nil {
		t.Fatal(err)
	}
	again := vigil.NewPartner("ecpat2")
	again.Countries, again.PublicKey = []string{"SE"}, base64.StdEncoding.EncodeToString(pub)
	if err := db.CreatePartner(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, err := db.FindAPIKeyByHash(ctx, h[:]); err != nil || got.PartnerID != 0 {
		t.Errorf("after its partner was removed: %+v %v", got, err)
	}
}
