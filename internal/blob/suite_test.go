package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-hotline/vigil/internal/blob"
)

// storeImpl is one blob.Store implementation under the suite, with a way
// to see what it really holds (the files in the folder, the keys in the
// bucket), so the suite can check what reaches the medium.
type storeImpl struct {
	store blob.Store
	// held lists every object as stored, by where it is stored (a path
	// under the folder, a key in the bucket), with its bytes.
	held func(t *testing.T) map[string][]byte
}

// TestDirStore runs the suite against the folder store.
func TestDirStore(t *testing.T) {
	runStoreSuite(t, func(t *testing.T) storeImpl {
		root := filepath.Join(t.TempDir(), "blobs")
		d, err := blob.NewDir(root)
		if err != nil {
			t.Fatal(err)
		}
		return storeImpl{store: d, held: func(t *testing.T) map[string][]byte {
			t.Helper()
			out := map[string][]byte{}
			err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
				if err != nil || e.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				out[strings.TrimPrefix(p, root+string(filepath.Separator))] = b
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}}
	})
}

// TestS3Store runs the suite against the S3 store over the fake S3 on
// loopback.
func TestS3Store(t *testing.T) {
	runStoreSuite(t, func(t *testing.T) storeImpl {
		srv := newFake(t, "")
		s := newS3(t, baseConfig(srv))
		return storeImpl{store: s, held: func(t *testing.T) map[string][]byte {
			out := map[string][]byte{}
			for _, k := range srv.Keys("media") {
				b, _ := srv.Object("media", k)
				out[k] = b
			}
			return out
		}}
	})
}

// runStoreSuite is the one suite every blob.Store passes, as
// internal/storetest is for the databases.
func runStoreSuite(t *testing.T, open func(t *testing.T) storeImpl) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("BadNames", func(t *testing.T) { testBadNames(t, open(t)) })
	t.Run("Sizes", func(t *testing.T) { testSizes(t, open(t)) })
	t.Run("Listing", func(t *testing.T) { testListing(t, open(t)) })
	t.Run("EncryptedAtRest", func(t *testing.T) { testEncryptedAtRest(t, open(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, open(t)) })
}

// objectName is a valid object name (what Vault.Name gives: 64 hex digits).
func objectName(i int) string { return fmt.Sprintf("%064x", 0xabc000+i) }

func testRoundTrip(t *testing.T, s storeImpl) {
	ctx := context.Background()
	name := objectName(1)
	if err := s.store.Put(ctx, name, []byte("first version")); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.store.Exists(ctx, name); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	// A second Put replaces the object whole.
	if err := s.store.Put(ctx, name, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.store.Get(ctx, name); err != nil || string(got) != "second" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := s.store.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.store.Exists(ctx, name); ok || err != nil {
		t.Fatalf("after Delete, Exists = %v, %v", ok, err)
	}
	if _, err := s.store.Get(ctx, name); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("after Delete, Get = %v, want ErrNotFound", err)
	}
	// Deleting what is not there is not an error: a retried job deletes
	// again.
	if err := s.store.Delete(ctx, name); err != nil {
		t.Fatalf("Delete of a missing object: %v", err)
	}
	if n := len(s.held(t)); n != 0 {
		t.Fatalf("%d objects left", n)
	}
}

func testNotFound(t *testing.T, s storeImpl) {
	ctx := context.Background()
	name := objectName(2)
	_, err := s.store.Get(ctx, name)
	if !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get(missing) = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("the error does not name the object: %v", err)
	}
	if ok, err := s.store.Exists(ctx, name); ok || err != nil {
		t.Fatalf("Exists(missing) = %v, %v", ok, err)
	}
}

// testBadNames: both stores refuse the same names, so an object one
// accepts the other does too, and no name reaches outside the store.
func testBadNames(t *testing.T, s storeImpl) {
	ctx := context.Background()
	for _, bad := range []string{"", "short", "../../etc/passwd", "abc/defghij", `abc\defghij`, "abcdefgh.tmp"} {
		if err := s.store.Put(ctx, bad, []byte("x")); err == nil || !strings.Contains(err.Error(), "bad object name") {
			t.Errorf("Put(%q) = %v", bad, err)
		}
		if _, err := s.store.Get(ctx, bad); err == nil || errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want a bad-name error", bad, err)
		}
		if _, err := s.store.Exists(ctx, bad); err == nil {
			t.Errorf("Exists(%q) accepted", bad)
		}
		if err := s.store.Delete(ctx, bad); err == nil {
			t.Errorf("Delete(%q) accepted", bad)
		}
	}
	if n := len(s.held(t)); n != 0 {
		t.Fatalf("%d objects stored under bad names", n)
	}
}

func testSizes(t *testing.T, s storeImpl) {
	ctx := context.Background()
	for i, n := range []int{0, 1, 4096, 1<<20 + 1} {
		data := make([]byte, n)
		rand.Read(data)
		name := objectName(100 + i)
		if err := s.store.Put(ctx, name, data); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, err := s.store.Get(ctx, name)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: got %d, %v", n, len(got), err)
		}
	}
}

// testListing: what the medium holds is one entry an object, named after
// it (two levels deep on disk, PREFIX/NAME[:2]/NAME in the bucket), and
// nothing else: no temporary file left behind.
func testListing(t *testing.T, s storeImpl) {
	ctx := context.Background()
	var names []string
	for i := range 5 {
		names = append(names, objectName(200+i))
		if err := s.store.Put(ctx, names[i], []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.store.Delete(ctx, names[4]); err != nil {
		t.Fatal(err)
	}
	held := s.held(t)
	var found []string
	for where, b := range held {
		base := where[strings.LastIndexAny(where, `/\`)+1:]
		if !slices.Contains(names[:4], base) || !strings.Contains(where, base[:2]) {
			t.Errorf("unexpected entry %q", where)
			continue
		}
		if i := slices.Index(names, base); !bytes.Equal(b, []byte{byte(i)}) {
			t.Errorf("%s holds %v", where, b)
		}
		found = append(found, base)
	}
	slices.Sort(found)
	if !slices.Equal(found, names[:4]) {
		t.Errorf("held %q, want %q", found, names[:4])
	}
}

// testEncryptedAtRest: through a Vault, the medium holds neither the
// plain bytes nor a name that gives away the content's hash, and an
// altered, swapped or foreign object does not decrypt.
func testEncryptedAtRest(t *testing.T, s storeImpl) {
	ctx := context.Background()
	v := testVault(t, s.store)
	plain := testPlain(200)
	sha := "3f1d5e" + strings.Repeat("0", 58)
	name := v.Name(sha)
	if name == sha || len(name) != 64 {
		t.Fatalf("name %q", name)
	}
	if err := v.Put(ctx, name, plain); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get(ctx, name); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip: %v", err)
	}
	for where, raw := range s.held(t) {
		if bytes.Contains(raw, []byte("benign generated")) || strings.Contains(where, sha[:16]) {
			t.Fatalf("%s holds the plain bytes or the content hash", where)
		}
		if len(raw) <= len(plain) {
			t.Fatalf("stored %d bytes for %d plain: no nonce and tag?", len(raw), len(plain))
		}
	}
	if ok, err := v.Exists(ctx, name); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if _, err := v.Get(ctx, v.Name("missing")); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("missing object: %v", err)
	}

	// Another key cannot read it.
	if _, err := testVault(t, s.store).Get(ctx, name); err == nil {
		t.Error("decrypted with the wrong key")
	}
	// An object moved under another name does not decrypt: the name is
	// bound to the ciphertext.
	raw, err := s.store.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	other := v.Name("other")
	if err := s.store.Put(ctx, other, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, other); err == nil {
		t.Error("object swapped between names decrypted")
	}
	// An altered object does not decrypt.
	raw[len(raw)-1] ^= 1
	if err := s.store.Put(ctx, name, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, name); err == nil {
		t.Error("altered object decrypted")
	}
	if err := v.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if ok, _ := v.Exists(ctx, name); ok {
		t.Error("deleted object exists")
	}
}

// testConcurrentWriters: writers racing on one name leave one of their
// objects whole, never a mix, and readers meanwhile see a whole version
// or none; writers on distinct names all land.
func testConcurrentWriters(t *testing.T, s storeImpl) {
	ctx := context.Background()
	const writers = 8
	shared := objectName(300)
	version := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 64<<10) }
	var wg sync.WaitGroup
	errs := make(chan error, 4*writers)
	for i := range writers {
		wg.Go(func() {
			for range 3 {
				if err := s.store.Put(ctx, shared, version(i)); err != nil {
					errs <- err
				}
			}
			if err := s.store.Put(ctx, objectName(400+i), version(i)); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			got, err := s.store.Get(ctx, shared)
			if errors.Is(err, blob.ErrNotFound) {
				return
			}
			if err != nil {
				errs <- err
				return
			}
			if len(got) != 64<<10 || !bytes.Equal(got, version(int(got[0]-'a'))) {
				errs <- fmt.Errorf("a reader saw a partial or mixed object (%d bytes)", len(got))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.store.Get(ctx, shared)
	if err != nil || len(got) == 0 || got[0] < 'a' || int(got[0]-'a') >= writers || !bytes.Equal(got, version(int(got[0]-'a'))) {
		t.Fatalf("after the race the object is not one writer's whole (%d bytes, %v)", len(got), err)
	}
	for i := range writers {
		if got, err := s.store.Get(ctx, objectName(400+i)); err != nil || !bytes.Equal(got, version(i)) {
			t.Errorf("writer %d's object: %v", i, err)
		}
	}
	if n := len(s.held(t)); n != writers+1 {
		t.Errorf("%d entries held, want %d (a temporary file left?)", n, writers+1)
	}
}
