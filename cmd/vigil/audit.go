package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auditseal"
)

const auditUsage = `Usage: vigil audit verify                 check the whole chain and its checkpoints; exits 1 naming the problem
       vigil audit checkpoint             anchor the log's head now in the checkpoint file (and object store)
       vigil audit list [--actor NAME] [--action A] [--object O] [--before ID] [--limit N]`

// runAudit reads and checks the audit log.
func runAudit(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "audit", auditUsage, args, []subcommand{{"verify", runAuditVerify}, {"list", runAuditList}, {"checkpoint", runAuditCheckpoint}})
}

func runAuditVerify(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "audit verify", "Usage: vigil audit verify")
	cfg := storeFlags(fs, env)
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	signer, logs, err := auditSeal(env, cfg)
	if err != nil {
		return err
	}
	var anchors []vigil.AuditAnchor
	if signer != nil {
		var problem string
		if anchors, problem, err = auditseal.Anchors(ctx, signer, logs); err != nil {
			return err
		}
		if problem != "" {
			return &exitError{code: 1, err: fmt.Errorf("audit checkpoints tampered with: %s", problem)}
		}
	}
	v, err := db.VerifyAuditAnchored(ctx, anchors)
	if err != nil {
		return err
	}
	if v.FirstBadID != 0 {
		return &exitError{code: 1, err: fmt.Errorf("audit log broken at entry %d: %s (%d entries read)", v.FirstBadID, v.Problem, v.Entries)}
	}
	// The newest hash is worth writing down elsewhere too (a ticket, a
	// notebook): it pins the whole chain up to it.
	head := "(empty)"
	if v.LastID != 0 {
		head = fmt.Sprintf("entry %d, hash %s", v.LastID, v.LastHash)
	}
	fmt.Fprintf(env.Stdout, "audit log intact: %d entries; last %s\n", v.Entries, head)
	keyed := "not keyed yet"
	if v.KeyedFrom != 0 {
		keyed = fmt.Sprintf("keyed from entry %d with key %s", v.KeyedFrom, db.AuditKeyID())
	}
	if signer == nil {
		fmt.Fprintf(env.Stdout, "%s; no audit key at %s, so no checkpoints\n", keyed, cfg.auditKeyFile())
		return nil
	}
	fmt.Fprintf(env.Stdout, "%s; checked against %d checkpoints (public key %s)\n", keyed, v.Anchors, signer.PublicKey())
	return nil
}

func runAuditCheckpoint(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "audit checkpoint", "Usage: vigil audit checkpoint")
	cfg := storeFlags(fs, env)
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	signer, logs, err := auditSeal(env, cfg)
	if err != nil {
		return err
	}
	if signer == nil {
		return fmt.Errorf("no audit key at %s to sign the checkpoint with: give --audit-key-file, or run vigil migrate", cfg.auditKeyFile())
	}
	cp, wrote, err := (&auditseal.Checkpointer{Head: db, Signer: signer, Logs: logs, Now: db.Now}).Once(ctx)
	if err != nil {
		return err
	}
	if !wrote {
		fmt.Fprintln(env.Stdout, "audit checkpoint: the head has not moved since the last checkpoint")
		return nil
	}
	fmt.Fprintf(env.Stdout, "audit checkpoint: entry %d, hash %s\n", cp.ID, cp.Hash)
	return nil
}

func runAuditList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "audit list", auditUsage)
	cfg := storeFlags(fs, env)
	actor := fs.String("actor", "", "only entries by this user")
	action := fs.String("action", "", `only this action, or a prefix ending in "." ("media.")`)
	object := fs.String("object", "", `only entries about this object ("user:7")`)
	before := fs.Int64("before", 0, "only entries older than this ID")
	limit := fs.Int("limit", 50, "at most this many entries (up to 1000)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("%s", auditUsage)
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	f := vigil.AuditFilter{Action: *action, Object: *object, BeforeID: *before, Limit: *limit}
	if *actor != "" {
		u, err := db.FindUserByName(ctx, *actor)
		if err != nil {
			return fmt.Errorf("%s", vigil.ErrorMessage(err))
		}
		f.ActorID = u.ID
	}
	entries, err := db.ListAudit(ctx, f)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME (UTC)\tACTOR\tACTION\tOBJECT\tDETAIL")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.At.UTC().Format("2006-01-02 15:04:05"), e.Actor, e.Action, e.Object, e.Detail)
	}
	return tw.Flush()
}
