package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/blob/s3test"
)

func blobEnv(vars map[string]string) *Env {
	return &Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
		Getenv: func(k string) string { return vars[k] }}
}

func TestOpenBlobStoreDir(t *testing.T) {
	data := t.TempDir()
	s, err := openBlobStore(blobEnv(nil), data, "")
	if _, ok := s.(*blob.Dir); err != nil || !ok {
		t.Fatalf("default store = %T, %v", s, err)
	}
	if _, err := os.Stat(filepath.Join(data, "blobs")); err != nil {
		t.Fatalf("DATA/blobs not made: %v", err)
	}
	other := filepath.Join(t.TempDir(), "elsewhere")
	if _, err := openBlobStore(blobEnv(nil), data, other); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("--blob-dir not used: %v", err)
	}
}

func TestOpenBlobStoreS3(t *testing.T) {
	srv := s3test.NewServer("AK", "")
	defer srv.Close()
	vars := map[string]string{
		"VIGIL_S3_ENDPOINT":      "http://" + srv.Endpoint(),
		"VIGIL_S3_BUCKET":        "vigil-media",
		"VIGIL_S3_PREFIX":        "prod",
		"VIGIL_S3_ACCESS_KEY":    "AK",
		"VIGIL_S3_SECRET_KEY":    "generated-test-secret",
		"VIGIL_S3_CREATE_BUCKET": "true",
	}
	data := t.TempDir()
	s, err := openBlobStore(blobEnv(vars), data, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*blob.S3); !ok {
		t.Fatalf("store = %T", s)
	}
	if _, err := os.Stat(filepath.Join(data, "blobs")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a blob folder was made although S3 is configured")
	}
	ctx := context.Background()
	if err := s.Put(ctx, "0123456789abcdef", []byte("generated")); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Object("vigil-media", "prod/01/0123456789abcdef"); !ok {
		t.Fatalf("keys %q", srv.Keys("vigil-media"))
	}

	for _, tc := range []struct{ name, key, val string }{
		{"no bucket", "VIGIL_S3_BUCKET", ""},
		{"no secret", "VIGIL_S3_SECRET_KEY", ""},
		{"bad ssl", "VIGIL_S3_SSL", "maybe"},
		{"ssl disagrees with scheme", "VIGIL_S3_SSL", "true"},
		{"endpoint with a path", "VIGIL_S3_ENDPOINT", "https://s3.example.com/bucket"},
	} {
		bad := map[string]string{}
		for k, v := range vars {
			bad[k] = v
		}
		bad[tc.key] = tc.val
		if _, err := openBlobStore(blobEnv(bad), data, ""); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestS3SSL(t *testing.T) {
	for v, want := range map[string]bool{"": true, "true": true, "1": true, "false": false, "OFF": false} {
		if got, err := s3SSL(v); err != nil || got != want {
			t.Errorf("s3SSL(%q) = %v, %v", v, got, err)
		}
	}
}
