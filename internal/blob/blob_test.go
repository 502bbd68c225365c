package blob

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestVault(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := NewDir(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := LoadOrCreateKey(filepath.Join(dir, "keys", "media.key"))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := LoadOrCreateKey(filepath.Join(dir, "keys", "media.key"))
	if !bytes.Equal(key, again) {
		t.Fatal("key file not reused")
	}
	v, err := NewVault(store, key)
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("benign test picture bytes "), 100)
	name := v.Name("3f1d5e")
	if name == "3f1d5e" || len(name) != 64 {
		t.Fatalf("name %q", name)
	}
	if err := v.Put(ctx, name, plain); err != nil {
		t.Fatal(err)
	}
	got, err := v.Get(ctx, name)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip: %v", err)
	}
	// On disk the bytes are never in plain form.
	raw, err := store.Get(ctx, name)
	if err != nil || bytes.Contains(raw, []byte("benign test picture")) {
		t.Fatalf("stored in plain form (%v)", err)
	}
	// An altered object, or one under another name, does not decrypt.
	raw[len(raw)-1] ^= 1
	_ = store.Put(ctx, name, raw)
	if _, err := v.Get(ctx, name); err == nil {
		t.Error("altered object decrypted")
	}
	other := v.Name("other")
	_ = v.Put(ctx, other, plain)
	moved, _ := store.Get(ctx, other)
	_ = store.Put(ctx, name, moved)
	if _, err := v.Get(ctx, name); err == nil {
		t.Error("object swapped between names decrypted")
	}
	// Another key cannot read it.
	k2 := make([]byte, KeySize)
	v2, _ := NewVault(store, k2)
	if _, err := v2.Get(ctx, other); err == nil {
		t.Error("decrypted with the wrong key")
	}
	if _, err := v.Get(ctx, v.Name("missing")); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing object: %v", err)
	}
	if ok, _ := v.Exists(ctx, other); !ok {
		t.Error("Exists")
	}
	if err := v.Delete(ctx, other); err != nil {
		t.Fatal(err)
	}
	if ok, _ := v.Exists(ctx, other); ok {
		t.Error("deleted object exists")
	}
	for _, bad := range []string{"../../etc", "a/b", "short"} {
		if err := store.Put(ctx, bad, plain); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "keys", "media.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v", fi.Mode(), err)
	}
}
