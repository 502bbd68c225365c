// Package mailcatcher is an SMTP server on loopback that keeps what it
// receives in memory: the demo's mail box, and the tests' recipient. It
// never relays anything anywhere.
package mailcatcher

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/mail"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message received.
type Message struct {
	From     string
	To       []string
	Data     []byte
	Received time.Time
}

// Header returns a header of the message.
func (m Message) Header(name string) string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	return msg.Header.Get(name)
}

// Catcher is a running mail catcher.
type Catcher struct {
	// Addr is the address it listens on.
	Addr string
	// OnMessage, when set, is called with each message received (from its
	// own goroutine) before the server acknowledges it.
	OnMessage func(Message)
	// Hold, when set, delays the acknowledgement of a message until it is
	// closed: a test kills the sender between sending and recording.
	Hold chan struct{}

	mu   sync.Mutex
	msgs []Message
	srv  *smtp.Server
}

// Start listens on addr ("127.0.0.1:0" for any free port).
func Start(addr string) (*Catcher, error) {
	c := &Catcher{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }))
	srv.Domain = "mailcatcher.invalid"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 64 << 20
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c.Addr, c.srv = l.Addr().String(), srv
	go func() { _ = srv.Serve(l) }() // ends with Close, the one error it can return
	return c, nil
}

// Messages returns what was received so far.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// To returns the messages received for a recipient.
func (c *Catcher) To(addr string) []Message {
	var out []Message
	for _, m := range c.Messages() {
		for _, t := range m.To {
			if t == addr {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Close stops the server.
func (c *Catcher) Close() error { return c.srv.Close() }

type session struct {
	c    *Catcher
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = append(s.to, to); return nil }
func (s *session) Reset()                                      { s.from, s.to = "", nil }
func (s *session) Logout() error                               { return nil }

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Message{From: s.from, To: append([]string(nil), s.to...), Data: b, Received: time.Now()}
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, m)
	hold, on := s.c.Hold, s.c.OnMessage
	s.c.mu.Unlock()
	if on != nil {
		on(m)
	}
	if hold != nil {
		<-hold
	}
	return nil
}
