package index

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"
	"testing"

	vigil "github.com/vigil-hotline/vigil"
)

func TestExact(t *testing.T) {
	x := NewExact()
	m := md5.Sum([]byte("a"))
	s1 := sha1.Sum([]byte("a"))
	s256 := sha256.Sum256([]byte("a"))
	for _, c := range []struct {
		kind vigil.SignalType
		v    []byte
	}{{vigil.SignalMD5, m[:]}, {vigil.SignalSHA1, s1[:]}, {vigil.SignalSHA256, s256[:]}} {
		if err := x.Add(c.kind, c.v, 1); err != nil {
			t.Fatal(err)
		}
		if err := x.Add(c.kind, c.v, 2); err != nil {
			t.Fatal(err)
		}
		if err := x.Add(c.kind, c.v, 2); !errors.Is(err, ErrExists) {
			t.Fatalf("%s duplicate: %v", c.kind, err)
		}
		if ids, err := x.Lookup(c.kind, c.v); err != nil || !slices.Equal(ids, []int64{1, 2}) {
			t.Fatalf("%s lookup: %v %v", c.kind, ids, err)
		}
		if err := x.Remove(c.kind, c.v, 1); err != nil {
			t.Fatal(err)
		}
		if err := x.Remove(c.kind, c.v, 1); !vigil.IsNotFound(err) {
			t.Fatalf("%s second remove: %v", c.kind, err)
		}
		if ids, _ := x.Lookup(c.kind, c.v); !slices.Equal(ids, []int64{2}) {
			t.Fatalf("%s after remove: %v", c.kind, ids)
		}
	}
	if x.Len() != 3 {
		t.Fatalf("Len %d", x.Len())
	}
	other := md5.Sum([]byte("b"))
	if ids, err := x.Lookup(vigil.SignalMD5, other[:]); err != nil || len(ids) != 0 {
		t.Fatalf("no match: %v %v", ids, err)
	}
	// A SHA-256 value is never looked up as MD5, and PDQ is not exact.
	if _, err := x.Lookup(vigil.SignalMD5, s256[:]); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Fatalf("wrong length: %v", err)
	}
	if err := x.Add(vigil.SignalPDQ, s256[:], 3); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Fatalf("pdq: %v", err)
	}
}

func TestExactConcurrent(t *testing.T) {
	x := NewExact()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				v := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
				id := int64(w*1000 + i)
				if err := x.Add(vigil.SignalSHA256, v[:], id); err != nil {
					t.Error(err)
				}
				if ids, _ := x.Lookup(vigil.SignalSHA256, v[:]); !slices.Contains(ids, id) {
					t.Errorf("%d not found after add", id)
				}
				if i%2 == 0 {
					if err := x.Remove(vigil.SignalSHA256, v[:], id); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if x.Len() != 4*250 {
		t.Fatalf("Len %d", x.Len())
	}
}
