package evidence_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/evidence"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

type plainMedia map[string][]byte

func (m plainMedia) Get(_ context.Context, name string) ([]byte, error) {
	b, ok := m[name]
	if !ok {
		return nil, errors.New("no such blob")
	}
	return b, nil
}

type entry struct {
	name string
	data []byte
}

func readTar(t *testing.T, b []byte) []entry {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		d, _ := io.ReadAll(tr)
		out = append(out, entry{h.Name, d})
	}
}

func writeTar(t *testing.T, es []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.data))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	tw.Close()
	return buf.Bytes()
}

// TestEvidencePackage: a case's package verifies, its media decrypt to
// their hashes with the recipient's identity, and a package with a file
// changed, added or removed, or a manifest changed or signed by another
// key, is refused naming what.
func TestEvidencePackage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		filler := []byte("generated benign filler, never real material")
		sum := sha256.Sum256(filler)
		sha := hex.EncodeToString(sum[:])
		urlID, ids := storetest.SeedCase(t, db, "https://evidence.example/page", []storetest.SeedItem{{SHA256: sha,
			MD5: strings.Repeat("a", 32), PDQ: strings.Repeat("f", 64), Quality: 90, BlobKey: "blobevidence1"}})
		if err := db.AppendAudit(ctx, &vigil.AuditEntry{Actor: "ana", Action: "media.view", Object: "media:" + strconv.FormatInt(ids[0], 10)}); err != nil {
			t.Fatal(err)
		}
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		key := evidence.SigningKey(bytes.Repeat([]byte{3}, 32))
		var buf bytes.Buffer
		man, err := evidence.Export(ctx, db, plainMedia{"blobevidence1": filler}, evidence.Options{CaseID: urlID,
			Recipient: id.Recipient().String(), ExportedBy: "sam", Now: time.Now(), Key: key}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if len(man.Files) != 3 || man.Files[2].Path != "media/"+sha+".age" {
			t.Fatalf("manifest files: %+v", man.Files)
		}
		pkg := buf.Bytes()
		if bytes.Contains(pkg, filler) {
			t.Fatal("the media's plain bytes are in the package")
		}
		pub := key.Public().(ed25519.PublicKey)
		rep, err := evidence.Verify(bytes.NewReader(pkg), pub, id)
		if err != nil || rep.Decrypted != 1 || rep.Manifest.CaseID != urlID {
			t.Fatalf("verify: %+v %v", rep, err)
		}
		es := readTar(t, pkg)
		var caseJSON, auditJSON string
		for _, e := range es {
			switch e.name {
			case "case.json":
				caseJSON = string(e.data)
			case "audit.json":
				auditJSON = string(e.data)
			}
		}
		if !strings.Contains(caseJSON, `"Connected": "192.0.2.7:443"`) || !strings.Contains(caseJSON, sha) ||
			!strings.Contains(auditJSON, `"media.view"`) {
			t.Errorf("case.json / audit.json lack what they should hold:\n%s\n%s", caseJSON, auditJSON)
		}
		other := evidence.SigningKey(bytes.Repeat([]byte{4}, 32)).Public().(ed25519.PublicKey)
		if _, err := evidence.Verify(bytes.NewReader(pkg), other, nil); !errors.Is(err, evidence.ErrTampered) ||
			!strings.Contains(err.Error(), "signature") {
			t.Errorf("another key: %v", err)
		}
		for _, tc := range []struct {
			name   string
			change func([]entry) []entry
			want   string
		}{
			{"case changed", func(es []entry) []entry {
				es[2].data = bytes.Replace(es[2].data, []byte("evidence.example"), []byte("elsewhere.example"), 1)
				return es
			}, "case.json does not match"},
			{"manifest changed", func(es []entry) []entry {
				es[0].data = bytes.Replace(es[0].data, []byte(`"sam"`), []byte(`"eve"`), 1)
				return es
			}, "signature does not hold"},
			{"file added", func(es []entry) []entry { return append(es, entry{"extra.txt", []byte("x")}) }, "extra.txt is not listed"},
			{"file removed", func(es []entry) []entry { return es[:len(es)-1] }, "listed in the manifest but missing"},
			{"media swapped", func(es []entry) []entry {
				var enc bytes.Buffer
				w, _ := age.Encrypt(&enc, id.Recipient())
				w.Write([]byte("other filler of the same...."))
				w.Close()
				es[len(es)-1].data = enc.Bytes()
				return es
			}, "does not match the manifest"},
			{"not a package", func([]entry) []entry { return nil }, "not a readable package"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				bad := writeTar(t, tc.change(readTar(t, pkg)))
				_, err := evidence.Verify(bytes.NewReader(bad), pub, id)
				if !errors.Is(err, evidence.ErrTampered) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("got %v, want %q", err, tc.want)
				}
			})
		}
		if _, err := evidence.Export(ctx, db, plainMedia{}, evidence.Options{CaseID: urlID, Recipient: "not-a-key", Key: key}, io.Discard); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("bad recipient: %v", err)
		}
	})
}
