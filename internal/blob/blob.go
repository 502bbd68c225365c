// Package blob keeps media bytes, always encrypted: a Store holds opaque
// objects (a local folder by default, S3-compatible storage at scale), and
// Vault encrypts each object with AES-256-GCM under a key that is never
// stored beside the objects. Object names are keyed hashes, so a listing
// of the store does not reveal which content it holds.
package blob

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound is returned for an object that does not exist.
var ErrNotFound = errors.New("blob: not found")

// Store holds opaque objects by name.
type Store interface {
	Put(ctx context.Context, name string, data []byte) error
	Get(ctx context.Context, name string) ([]byte, error)
	Delete(ctx context.Context, name string) error
	Exists(ctx context.Context, name string) (bool, error)
}

// Dir is a Store in a local folder, two levels of sub-folders deep so that
// no folder grows too large.
type Dir struct{ root string }

// NewDir returns a Store in root, creating it.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &Dir{root: root}, nil
}

func (d *Dir) path(name string) (string, error) {
	if len(name) < 8 || strings.ContainsAny(name, `/\.`) {
		return "", fmt.Errorf("blob: bad object name %q", name)
	}
	return filepath.Join(d.root, name[:2], name[2:4], name), nil
}

// Put writes an object atomically: a reader never sees half of it, and a
// crash leaves either the old object or the new one.
func (d *Dir) Put(_ context.Context, name string, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name()) // the put has failed; the temporary file only takes space
		return fmt.Errorf("blob: put %s: %w", name, err)
	}
	return nil
}

// Get reads an object.
func (d *Dir) Get(_ context.Context, name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return b, err
}

// Delete removes an object; a missing one is not an error.
func (d *Dir) Delete(_ context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

// Exists reports whether an object exists.
func (d *Dir) Exists(_ context.Context, name string) (bool, error) {
	p, err := d.path(name)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// KeySize is the size of a vault key: 32 bytes for AES-256, 32 for naming.
const KeySize = 64

// Vault encrypts objects before they reach a Store and names them by a
// keyed hash of their SHA-256.
type Vault struct {
	store   Store
	aead    cipher.AEAD
	nameKey []byte
}

// NewVault returns a Vault over store with a 64-byte key.
func NewVault(store Store, key []byte) (*Vault, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("blob: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Vault{store: store, aead: aead, nameKey: append([]byte(nil), key[32:]...)}, nil
}

// Name returns the object name for content with this SHA-256.
func (v *Vault) Name(sha256Hex string) string {
	m := hmac.New(sha256.New, v.nameKey)
	m.Write([]byte(sha256Hex))
	return hex.EncodeToString(m.Sum(nil))
}

const formatV1 = 1

// Put encrypts data and stores it under name. The name is bound to the
// ciphertext, so objects cannot be swapped unnoticed.
func (v *Vault) Put(ctx context.Context, name string, data []byte) error {
	out := make([]byte, 1+v.aead.NonceSize(), 1+v.aead.NonceSize()+len(data)+v.aead.Overhead())
	out[0] = formatV1
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		return err
	}
	out = v.aead.Seal(out, out[1:], data, []byte(name))
	return v.store.Put(ctx, name, out)
}

// Get fetches and decrypts an object. The plain bytes exist only in memory.
func (v *Vault) Get(ctx context.Context, name string) ([]byte, error) {
	b, err := v.store.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	ns := v.aead.NonceSize()
	if len(b) < 1+ns || b[0] != formatV1 {
		return nil, fmt.Errorf("blob: %s: unknown format", name)
	}
	plain, err := v.aead.Open(nil, b[1:1+ns], b[1+ns:], []byte(name))
	if err != nil {
		return nil, fmt.Errorf("blob: %s: does not decrypt (wrong key or altered): %w", name, err)
	}
	return plain, nil
}

// Exists reports whether an object exists.
func (v *Vault) Exists(ctx context.Context, name string) (bool, error) {
	return v.store.Exists(ctx, name)
}

// Delete removes an object.
func (v *Vault) Delete(ctx context.Context, name string) error { return v.store.Delete(ctx, name) }

// LoadOrCreateKey reads a hex key file, creating it with a new random key
// (mode 0600) when it does not exist.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != KeySize {
			return nil, fmt.Errorf("blob: %s does not hold a %d-byte hex key", path, KeySize)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, err
	}
	_, err = fmt.Fprintln(f, hex.EncodeToString(k))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return k, err
}
