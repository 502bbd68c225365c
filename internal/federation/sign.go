// Package federation refers cases between hotlines that run Vigil: a
// referral (our case reference, its URLs, hosting trace, per item hashes,
// classifications and evidence references) is posted, signed with
// Ed25519, to the partner's POST /api/v1/referrals; the partner reports
// progress back to POST /api/v1/referrals/{ref}/status, signed likewise.
// Everything a partner sends is parsed as hostile input (Parse*), with
// bounds on size, counts and every field.
package federation

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/vigil-hotline/vigil"
)

// Headers of a signed request. The signature covers the method, path,
// timestamp, nonce and the SHA-256 of the exact body, so that none of them
// can be changed or the request replayed to another endpoint.
const (
	HeaderKey       = "Vigil-Key"       // the sender's public key (base64)
	HeaderTimestamp = "Vigil-Timestamp" // Unix seconds
	HeaderNonce     = "Vigil-Nonce"     // 32 hex digits, never reused
	HeaderSignature = "Vigil-Signature" // base64 Ed25519 signature
)

// Window is how far a signed request's timestamp may be from the
// receiver's clock; a nonce is remembered at least this long.
const Window = 5 * time.Minute

// SigningKey derives the federation signing key from the secret in its
// own key file (DATA/keys/federation.key), apart from the media and audit
// keys: a partner holding our public key learns nothing of the others.
func SigningKey(secret []byte) ed25519.PrivateKey {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("vigil-federation-signing-v1"))
	return ed25519.NewKeyFromSeed(m.Sum(nil))
}

// PublicKey is the base64 form of a signing key's public half, as
// `vigil partner key` prints it and `vigil partner add --public-key` reads it.
func PublicKey(k ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

// signedMessage is what is signed.
func signedMessage(method, path, ts, nonce string, body []byte) []byte {
	d := sha256.Sum256(body)
	return []byte("vigil-federation-v1\n" + method + "\n" + path + "\n" + ts + "\n" + nonce + "\n" + hex.EncodeToString(d[:]))
}

// Sign sets the signature headers of a request whose body is body, with a
// fresh nonce and the time now.
func Sign(req *http.Request, key ed25519.PrivateKey, body []byte, now time.Time) {
	var n [16]byte
	_, _ = rand.Read(n[:])
	nonce := hex.EncodeToString(n[:])
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := ed25519.Sign(key, signedMessage(req.Method, req.URL.EscapedPath(), ts, nonce, body))
	req.Header.Set(HeaderKey, PublicKey(key))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
}

// Signed is a request's verified signature: the key that made it and its
// nonce (to be refused a second time).
type Signed struct {
	Key   string
	Nonce string
	At    time.Time
}

var nonceRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// SenderKey returns the public key a request says it is signed with, for
// finding the partner before Verify.
func SenderKey(r *http.Request) (ed25519.PublicKey, error) {
	return vigil.ParsePartnerKey(r.Header.Get(HeaderKey))
}

// Verify checks a request's signature over body against pub at now: the
// timestamp within Window, a well-formed nonce, the signature valid. The
// caller refuses a nonce seen before.
func Verify(r *http.Request, pub ed25519.PublicKey, body []byte, now time.Time) (*Signed, error) {
	ts, nonce := r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderNonce)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 12 {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "the request needs a %s header (Unix seconds)", HeaderTimestamp)
	}
	at := time.Unix(sec, 0).UTC()
	if d := now.Sub(at); d > Window || d < -Window {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "the request's timestamp is more than %v from our clock", Window)
	}
	if !nonceRE.MatchString(nonce) {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "the request needs a %s header of 32 hex digits", HeaderNonce)
	}
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get(HeaderSignature))
	if err != nil || len(sig) != ed25519.SignatureSize ||
		!ed25519.Verify(pub, signedMessage(r.Method, r.URL.EscapedPath(), ts, nonce, body), sig) {
		return nil, vigil.Errorf(vigil.EUNAUTHORIZED, "the signature does not verify against the partner's key")
	}
	return &Signed{Key: base64.StdEncoding.EncodeToString(pub), Nonce: nonce, At: at}, nil
}

// String describes the signature for logs.
func (s *Signed) String() string {
	return fmt.Sprintf("nonce %s at %s", s.Nonce, s.At.Format(time.RFC3339))
}
