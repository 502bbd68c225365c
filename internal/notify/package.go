package notify

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
)

// ManifestFormat names the manifest's schema and version.
const ManifestFormat = "vigil-package/1"

// Limits on what a package may hold, so that neither building nor reading
// one can exhaust memory.
const (
	MaxMediaBytes   = 64 << 20
	MaxPackageBytes = 512 << 20
)

// Manifest is a package's manifest.json: the case as forwarded.
type Manifest struct {
	Format    string    `json:"format"`
	ID        string    `json:"id"`
	CaseRef   string    `json:"case_ref"`
	CreatedAt time.Time `json:"created_at"`
	Sender    Party     `json:"sender"`
	Recipient Party     `json:"recipient"`
	// MediaIncluded says whether media/*.age files are in the package.
	MediaIncluded bool   `json:"media_included"`
	Items         []Item `json:"items"`
}

// Party is the sender or the recipient of a package.
type Party struct {
	Name string `json:"name"`
	// Kind is "hotline" or "police".
	Kind    string `json:"kind,omitempty"`
	Country string `json:"country,omitempty"`
	Email   string `json:"email,omitempty"`
}

// Item is one URL of the case.
type Item struct {
	URL            string      `json:"url"`
	SeenAt         []time.Time `json:"seen_at"`
	Classification string      `json:"classification"`
	Severity       string      `json:"severity,omitempty"`
	Hosting        *Hosting    `json:"hosting,omitempty"`
	EvidenceRefs   []string    `json:"evidence_refs,omitempty"`
	Media          []Media     `json:"media,omitempty"`
}

// Hosting summarises the trace of an item's host.
type Hosting struct {
	TracedAt     time.Time `json:"traced_at"`
	Host         string    `json:"host"`
	Addresses    []string  `json:"addresses,omitempty"`
	CNAMEs       []string  `json:"cnames,omitempty"`
	Country      string    `json:"country,omitempty"`
	ASN          uint32    `json:"asn,omitempty"`
	Network      string    `json:"network,omitempty"`
	AbuseContact string    `json:"abuse_contact,omitempty"`
	Registrar    string    `json:"registrar,omitempty"`
	// CDN names the CDN the content sits behind, if any.
	CDN         string `json:"cdn,omitempty"`
	EvidenceRef string `json:"evidence_ref,omitempty"`
}

// Media describes one media file by its hashes.
type Media struct {
	SHA256      string `json:"sha256"`
	MD5         string `json:"md5,omitempty"`
	PDQ         string `json:"pdq,omitempty"`
	PDQQuality  int    `json:"pdq_quality,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
	EvidenceRef string `json:"evidence_ref,omitempty"`
	// File is the encrypted file's path in the package
	// ("media/SHA256.age"); set by BuildPackage when media are included.
	File string `json:"file,omitempty"`
}

var (
	hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// Validate checks the manifest's form.
func (m *Manifest) Validate() error {
	if m.Format != ManifestFormat {
		return fmt.Errorf("notify: manifest format %q, want %q", m.Format, ManifestFormat)
	}
	if err := checkID(m.ID); err != nil {
		return err
	}
	if strings.TrimSpace(m.CaseRef) == "" || m.CreatedAt.IsZero() || m.Sender.Name == "" || m.Recipient.Name == "" {
		return errors.New("notify: manifest needs case_ref, created_at, sender and recipient")
	}
	if len(m.Items) == 0 {
		return errors.New("notify: manifest has no items")
	}
	for i, it := range m.Items {
		if it.URL == "" || len(it.SeenAt) == 0 || it.Classification == "" {
			return fmt.Errorf("notify: item %d needs url, seen_at and classification", i)
		}
		for _, md := range it.Media {
			if !hex64.MatchString(md.SHA256) || md.MD5 != "" && !hex32.MatchString(md.MD5) || md.PDQ != "" && !hex64.MatchString(md.PDQ) {
				return fmt.Errorf("notify: item %d: media hashes must be lower-case hex (sha256 %q)", i, md.SHA256)
			}
			if md.File != "" && md.File != mediaPath(md.SHA256) {
				return fmt.Errorf("notify: item %d: media file %q, want %q", i, md.File, mediaPath(md.SHA256))
			}
			if md.File != "" && !m.MediaIncluded {
				return fmt.Errorf("notify: item %d: media file listed but media_included is false", i)
			}
		}
	}
	return nil
}

func mediaPath(sha string) string { return "media/" + sha + ".age" }

// PackageOptions says how a package is built.
type PackageOptions struct {
	// Recipients are age public keys ("age1…"); the package and each media
	// file are encrypted to all of them.
	Recipients []string
	// IncludeMedia puts the media in, when the route says so. It requires
	// Recipients and Open.
	IncludeMedia bool
	// Open returns a media file's bytes by its SHA-256; they are checked
	// against the manifest's hashes before they are encrypted.
	Open func(sha256 string) (io.ReadCloser, error)
	// Unencrypted allows a plain package when there are no Recipients.
	Unencrypted bool
	// Lang is the language of summary.txt; default English.
	Lang Language
}

// PackageFile is a built package.
type PackageFile struct {
	// Name is the file name: vigil-ID.tar.age, or vigil-ID.tar.
	Name      string
	Data      []byte
	Encrypted bool
	// SHA256 is the hex digest of Data.
	SHA256 string
	// Manifest is the manifest as written into the package.
	Manifest Manifest
}

// BuildPackage builds a forward package (see the package documentation for
// its layout). The tar inside is deterministic; the age encryption around
// it is not, so the caller stores the built file and sends that, rather
// than building it again for a retry.
func (m *Mailer) BuildPackage(man Manifest, opt PackageOptions) (*PackageFile, error) {
	man.Format = ManifestFormat
	man.MediaIncluded = opt.IncludeMedia
	// Copy the items so that setting File does not touch the caller's.
	man.Items = slices.Clone(man.Items)
	for i := range man.Items {
		man.Items[i].Media = slices.Clone(man.Items[i].Media)
		for j := range man.Items[i].Media {
			md := &man.Items[i].Media[j]
			md.File = ""
			if opt.IncludeMedia {
				md.File = mediaPath(md.SHA256)
			}
		}
	}
	if err := man.Validate(); err != nil {
		return nil, err
	}
	var recips []age.Recipient
	if len(opt.Recipients) > 0 {
		var err error
		if recips, err = age.ParseRecipients(strings.NewReader(strings.Join(opt.Recipients, "\n"))); err != nil {
			return nil, fmt.Errorf("notify: age recipients: %w", err)
		}
	} else if !opt.Unencrypted {
		return nil, errors.New("notify: package has no age recipient and Unencrypted is not set")
	}
	if opt.IncludeMedia && (len(recips) == 0 || opt.Open == nil) {
		return nil, errors.New("notify: media may only travel encrypted: IncludeMedia needs Recipients and Open")
	}
	manJSON, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("notify: manifest: %w", err)
	}
	summary, err := m.tmpl.execute(opt.Lang, "summary", summaryView{Manifest: man, Hotline: m.hotline})
	if err != nil {
		return nil, err
	}

	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	add := func(name string, data []byte) error {
		// Fixed metadata keeps the tar deterministic and free of local
		// user names.
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: man.CreatedAt.UTC().Truncate(time.Second), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("notify: package %s: %w", name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("notify: package %s: %w", name, err)
		}
		return nil
	}
	if err := add("manifest.json", append(manJSON, '\n')); err != nil {
		return nil, err
	}
	if err := add("summary.txt", []byte(summary)); err != nil {
		return nil, err
	}
	if opt.IncludeMedia {
		done := map[string]bool{}
		for _, it := range man.Items {
			for _, md := range it.Media {
				if done[md.SHA256] {
					continue
				}
				done[md.SHA256] = true
				enc, err := encryptMedia(md, opt.Open, recips)
				if err != nil {
					return nil, err
				}
				if err := add(md.File, enc); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("notify: package: %w", err)
	}
	pf := &PackageFile{Name: "vigil-" + man.ID + ".tar", Data: tb.Bytes(), Manifest: man}
	if len(recips) > 0 {
		if pf.Data, err = ageEncrypt(tb.Bytes(), recips); err != nil {
			return nil, err
		}
		pf.Name += ".age"
		pf.Encrypted = true
	}
	sum := sha256.Sum256(pf.Data)
	pf.SHA256 = hex.EncodeToString(sum[:])
	return pf, nil
}

// encryptMedia reads one media file, checks it is the file the manifest
// names, and encrypts it.
func encryptMedia(md Media, open func(string) (io.ReadCloser, error), recips []age.Recipient) ([]byte, error) {
	rc, err := open(md.SHA256)
	if err != nil {
		return nil, fmt.Errorf("notify: media %s: %w", md.SHA256, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxMediaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("notify: media %s: %w", md.SHA256, err)
	}
	if len(data) > MaxMediaBytes {
		return nil, fmt.Errorf("notify: media %s is larger than %d bytes", md.SHA256, MaxMediaBytes)
	}
	s := sha256.Sum256(data)
	m5 := md5.Sum(data)
	if hex.EncodeToString(s[:]) != md.SHA256 || md.MD5 != "" && hex.EncodeToString(m5[:]) != md.MD5 {
		return nil, fmt.Errorf("notify: media %s: content does not match its hashes", md.SHA256)
	}
	return ageEncrypt(data, recips)
}

func ageEncrypt(data []byte, recips []age.Recipient) ([]byte, error) {
	var b bytes.Buffer
	w, err := age.Encrypt(&b, recips...)
	if err != nil {
		return nil, fmt.Errorf("notify: age: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("notify: age: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("notify: age: %w", err)
	}
	return b.Bytes(), nil
}

// OpenedPackage is a package's contents.
type OpenedPackage struct {
	Manifest Manifest
	Summary  string
	// Media holds the decrypted media by SHA-256, each checked against its
	// hash.
	Media map[string][]byte
}

// ReadPackage opens a package: decrypts it with the identities (when it is
// encrypted), validates the manifest, and decrypts and checks every media
// file. Partner hotlines that run Vigil import forwards with it.
func ReadPackage(data []byte, ids ...age.Identity) (*OpenedPackage, error) {
	var r io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(data, []byte("age-encryption.org/")) {
		dr, err := age.Decrypt(r, ids...)
		if err != nil {
			return nil, fmt.Errorf("notify: decrypt package: %w", err)
		}
		r = io.LimitReader(dr, MaxPackageBytes)
	}
	p := &OpenedPackage{Media: map[string][]byte{}}
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("notify: read package: %w", err)
		}
		if h.Typeflag != tar.TypeReg || h.Size > MaxMediaBytes*2 {
			return nil, fmt.Errorf("notify: unexpected package entry %q", h.Name)
		}
		if files[h.Name], err = io.ReadAll(tr); err != nil {
			return nil, fmt.Errorf("notify: read package %s: %w", h.Name, err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(files["manifest.json"]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p.Manifest); err != nil {
		return nil, fmt.Errorf("notify: manifest.json: %w", err)
	}
	if err := p.Manifest.Validate(); err != nil {
		return nil, err
	}
	p.Summary = string(files["summary.txt"])
	for _, it := range p.Manifest.Items {
		for _, md := range it.Media {
			if md.File == "" {
				continue
			}
			enc, ok := files[md.File]
			if !ok {
				return nil, fmt.Errorf("notify: package lacks %s", md.File)
			}
			dr, err := age.Decrypt(bytes.NewReader(enc), ids...)
			if err != nil {
				return nil, fmt.Errorf("notify: decrypt %s: %w", md.File, err)
			}
			b, err := io.ReadAll(io.LimitReader(dr, MaxMediaBytes))
			if err != nil {
				return nil, fmt.Errorf("notify: decrypt %s: %w", md.File, err)
			}
			if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != md.SHA256 {
				return nil, fmt.Errorf("notify: %s does not match its SHA-256", md.File)
			}
			p.Media[md.SHA256] = b
		}
	}
	return p, nil
}
