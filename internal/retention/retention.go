// Package retention runs the purge: it removes what the retention policy
// says has been kept long enough, rows and media bytes alike, spares cases
// on legal hold, and puts what it removed on the audit record, by kind and
// ID, never by content.
package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigil-hotline/vigil"
)

// Blobs deletes media bytes (a blob.Store, folder or S3).
type Blobs interface {
	Delete(ctx context.Context, name string) error
}

// Purger removes what the policy no longer keeps.
type Purger struct {
	Store  vigil.RetentionService
	Audit  vigil.AuditService
	Blobs  Blobs
	Policy vigil.RetentionPolicy
	Logger *slog.Logger
	// Limit bounds the items of each kind one run removes (memory and
	// transaction size); the next run takes the rest.
	Limit int
}

// Result is what a run removed, or would remove on a dry run.
type Result struct {
	Plan    *vigil.PurgePlan
	Removed map[vigil.RetentionKind]int
	Blobs   int // media bytes deleted from the blob store
	DryRun  bool
}

// maxAuditIDs bounds the IDs listed per kind in the audit entry.
const maxAuditIDs = 1000

// Run purges at now; a dry run only plans.
func (p *Purger) Run(ctx context.Context, now time.Time, dryRun bool) (*Result, error) {
	plan, err := p.Store.PlanPurge(ctx, p.Policy, now, p.Limit)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: plan, DryRun: dryRun}
	if dryRun {
		return res, nil
	}
	if res.Removed, err = p.Store.ApplyPurge(ctx, plan); err != nil {
		return res, err
	}
	// Bytes go after their rows are marked: a crash in between leaves
	// marked rows whose bytes the next run deletes, never a row that
	// promises bytes already gone.
	blobErr := p.purgeBlobs(ctx, &res.Blobs)
	if err := p.audit(ctx, res); err != nil {
		return res, errors.Join(blobErr, err)
	}
	return res, blobErr
}

func (p *Purger) purgeBlobs(ctx context.Context, n *int) error {
	var errs []error
	for {
		pending, err := p.Store.PendingBlobPurges(ctx, 500)
		if err != nil {
			return err
		}
		progress := false
		for _, b := range pending {
			if err := p.Blobs.Delete(ctx, b.BlobKey); err != nil {
				// Deleting what is already gone is fine (a retry); the
				// stores return nil for a missing object.
				errs = append(errs, fmt.Errorf("delete the bytes of media %d: %w", b.MediaID, err))
				continue
			}
			if err := p.Store.BlobPurged(ctx, b.MediaID); err != nil {
				return err
			}
			*n++
			progress = true
		}
		if len(pending) < 500 || !progress {
			return errors.Join(errs...)
		}
	}
}

// audit records the run: counts and IDs per kind, the policy in days, and
// how many items holds spared. IDs name rows that no longer exist, or
// exist without the purged data; nothing purged is copied here.
func (p *Purger) audit(ctx context.Context, res *Result) error {
	type kindDetail struct {
		Days    float64 `json:"retention_days"`
		Removed int     `json:"removed"`
		IDs     []int64 `json:"ids,omitempty"`
		More    bool    `json:"more_ids,omitempty"`
	}
	kinds := map[vigil.RetentionKind]kindDetail{}
	total := 0
	for _, k := range vigil.RetentionKinds {
		d, ok := p.Policy[k]
		if !ok || d <= 0 {
			continue
		}
		kd := kindDetail{Days: d.Hours() / 24, Removed: res.Removed[k], IDs: res.Plan.IDs[k]}
		if len(kd.IDs) > maxAuditIDs {
			kd.IDs, kd.More = kd.IDs[:maxAuditIDs], true
		}
		total += kd.Removed
		kinds[k] = kd
	}
	detail, err := json.Marshal(map[string]any{"kinds": kinds, "held": res.Plan.Held, "blobs_deleted": res.Blobs})
	if err != nil {
		return err
	}
	if total == 0 && res.Blobs == 0 {
		return nil // nothing happened: no entry every day for nothing
	}
	return p.Audit.AppendAudit(ctx, &vigil.AuditEntry{Actor: "system", Action: "purge.run", Object: "retention", Detail: string(detail)})
}

// Loop runs the purge every interval until ctx ends, the first time after
// a short delay so that a process restarted daily still purges.
func (p *Purger) Loop(ctx context.Context, every time.Duration, now func() time.Time) {
	delay := time.Minute
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = every
		res, err := p.Run(ctx, now(), false)
		if err != nil {
			p.Logger.Error("purge failed", "err", err)
			continue
		}
		total := 0
		for _, n := range res.Removed {
			total += n
		}
		p.Logger.Info("purge done", "removed", total, "blobs", res.Blobs, "held", res.Plan.Held)
	}
}
