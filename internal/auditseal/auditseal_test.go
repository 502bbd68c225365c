package auditseal_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auditseal"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/blob/s3test"
)

type fakeHead struct{ h vigil.AuditHeadState }

func (f *fakeHead) AuditHead(context.Context) (vigil.AuditHeadState, error) { return f.h, nil }

// TestCheckpoints: checkpoints go to the file and the object store only
// when the head moved, read back signed, and a forged or reordered one is
// named.
func TestCheckpoints(t *testing.T) {
	ctx := context.Background()
	srv := s3test.NewServer("vigil-test", "")
	t.Cleanup(srv.Close)
	srv.MakeBucket("media")
	s3, err := blob.NewS3(ctx, blob.S3Config{Endpoint: srv.Endpoint(), Bucket: "media", AccessKey: "vigil-test",
		SecretKey: "vigil-test-secret-not-a-real-one", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), auditseal.FileName)
	file := auditseal.NewFile(path)
	objects := &auditseal.Objects{Store: s3, IsNotFound: func(err error) bool { return errors.Is(err, blob.ErrNotFound) }}
	logs := []auditseal.Log{file, objects}
	signer := auditseal.NewSigner(bytes.Repeat([]byte{1}, 32))
	head := &fakeHead{}
	cp := &auditseal.Checkpointer{Head: head, Signer: signer, Logs: logs, Now: func() time.Time { return time.Unix(1e9, 0) }}
	if _, wrote, err := cp.Once(ctx); wrote || err != nil {
		t.Fatalf("empty log: %v %v", wrote, err)
	}
	for _, h := range []vigil.AuditHeadState{{ID: 3, Hash: "aa"}, {ID: 3, Hash: "aa"}, {ID: 7, Hash: "bb", KeyID: "k"}} {
		head.h = h
		if _, _, err := cp.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	anchors, problem, err := auditseal.Anchors(ctx, signer, logs)
	if err != nil || problem != "" || len(anchors) != 3 || anchors[1].ID != 7 || anchors[2].Source != "the latest checkpoint in the object store" {
		t.Fatalf("anchors %+v, %q, %v", anchors, problem, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint file mode: %v %v", fi.Mode(), err)
	}
	// A restarted checkpointer does not repeat the last line.
	cp2 := &auditseal.Checkpointer{Head: head, Signer: signer, Logs: logs}
	if _, wrote, err := cp2.Once(ctx); wrote || err != nil {
		t.Errorf("restart: %v %v", wrote, err)
	}
	// Another deployment's key does not check these.
	if _, problem, _ := auditseal.Anchors(ctx, auditseal.NewSigner(bytes.Repeat([]byte{2}, 32)), logs); !strings.Contains(problem, "line 1 does not carry") {
		t.Errorf("other key: %q", problem)
	}
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(path, []byte(lines[1]+lines[0]), 0o600)
	if _, problem, _ := auditseal.Anchors(ctx, signer, logs); !strings.Contains(problem, "line 2 names entry 3 after a checkpoint of entry 7") {
		t.Errorf("reordered: %q", problem)
	}
	os.WriteFile(path, []byte(strings.Repeat("x", 10000)), 0o600)
	if _, _, err := auditseal.Anchors(ctx, signer, logs); err == nil {
		t.Error("a damaged file read without error")
	}
}
