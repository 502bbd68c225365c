package vigil

import (
	"context"
	"regexp"
	"time"
)

// APIKey lets a partner hotline or platform use the API. The key itself is
// shown once at creation; only its SHA-256 is stored.
type APIKey struct {
	ID        int64
	Name      string
	Hash      []byte
	CreatedAt time.Time
	Revoked   bool
}

var apiKeyNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks a key before it is stored.
func (k *APIKey) Validate() error {
	if !apiKeyNameRE.MatchString(k.Name) {
		return Errorf(EINVALID, "API key name must be 1–64 characters: letters, digits, '.', '_' or '-'")
	}
	if len(k.Hash) != 32 {
		return Errorf(EINVALID, "API key hash must be 32 bytes")
	}
	return nil
}

// APIKeyService stores API keys.
type APIKeyService interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKeyByHash returns the unrevoked key with this hash.
	FindAPIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	RevokeAPIKey(ctx context.Context, name string) error
}
