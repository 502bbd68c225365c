package notify

import "context"

// Outcome is the state the caller records after an attempt (step 4 of the
// protocol in the package documentation).
type Outcome string

const (
	// OutcomeSent: delivered; record the Receipt.
	OutcomeSent Outcome = "sent"
	// OutcomeRetry: certainly not delivered and may succeed later; the
	// message may go back to "pending" with back-off.
	OutcomeRetry Outcome = "retry"
	// OutcomeFailed: certainly not delivered and will not succeed as is
	// (refused recipient, bad credentials, invalid message); a human looks.
	OutcomeFailed Outcome = "failed"
	// OutcomeUncertain: perhaps delivered; never resent automatically.
	OutcomeUncertain Outcome = "uncertain"
)

// Classify maps the error of Mailer.Send or Transport.Deliver to the state
// to record.
func Classify(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeSent
	case Uncertain(err):
		return OutcomeUncertain
	case Temporary(err):
		return OutcomeRetry
	default:
		return OutcomeFailed
	}
}

// Recover decides what to record for a delivery found in state "sending"
// at start-up (step 5): the crash came at an unknown point, so unless the
// transport can verify the delivery, the answer is uncertain.
func Recover(ctx context.Context, t Transport, d *Delivery) Outcome {
	v, ok := t.(Verifier)
	if !ok {
		return OutcomeUncertain
	}
	delivered, err := v.Delivered(ctx, d)
	switch {
	case err != nil:
		return OutcomeUncertain
	case delivered:
		return OutcomeSent
	default:
		// Certainly not delivered, so safe to try again.
		return OutcomeRetry
	}
}
