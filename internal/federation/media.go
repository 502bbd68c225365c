package federation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil"
)

// MaxMediaBytes bounds a medium sent with a referral: the crawler's
// per-response limit (a medium is never larger than what was fetched).
const MaxMediaBytes = 64 << 20

// MaxSealedBytes bounds the age-encrypted body: the medium plus age's
// header and per-64-KiB-chunk overhead, with room to spare.
const MaxSealedBytes = MaxMediaBytes + MaxMediaBytes/1024 + 64<<10

// MediaContentType is the content type of an age-encrypted medium.
const MediaContentType = "application/age-encrypted"

// SealMedia encrypts a medium to the partner's age recipient, in memory.
func SealMedia(recipient string, plain []byte) ([]byte, error) {
	if len(plain) > MaxMediaBytes {
		return nil, vigil.Errorf(vigil.EINVALID, "the medium is larger than %d MiB", MaxMediaBytes>>20)
	}
	r, err := age.ParseX25519Recipient(strings.TrimSpace(recipient))
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "the partner's age recipient: %v", err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("encrypt medium: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("encrypt medium: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt medium: %w", err)
	}
	return buf.Bytes(), nil
}

// OpenMedia reads an age-encrypted medium (at most the sealed limit),
// decrypts it in memory with our identities and checks that its SHA-256
// is wantSHA256 (lower-case hex). A body that is too large, does not
// decrypt or does not match is EINVALID; nothing of it is kept.
func OpenMedia(body io.Reader, wantSHA256 string, ids ...age.Identity) ([]byte, error) {
	if !ValidSHA256(wantSHA256) {
		return nil, vigil.Errorf(vigil.EINVALID, "%q is not a SHA-256 (64 lower-case hex digits)", truncate(wantSHA256, 80))
	}
	sealed, err := io.ReadAll(io.LimitReader(body, MaxSealedBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read medium: %w", err)
	}
	if len(sealed) > MaxSealedBytes {
		return nil, vigil.Errorf(vigil.EINVALID, "the medium is larger than %d MiB", MaxMediaBytes>>20)
	}
	if len(ids) == 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "no age identity to decrypt media with")
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), ids...)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "the medium does not decrypt with our age identity: %v", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxMediaBytes+1))
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "the medium does not decrypt: %v", err)
	}
	if len(plain) > MaxMediaBytes {
		return nil, vigil.Errorf(vigil.EINVALID, "the medium is larger than %d MiB", MaxMediaBytes>>20)
	}
	sum := sha256.Sum256(plain)
	if got := hex.EncodeToString(sum[:]); got != wantSHA256 {
		return nil, vigil.Errorf(vigil.EINVALID, "the medium's SHA-256 is %s, not %s", got, wantSHA256)
	}
	return plain, nil
}

// ValidSHA256 reports whether s is a SHA-256 in lower-case hex.
func ValidSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// SendMedia uploads a medium of our referral ref to the partner,
// age-encrypted to its recipient, signed, at
// PUT /api/v1/referrals/{ref}/media/{sha256}. It refuses (permanently,
// sending nothing) when the partner's settings do not allow media or the
// bytes are not the medium named. The partner stores a medium once.
func (c *Client) SendMedia(ctx context.Context, p *vigil.Partner, ref string, plain []byte) (string, error) {
	if !p.SendMedia {
		return "", &SendError{Message: fmt.Sprintf("partner %q does not take media (send-media is off)", p.Name), Permanent: true}
	}
	if p.AgeRecipient == "" {
		return "", &SendError{Message: fmt.Sprintf("partner %q has no age recipient", p.Name), Permanent: true}
	}
	sum := sha256.Sum256(plain)
	sealed, err := SealMedia(p.AgeRecipient, plain)
	if err != nil {
		return "", &SendError{Message: vigil.ErrorMessage(err), Permanent: true}
	}
	path := "/api/v1/referrals/" + url.PathEscape(ref) + "/media/" + hex.EncodeToString(sum[:])
	return c.send(ctx, p, http.MethodPut, path, MediaContentType, sealed)
}
