package federation

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/jobargs"
)

// StatusWorker reports a step of a referred case back to the partner that
// referred it. A status is claimed before it is sent; one found claimed
// after a crash is sent again, which the partner takes once.
type StatusWorker struct {
	river.WorkerDefaults[jobargs.ReferralStatusArgs]
	Store  vigil.ReferralStatusWork
	Client *Client
	Logger *slog.Logger
}

// Work implements river.Worker.
func (w *StatusWorker) Work(ctx context.Context, job *river.Job[jobargs.ReferralStatusArgs]) error {
	st, err := w.Store.ClaimReferralStatus(ctx, job.Args.StatusID)
	if err != nil {
		if vigil.IsNotFound(err) {
			return river.JobCancel(err)
		}
		return err
	}
	if st == nil {
		return nil // sent or failed already
	}
	p, err := w.Store.FindPartner(ctx, st.Partner)
	if err != nil {
		if vigil.IsNotFound(err) {
			return w.Store.RecordReferralStatusSent(ctx, st.ID, vigil.OutboundFailed, "the partner was removed")
		}
		return err
	}
	reply, err := w.Client.SendStatus(ctx, p, st)
	switch {
	case err == nil:
		w.logger().Info("referral status sent", "partner", st.Partner, "case", st.CaseRef, "status", st.Status, "reply", reply)
		return w.Store.RecordReferralStatusSent(ctx, st.ID, vigil.OutboundSent, "")
	case !Permanent(err) && job.Attempt < jobargs.MaxAttempts:
		if rerr := w.Store.RecordReferralStatusSent(ctx, st.ID, vigil.OutboundRetry, err.Error()); rerr != nil {
			return rerr
		}
		return err
	default:
		w.logger().Warn("referral status not delivered", "partner", st.Partner, "case", st.CaseRef, "status", st.Status, "err", err)
		return w.Store.RecordReferralStatusSent(ctx, st.ID, vigil.OutboundFailed, err.Error())
	}
}

func (w *StatusWorker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}
