package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/blob/s3test"
)

const (
	testAccess = "VIGILTESTACCESS"
	testSecret = "vigil-test-secret-not-a-real-one"
)

// testPlain is generated filler standing in for media: never real material.
func testPlain(n int) []byte {
	return bytes.Repeat([]byte("benign generated test bytes "), n)
}

func newFake(t *testing.T, region string) *s3test.Server {
	t.Helper()
	srv := s3test.NewServer(testAccess, region)
	t.Cleanup(srv.Close)
	srv.MakeBucket("media")
	return srv
}

func newS3(t *testing.T, c blob.S3Config) *blob.S3 {
	t.Helper()
	s, err := blob.NewS3(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func baseConfig(srv *s3test.Server) blob.S3Config {
	return blob.S3Config{Endpoint: srv.Endpoint(), Bucket: "media", AccessKey: testAccess, SecretKey: testSecret, Region: "us-east-1"}
}

func testVault(t *testing.T, s blob.Store) *blob.Vault {
	t.Helper()
	key := make([]byte, blob.KeySize)
	rand.Read(key)
	v, err := blob.NewVault(s, key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func nameFor(v *blob.Vault, data []byte) string {
	sum := sha256.Sum256(data)
	return v.Name(hex.EncodeToString(sum[:]))
}

// TestS3Layout checks where objects go in the bucket: PREFIX/NAME[:2]/NAME
// (the suite, suite_test.go, covers the rest).
func TestS3Layout(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, "")
	c := baseConfig(srv)
	c.Prefix = "/tenant-a" // leading slash dropped, trailing one added
	s3 := newS3(t, c)
	v := testVault(t, s3)
	plain := testPlain(20)
	name := nameFor(v, plain)
	if err := v.Put(ctx, name, plain); err != nil {
		t.Fatal(err)
	}
	wantKey := "tenant-a/" + name[:2] + "/" + name
	if keys := srv.Keys("media"); !slices.Equal(keys, []string{wantKey}) {
		t.Fatalf("keys %q, want %q", keys, wantKey)
	}
	raw, _ := srv.Object("media", wantKey)
	if direct, err := s3.Get(ctx, name); err != nil || !bytes.Equal(direct, raw) {
		t.Fatalf("S3.Get differs from what the server holds (%v)", err)
	}
}

// TestS3Region checks that a set region saves the GetBucketLocation call,
// and that an unset one is looked up.
func TestS3Region(t *testing.T) {
	ctx := context.Background()
	for _, region := range []string{"", "eu-west-1"} {
		srv := newFake(t, "eu-west-1")
		c := baseConfig(srv)
		c.Region = region
		s := newS3(t, c)
		if err := s.Put(ctx, "abcdef0123456789", []byte{1, 2, 3}); err != nil {
			t.Fatalf("region %q: %v", region, err)
		}
		asked := slices.ContainsFunc(srv.Requests(), func(r string) bool { return strings.HasSuffix(r, "?location=") })
		if asked != (region == "") {
			t.Errorf("region %q: location asked = %v; requests %q", region, asked, srv.Requests())
		}
	}
}

// TestS3TLS covers UseSSL with a custom transport; over TLS minio-go
// sends the body unframed.
func TestS3TLS(t *testing.T) {
	ctx := context.Background()
	srv := s3test.NewTLSServer(testAccess, "")
	defer srv.Close()
	srv.MakeBucket("media")
	c := baseConfig(srv)
	c.UseSSL = true
	c.Transport = srv.HTTP.Client().Transport
	v := testVault(t, newS3(t, c))
	plain := testPlain(50)
	name := nameFor(v, plain)
	if err := v.Put(ctx, name, plain); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get(ctx, name); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip over TLS: %v", err)
	}
}

// TestS3Large stores an object bigger than minio-go's 16 MiB part size:
// it must go as one PUT (the fake refuses multipart uploads).
func TestS3Large(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	ctx := context.Background()
	srv := newFake(t, "")
	s := newS3(t, baseConfig(srv))
	data := make([]byte, 17<<20)
	rand.Read(data)
	name := "0123456789abcdef"
	if err := s.Put(ctx, name, data); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, name); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("large round trip: %v", err)
	}
}

// TestS3Failures checks that refusals and outages are errors, never taken
// for a missing object.
func TestS3Failures(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, "")
	good := newS3(t, baseConfig(srv))
	name := "0123456789abcdef"
	if err := good.Put(ctx, name, []byte("x")); err != nil {
		t.Fatal(err)
	}

	c := baseConfig(srv)
	c.AccessKey = "SOMEONEELSE"
	bad := newS3(t, c)
	if err := bad.Put(ctx, name, []byte("y")); err == nil {
		t.Error("Put with a wrong access key succeeded")
	}
	if ok, err := bad.Exists(ctx, name); err == nil {
		t.Errorf("Exists with a wrong access key = %v, nil", ok)
	}
	if _, err := bad.Get(ctx, name); err == nil || errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get with a wrong access key = %v", err)
	}
	if got, _ := srv.Object("media", name[:2]+"/"+name); string(got) != "x" {
		t.Error("a refused Put changed the object")
	}

	c = baseConfig(srv)
	c.Bucket = "nobucket"
	nob := newS3(t, c)
	if err := nob.Put(ctx, name, []byte("x")); err == nil {
		t.Error("Put into a missing bucket succeeded")
	}
	if ok, err := nob.Exists(ctx, name); err == nil {
		t.Errorf("Exists in a missing bucket = %v, nil", ok)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := good.Put(cancelled, name, []byte("z")); err == nil {
		t.Error("Put with a cancelled context succeeded")
	}

	for _, bad := range []string{"", "short", "../../etc/passwd", "abc/defghij", "abcdefgh.tmp"} {
		if err := good.Put(ctx, bad, []byte("x")); err == nil || !strings.Contains(err.Error(), "bad object name") {
			t.Errorf("Put(%q) = %v", bad, err)
		}
	}
}

func TestS3CreateBucket(t *testing.T) {
	ctx := context.Background()
	srv := s3test.NewServer(testAccess, "")
	defer srv.Close()
	c := baseConfig(srv)
	c.Bucket = "fresh"
	c.CreateBucket = true
	s := newS3(t, c)
	if !srv.HasBucket("fresh") {
		t.Fatal("bucket not made")
	}
	newS3(t, c) // an existing bucket is fine
	if err := s.Put(ctx, "0123456789abcdef", []byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestS3Config(t *testing.T) {
	ok := blob.S3Config{Endpoint: "127.0.0.1:9", Bucket: "media", AccessKey: "a", SecretKey: "s"}
	for _, tc := range []struct {
		name string
		edit func(*blob.S3Config)
	}{
		{"no endpoint", func(c *blob.S3Config) { c.Endpoint = "" }},
		{"no bucket", func(c *blob.S3Config) { c.Bucket = "" }},
		{"scheme", func(c *blob.S3Config) { c.Endpoint = "https://s3.example.com" }},
		{"no access key", func(c *blob.S3Config) { c.AccessKey = "" }},
		{"no secret", func(c *blob.S3Config) { c.SecretKey = "" }},
	} {
		c := ok
		tc.edit(&c)
		if _, err := blob.NewS3(context.Background(), c); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if _, err := blob.NewS3(context.Background(), ok); err != nil {
		t.Errorf("valid config refused (no network call expected): %v", err)
	}
}
