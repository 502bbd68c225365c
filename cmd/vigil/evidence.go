package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/evidence"
)

const evidenceUsage = `Usage: vigil evidence export CASE --out FILE --recipient AGE_PUBLIC_KEY   the signed package of a case for the police
       vigil evidence verify FILE [--public-key KEY] [--identity AGE_KEY_FILE]  check a package; exits 1 naming the problem
       vigil evidence key                                                  print the public key that checks packages`

// runEvidence exports and checks evidence packages.
func runEvidence(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "evidence", evidenceUsage, args, []subcommand{
		{"export", runEvidenceExport}, {"verify", runEvidenceVerify}, {"key", runEvidenceKey}})
}

// evidenceKey is the package signing key, derived from the audit key.
func evidenceKey(cfg *config) (ed25519.PrivateKey, error) {
	key, err := loadAuditKey(cfg)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fmt.Errorf("no audit key at %s to sign or check packages with: give --audit-key-file, or run vigil migrate", cfg.auditKeyFile())
	}
	return evidence.SigningKey(key), nil
}

func runEvidenceExport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "evidence export", evidenceUsage)
	cfg := storeFlags(fs, env)
	out := fs.String("out", "", "the package file to write (it must not exist)")
	recipient := fs.String("recipient", "", "the police's age public key (age1…): the media are encrypted to it")
	by := fs.String("by", "", "who exports, for the record (default: the system user)")
	wc := &workerConfig{}
	fs.StringVar(&wc.BlobDir, "blob-dir", env.Getenv("VIGIL_BLOB_DIR"), "folder of the encrypted media (default DATA/blobs) [VIGIL_BLOB_DIR]")
	fs.StringVar(&wc.KeyFile, "media-key-file", env.Getenv("VIGIL_MEDIA_KEY_FILE"), "media key file (default DATA/keys/media.key) [VIGIL_MEDIA_KEY_FILE]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *out == "" || *recipient == "" {
		return usageError("%s", evidenceUsage)
	}
	caseID, err := strconv.ParseInt(strings.TrimPrefix(fs.Arg(0), "case:"), 10, 64)
	if err != nil || caseID <= 0 {
		return usageError("case %q: want the case's number", fs.Arg(0))
	}
	if _, err := age.ParseX25519Recipient(strings.TrimSpace(*recipient)); err != nil {
		return usageError("--recipient must be an age public key (age1…)")
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s exists; not overwritten", *out)
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	key, err := evidenceKey(cfg)
	if err != nil {
		return err
	}
	vault, err := openVault(env, cfg, wc)
	if err != nil {
		return fmt.Errorf("media store: %w", err)
	}
	actor := "system"
	if *by != "" {
		actor = *by
	}
	// Written beside the target and renamed once on the record, so that no
	// package exists that the audit log does not know of.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".evidence-*")
	if err != nil {
		return err
	}
	// The temporary name goes whatever happens; the package lives on
	// under its linked name.
	defer func() { _ = os.Remove(tmp.Name()) }()
	h := sha256.New()
	man, err := evidence.Export(ctx, db, vault, evidence.Options{CaseID: caseID, Recipient: *recipient, ExportedBy: actor,
		Hotline: env.Getenv("VIGIL_HOTLINE_NAME"), Now: db.Now(), Key: key}, io.MultiWriter(tmp, h))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s", vigil.ErrorMessage(err))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := auditEvidence(ctx, db, actor, man, sum, "vigil evidence export"); err != nil {
		return err
	}
	// A link, unlike a rename, never replaces a file that appeared meanwhile.
	if err := os.Link(tmp.Name(), *out); err != nil {
		return fmt.Errorf("the export is on the record (SHA-256 %s) but could not be written: %w", sum, err)
	}
	fmt.Fprintf(env.Stdout, "evidence package of case %d: %s (%d files, SHA-256 %s)\nsigned with key %s\n",
		caseID, *out, len(man.Files), sum, man.Signer)
	return nil
}

// auditEvidence puts an export on the record: the package's hash and the
// recipient, not its content.
func auditEvidence(ctx context.Context, audit vigil.AuditService, actor string, man *evidence.Manifest, sum, via string) error {
	media := 0
	for _, f := range man.Files {
		if strings.HasPrefix(f.Path, "media/") {
			media++
		}
	}
	detail := fmt.Sprintf(`{"package_sha256":%q,"recipient":%q,"files":%d,"media":%d,"via":%q}`, sum, man.Recipient, len(man.Files), media, via)
	e := &vigil.AuditEntry{Actor: actor, Action: "evidence.export", Object: fmt.Sprintf("case:%d", man.CaseID), Detail: detail}
	if err := audit.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("the export could not be put on the record, so no package was written: %w", err)
	}
	return nil
}

func runEvidenceVerify(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "evidence verify", evidenceUsage)
	cfg := storeFlags(fs, env)
	pubFlag := fs.String("public-key", "", "the signer's public key (base64); default: this deployment's")
	identity := fs.String("identity", "", "age identity file of the recipient: also decrypt the media and check their hashes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("%s", evidenceUsage)
	}
	var pub ed25519.PublicKey
	if *pubFlag != "" {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*pubFlag))
		if err != nil || len(b) != ed25519.PublicKeySize {
			return usageError("--public-key: want a base64 Ed25519 public key")
		}
		pub = b
	} else {
		key, err := evidenceKey(cfg)
		if err != nil {
			return err
		}
		pub = key.Public().(ed25519.PublicKey)
	}
	var id age.Identity
	if *identity != "" {
		b, err := os.ReadFile(*identity)
		if err != nil {
			return err
		}
		ids, err := age.ParseIdentities(strings.NewReader(string(b)))
		if err != nil || len(ids) == 0 {
			return fmt.Errorf("%s: not an age identity file", *identity)
		}
		id = ids[0]
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := evidence.Verify(f, pub, id)
	if errors.Is(err, evidence.ErrTampered) {
		return &exitError{code: 1, err: fmt.Errorf("%s: %w", fs.Arg(0), err)}
	}
	if err != nil {
		return err
	}
	m := rep.Manifest
	fmt.Fprintf(env.Stdout, "evidence package intact: case %d (%s), exported %s by %s, %d files\n",
		m.CaseID, m.URL, m.ExportedAt.UTC().Format("2006-01-02 15:04:05 UTC"), m.ExportedBy, len(m.Files))
	if id != nil {
		fmt.Fprintf(env.Stdout, "%d media decrypted, each matching its SHA-256\n", rep.Decrypted)
	}
	return nil
}

func runEvidenceKey(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "evidence key", evidenceUsage)
	cfg := storeFlags(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	key, err := evidenceKey(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, evidence.PublicKey(key))
	return nil
}
