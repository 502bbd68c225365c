package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config configures an S3 store.
type S3Config struct {
	// Endpoint is host or host:port, without a scheme (s3.amazonaws.com,
	// minio.internal:9000).
	Endpoint string
	Bucket   string
	// Prefix is put before every object name, so that one bucket can hold
	// several deployments; a "/" is added when it does not end in one.
	Prefix    string
	AccessKey string
	SecretKey string
	// Region may be left empty: the client then asks the server for the
	// bucket's location once (GetBucketLocation), which needs that
	// permission. Setting it saves the call.
	Region string
	UseSSL bool
	// CreateBucket makes the bucket at start-up when it does not exist:
	// handy for a development MinIO, better left off in production where
	// the bucket and its policies are made by whoever runs the storage.
	CreateBucket bool
	// Timeout bounds each operation when the caller's context sets no
	// earlier deadline, so that a hung server cannot stall a worker for
	// ever; 0 means 5 minutes.
	Timeout time.Duration
	// Transport replaces the HTTP transport (a private CA, tests).
	Transport http.RoundTripper
}

// S3 is a Store in an S3-compatible bucket (AWS S3, MinIO, Ceph, …).
//
// Objects reach it through Vault, so they are already encrypted with a key
// that never leaves this host: no server-side encryption is relied on, and
// whoever runs the bucket sees only ciphertext under keyed names. Objects
// are laid out as PREFIX + name[:2] + "/" + name, the two-character
// folder spreading names across key prefixes the way Dir spreads them
// across folders.
type S3 struct {
	client  *minio.Client
	bucket  string
	prefix  string
	timeout time.Duration
}

// NewS3 returns a Store in the configured bucket. It contacts the server
// only when CreateBucket is set, so that keys limited to object operations
// (no s3:ListBucket for HEAD bucket) work.
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	if c.Endpoint == "" || c.Bucket == "" {
		return nil, errors.New("blob: s3 needs an endpoint and a bucket")
	}
	if strings.Contains(c.Endpoint, "://") {
		return nil, fmt.Errorf("blob: s3 endpoint %q: want host:port, without a scheme", c.Endpoint)
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return nil, errors.New("blob: s3 needs an access key and a secret key")
	}
	client, err := minio.New(c.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:    c.UseSSL,
		Region:    c.Region,
		Transport: c.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3: %w", err)
	}
	prefix := strings.TrimLeft(c.Prefix, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	s := &S3{client: client, bucket: c.Bucket, prefix: prefix, timeout: c.Timeout}
	if s.timeout <= 0 {
		s.timeout = 5 * time.Minute
	}
	if c.CreateBucket {
		ctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		ok, err := client.BucketExists(ctx, c.Bucket)
		if err != nil {
			return nil, fmt.Errorf("blob: s3 bucket %s: %w", c.Bucket, err)
		}
		if !ok {
			err := client.MakeBucket(ctx, c.Bucket, minio.MakeBucketOptions{Region: c.Region})
			// Another process may have made it between the two calls.
			if code := minio.ToErrorResponse(err).Code; err != nil && code != "BucketAlreadyOwnedByYou" {
				return nil, fmt.Errorf("blob: s3 make bucket %s: %w", c.Bucket, err)
			}
		}
	}
	return s, nil
}

// key maps an object name to its S3 key, refusing the names Dir refuses
// so that both stores accept the same objects.
func (s *S3) key(name string) (string, error) {
	if len(name) < 8 || strings.ContainsAny(name, `/\.`) {
		return "", fmt.Errorf("blob: bad object name %q", name)
	}
	return s.prefix + name[:2] + "/" + name, nil
}

func isNoSuchKey(err error) bool {
	return minio.ToErrorResponse(err).Code == minio.NoSuchKey
}

// Put stores an object. A single PUT (no multipart) keeps the object
// whole or absent on the server, and media objects (64 MiB at most by
// default) are far below the 5 GiB a single PUT takes.
func (s *S3) Put(ctx context.Context, name string, data []byte) error {
	k, err := s.key(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err = s.client.PutObject(ctx, s.bucket, k, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:      "application/octet-stream",
		DisableMultipart: true,
	})
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", name, err)
	}
	return nil
}

// Get reads an object; a missing one gives an error wrapping ErrNotFound.
func (s *S3) Get(ctx context.Context, name string) ([]byte, error) {
	k, err := s.key(name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	obj, err := s.client.GetObject(ctx, s.bucket, k, minio.GetObjectOptions{})
	if err == nil {
		// The request is made on the first read, so that is where a
		// missing object shows.
		var b []byte
		b, err = io.ReadAll(obj)
		_ = obj.Close() // read to the end or failed: either way done with it
		if err == nil {
			return b, nil
		}
	}
	if isNoSuchKey(err) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return nil, fmt.Errorf("blob: get %s: %w", name, err)
}

// Delete removes an object; a missing one is not an error (S3 answers a
// DELETE of a missing key with success too).
func (s *S3) Delete(ctx context.Context, name string) error {
	k, err := s.key(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("blob: delete %s: %w", name, err)
	}
	return nil
}

// Exists reports whether an object exists. A refused request or an
// unreachable server is an error, not "no": the caller must not take an
// outage for an absent object. (A missing bucket is an error on MinIO,
// which names it in a header; AWS answers the HEAD with a bare 404, which
// reads as "no".)
func (s *S3) Exists(ctx context.Context, name string) (bool, error) {
	k, err := s.key(name)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err = s.client.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{})
	switch {
	case err == nil:
		return true, nil
	case isNoSuchKey(err):
		return false, nil
	}
	return false, fmt.Errorf("blob: stat %s: %w", name, err)
}
