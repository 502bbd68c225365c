package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/retention"
	"github.com/vigil-hotline/vigil/internal/store"
)

// retentionEnv names the variable (and config file setting) of each kind.
var retentionEnv = map[vigil.RetentionKind]string{
	vigil.RetainReports:         "VIGIL_RETAIN_REPORTS",
	vigil.RetainContacts:        "VIGIL_RETAIN_CONTACTS",
	vigil.RetainMediaNotIllegal: "VIGIL_RETAIN_MEDIA_NOT_ILLEGAL",
	vigil.RetainMediaClosed:     "VIGIL_RETAIN_MEDIA_CLOSED",
	vigil.RetainFetchEvidence:   "VIGIL_RETAIN_FETCH_EVIDENCE",
	vigil.RetainLogs:            "VIGIL_RETAIN_LOGS",
	vigil.RetainExposure:        "VIGIL_RETAIN_EXPOSURE",
}

// retentionPolicy reads the retention of each kind, in days, from the
// environment (or the config file's [retention] block); unset kinds keep
// the default, "forever" (or 0) keeps them for ever.
func retentionPolicy(env *Env) (vigil.RetentionPolicy, error) {
	p := vigil.RetentionPolicy{}
	for _, k := range vigil.RetentionKinds {
		p[k] = vigil.DefaultRetention[k]
		v := strings.TrimSpace(env.Getenv(retentionEnv[k]))
		if v == "" {
			continue
		}
		d, err := parseDays(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", retentionEnv[k], err)
		}
		p[k] = d
	}
	return p, nil
}

func parseDays(v string) (time.Duration, error) {
	if v == "forever" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
	if err != nil || n < 0 || n > 100*365 {
		return 0, fmt.Errorf("%q: want a number of days (0 to 36500) or \"forever\"", v)
	}
	return time.Duration(n) * vigil.Day, nil
}

func days(d time.Duration) string {
	if d <= 0 {
		return "forever"
	}
	return fmt.Sprintf("%d days", int(d/vigil.Day))
}

// runPurge removes what the retention policy no longer keeps.
func runPurge(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "purge", "Usage: vigil purge [--dry-run]")
	cfg := storeFlags(fs, env)
	dryRun := fs.Bool("dry-run", false, "show what would go, remove nothing")
	blobDir := fs.String("blob-dir", env.Getenv("VIGIL_BLOB_DIR"), "folder of the encrypted media (default DATA/blobs) [VIGIL_BLOB_DIR]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("Usage: vigil purge [--dry-run]")
	}
	policy, err := retentionPolicy(env)
	if err != nil {
		return usageError("%v", err)
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := newPurger(env, cfg, *blobDir, db, policy)
	if err != nil {
		return err
	}
	res, err := p.Run(ctx, db.Now(), *dryRun)
	if res != nil {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		verb := "REMOVED"
		if *dryRun {
			verb = "WOULD GO"
		}
		fmt.Fprintf(tw, "KIND\tKEPT\t%s\n", verb)
		for _, k := range vigil.RetentionKinds {
			n := res.Plan.Counts[k]
			if !*dryRun {
				n = res.Removed[k]
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\n", k, days(policy[k]), n)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "spared by legal holds: %d\n", res.Plan.Held)
		if !*dryRun {
			fmt.Fprintf(env.Stdout, "media bytes deleted: %d\n", res.Blobs)
		}
	}
	return err
}

func newPurger(env *Env, cfg *config, blobDir string, db *store.DB, policy vigil.RetentionPolicy) (*retention.Purger, error) {
	bs, err := openBlobStore(env, cfg.DataDir, blobDir)
	if err != nil {
		return nil, fmt.Errorf("media store: %w", err)
	}
	return &retention.Purger{Store: db, Audit: db, Blobs: bs, Policy: policy, Logger: env.Logger}, nil
}

// startPurge runs the purge daily in the background.
func startPurge(ctx context.Context, env *Env, cfg *config, wc *workerConfig, db *store.DB) (stop func(), err error) {
	if wc.PurgeEvery <= 0 {
		return func() {}, nil
	}
	policy, err := retentionPolicy(env)
	if err != nil {
		return nil, err
	}
	p, err := newPurger(env, cfg, wc.BlobDir, db, policy)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Loop(ctx, wc.PurgeEvery, db.Now)
	}()
	return func() { cancel(); <-done }, nil
}

const holdUsage = `Usage: vigil hold set CASE --reason TEXT     keep a case (reported URL ID) from the purge
       vigil hold lift CASE
       vigil hold list`

// runHold sets, lifts and lists legal holds.
func runHold(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "hold", holdUsage, args, []subcommand{{"set", runHoldSet}, {"lift", runHoldLift}, {"list", runHoldList}})
}

func holdCase(fs interface{ Args() []string }) (int64, error) {
	if len(fs.Args()) != 1 {
		return 0, usageError("%s", holdUsage)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(fs.Args()[0], "case:"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError("case %q: want the case's number", fs.Args()[0])
	}
	return id, nil
}

func runHoldSet(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "hold set", holdUsage)
	cfg := storeFlags(fs, env)
	reason := fs.String("reason", "", "why the case is held (a police request's reference)")
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	id, err := holdCase(fs)
	if err != nil {
		return err
	}
	h := &vigil.LegalHold{CaseID: id, Reason: *reason, SetByName: "vigil hold"}
	if err := db.SetLegalHold(ctx, h); err != nil {
		return fmt.Errorf("%s", vigil.ErrorMessage(err))
	}
	if err := auditHold(ctx, db, "case.hold", id, map[string]any{"reason": h.Reason, "via": "vigil hold"}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "case %d is on legal hold\n", id)
	return nil
}

func runHoldLift(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "hold lift", holdUsage)
	cfg := storeFlags(fs, env)
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	id, err := holdCase(fs)
	if err != nil {
		return err
	}
	if err := db.LiftLegalHold(ctx, id); err != nil {
		return fmt.Errorf("%s", vigil.ErrorMessage(err))
	}
	if err := auditHold(ctx, db, "case.hold_lift", id, map[string]any{"via": "vigil hold"}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "case %d: legal hold lifted\n", id)
	return nil
}

func runHoldList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "hold list", holdUsage)
	cfg := storeFlags(fs, env)
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	holds, err := db.ListLegalHolds(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tSINCE (UTC)\tBY\tREASON")
	for _, h := range holds {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", h.CaseID, h.SetAt.UTC().Format("2006-01-02 15:04"), h.SetByName, h.Reason)
	}
	return tw.Flush()
}

func auditHold(ctx context.Context, db *store.DB, action string, caseID int64, detail map[string]any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	e := &vigil.AuditEntry{Actor: "system", Action: action, Object: fmt.Sprintf("case:%d", caseID), Detail: string(b)}
	if err := db.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("the change was made but not written to the audit log: %w", err)
	}
	return nil
}
