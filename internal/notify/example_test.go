package notify_test

import (
	"context"
	"net/mail"
	"time"

	"github.com/vigil-hotline/vigil/internal/notify"
)

// store stands for the caller's database.
type store interface {
	SavePending(id string, msg *notify.Message) error
	ClaimSending(id string) (bool, error) // UPDATE … WHERE state='pending'
	Record(id string, o notify.Outcome, r notify.Receipt, err error) error
}

// Example shows a provider notice sent under the exactly-once protocol.
func Example() {
	m, err := notify.NewMailer(notify.Config{
		From:    mail.Address{Name: "Vigil Hotline", Address: "notices@hotline.example"},
		ReplyTo: &mail.Address{Address: "analysts@hotline.example"},
		SMTP:    notify.SMTPConfig{Addr: "smtp.hotline.example:587", Username: "vigil", Password: "…"},
	})
	if err != nil {
		panic(err) // a missing translation stops start-up
	}
	var db store // the caller's
	n := &notify.Notice{
		ID: "notice-42", Kind: notify.KindNotice, Lang: notify.NL,
		To:   []mail.Address{{Address: "abuse@provider.example"}},
		Date: time.Now().UTC(), CaseRef: "BE-2026-0007",
		URL: "https://provider.example/x", SeenAt: time.Now().UTC(),
		Category: "iwf-a", EvidenceRef: "fetch-1234",
	}
	msg, err := m.RenderNotice(n) // 1. pure: store it with its Date
	if err != nil {
		panic(err)
	}
	_ = db.SavePending(n.ID, msg)
	if ok, _ := db.ClaimSending(n.ID); !ok { // 2. durable, conditional
		return
	}
	rec, err := m.Send(context.Background(), msg)       // 3.
	_ = db.Record(n.ID, notify.Classify(err), rec, err) // 4.
}
