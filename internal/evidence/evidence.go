// Package evidence builds and checks the evidence package a hotline hands
// the police for one case: what was reported and found, when and where
// from, how it was traced and assessed and by whom, the case's audit
// entries, and its media encrypted to the recipient with age. A manifest
// lists every file with its SHA-256 and is signed (Ed25519), so that the
// package can be checked, by `vigil evidence verify` or by anyone holding
// the public key, for a file changed, added or removed.
//
// Layout (an uncompressed tar, written in this order):
//
//	manifest.json     the manifest (Manifest)
//	manifest.sig      base64 Ed25519 signature of manifest.json's bytes
//	case.json         the case (Case)
//	audit.json        the audit entries of the case and its media
//	media/SHA256.age  each media item, age-encrypted to the recipient
package evidence

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil"
)

// Format names the package's schema and version.
const Format = "vigil-evidence/1"

// Bounds on what Verify reads: a package is outside data when it comes back.
const (
	MaxFiles     = 20000
	MaxFileBytes = 128 << 20
	MaxJSONBytes = 64 << 20
)

// Manifest is manifest.json.
type Manifest struct {
	Format     string    `json:"format"`
	CaseID     int64     `json:"case_id"`
	URL        string    `json:"url"`
	Hotline    string    `json:"hotline,omitempty"`
	ExportedAt time.Time `json:"exported_at"`
	ExportedBy string    `json:"exported_by"`
	// Recipient is the age public key the media are encrypted to.
	Recipient string `json:"recipient"`
	// Signer is the base64 Ed25519 public key that signed the manifest:
	// for information only; a verifier checks against the key it trusts.
	Signer string `json:"signer"`
	Files  []File `json:"files"`
}

// File is one file of the package.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Case is case.json.
type Case struct {
	URL     *vigil.ReportedURL  `json:"reported_url"`
	Reports []*vigil.CaseReport `json:"reports"`
	// Fetches are the crawler's fetches: times, URLs, the address
	// connected to, and the evidence record (redirects, headers, addresses).
	Fetches []*vigil.Fetch `json:"fetches"`
	// Trace is the takedown case: hosting traced, routes, notices.
	Trace *vigil.Takedown `json:"trace,omitempty"`
	Media []CaseMedia     `json:"media"`
}

// CaseMedia is one media item with its hashes, matches and assessments.
type CaseMedia struct {
	SHA256         string              `json:"sha256"`
	MD5            string              `json:"md5"`
	SHA1           string              `json:"sha1"`
	PDQ            string              `json:"pdq,omitempty"`
	Size           int64               `json:"size"`
	MIME           string              `json:"mime"`
	Class          string              `json:"class"`
	Classification string              `json:"classification,omitempty"`
	FirstSeenAt    time.Time           `json:"first_seen_at"`
	Matches        []vigil.Match       `json:"matches,omitempty"`
	Assessments    []*vigil.Assessment `json:"assessments,omitempty"`
	// File is the encrypted bytes' path; empty when the bytes were purged.
	File string `json:"file,omitempty"`
	// Entries is what a container (an archive, a PDF) held: each entry's
	// path, size, modification time and the media item it became (by its
	// SHA-256 in this list), or why it did not; Reason says why the
	// container was not wholly examined (encrypted, a limit).
	Entries []ContainerEntry `json:"entries,omitempty"`
	Reason  string           `json:"reason,omitempty"`
}

// ContainerEntry is one entry of a container.
type ContainerEntry struct {
	Path     string     `json:"path"`
	Size     int64      `json:"size"`
	Modified *time.Time `json:"modified,omitempty"`
	SHA256   string     `json:"sha256,omitempty"`
	Reason   string     `json:"reason,omitempty"`
}

// Source is what an export reads of the store.
type Source interface {
	FindReportedURL(ctx context.Context, id int64) (*vigil.ReportedURL, error)
	CaseReports(ctx context.Context, reportedURLID int64) ([]*vigil.CaseReport, error)
	ListFetches(ctx context.Context, reportedURLID int64) ([]*vigil.Fetch, error)
	ListMediaForURL(ctx context.Context, reportedURLID int64) ([]*vigil.Media, error)
	MediaMatches(ctx context.Context, mediaID int64) ([]vigil.Match, error)
	ListArchiveEntries(ctx context.Context, parentID int64) ([]*vigil.ArchiveEntry, error)
	ListAssessments(ctx context.Context, mediaID int64) ([]*vigil.Assessment, error)
	FindTakedownByURL(ctx context.Context, urlID int64) (*vigil.Takedown, error)
	ListAudit(ctx context.Context, f vigil.AuditFilter) ([]*vigil.AuditEntry, error)
}

// Media returns a media item's plain bytes by its blob key (the Vault).
type Media interface {
	Get(ctx context.Context, name string) ([]byte, error)
}

// SigningKey derives the package signing key from the deployment's audit
// key, so that there is one secret to keep; the public half is what the
// police are given to check packages with.
func SigningKey(auditKey []byte) ed25519.PrivateKey {
	m := hmac.New(sha256.New, auditKey)
	m.Write([]byte("vigil-evidence-signing-v1"))
	return ed25519.NewKeyFromSeed(m.Sum(nil))
}

// PublicKey is the base64 form of a signing key's public half.
func PublicKey(k ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

// Options says what to export and for whom.
type Options struct {
	CaseID     int64
	Recipient  string // age public key, "age1…"
	ExportedBy string
	Hotline    string
	Now        time.Time
	Key        ed25519.PrivateKey
}

// Export writes the package of a case to w and returns its manifest.
func Export(ctx context.Context, src Source, media Media, o Options, w io.Writer) (*Manifest, error) {
	recipient, err := age.ParseX25519Recipient(strings.TrimSpace(o.Recipient))
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "the recipient must be an age public key (age1…)")
	}
	u, err := src.FindReportedURL(ctx, o.CaseID)
	if err != nil {
		return nil, err
	}
	c := &Case{URL: u}
	if c.Reports, err = src.CaseReports(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("evidence: reports: %w", err)
	}
	if c.Fetches, err = src.ListFetches(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("evidence: fetches: %w", err)
	}
	if td, err := src.FindTakedownByURL(ctx, u.ID); err == nil {
		c.Trace = td
	} else if vigil.ErrorCode(err) != vigil.ENOTFOUND {
		return nil, fmt.Errorf("evidence: trace: %w", err)
	}
	ms, err := src.ListMediaForURL(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("evidence: media: %w", err)
	}
	type body struct {
		path string
		data []byte
	}
	var files []body
	objects := []string{fmt.Sprintf("case:%d", u.ID)}
	for _, m := range ms {
		cm := CaseMedia{SHA256: m.SHA256, MD5: m.MD5, SHA1: m.SHA1, PDQ: m.PDQ, Size: m.Size, MIME: m.MIME, Class: m.Class,
			Classification: m.Classification, FirstSeenAt: m.FirstSeenAt}
		if cm.Matches, err = src.MediaMatches(ctx, m.ID); err != nil {
			return nil, fmt.Errorf("evidence: matches: %w", err)
		}
		if cm.Assessments, err = src.ListAssessments(ctx, m.ID); err != nil {
			return nil, fmt.Errorf("evidence: assessments: %w", err)
		}
		if vigil.IsContainer(m.Class) {
			if cm.Entries, err = containerEntries(ctx, src, m, ms); err != nil {
				return nil, err
			}
			cm.Reason = m.HashError
		}
		if m.BlobKey != "" {
			plain, err := media.Get(ctx, m.BlobKey)
			if err != nil {
				return nil, fmt.Errorf("evidence: media %d: %w", m.ID, err)
			}
			if sum := sha256.Sum256(plain); hex.EncodeToString(sum[:]) != m.SHA256 {
				return nil, fmt.Errorf("evidence: media %d: its bytes do not match its SHA-256", m.ID)
			}
			var enc bytes.Buffer
			aw, err := age.Encrypt(&enc, recipient)
			if err != nil {
				return nil, fmt.Errorf("evidence: encrypt: %w", err)
			}
			if _, err := aw.Write(plain); err != nil {
				return nil, fmt.Errorf("evidence: encrypt: %w", err)
			}
			if err := aw.Close(); err != nil {
				return nil, fmt.Errorf("evidence: encrypt: %w", err)
			}
			cm.File = "media/" + m.SHA256 + ".age"
			files = append(files, body{cm.File, enc.Bytes()})
		}
		c.Media = append(c.Media, cm)
		objects = append(objects, fmt.Sprintf("media:%d", m.ID))
	}
	var entries []*vigil.AuditEntry
	for _, obj := range objects {
		for before := int64(0); ; {
			es, err := src.ListAudit(ctx, vigil.AuditFilter{Object: obj, BeforeID: before, Limit: 1000})
			if err != nil {
				return nil, fmt.Errorf("evidence: audit: %w", err)
			}
			entries = append(entries, es...)
			if len(es) < 1000 {
				break
			}
			before = es[len(es)-1].ID
		}
	}
	caseJSON, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	auditJSON, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return nil, err
	}
	files = append([]body{{"case.json", caseJSON}, {"audit.json", auditJSON}}, files...)
	man := &Manifest{Format: Format, CaseID: u.ID, URL: u.URL, Hotline: o.Hotline, ExportedAt: o.Now.UTC(), ExportedBy: o.ExportedBy,
		Recipient: recipient.String(), Signer: PublicKey(o.Key)}
	for _, f := range files {
		sum := sha256.Sum256(f.data)
		man.Files = append(man.Files, File{Path: f.path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(f.data))})
	}
	manJSON, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(o.Key, manJSON))
	tw := tar.NewWriter(w)
	files = append([]body{{"manifest.json", manJSON}, {"manifest.sig", []byte(sig + "\n")}}, files...)
	for _, f := range files {
		hdr := &tar.Header{Name: f.path, Mode: 0o600, Size: int64(len(f.data)), ModTime: man.ExportedAt, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("evidence: write: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("evidence: write: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("evidence: write: %w", err)
	}
	return man, nil
}

// Report is what Verify found.
type Report struct {
	Manifest *Manifest
	// Decrypted is how many media files were decrypted and matched their
	// SHA-256 (only with an identity).
	Decrypted int
}

// ErrTampered is wrapped by every error that means the package is not as
// it was signed.
var ErrTampered = errors.New("evidence package does not verify")

func tampered(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrTampered, fmt.Sprintf(format, args...))
}

// Verify checks a package read from r against the signer's public key:
// the manifest's signature, and every file's presence, size and SHA-256,
// with no file missing, repeated or added. With an identity it also
// decrypts each media file and checks its plain SHA-256. The manifest and
// its signature come first, so the rest is checked as it streams by, in
// bounded memory.
func Verify(r io.Reader, pub ed25519.PublicKey, identity age.Identity) (*Report, error) {
	tr := tar.NewReader(r)
	next := func(want string) ([]byte, error) {
		hdr, err := tr.Next()
		if err != nil {
			return nil, tampered("not a readable package: %v", err)
		}
		if hdr.Name != want || hdr.Typeflag != tar.TypeReg || hdr.Size > MaxJSONBytes {
			return nil, tampered("the package must open with %s", want)
		}
		return io.ReadAll(io.LimitReader(tr, MaxJSONBytes))
	}
	manJSON, err := next("manifest.json")
	if err != nil {
		return nil, err
	}
	sigText, err := next("manifest.sig")
	if err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigText)))
	if err != nil || !ed25519.Verify(pub, manJSON, sig) {
		return nil, tampered("the manifest's signature does not hold for key %s (the manifest was changed, or signed by another key)",
			base64.StdEncoding.EncodeToString(pub))
	}
	man := &Manifest{}
	if json.Unmarshal(manJSON, man) != nil || man.Format != Format {
		return nil, tampered("manifest.json is not a %s manifest", Format)
	}
	listed := map[string]File{}
	for _, f := range man.Files {
		listed[f.Path] = f
	}
	rep := &Report{Manifest: man}
	seen := map[string]bool{}
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, tampered("not a readable package: %v", err)
		}
		f, ok := listed[hdr.Name]
		switch {
		case n >= MaxFiles:
			return nil, tampered("more than %d files", MaxFiles)
		case !ok:
			return nil, tampered("%s is not listed in the manifest (it was added)", hdr.Name)
		case seen[hdr.Name]:
			return nil, tampered("%s appears twice", hdr.Name)
		case hdr.Typeflag != tar.TypeReg || hdr.Size != f.Size:
			return nil, tampered("%s does not match the manifest's size (it was changed)", hdr.Name)
		}
		seen[hdr.Name] = true
		h := sha256.New()
		var src io.Reader = io.TeeReader(io.LimitReader(tr, MaxFileBytes), h)
		sha, isMedia := strings.CutSuffix(strings.TrimPrefix(hdr.Name, "media/"), ".age")
		isMedia = isMedia && strings.HasPrefix(hdr.Name, "media/")
		if identity != nil && isMedia {
			ar, err := age.Decrypt(src, identity)
			if err != nil {
				return nil, tampered("%s does not decrypt: %v", hdr.Name, err)
			}
			ph := sha256.New()
			if _, err := io.Copy(ph, io.LimitReader(ar, MaxFileBytes)); err != nil {
				return nil, tampered("%s does not decrypt: %v", hdr.Name, err)
			}
			if hex.EncodeToString(ph.Sum(nil)) != sha {
				return nil, tampered("%s decrypts to bytes whose SHA-256 is not %s", hdr.Name, sha)
			}
			rep.Decrypted++
		}
		if _, err := io.Copy(io.Discard, src); err != nil {
			return nil, tampered("reading %s: %v", hdr.Name, err)
		}
		if hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
			return nil, tampered("%s does not match the manifest's SHA-256 (it was changed)", hdr.Name)
		}
	}
	for _, f := range man.Files {
		if !seen[f.Path] {
			return nil, tampered("%s is listed in the manifest but missing", f.Path)
		}
	}
	return rep, nil
}

// containerEntries lists a container's entries, naming the media items they
// became by SHA-256 (those of the case; others by their ID's absence).
func containerEntries(ctx context.Context, src Source, m *vigil.Media, all []*vigil.Media) ([]ContainerEntry, error) {
	es, err := src.ListArchiveEntries(ctx, m.ID)
	if err != nil {
		return nil, fmt.Errorf("evidence: entries of media %d: %w", m.ID, err)
	}
	sha := map[int64]string{}
	for _, x := range all {
		sha[x.ID] = x.SHA256
	}
	out := make([]ContainerEntry, 0, len(es))
	for _, e := range es {
		out = append(out, ContainerEntry{Path: e.Path, Size: e.Size, Modified: e.Modified, SHA256: sha[e.MediaID], Reason: e.Reason})
	}
	return out, nil
}
