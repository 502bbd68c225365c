package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil/internal/blob"
)

// openBlobStore opens where the encrypted media live: an S3-compatible
// bucket when VIGIL_S3_ENDPOINT is set, else the blob folder (default
// DATA/blobs). The store only ever holds Vault ciphertext; the media key
// stays in the data folder or the configured key file, never in the store.
func openBlobStore(env *Env, dataDir, blobDir string) (blob.Store, error) {
	endpoint := strings.TrimSpace(env.Getenv("VIGIL_S3_ENDPOINT"))
	if endpoint == "" {
		if blobDir == "" {
			blobDir = filepath.Join(dataDir, "blobs")
		}
		d, err := blob.NewDir(blobDir)
		if err != nil {
			return nil, err // not a nil *Dir in a non-nil Store
		}
		return d, nil
	}
	useSSL, err := s3SSL(env.Getenv("VIGIL_S3_SSL"))
	if err != nil {
		return nil, err
	}
	// Accept a URL too, since that is how most consoles show an endpoint;
	// its scheme then decides TLS, and a VIGIL_S3_SSL saying otherwise is
	// a mistake worth stopping for.
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return nil, fmt.Errorf("VIGIL_S3_ENDPOINT %q: want host:port or http(s)://host:port", endpoint)
		}
		if env.Getenv("VIGIL_S3_SSL") != "" && useSSL != (u.Scheme == "https") {
			return nil, fmt.Errorf("VIGIL_S3_ENDPOINT %q and VIGIL_S3_SSL disagree", endpoint)
		}
		endpoint, useSSL = u.Host, u.Scheme == "https"
	}
	c := blob.S3Config{
		Endpoint:     endpoint,
		Bucket:       env.Getenv("VIGIL_S3_BUCKET"),
		Prefix:       env.Getenv("VIGIL_S3_PREFIX"),
		AccessKey:    env.Getenv("VIGIL_S3_ACCESS_KEY"),
		SecretKey:    env.Getenv("VIGIL_S3_SECRET_KEY"),
		Region:       env.Getenv("VIGIL_S3_REGION"),
		UseSSL:       useSSL,
		CreateBucket: envBool(env, "VIGIL_S3_CREATE_BUCKET"),
	}
	if c.Bucket == "" {
		return nil, fmt.Errorf("VIGIL_S3_ENDPOINT is set but VIGIL_S3_BUCKET is not")
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return nil, fmt.Errorf("VIGIL_S3_ENDPOINT is set: VIGIL_S3_ACCESS_KEY and VIGIL_S3_SECRET_KEY are needed too")
	}
	// Only CreateBucket talks to the server here; bound it so that a
	// wrong endpoint fails start-up instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := blob.NewS3(ctx, c)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// s3SSL reads VIGIL_S3_SSL: TLS unless plainly turned off, since media
// (even encrypted) and credentials should not cross a network in clear
// by accident.
func s3SSL(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("VIGIL_S3_SSL %q: want true or false", v)
}
