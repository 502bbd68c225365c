package blob

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The stores and the Vault over them are tested by the suite every store
// passes (suite_test.go); this is the key file alone.
func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "media.key")
	key, err := LoadOrCreateKey(path)
	if err != nil || len(key) != KeySize {
		t.Fatalf("key %d bytes, %v", len(key), err)
	}
	again, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(key, again) {
		t.Fatalf("key file not reused (%v)", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v", fi.Mode(), err)
	}
	if err := os.WriteFile(path, []byte("not hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Error("a damaged key file was accepted")
	}
	if _, err := NewVault(nil, key[:32]); err == nil {
		t.Error("a short key was accepted")
	}
}
