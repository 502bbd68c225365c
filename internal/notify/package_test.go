package notify

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// testMedia is a set of generated benign images by SHA-256.
type testMedia map[string][]byte

func (tm testMedia) open(sha string) (io.ReadCloser, error) {
	b, ok := tm[sha]
	if !ok {
		return nil, errors.New("no such media")
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func describe(b []byte) Media {
	s := sha256.Sum256(b)
	m := md5.Sum(b)
	return Media{SHA256: hex.EncodeToString(s[:]), MD5: hex.EncodeToString(m[:]), PDQ: strings.Repeat("ab", 32), PDQQuality: 100, ContentType: "image/png", Size: int64(len(b)), EvidenceRef: "media-" + hex.EncodeToString(s[:4])}
}

func sampleCase(t *testing.T) (Manifest, testMedia) {
	t.Helper()
	a, b := benignImage(t, 1), benignImage(t, 2)
	tm := testMedia{}
	for _, x := range [][]byte{a, b} {
		tm[describe(x).SHA256] = x
	}
	at := time.Date(2026, 2, 2, 8, 30, 0, 0, time.UTC)
	return Manifest{
		ID:        "fwd-7",
		CaseRef:   "BE-2026-0007",
		CreatedAt: at.Add(time.Hour),
		Sender:    Party{Name: "Vigil Hotline", Kind: "hotline", Country: "BE", Email: "notices@hotline.example"},
		Recipient: Party{Name: "Partner Hotline", Kind: "hotline", Country: "NL"},
		Items: []Item{
			{URL: "https://files.provider.example/a.png", SeenAt: []time.Time{at, at.Add(time.Minute)}, Classification: "iwf-a", Severity: "high",
				Hosting: &Hosting{TracedAt: at, Host: "files.provider.example", Addresses: []string{"192.0.2.10"}, Country: "NL", ASN: 64500,
					Network: "Example Net", AbuseContact: "abuse@provider.example", Registrar: "Example Registrar", EvidenceRef: "trace-1"},
				EvidenceRefs: []string{"fetch-1"}, Media: []Media{describe(a), describe(b)}},
			{URL: "https://cdn.example/b.png", SeenAt: []time.Time{at}, Classification: "iwf-b",
				Hosting: &Hosting{TracedAt: at, Host: "cdn.example", Country: "US", CDN: "Example CDN"}, Media: []Media{describe(b)}},
		},
	}, tm
}

// untar reads an (unencrypted) tar into a map, in order.
func untar(t *testing.T, r io.Reader) ([]string, map[string][]byte) {
	t.Helper()
	var names []string
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		files[h.Name] = b
	}
}

func TestPackageWithMedia(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	man, tm := sampleCase(t)
	m := testMailer(t, SMTPConfig{})
	pf, err := m.BuildPackage(man, PackageOptions{Recipients: []string{id.Recipient().String()}, IncludeMedia: true, Open: tm.open, Lang: NL})
	if err != nil {
		t.Fatal(err)
	}
	if pf.Name != "vigil-fwd-7.tar.age" || !pf.Encrypted || !bytes.HasPrefix(pf.Data, []byte("age-encryption.org/v1\n")) {
		t.Fatalf("package %s encrypted=%v", pf.Name, pf.Encrypted)
	}
	if s := sha256.Sum256(pf.Data); hex.EncodeToString(s[:]) != pf.SHA256 {
		t.Fatal("SHA256 field wrong")
	}
	for _, b := range tm {
		if bytes.Contains(pf.Data, b[8:40]) {
			t.Fatal("media in the clear in the package")
		}
	}
	// Open it the way the age command does: decrypt, then untar.
	dr, err := age.Decrypt(bytes.NewReader(pf.Data), id)
	if err != nil {
		t.Fatal(err)
	}
	names, files := untar(t, dr)
	want := []string{"manifest.json", "summary.txt"}
	for _, it := range man.Items[0].Media {
		want = append(want, "media/"+it.SHA256+".age")
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("entries %v, want %v", names, want)
	}
	// Media stay encrypted inside the archive too.
	for _, b := range tm {
		for _, f := range files {
			if bytes.Contains(f, b[8:40]) {
				t.Fatal("media in the clear inside the archive")
			}
		}
	}
	var got Manifest
	dec := json.NewDecoder(bytes.NewReader(files["manifest.json"]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if got.Format != ManifestFormat || !got.MediaIncluded || got.CaseRef != "BE-2026-0007" || len(got.Items) != 2 ||
		got.Items[0].Hosting.ASN != 64500 || got.Items[1].Hosting.CDN != "Example CDN" || got.Items[0].Media[0].MD5 == "" || got.Items[0].Media[0].PDQ == "" {
		t.Fatalf("manifest %+v", got)
	}
	// The JSON uses the documented field names.
	for _, key := range []string{`"case_ref"`, `"seen_at"`, `"sha256"`, `"md5"`, `"pdq"`, `"abuse_contact"`, `"evidence_refs"`, `"severity"`, `"file": "media/`} {
		if !bytes.Contains(files["manifest.json"], []byte(key)) {
			t.Errorf("manifest lacks %s", key)
		}
	}
	for _, md := range got.Items[0].Media {
		r, err := age.Decrypt(bytes.NewReader(files[md.File]), id)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		if !bytes.Equal(b, tm[md.SHA256]) {
			t.Fatalf("media %s differs after decryption", md.SHA256)
		}
	}
	summary := string(files["summary.txt"])
	for _, w := range []string{"BE-2026-0007", "https://files.provider.example/a.png", "Achter CDN: Example CDN", "AS64500", "media bijgevoegd: ja", "2026-02-02 08:30:00 UTC"} {
		if !strings.Contains(summary, w) {
			t.Errorf("summary lacks %q:\n%s", w, summary)
		}
	}
	// The caller's manifest is untouched.
	if man.Items[0].Media[0].File != "" {
		t.Fatal("BuildPackage changed its input")
	}
	op, err := ReadPackage(pf.Data, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(op.Media) != 2 || op.Summary != summary || op.Manifest.ID != "fwd-7" {
		t.Fatalf("ReadPackage: %d media", len(op.Media))
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := ReadPackage(pf.Data, other); err == nil {
		t.Fatal("opened with the wrong key")
	}
}

func TestPackageRules(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	key := []string{id.Recipient().String()}
	man, tm := sampleCase(t)
	m := testMailer(t, SMTPConfig{})
	if _, err := m.BuildPackage(man, PackageOptions{}); err == nil {
		t.Error("unencrypted package without consent")
	}
	if _, err := m.BuildPackage(man, PackageOptions{Unencrypted: true, IncludeMedia: true, Open: tm.open}); err == nil {
		t.Error("media without encryption")
	}
	if _, err := m.BuildPackage(man, PackageOptions{Recipients: []string{"age1notakey"}}); err == nil {
		t.Error("bad recipient accepted")
	}
	// Media whose bytes do not match the manifest are refused.
	wrong := testMedia{}
	for sha := range tm {
		wrong[sha] = benignImage(t, 9)
	}
	if _, err := m.BuildPackage(man, PackageOptions{Recipients: key, IncludeMedia: true, Open: wrong.open}); err == nil {
		t.Error("mismatching media accepted")
	}
	bad := man
	bad.Items = []Item{{URL: "https://x.example/", SeenAt: []time.Time{man.CreatedAt}, Classification: "a", Media: []Media{{SHA256: "ABC"}}}}
	if _, err := m.BuildPackage(bad, PackageOptions{Recipients: key}); err == nil {
		t.Error("bad hash accepted")
	}

	// Without media the route may allow a plain package; it holds hashes only.
	pf, err := m.BuildPackage(man, PackageOptions{Unencrypted: true})
	if err != nil {
		t.Fatal(err)
	}
	if pf.Name != "vigil-fwd-7.tar" || pf.Encrypted {
		t.Fatalf("plain package %s", pf.Name)
	}
	names, _ := untar(t, bytes.NewReader(pf.Data))
	if strings.Join(names, " ") != "manifest.json summary.txt" {
		t.Fatalf("plain package entries %v", names)
	}
	op, err := ReadPackage(pf.Data)
	if err != nil || op.Manifest.MediaIncluded || len(op.Media) != 0 || op.Manifest.Items[0].Media[0].File != "" {
		t.Fatalf("plain package: %v", err)
	}
	// The archive itself is deterministic; only the encryption is not.
	pf2, _ := m.BuildPackage(man, PackageOptions{Unencrypted: true})
	if !bytes.Equal(pf.Data, pf2.Data) {
		t.Fatal("tar not deterministic")
	}
}

func buildEncrypted(t *testing.T, m *Mailer) (*PackageFile, *age.X25519Identity) {
	t.Helper()
	id, _ := age.GenerateX25519Identity()
	man, tm := sampleCase(t)
	pf, err := m.BuildPackage(man, PackageOptions{Recipients: []string{id.Recipient().String()}, IncludeMedia: true, Open: tm.open})
	if err != nil {
		t.Fatal(err)
	}
	return pf, id
}

func TestSMTPTransportDeliversPackage(t *testing.T) {
	srv := startServer(t, serverOpts{TLS: true})
	m := testMailer(t, SMTPConfig{Addr: srv.Addr, TLSConfig: &tls.Config{RootCAs: srv.Roots}})
	pf, id := buildEncrypted(t, m)
	d := &Delivery{ID: "fwd-7", Lang: DE, To: []mail.Address{{Name: "Partner Hotline", Address: "intake@partner.example"}}, Date: time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC), Package: pf}

	a, err := m.RenderForward(d)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.RenderForward(d)
	if !bytes.Equal(a.Raw, b.Raw) {
		t.Fatal("RenderForward not deterministic")
	}
	checkLines(t, a.Raw)

	var tr Transport = &SMTPTransport{Mailer: m}
	rec, err := tr.Deliver(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if rec.MessageID != "<vigil.fwd-7@hotline.example>" || !strings.Contains(rec.Reply, "queued as") {
		t.Fatalf("receipt %+v", rec)
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].To[0] != "intake@partner.example" || !bytes.Equal(got[0].Data, a.Raw) {
		t.Fatalf("server got %+v", got)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("content type %q %v", mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	cover, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(cover) // multipart decodes quoted-printable
	if !strings.Contains(string(text), "age -d -i") || !strings.Contains(string(text), pf.SHA256) || strings.Contains(string(text), "provider.example") {
		t.Fatalf("cover note:\n%s", text)
	}
	att, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if att.FileName() != "vigil-fwd-7.tar.age" {
		t.Fatalf("attachment name %q", att.FileName())
	}
	enc, _ := io.ReadAll(att)
	data, err := base64.StdEncoding.DecodeString(string(bytes.ReplaceAll(enc, []byte("\r\n"), nil)))
	if err != nil || !bytes.Equal(data, pf.Data) {
		t.Fatalf("attachment differs from the package: %v", err)
	}
	if _, err := ReadPackage(data, id); err != nil {
		t.Fatal(err)
	}
	// A package too big for e-mail is refused before anything is sent.
	small := &SMTPTransport{Mailer: m, MaxBytes: 100}
	if _, err := small.Deliver(context.Background(), d); err == nil || srv.DataCommands() != 1 {
		t.Fatalf("oversized package: %v", err)
	}
}

func TestOutboxTransport(t *testing.T) {
	dir := t.TempDir()
	m := testMailer(t, SMTPConfig{})
	pf, id := buildEncrypted(t, m)
	out := &OutboxTransport{Dir: dir}
	var tr Transport = out
	var v Verifier = out
	d := &Delivery{ID: "fwd-7", Date: time.Now(), Package: pf}
	if ok, err := v.Delivered(context.Background(), d); ok || err != nil {
		t.Fatalf("delivered before delivery: %v %v", ok, err)
	}
	rec, err := tr.Deliver(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "vigil-fwd-7.tar.age")
	if rec.Transport != "outbox" || rec.Reply != path {
		t.Fatalf("receipt %+v", rec)
	}
	if ok, err := v.Delivered(context.Background(), d); !ok || err != nil {
		t.Fatalf("not delivered after delivery: %v %v", ok, err)
	}
	// A second delivery of the same ID (a retry) leaves the first in place.
	pf2, _ := buildEncrypted(t, m)
	if _, err := tr.Deliver(context.Background(), &Delivery{ID: "fwd-7", Date: time.Now(), Package: pf2}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.Equal(data, pf.Data) {
		t.Fatal("a retry replaced the delivered package")
	}
	if _, err := ReadPackage(data, id); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("outbox holds %d entries (temporary files left?)", len(entries))
	}
	bad := *pf
	bad.Name = "../escape.tar.age"
	if _, err := tr.Deliver(context.Background(), &Delivery{ID: "fwd-8", Package: &bad}); err == nil {
		t.Fatal("path escape accepted")
	}
}
