package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	for err, want := range map[error]Outcome{
		nil: OutcomeSent,
		&SendError{Stage: "reply", Uncertain: true, Err: errors.New("timeout")}: OutcomeUncertain,
		&SendError{Stage: "rcpt", Code: 451, Err: errors.New("later")}:          OutcomeRetry,
		&SendError{Stage: "dial", Err: errors.New("refused")}:                   OutcomeRetry,
		&SendError{Stage: "rcpt", Code: 550, Err: errors.New("no")}:             OutcomeFailed,
		errors.New("notify: bad input"):                                         OutcomeFailed,
	} {
		if got := Classify(err); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}

// TestCrashAfterSend plays the protocol through a crash between Send and
// recording its result: the restart must not send again.
func TestCrashAfterSend(t *testing.T) {
	srv := startServer(t, serverOpts{TLS: true})
	m := testMailer(t, SMTPConfig{Addr: srv.Addr, TLSConfig: &tls.Config{RootCAs: srv.Roots}})
	pf, _ := buildEncrypted(t, m)
	d := &Delivery{ID: "fwd-7", Date: time.Now(), Package: pf, To: sampleNotice(KindNotice, EN).To}
	smtpT := &SMTPTransport{Mailer: m}
	if _, err := smtpT.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	// "Crash": the state is still "sending". Over SMTP that is uncertain.
	if got := Recover(context.Background(), smtpT, d); got != OutcomeUncertain {
		t.Fatalf("SMTP recovery: %s", got)
	}
	if len(srv.Messages()) != 1 {
		t.Fatal("sent more than once")
	}
	// The outbox can tell.
	out := &OutboxTransport{Dir: t.TempDir()}
	if got := Recover(context.Background(), out, d); got != OutcomeRetry {
		t.Fatalf("outbox before delivery: %s", got)
	}
	if _, err := out.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if got := Recover(context.Background(), out, d); got != OutcomeSent {
		t.Fatalf("outbox after delivery: %s", got)
	}
}
