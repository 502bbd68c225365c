package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Language is the language of a message: one of Languages.
type Language string

// The languages every template set must provide.
const (
	NL Language = "nl"
	FR Language = "fr"
	DE Language = "de"
	EN Language = "en"
)

// Languages lists the required languages.
var Languages = []Language{NL, FR, DE, EN}

// ParseLanguage accepts a language tag such as "nl-BE" or "FR" and returns
// its Language, or an error when Vigil has no templates for it.
func ParseLanguage(s string) (Language, error) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "-")
	for _, l := range Languages {
		if string(l) == base {
			return l, nil
		}
	}
	return "", fmt.Errorf("notify: unsupported language %q", s)
}

// Message is a rendered e-mail, ready to be stored and sent. Everything in it
// is derived from its input: rendering the same input again gives the same
// Message.
type Message struct {
	// ID is the message's ID in Vigil.
	ID string
	// MessageID is the RFC 5322 Message-ID, with its angle brackets.
	MessageID string
	// From is the envelope sender (MAIL FROM).
	From string
	// To are the envelope recipients (RCPT TO): To and Cc.
	To []string
	// Raw is the whole message with CRLF line endings.
	Raw []byte
}

// SHA256 returns the hex SHA-256 of Raw, for the caller's record.
func (m *Message) SHA256() string {
	sum := sha256.Sum256(m.Raw)
	return hex.EncodeToString(sum[:])
}

// Receipt is the proof of a delivery, to be stored with the message.
type Receipt struct {
	// Transport is "smtp" or "outbox".
	Transport string
	// MessageID is the Message-ID sent (SMTP) or the package's ID (outbox).
	MessageID string
	// Code is the SMTP server's final reply code (250); 0 for the outbox.
	Code int
	// Reply is the server's final reply text, which usually names its
	// queue id ("2.0.0 Ok: queued as 4FzX1"), or the outbox file's path.
	Reply string
	// TLS is whether the SMTP session was encrypted.
	TLS bool
	// At is when the delivery was acknowledged.
	At time.Time
}

// idRE limits Vigil IDs to characters that are safe in a Message-ID, a file
// name and a MIME boundary without any quoting.
var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// domainRE is a plain DNS name, for the right-hand side of Message-IDs.
var domainRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

func checkID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("notify: ID %q must be 1-128 letters, digits, '.', '_' or '-'", id)
	}
	return nil
}

// messageID is the deterministic Message-ID of a Vigil message ID.
func messageID(id, domain string) string {
	return "<vigil." + id + "@" + domain + ">"
}

// header is one header field in the order written.
type header struct{ name, value string }

// formatAddresses validates addresses and returns them as header text and as
// envelope addresses.
func formatAddresses(list []mail.Address) (string, []string, error) {
	var text []string
	var env []string
	for _, a := range list {
		if _, err := mail.ParseAddress(a.Address); err != nil || strings.ContainsAny(a.Address, "<> \r\n") {
			return "", nil, fmt.Errorf("notify: bad address %q: %w", a.Address, errOr(err))
		}
		if strings.ContainsAny(a.Name, "\r\n") {
			return "", nil, fmt.Errorf("notify: bad display name %q", a.Name)
		}
		text = append(text, a.String())
		env = append(env, a.Address)
	}
	return strings.Join(text, ", "), env, nil
}

func errOr(err error) error {
	if err == nil {
		return errors.New("invalid")
	}
	return err
}

// cleanLine makes template output safe for a header: one line, no control
// characters, single spaces.
func cleanLine(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)), " ")
}

// encodeSubject applies RFC 2047 when the subject is not plain ASCII.
func encodeSubject(s string) string {
	return mime.QEncoding.Encode("utf-8", cleanLine(s))
}

// formatDate is the RFC 5322 date-time form, in UTC so that the same
// instant loaded in another zone renders the same bytes.
func formatDate(t time.Time) string { return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700") }

// writeHeaders writes fields folded at spaces outside quoted strings so that
// lines stay under 78 characters where the content allows it.
func writeHeaders(b *bytes.Buffer, hs []header) {
	for _, h := range hs {
		line := h.name + ": "
		col := len(line)
		b.WriteString(line)
		for i, tok := range splitFoldable(h.value) {
			if i > 0 {
				if col+1+len(tok) > 78 {
					b.WriteString("\r\n")
					col = 0
				}
				b.WriteByte(' ')
				col++
			}
			b.WriteString(tok)
			col += len(tok)
		}
		b.WriteString("\r\n")
	}
}

// splitFoldable splits at single spaces that are outside double quotes.
func splitFoldable(s string) []string {
	var out []string
	quoted, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && quoted:
			escaped = true
		case c == '"':
			quoted = !quoted
		case c == ' ' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// encodeText returns the body in CRLF form and its transfer encoding: 7bit
// when it is short-lined ASCII (so that URLs stay readable in the raw
// message, which some abuse desks parse), quoted-printable otherwise.
func encodeText(body string) (string, []byte, error) {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	if !utf8.ValidString(body) {
		return "", nil, errors.New("notify: body is not valid UTF-8")
	}
	ascii := true
	for _, line := range strings.Split(body, "\n") {
		if len(line) > 998 || strings.ContainsAny(line, "\r\x00") {
			ascii = false
			break
		}
		for i := 0; i < len(line); i++ {
			if line[i] >= 0x80 {
				ascii = false
				break
			}
		}
	}
	if ascii {
		return "7bit", []byte(strings.ReplaceAll(body, "\n", "\r\n")), nil
	}
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	if _, err := w.Write([]byte(body)); err != nil {
		return "", nil, fmt.Errorf("notify: quoted-printable: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", nil, fmt.Errorf("notify: quoted-printable: %w", err)
	}
	return "quoted-printable", b.Bytes(), nil
}

// wrapBase64 writes base64 in 76-character lines (RFC 2045).
func wrapBase64(b *bytes.Buffer, enc []byte) {
	for len(enc) > 76 {
		b.Write(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	if len(enc) > 0 {
		b.Write(enc)
		b.WriteString("\r\n")
	}
}
