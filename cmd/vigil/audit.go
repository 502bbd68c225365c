package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/vigil-hotline/vigil"
)

const auditUsage = `Usage: vigil audit verify                 check the whole hash chain; exits 1 naming the first bad entry
       vigil audit list [--actor NAME] [--action A] [--object O] [--before ID] [--limit N]`

// runAudit reads and checks the audit log.
func runAudit(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "audit", auditUsage, args, []subcommand{{"verify", runAuditVerify}, {"list", runAuditList}})
}

func runAuditVerify(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "audit verify", "Usage: vigil audit verify")
	cfg := storeFlags(fs, env)
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if v.FirstBadID != 0 {
		return &exitError{code: 1, err: fmt.Errorf("audit log broken at entry %d: %s (%d entries read)", v.FirstBadID, v.Problem, v.Entries)}
	}
	// The newest hash is worth writing down elsewhere (a ticket, a
	// notebook): it pins the whole chain up to it.
	last, err := db.ListAudit(ctx, vigil.AuditFilter{Limit: 1})
	if err != nil {
		return err
	}
	head := "(empty)"
	if len(last) == 1 {
		head = fmt.Sprintf("entry %d, hash %s", last[0].ID, last[0].Hash)
	}
	fmt.Fprintf(env.Stdout, "audit log intact: %d entries; last %s\n", v.Entries, head)
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
