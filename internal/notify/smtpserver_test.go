package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// recorded is one message the test server accepted.
type recorded struct {
	From string
	To   []string
	Data []byte
	User string
	TLS  bool
}

// serverOpts shapes the test server's behaviour.
type serverOpts struct {
	TLS        bool              // offer STARTTLS with a self-signed certificate
	Implicit   bool              // speak TLS from the start instead (SMTPS)
	Users      map[string]string // offer AUTH PLAIN and require it
	RejectRcpt map[string]int    // address → reply code
	RejectData int               // reply code after the body, 0 to accept
	StallData  bool              // read the body, then never answer
}

// testServer is an SMTP server on loopback that records what it accepts.
type testServer struct {
	Addr  string
	Roots *x509.CertPool
	opts  serverOpts
	stop  chan struct{}

	mu     sync.Mutex
	msgs   []recorded
	seq    int
	dataNo int
}

func (s *testServer) Messages() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.msgs...)
}

// DataCommands counts DATA commands, accepted or not.
func (s *testServer) DataCommands() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataNo
}

func startServer(t *testing.T, opts serverOpts) *testServer {
	t.Helper()
	ts := &testServer{opts: opts, stop: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: ts, conn: c}, nil
	}))
	srv.Domain = "mx.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = !opts.TLS && !opts.Implicit
	srv.ErrorLog = testLogger{t}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.TLS || opts.Implicit {
		cert, roots := selfSigned(t)
		conf := &tls.Config{Certificates: []tls.Certificate{cert}}
		ts.Roots = roots
		if opts.Implicit {
			l = tls.NewListener(l, conf)
		} else {
			srv.TLSConfig = conf
		}
	}
	ts.Addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() {
		close(ts.stop)
		srv.Close()
	})
	return ts
}

type testLogger struct{ t *testing.T }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf("smtp server: "+format, v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(append([]any{"smtp server:"}, v...)...) }

type session struct {
	srv  *testServer
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string {
	if s.srv.opts.Users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if pw, ok := s.srv.opts.Users[username]; !ok || pw != password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.Users != nil && s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if code := s.srv.opts.RejectRcpt[to]; code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "no such user"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	s.srv.dataNo++
	s.srv.mu.Unlock()
	if s.srv.opts.StallData {
		<-s.srv.stop
		return errors.New("stopped")
	}
	if code := s.srv.opts.RejectData; code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 6, 0}, Message: "message refused"}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.seq++
	s.srv.msgs = append(s.srv.msgs, recorded{From: s.from, To: s.to, Data: b, User: s.user, TLS: isTLS})
	// A 250 "error" is how a go-smtp backend chooses its success text: it
	// carries the queue id that the client must record.
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: fmt.Sprintf("OK: queued as Q%04d", s.srv.seq)}
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mx.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// stallingServer accepts connections and never says anything.
func stallingServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// testMailer makes a Mailer for a test server.
func testMailer(t *testing.T, sc SMTPConfig) *Mailer {
	t.Helper()
	m, err := NewMailer(Config{
		From:    mail.Address{Name: "Meldpunt Vigil", Address: "notices@hotline.example"},
		ReplyTo: &mail.Address{Name: "Vigil Analysts", Address: "analysts@hotline.example"},
		Hotline: "Vigil Hotline",
		SMTP:    sc,
		Now:     func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
