package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"time"
)

// Delivery is a package on its way to a recipient.
type Delivery struct {
	// ID is the forward's ID in Vigil; the Message-ID derives from it.
	ID string
	// Lang is the cover note's language; default English.
	Lang Language
	// To are the e-mail recipients (SMTPTransport).
	To []mail.Address
	// Date is when the forward was decided; stored by the caller so that a
	// later rendering is identical.
	Date    time.Time
	Package *PackageFile
}

// Transport delivers packages. More (an HTTPS upload) can come later.
type Transport interface {
	Deliver(ctx context.Context, d *Delivery) (Receipt, error)
}

// Verifier is implemented by transports that can tell after a crash
// whether a delivery happened (step 5 of the protocol).
type Verifier interface {
	// Delivered reports whether d was certainly delivered (true) or
	// certainly not (false); an error means it cannot tell.
	Delivered(ctx context.Context, d *Delivery) (bool, error)
}

// RenderForward renders the e-mail that carries a package: a cover note
// (no URLs: they stay inside the package) and the package as a base64
// attachment. It is pure: the same Delivery gives the same Message.
func (m *Mailer) RenderForward(d *Delivery) (*Message, error) {
	if d.Package == nil || len(d.Package.Data) == 0 {
		return nil, errors.New("notify: delivery has no package")
	}
	if d.Date.IsZero() {
		return nil, errors.New("notify: delivery needs Date")
	}
	p := d.Package
	view := forwardView{
		Hotline: m.hotline, CaseRef: p.Manifest.CaseRef, Items: len(p.Manifest.Items),
		PackageName: p.Name, PackageSHA256: p.SHA256, Encrypted: p.Encrypted, MediaIncluded: p.Manifest.MediaIncluded,
	}
	subject, err := m.tmpl.execute(d.Lang, "forward.subject", view)
	if err != nil {
		return nil, err
	}
	body, err := m.tmpl.execute(d.Lang, "forward.body", view)
	if err != nil {
		return nil, err
	}
	hs, rcpts, err := m.envelopeHeaders(d.ID, d.To, nil, d.Date, subject)
	if err != nil {
		return nil, err
	}
	cte, enc, err := encodeText(body)
	if err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding.EncodeToString(p.Data)
	// A boundary derived from the content keeps rendering deterministic; it
	// cannot occur in base64 (no '-') and is checked against the text.
	sum := sha256.Sum256(append([]byte(d.ID+"\x00"+p.SHA256+"\x00"), enc...))
	boundary := "vigil-" + hex.EncodeToString(sum[:16])
	if bytes.Contains(enc, []byte(boundary)) {
		return nil, errors.New("notify: MIME boundary occurs in the body")
	}
	hs = append(hs, header{"Content-Type", `multipart/mixed; boundary="` + boundary + `"`})

	var b bytes.Buffer
	writeHeaders(&b, hs)
	b.WriteString("\r\n")
	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, fmt.Errorf("notify: boundary: %w", err)
	}
	tw, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {cte},
		"Content-Language":          {string(orEN(d.Lang))},
	})
	if err != nil {
		return nil, fmt.Errorf("notify: cover note: %w", err)
	}
	if _, err := tw.Write(enc); err != nil {
		return nil, fmt.Errorf("notify: cover note: %w", err)
	}
	ctype := "application/x-tar"
	if p.Encrypted {
		ctype = "application/octet-stream"
	}
	aw, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType(ctype, map[string]string{"name": p.Name})},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": p.Name})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, fmt.Errorf("notify: attachment: %w", err)
	}
	var ab bytes.Buffer
	wrapBase64(&ab, []byte(b64))
	if _, err := aw.Write(ab.Bytes()); err != nil {
		return nil, fmt.Errorf("notify: attachment: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("notify: multipart: %w", err)
	}
	return &Message{ID: d.ID, MessageID: messageID(d.ID, m.domain), From: m.envelopeFrom, To: rcpts, Raw: b.Bytes()}, nil
}

// DefaultMaxAttachment bounds a package sent by e-mail; base64 adds a
// third, and most relays refuse messages over 25 MB.
const DefaultMaxAttachment = 15 << 20

// SMTPTransport mails packages as attachments with a Mailer.
type SMTPTransport struct {
	Mailer *Mailer
	// MaxBytes bounds the package; default DefaultMaxAttachment. A larger
	// package must go another way (OutboxTransport).
	MaxBytes int
}

// Deliver renders and sends the forward e-mail.
func (t *SMTPTransport) Deliver(ctx context.Context, d *Delivery) (Receipt, error) {
	limit := t.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxAttachment
	}
	if d.Package != nil && len(d.Package.Data) > limit {
		return Receipt{}, fmt.Errorf("notify: package of %d bytes exceeds the %d-byte attachment limit", len(d.Package.Data), limit)
	}
	msg, err := t.Mailer.RenderForward(d)
	if err != nil {
		return Receipt{}, err
	}
	return t.Mailer.Send(ctx, msg)
}

// OutboxTransport writes packages to a folder that something else (a sync
// job, a person with removable media) takes them from.
type OutboxTransport struct {
	Dir string
	// Now is the clock for receipts; default time.Now.
	Now func() time.Time
}

func (t *OutboxTransport) path(d *Delivery) (string, error) {
	if d.Package == nil || len(d.Package.Data) == 0 {
		return "", errors.New("notify: delivery has no package")
	}
	if err := checkID(d.ID); err != nil {
		return "", err
	}
	if filepath.Base(d.Package.Name) != d.Package.Name {
		return "", fmt.Errorf("notify: bad package name %q", d.Package.Name)
	}
	return filepath.Join(t.Dir, d.Package.Name), nil
}

// Deliver writes the package atomically: to a temporary file, synced, then
// renamed into place, so the file is either whole or absent. A package
// already there is never overwritten: the earlier delivery stands.
func (t *OutboxTransport) Deliver(ctx context.Context, d *Delivery) (Receipt, error) {
	p, err := t.path(d)
	if err != nil {
		return Receipt{}, err
	}
	if err := ctx.Err(); err != nil {
		return Receipt{}, fmt.Errorf("notify: outbox: %w", err)
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	rec := Receipt{Transport: "outbox", MessageID: d.ID, Reply: p}
	if _, err := os.Stat(p); err == nil {
		rec.At = now()
		return rec, nil
	}
	f, err := os.CreateTemp(t.Dir, ".tmp-"+d.ID+"-*")
	if err != nil {
		return Receipt{}, fmt.Errorf("notify: outbox: %w", err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // no-op after the rename
	if _, err := f.Write(d.Package.Data); err != nil {
		_ = f.Close() // the write failed: that is the error to report
		return Receipt{}, fmt.Errorf("notify: outbox: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close() // the sync failed: that is the error to report
		return Receipt{}, fmt.Errorf("notify: outbox: %w", err)
	}
	if err := f.Close(); err != nil {
		return Receipt{}, fmt.Errorf("notify: outbox: %w", err)
	}
	// Link, not rename, so that a concurrent delivery of the same ID cannot
	// replace a file a reader may already be taking.
	if err := os.Link(tmp, p); err != nil && !errors.Is(err, fs.ErrExist) {
		// Some file systems have no hard links; a rename is still atomic.
		if err := os.Rename(tmp, p); err != nil {
			return Receipt{}, fmt.Errorf("notify: outbox: %w", err)
		}
	}
	if dir, err := os.Open(t.Dir); err == nil {
		// The directory entry must be durable before "sent" is recorded.
		err = dir.Sync()
		_ = dir.Close() // opened to sync only
		if err != nil {
			return Receipt{}, fmt.Errorf("notify: outbox: sync folder: %w", err)
		}
	}
	rec.At = now()
	return rec, nil
}

// Delivered reports whether the package is in the outbox. The file appears
// atomically, so its presence means delivered and its absence means not.
func (t *OutboxTransport) Delivered(ctx context.Context, d *Delivery) (bool, error) {
	p, err := t.path(d)
	if err != nil {
		return false, err
	}
	switch _, err := os.Stat(p); {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("notify: outbox: %w", err)
	}
}
