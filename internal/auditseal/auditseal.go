// Package auditseal anchors the audit chain outside the database: signed
// checkpoints of the chain's head, appended to a file of their own in the
// data folder and, at scale, to the object store. Whoever can rewrite the
// database can rewrite the chain and its head row alike; they cannot
// rewrite a checkpoint they cannot sign, so `vigil audit verify` compares
// the chain with the checkpoints and names a cut tail or a rewrite.
package auditseal

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-hotline/vigil"
)

// FileName is the checkpoint file's name in the data folder.
const FileName = "audit-checkpoints.jsonl"

// maxLine bounds one line of the checkpoint file: a real one is ~300 bytes.
const maxLine = 4 << 10

// Checkpoint records the chain's head at a moment, signed.
type Checkpoint struct {
	ID    int64     `json:"id"`
	Hash  string    `json:"hash"`
	KeyID string    `json:"key_id"`
	At    time.Time `json:"at"`
	// Sig is the base64 Ed25519 signature of the fields above.
	Sig string `json:"sig"`
}

func (c Checkpoint) message() []byte {
	return fmt.Appendf(nil, "vigil-audit-checkpoint-v1\n%d\n%s\n%s\n%s\n", c.ID, c.Hash, c.KeyID,
		c.At.UTC().Format(time.RFC3339Nano))
}

// Signer signs and checks checkpoints with an Ed25519 key derived from the
// audit key, so that there is one secret to keep while the public half can
// be handed to whoever checks the checkpoints without the power to forge
// them.
type Signer struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

// NewSigner derives the signing key from the audit key.
func NewSigner(auditKey []byte) *Signer {
	m := hmac.New(sha256.New, auditKey)
	m.Write([]byte("vigil-audit-checkpoint-signing-v1"))
	priv := ed25519.NewKeyFromSeed(m.Sum(nil))
	return &Signer{priv: priv, pub: priv.Public().(ed25519.PublicKey)}
}

// PublicKey is the base64 public key that checks the checkpoints.
func (s *Signer) PublicKey() string { return base64.StdEncoding.EncodeToString(s.pub) }

// Sign fills in c.Sig.
func (s *Signer) Sign(c *Checkpoint) {
	c.At = c.At.UTC()
	c.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(s.priv, c.message()))
}

// Check reports whether c carries this signer's signature.
func (s *Signer) Check(c Checkpoint) bool {
	sig, err := base64.StdEncoding.DecodeString(c.Sig)
	return err == nil && ed25519.Verify(s.pub, c.message(), sig)
}

// Log is where checkpoints are kept.
type Log interface {
	Append(ctx context.Context, c Checkpoint) error
	// Read returns the checkpoints kept, oldest first, each with where it
	// was read; a damaged record is an error naming it.
	Read(ctx context.Context) ([]Located, error)
}

// Located is a checkpoint and where it was read.
type Located struct {
	Checkpoint
	Source string
}

// File is an append-only file of checkpoints, one JSON object a line.
type File struct {
	path string
	mu   sync.Mutex
}

// NewFile returns the checkpoint file at path (created on first append).
func NewFile(path string) *File { return &File{path: path} }

// Path is the file's path.
func (f *File) Path() string { return f.path }

// Append writes c as a new line and syncs it to disk: a checkpoint is
// worth nothing if a crash can take it back.
func (f *File) Append(_ context.Context, c Checkpoint) error {
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	_, err = fh.Write(append(line, '\n'))
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	return nil
}

// Read parses the whole file; a missing file holds no checkpoints.
func (f *File) Read(_ context.Context) ([]Located, error) {
	fh, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 1024), maxLine)
	var out []Located
	for n := 1; sc.Scan(); n++ {
		src := fmt.Sprintf("checkpoint file line %d", n)
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(line, &c); err != nil {
			return out, fmt.Errorf("%s (%s) is damaged: %w", src, f.path, err)
		}
		out = append(out, Located{Checkpoint: c, Source: src})
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("audit checkpoints %s: %w", f.path, err)
	}
	return out, nil
}

// ObjectStore is what Objects needs of a blob store.
type ObjectStore interface {
	Put(ctx context.Context, name string, data []byte) error
	Get(ctx context.Context, name string) ([]byte, error)
}

// Objects keeps checkpoints in an object store shared by every process of
// a scaled-out deployment: one object per checkpoint, named by the entry
// it anchors, and a "latest" object that Read returns. Give the bucket
// object lock or versioning to make them append-only there too.
type Objects struct {
	Store ObjectStore
	// IsNotFound tells a missing object from a failure.
	IsNotFound func(error) bool
}

const objectPrefix = "auditcheckpoint"

// Append stores c under its entry and as the latest.
func (o *Objects) Append(ctx context.Context, c Checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := o.Store.Put(ctx, objectPrefix+fmt.Sprintf("%020d", c.ID), b); err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	if err := o.Store.Put(ctx, objectPrefix+"latest", b); err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	return nil
}

// Read returns the latest checkpoint, if any.
func (o *Objects) Read(ctx context.Context) ([]Located, error) {
	b, err := o.Store.Get(ctx, objectPrefix+"latest")
	if err != nil {
		if o.IsNotFound != nil && o.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("audit checkpoint in the object store: %w", err)
	}
	var c Checkpoint
	if len(b) > maxLine || json.Unmarshal(b, &c) != nil {
		return nil, errors.New("the latest audit checkpoint in the object store is damaged")
	}
	return []Located{{Checkpoint: c, Source: "the latest checkpoint in the object store"}}, nil
}

// Anchors reads every log and checks every checkpoint's signature and
// order. A problem found here is tampering with the checkpoints
// themselves: it is returned as problem, not as err, which is kept for
// failures to read.
func Anchors(ctx context.Context, s *Signer, logs []Log) (anchors []vigil.AuditAnchor, problem string, err error) {
	for _, l := range logs {
		cps, err := l.Read(ctx)
		if err != nil {
			return nil, "", err
		}
		var prev int64
		for _, c := range cps {
			if !s.Check(c.Checkpoint) {
				return nil, c.Source + " does not carry this deployment's signature (forged or altered)", nil
			}
			if c.ID < prev {
				return nil, fmt.Sprintf("%s names entry %d after a checkpoint of entry %d (lines reordered)", c.Source, c.ID, prev), nil
			}
			prev = c.ID
			anchors = append(anchors, vigil.AuditAnchor{ID: c.ID, Hash: c.Hash, At: c.At, KeyID: c.KeyID, Source: c.Source})
		}
	}
	return anchors, "", nil
}

// HeadReader reads the audit log's head.
type HeadReader interface {
	AuditHead(ctx context.Context) (vigil.AuditHeadState, error)
}

// Checkpointer writes a checkpoint whenever the head has moved.
type Checkpointer struct {
	Head   HeadReader
	Signer *Signer
	Logs   []Log
	Now    func() time.Time
	Logger *slog.Logger

	mu   sync.Mutex
	last int64
}

// Once writes a checkpoint of the current head to every log, unless the
// head has not moved since the last one; it reports whether it wrote.
func (c *Checkpointer) Once(ctx context.Context) (Checkpoint, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, err := c.Head.AuditHead(ctx)
	if err != nil {
		return Checkpoint{}, false, err
	}
	if c.last == 0 && len(c.Logs) > 0 {
		// Start from what the first log already holds, so that a restart
		// does not repeat the last line.
		if cps, err := c.Logs[0].Read(ctx); err == nil && len(cps) > 0 {
			c.last = cps[len(cps)-1].ID
		}
	}
	if h.ID == 0 || h.ID == c.last {
		return Checkpoint{}, false, nil
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	cp := Checkpoint{ID: h.ID, Hash: h.Hash, KeyID: h.KeyID, At: now()}
	c.Signer.Sign(&cp)
	var errs []error
	for _, l := range c.Logs {
		errs = append(errs, l.Append(ctx, cp))
	}
	if err := errors.Join(errs...); err != nil {
		return cp, false, err
	}
	c.last = h.ID
	return cp, true, nil
}

// Run writes checkpoints every interval until ctx ends, and once more on
// the way out so that the last entries of a run are anchored too.
func (c *Checkpointer) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			c.logErr(c.Once(fctx))
			cancel()
			return
		case <-t.C:
			c.logErr(c.Once(ctx))
		}
	}
}

func (c *Checkpointer) logErr(cp Checkpoint, wrote bool, err error) {
	if c.Logger == nil {
		return
	}
	if err != nil {
		c.Logger.Error("audit checkpoint failed", "err", err)
	} else if wrote {
		c.Logger.Debug("audit checkpoint", "entry", strconv.FormatInt(cp.ID, 10))
	}
}
