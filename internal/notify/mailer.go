package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// Defaults for zero Config fields.
const (
	DefaultDialTimeout = 15 * time.Second
	DefaultSendTimeout = 2 * time.Minute
)

// TLSMode says how the SMTP session is protected.
type TLSMode int

const (
	// TLSRequired uses STARTTLS and fails when the server does not offer
	// it. The default: notices name abusive URLs and must not cross the
	// network in the clear.
	TLSRequired TLSMode = iota
	// TLSImplicit speaks TLS from the start (SMTPS, port 465).
	TLSImplicit
	// TLSOpportunistic uses STARTTLS when offered and plain text
	// otherwise. Meant for a relay on loopback and for tests.
	TLSOpportunistic
)

// SMTPConfig is where and how mail is sent.
type SMTPConfig struct {
	// Addr is the server's host:port.
	Addr string
	// HelloName is the EHLO name; default the Message-ID domain.
	HelloName string
	TLS       TLSMode
	// TLSConfig is cloned for the session; its ServerName defaults to the
	// host of Addr. Tests set RootCAs here.
	TLSConfig *tls.Config
	// Username and Password enable AUTH PLAIN, which net/smtp only does
	// over TLS or to localhost.
	Username, Password string
	DialTimeout        time.Duration
	// SendTimeout bounds the whole exchange, from dial to the final reply.
	SendTimeout time.Duration
}

// Config configures a Mailer.
type Config struct {
	// From is the author of every message; required.
	From mail.Address
	// ReplyTo, when set, is where providers' answers go.
	ReplyTo *mail.Address
	// EnvelopeFrom is the MAIL FROM address (bounces); default From.
	EnvelopeFrom string
	// Hotline is the organisation's name in texts; default From's name.
	Hotline string
	// MessageIDDomain is the right-hand side of Message-IDs; default the
	// domain of From.
	MessageIDDomain string
	// Templates overrides the embedded templates (templates/LANG.tmpl).
	Templates fs.FS
	SMTP      SMTPConfig
	// Now is the clock for receipts; default time.Now.
	Now func() time.Time
}

// Mailer renders Vigil's outbound messages and sends them over SMTP. It is
// safe for concurrent use.
type Mailer struct {
	cfg          Config
	tmpl         templates
	from         string
	replyTo      string
	envelopeFrom string
	hotline      string
	domain       string
}

// NewMailer checks the configuration and every template in every language.
// A Mailer with no SMTP.Addr can render but not send.
func NewMailer(cfg Config) (*Mailer, error) {
	fsys := cfg.Templates
	if fsys == nil {
		fsys = DefaultTemplates
	}
	ts, err := loadTemplates(fsys)
	if err != nil {
		return nil, err
	}
	from, _, err := formatAddresses([]mail.Address{cfg.From})
	if err != nil {
		return nil, fmt.Errorf("notify: From: %w", err)
	}
	m := &Mailer{cfg: cfg, tmpl: ts, from: from, envelopeFrom: cfg.From.Address, hotline: cfg.Hotline, domain: cfg.MessageIDDomain}
	if cfg.ReplyTo != nil {
		if m.replyTo, _, err = formatAddresses([]mail.Address{*cfg.ReplyTo}); err != nil {
			return nil, fmt.Errorf("notify: ReplyTo: %w", err)
		}
	}
	if cfg.EnvelopeFrom != "" {
		if _, _, err := formatAddresses([]mail.Address{{Address: cfg.EnvelopeFrom}}); err != nil {
			return nil, fmt.Errorf("notify: EnvelopeFrom: %w", err)
		}
		m.envelopeFrom = cfg.EnvelopeFrom
	}
	if m.hotline == "" {
		m.hotline = cfg.From.Name
	}
	if m.hotline == "" {
		m.hotline = "Vigil"
	}
	if m.domain == "" {
		m.domain = cfg.From.Address[strings.LastIndexByte(cfg.From.Address, '@')+1:]
	}
	if !domainRE.MatchString(m.domain) {
		return nil, fmt.Errorf("notify: bad Message-ID domain %q", m.domain)
	}
	if m.cfg.SMTP.HelloName == "" {
		m.cfg.SMTP.HelloName = m.domain
	}
	if m.cfg.SMTP.DialTimeout <= 0 {
		m.cfg.SMTP.DialTimeout = DefaultDialTimeout
	}
	if m.cfg.SMTP.SendTimeout <= 0 {
		m.cfg.SMTP.SendTimeout = DefaultSendTimeout
	}
	if m.cfg.Now == nil {
		m.cfg.Now = time.Now
	}
	return m, nil
}

// SendError is a failed send. Uncertain and Temporary classify it for the
// exactly-once protocol (see the package documentation).
type SendError struct {
	// Stage is where it failed: dial, greeting, hello, starttls, auth,
	// mail, rcpt, data, body, reply.
	Stage string
	// Recipient is the refused address at stage rcpt.
	Recipient string
	// Code and Reply are the server's answer, when there was one.
	Code  int
	Reply string
	// Uncertain is true when the whole message reached the server but no
	// answer came: it may have been accepted.
	Uncertain bool
	Err       error
}

func (e *SendError) Error() string {
	s := "notify: smtp " + e.Stage
	if e.Recipient != "" {
		s += " <" + e.Recipient + ">"
	}
	if e.Uncertain {
		s += " (delivery uncertain)"
	}
	return s + ": " + e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// Uncertain reports whether err leaves it unknown whether the message was
// delivered. Such a message must not be resent automatically.
func Uncertain(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Uncertain
}

// Temporary reports whether a certain failure may succeed later: a 4xx
// reply or a network failure before the message was handed over.
func Temporary(err error) bool {
	var se *SendError
	if !errors.As(err, &se) || se.Uncertain {
		return false
	}
	return se.Code == 0 || se.Code/100 == 4
}

func sendErr(stage string, err error, uncertain bool) *SendError {
	se := &SendError{Stage: stage, Err: err, Uncertain: uncertain}
	var te *textproto.Error
	if errors.As(err, &te) {
		se.Code, se.Reply = te.Code, te.Msg
		// A reply, even a refusal, is a definite answer.
		se.Uncertain = false
	}
	return se
}

// Send delivers a rendered message in one SMTP transaction. It never
// retries: a nil error means the server accepted the message for every
// recipient; a refused recipient aborts the whole transaction before DATA
// so that nothing is sent to anyone.
func (m *Mailer) Send(ctx context.Context, msg *Message) (Receipt, error) {
	c := m.cfg.SMTP
	if c.Addr == "" {
		return Receipt{}, errors.New("notify: no SMTP server configured")
	}
	if msg == nil || len(msg.To) == 0 || len(msg.Raw) == 0 {
		return Receipt{}, errors.New("notify: empty message")
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return Receipt{}, fmt.Errorf("notify: SMTP address %q: %w", c.Addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.SendTimeout)
	defer cancel()

	d := net.Dialer{Timeout: c.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return Receipt{}, sendErr("dial", err, false)
	}
	defer func() { _ = conn.Close() }() // after QUIT, or after a failure already returned
	// The deadline bounds every read and write; cancelling ctx expires it
	// at once so that a stalled server cannot hold the caller.
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tlsConf := &tls.Config{}
	if c.TLSConfig != nil {
		tlsConf = c.TLSConfig.Clone()
	}
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = host
	}
	if tlsConf.MinVersion == 0 {
		tlsConf.MinVersion = tls.VersionTLS12
	}
	encrypted := false
	if c.TLS == TLSImplicit {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return Receipt{}, sendErr("tls", err, false)
		}
		conn, encrypted = tc, true
	}
	client, err := smtp.NewClient(conn, host)
	if err != nil {
		return Receipt{}, sendErr("greeting", err, false)
	}
	defer func() { _ = client.Close() }() // likewise
	if err := client.Hello(c.HelloName); err != nil {
		return Receipt{}, sendErr("hello", err, false)
	}
	if !encrypted {
		if ok, _ := client.Extension("STARTTLS"); ok {
			if err := client.StartTLS(tlsConf); err != nil {
				return Receipt{}, sendErr("starttls", err, false)
			}
			encrypted = true
		} else if c.TLS == TLSRequired {
			return Receipt{}, sendErr("starttls", errors.New("server does not offer STARTTLS"), false)
		}
	}
	if c.Username != "" {
		if ok, _ := client.Extension("AUTH"); !ok {
			return Receipt{}, sendErr("auth", errors.New("server does not offer AUTH"), false)
		}
		if err := client.Auth(smtp.PlainAuth("", c.Username, c.Password, host)); err != nil {
			return Receipt{}, sendErr("auth", err, false)
		}
	}
	if err := client.Mail(msg.From); err != nil {
		return Receipt{}, sendErr("mail", err, false)
	}
	for _, r := range msg.To {
		if err := client.Rcpt(r); err != nil {
			se := sendErr("rcpt", err, false)
			se.Recipient = r
			_ = client.Reset()
			return Receipt{}, se
		}
	}
	code, reply, err := data(client.Text, msg.Raw)
	if err != nil {
		return Receipt{}, err
	}
	// The message is accepted; a failing QUIT changes nothing.
	_ = client.Quit()
	return Receipt{Transport: "smtp", MessageID: msg.MessageID, Code: code, Reply: reply, TLS: encrypted, At: m.cfg.Now()}, nil
}

// data runs the DATA command itself, since net/smtp discards the final
// reply, which carries the server's queue id. It tracks the one point that
// matters for exactly-once: the message can only be accepted once the
// terminating "." has been written, so any failure before it is certain.
func data(t *textproto.Conn, raw []byte) (int, string, error) {
	if _, _, err := cmd(t, 354, "DATA"); err != nil {
		return 0, "", sendErr("data", err, false)
	}
	w := t.DotWriter()
	if _, err := w.Write(raw); err != nil {
		return 0, "", sendErr("body", err, false)
	}
	if err := w.Close(); err != nil {
		return 0, "", sendErr("body", err, true)
	}
	code, reply, err := t.ReadResponse(250)
	if err != nil {
		return 0, "", sendErr("reply", err, true)
	}
	return code, reply, nil
}

func cmd(t *textproto.Conn, expect int, line string) (int, string, error) {
	id, err := t.Cmd("%s", line)
	if err != nil {
		return 0, "", err
	}
	t.StartResponse(id)
	defer t.EndResponse(id)
	return t.ReadResponse(expect)
}
