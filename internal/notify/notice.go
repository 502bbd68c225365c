package notify

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
)

// Kind is the kind of a notice.
type Kind string

const (
	// KindNotice is the first notice to a hosting provider.
	KindNotice Kind = "notice"
	// KindRenotice repeats a notice while the content stays up.
	KindRenotice Kind = "renotice"
	// KindEscalation goes to the upstream network of a provider that did
	// not act.
	KindEscalation Kind = "escalation"
)

// Notice is a notice, renotice or escalation about one URL. It names the
// content and never carries it: there is deliberately no field for media.
type Notice struct {
	// ID is the message's ID in Vigil; the Message-ID derives from it.
	ID   string
	Kind Kind
	// Lang is the recipient's language; default English.
	Lang Language
	To   []mail.Address
	Cc   []mail.Address
	// Date is when the message was first rendered. The caller stores it so
	// that a later rendering is identical.
	Date time.Time

	CaseRef     string
	URL         string
	SeenAt      time.Time
	Category    string
	EvidenceRef string

	// Count is the number of this notice (renotice: 2 for the first
	// renotice) or, for an escalation, how many notices the provider got.
	Count int
	// FirstNoticeAt is when the provider was first notified (renotice,
	// escalation).
	FirstNoticeAt time.Time
	// FirstNoticeID is the Vigil ID of the first notice; a renotice then
	// threads under it (In-Reply-To, References). Optional.
	FirstNoticeID string
	// Provider is the provider that did not act (escalation).
	Provider string
	// Priority marks a notice the person shown asked for (a victim-bank
	// match): the message says so in its headers, for providers that
	// sort their abuse desk by them.
	Priority bool
}

func (n *Notice) validate() error {
	if err := checkID(n.ID); err != nil {
		return err
	}
	if len(n.To) == 0 {
		return errors.New("notify: notice has no recipient")
	}
	if n.Date.IsZero() || n.SeenAt.IsZero() {
		return errors.New("notify: notice needs Date and SeenAt")
	}
	for name, v := range map[string]string{"URL": n.URL, "CaseRef": n.CaseRef, "Category": n.Category, "EvidenceRef": n.EvidenceRef} {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("notify: notice has no %s", name)
		}
		// One line each: they are printed in labelled lines and subjects.
		if strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return fmt.Errorf("notify: notice %s has control characters", name)
		}
	}
	switch n.Kind {
	case KindNotice:
	case KindRenotice:
		if n.Count < 2 || n.FirstNoticeAt.IsZero() {
			return errors.New("notify: a renotice needs Count >= 2 and FirstNoticeAt")
		}
	case KindEscalation:
		if n.Count < 1 || n.FirstNoticeAt.IsZero() || strings.TrimSpace(n.Provider) == "" {
			return errors.New("notify: an escalation needs Count >= 1, FirstNoticeAt and Provider")
		}
		if strings.IndexFunc(n.Provider, unicode.IsControl) >= 0 {
			return errors.New("notify: notice Provider has control characters")
		}
	default:
		return fmt.Errorf("notify: unknown notice kind %q", n.Kind)
	}
	if n.FirstNoticeID != "" {
		if err := checkID(n.FirstNoticeID); err != nil {
			return err
		}
	}
	return nil
}

// RenderNotice renders a notice, renotice or escalation as a single
// text/plain part. It is pure: the same Notice gives the same Message.
func (m *Mailer) RenderNotice(n *Notice) (*Message, error) {
	if err := n.validate(); err != nil {
		return nil, err
	}
	view := noticeView{Notice: *n, Hotline: m.hotline}
	subject, err := m.tmpl.execute(n.Lang, string(n.Kind)+".subject", view)
	if err != nil {
		return nil, err
	}
	body, err := m.tmpl.execute(n.Lang, string(n.Kind)+".body", view)
	if err != nil {
		return nil, err
	}
	cte, enc, err := encodeText(body)
	if err != nil {
		return nil, err
	}
	hs, rcpts, err := m.envelopeHeaders(n.ID, n.To, n.Cc, n.Date, subject)
	if err != nil {
		return nil, err
	}
	if n.FirstNoticeID != "" && n.FirstNoticeID != n.ID {
		first := messageID(n.FirstNoticeID, m.domain)
		hs = append(hs, header{"In-Reply-To", first}, header{"References", first})
	}
	hs = append(hs,
		header{"Content-Type", "text/plain; charset=utf-8"},
		header{"Content-Transfer-Encoding", cte},
		header{"Content-Language", string(orEN(n.Lang))},
	)
	if n.Priority {
		hs = append(hs, header{"Importance", "high"}, header{"Priority", "urgent"}, header{"X-Priority", "1 (Highest)"})
	}
	var b bytes.Buffer
	writeHeaders(&b, hs)
	b.WriteString("\r\n")
	b.Write(enc)
	return &Message{ID: n.ID, MessageID: messageID(n.ID, m.domain), From: m.envelopeFrom, To: rcpts, Raw: b.Bytes()}, nil
}

// envelopeHeaders returns the header fields common to every message and the
// envelope recipients.
func (m *Mailer) envelopeHeaders(id string, to, cc []mail.Address, date time.Time, subject string) ([]header, []string, error) {
	if err := checkID(id); err != nil {
		return nil, nil, err
	}
	toText, rcpts, err := formatAddresses(to)
	if err != nil {
		return nil, nil, err
	}
	if len(rcpts) == 0 {
		return nil, nil, errors.New("notify: message has no recipient")
	}
	hs := []header{
		{"From", m.from},
	}
	if m.replyTo != "" {
		hs = append(hs, header{"Reply-To", m.replyTo})
	}
	hs = append(hs, header{"To", toText})
	if len(cc) > 0 {
		ccText, ccRcpts, err := formatAddresses(cc)
		if err != nil {
			return nil, nil, err
		}
		hs = append(hs, header{"Cc", ccText})
		rcpts = append(rcpts, ccRcpts...)
	}
	hs = append(hs,
		header{"Subject", encodeSubject(subject)},
		header{"Date", formatDate(date)},
		header{"Message-ID", messageID(id, m.domain)},
		// RFC 3834: machines answering this must not auto-reply in loops.
		header{"Auto-Submitted", "auto-generated"},
		header{"X-Vigil-ID", id},
		header{"MIME-Version", "1.0"},
	)
	return hs, rcpts, nil
}

func orEN(l Language) Language {
	if l == "" {
		return EN
	}
	return l
}
