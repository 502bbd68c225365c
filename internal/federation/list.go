package federation

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
)

// A published hash list (GET /api/v1/exchange/list) is signed with the
// federation key partners already hold: the signature is Ed25519ph over
// the SHA-512 of the body exactly as sent, so that a list of any length is
// signed while it streams, and sent as the HTTP trailer Vigil-Signature
// (HeaderSignature); the key is in the Vigil-Key header.

// ListSigner signs a list as it is written.
type ListSigner struct {
	key ed25519.PrivateKey
	h   hash.Hash
}

// NewListSigner starts a signature with key.
func NewListSigner(key ed25519.PrivateKey) *ListSigner {
	return &ListSigner{key: key, h: sha512.New()}
}

// Write adds body bytes.
func (s *ListSigner) Write(p []byte) (int, error) { return s.h.Write(p) }

// Sign returns the signature of everything written, in base64.
func (s *ListSigner) Sign() (string, error) {
	sig, err := s.key.Sign(nil, s.h.Sum(nil), &ed25519.Options{Hash: crypto.SHA512})
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// ErrBadListSignature says a list is not as its publisher signed it.
var ErrBadListSignature = errors.New("federation: the list's signature does not verify")

// VerifyList checks a list's body against its signature and the
// publisher's public key.
func VerifyList(pub ed25519.PublicKey, body []byte, signature string) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return ErrBadListSignature
	}
	d := sha512.Sum512(body)
	if ed25519.VerifyWithOptions(pub, d[:], sig, &ed25519.Options{Hash: crypto.SHA512}) != nil {
		return ErrBadListSignature
	}
	return nil
}
