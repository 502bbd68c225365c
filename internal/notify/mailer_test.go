package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func sampleNotice(kind Kind, lang Language) *Notice {
	n := &Notice{
		ID:          "notice-42",
		Kind:        kind,
		Lang:        lang,
		To:          []mail.Address{{Name: "Abuse Desk", Address: "abuse@provider.example"}},
		Cc:          []mail.Address{{Address: "noc@provider.example"}},
		Date:        time.Date(2026, 2, 3, 10, 11, 12, 0, time.UTC),
		CaseRef:     "BE-2026-0007",
		URL:         "https://files.provider.example/a/b.jpg?x=1&y=2",
		SeenAt:      time.Date(2026, 2, 2, 8, 30, 0, 0, time.UTC),
		Category:    "iwf-a",
		EvidenceRef: "fetch-1234",
	}
	switch kind {
	case KindRenotice:
		n.ID, n.Count, n.FirstNoticeAt, n.FirstNoticeID = "notice-43", 3, time.Date(2026, 1, 30, 9, 0, 0, 0, time.UTC), "notice-41"
	case KindEscalation:
		n.ID, n.Count, n.FirstNoticeAt, n.Provider = "notice-44", 4, time.Date(2026, 1, 30, 9, 0, 0, 0, time.UTC), "Bad Hosting Ltd"
		n.To = []mail.Address{{Address: "abuse@upstream.example"}}
		n.Cc = nil
	}
	return n
}

func TestSendSTARTTLSAndAuth(t *testing.T) {
	srv := startServer(t, serverOpts{TLS: true, Users: map[string]string{"vigil": "s3cret"}})
	m := testMailer(t, SMTPConfig{Addr: srv.Addr, TLSConfig: &tls.Config{RootCAs: srv.Roots}, Username: "vigil", Password: "s3cret"})
	msg, err := m.RenderNotice(sampleNotice(KindNotice, NL))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := m.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != 250 || !strings.Contains(rec.Reply, "queued as Q0001") || !rec.TLS || rec.Transport != "smtp" || rec.MessageID != "<vigil.notice-42@hotline.example>" || rec.At.IsZero() {
		t.Fatalf("receipt %+v", rec)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	r := got[0]
	if r.From != "notices@hotline.example" || strings.Join(r.To, ",") != "abuse@provider.example,noc@provider.example" || r.User != "vigil" || !r.TLS {
		t.Fatalf("recorded %+v", r)
	}
	if !bytes.Equal(r.Data, msg.Raw) {
		t.Fatalf("server got different bytes:\n%s\n---\n%s", r.Data, msg.Raw)
	}
}

func TestSendTLSRequired(t *testing.T) {
	srv := startServer(t, serverOpts{})
	msg, err := testMailer(t, SMTPConfig{}).RenderNotice(sampleNotice(KindNotice, EN))
	if err != nil {
		t.Fatal(err)
	}
	_, err = testMailer(t, SMTPConfig{Addr: srv.Addr}).Send(context.Background(), msg)
	var se *SendError
	if !errors.As(err, &se) || se.Stage != "starttls" || Uncertain(err) {
		t.Fatalf("want a starttls error, got %v", err)
	}
	if srv.DataCommands() != 0 {
		t.Fatal("message sent without TLS")
	}
	// Plain is allowed when asked for (loopback relay, tests).
	rec, err := testMailer(t, SMTPConfig{Addr: srv.Addr, TLS: TLSOpportunistic}).Send(context.Background(), msg)
	if err != nil || rec.TLS {
		t.Fatalf("opportunistic send: %+v, %v", rec, err)
	}
	// Opportunistic still upgrades when STARTTLS is offered.
	tsrv := startServer(t, serverOpts{TLS: true})
	rec, err = testMailer(t, SMTPConfig{Addr: tsrv.Addr, TLS: TLSOpportunistic, TLSConfig: &tls.Config{RootCAs: tsrv.Roots}}).Send(context.Background(), msg)
	if err != nil || !rec.TLS {
		t.Fatalf("opportunistic send with STARTTLS: %+v, %v", rec, err)
	}
	// An untrusted certificate fails before anything is sent.
	_, err = testMailer(t, SMTPConfig{Addr: tsrv.Addr}).Send(context.Background(), msg)
	if !errors.As(err, &se) || se.Stage != "starttls" {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	srv := startServer(t, serverOpts{Implicit: true, Users: map[string]string{"vigil": "s3cret"}})
	m := testMailer(t, SMTPConfig{Addr: srv.Addr, TLS: TLSImplicit, TLSConfig: &tls.Config{RootCAs: srv.Roots}, Username: "vigil", Password: "s3cret"})
	msg, _ := m.RenderNotice(sampleNotice(KindNotice, EN))
	rec, err := m.Send(context.Background(), msg)
	if err != nil || !rec.TLS {
		t.Fatalf("implicit TLS: %+v %v", rec, err)
	}
	if got := srv.Messages(); len(got) != 1 || !got[0].TLS || got[0].User != "vigil" {
		t.Fatalf("recorded %+v", got)
	}
}

func TestSendAuthRefused(t *testing.T) {
	srv := startServer(t, serverOpts{TLS: true, Users: map[string]string{"vigil": "s3cret"}})
	m := testMailer(t, SMTPConfig{Addr: srv.Addr, TLSConfig: &tls.Config{RootCAs: srv.Roots}, Username: "vigil", Password: "wrong"})
	msg, _ := m.RenderNotice(sampleNotice(KindNotice, EN))
	_, err := m.Send(context.Background(), msg)
	var se *SendError
	if !errors.As(err, &se) || se.Stage != "auth" || se.Code != 535 || Temporary(err) || Uncertain(err) {
		t.Fatalf("want a permanent auth error, got %#v", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("message accepted")
	}
}

func TestSendRcptRejected(t *testing.T) {
	srv := startServer(t, serverOpts{TLS: true, RejectRcpt: map[string]int{"noc@provider.example": 550, "full@provider.example": 452}})
	m := testMailer(t, SMTPConfig{Addr: srv.Addr, TLSConfig: &tls.Config{RootCAs: srv.Roots}})
	msg, _ := m.RenderNotice(sampleNotice(KindNotice, EN))
	_, err := m.Send(context.Background(), msg)
	var se *SendError
	if !errors.As(err, &se) || se.Stage != "rcpt" || se.Recipient != "noc@provider.example" || se.Code != 550 || !strings.Contains(se.Reply, "no such user") {
		t.Fatalf("want a recorded rcpt refusal, got %#v", err)
	}
	if Uncertain(err) || Temporary(err) {
		t.Fatal("a 550 is a certain, permanent failure")
	}
	// One refused recipient aborts the whole transaction: nobody gets it.
	if srv.DataCommands() != 0 {
		t.Fatal("DATA sent after a refused recipient")
	}
	n := sampleNotice(KindNotice, EN)
	n.Cc = []mail.Address{{Address: "full@provider.example"}}
	msg, _ = m.RenderNotice(n)
	if _, err = m.Send(context.Background(), msg); !Temporary(err) {
		t.Fatalf("a 452 is temporary: %v", err)
	}
}

func TestSendDataRefused(t *testing.T) {
	srv := startServer(t, serverOpts{TLS: true, RejectData: 554})
	m := testMailer(t, SMTPConfig{Addr: srv.Addr, TLSConfig: &tls.Config{RootCAs: srv.Roots}})
	msg, _ := m.RenderNotice(sampleNotice(KindNotice, EN))
	_, err := m.Send(context.Background(), msg)
	var se *SendError
	// A refusal after the body is an answer: certainly not delivered.
	if !errors.As(err, &se) || se.Stage != "reply" || se.Code != 554 || Uncertain(err) {
		t.Fatalf("want a certain refusal, got %#v", err)
	}
}

func TestSendTimeoutStalledServer(t *testing.T) {
	addr := stallingServer(t)
	m := testMailer(t, SMTPConfig{Addr: addr, SendTimeout: 300 * time.Millisecond})
	msg, _ := m.RenderNotice(sampleNotice(KindNotice, EN))
	start := time.Now()
	_, err := m.Send(context.Background(), msg)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("send took %v", d)
	}
	var se *SendError
	if !errors.As(err, &se) || se.Stage != "greeting" || Uncertain(err) || !Temporary(err) {
		t.Fatalf("want a temporary greeting timeout, got %v", err)
	}
}

func TestSendCancelled(t *testing.T) {
	addr := stallingServer(t)
	m := testMailer(t, SMTPConfig{Addr: addr})
	msg, _ := m.RenderNotice(sampleNotice(KindNotice, EN))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	if _, err := m.Send(ctx, msg); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("cancel: %v after %v", err, time.Since(start))
	}
}

func TestSendUncertainWhenReplyNeverComes(t *testing.T) {
	srv := startServer(t, serverOpts{TLS: true, StallData: true})
	m := testMailer(t, SMTPConfig{Addr: srv.Addr, TLSConfig: &tls.Config{RootCAs: srv.Roots}, SendTimeout: 500 * time.Millisecond})
	msg, _ := m.RenderNotice(sampleNotice(KindNotice, EN))
	_, err := m.Send(context.Background(), msg)
	var se *SendError
	if !errors.As(err, &se) || se.Stage != "reply" || !Uncertain(err) || Temporary(err) {
		t.Fatalf("want an uncertain outcome, got %v", err)
	}
	if !strings.Contains(err.Error(), "delivery uncertain") || !errors.Is(err, se.Err) {
		t.Fatalf("error text %q", err)
	}
	if srv.DataCommands() != 1 {
		t.Fatal("the server should have received the body")
	}
}

func TestSendNeedsServer(t *testing.T) {
	m := testMailer(t, SMTPConfig{})
	msg, _ := m.RenderNotice(sampleNotice(KindNotice, EN))
	if _, err := m.Send(context.Background(), msg); err == nil {
		t.Fatal("send without a server")
	}
}
