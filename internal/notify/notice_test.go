package notify

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// readMessage parses a rendered message and returns it with its decoded
// subject and text body.
func readMessage(t *testing.T, raw []byte) (*mail.Message, string, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	var body io.Reader = msg.Body
	if msg.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return msg, subject, string(b)
}

func TestRenderNoticeEveryLanguage(t *testing.T) {
	m := testMailer(t, SMTPConfig{})
	phrases := map[Language]map[Kind][]string{
		EN: {KindNotice: {"Dear abuse team", "Seen at:"}, KindRenotice: {"notice number 3", "2026-01-30"}, KindEscalation: {"Bad Hosting Ltd", "4 times since", "2026-01-30"}},
		NL: {KindNotice: {"Beste abuse-team", "Gezien op:"}, KindRenotice: {"melding nummer 3", "2026-01-30"}, KindEscalation: {"Bad Hosting Ltd", "4 keer", "2026-01-30"}},
		FR: {KindNotice: {"Madame, Monsieur", "Vu le :"}, KindRenotice: {"signalement numéro 3", "2026-01-30"}, KindEscalation: {"Bad Hosting Ltd", "4 fois", "2026-01-30"}},
		DE: {KindNotice: {"Sehr geehrtes Abuse-Team", "Gesehen am:"}, KindRenotice: {"Meldung Nummer 3", "2026-01-30"}, KindEscalation: {"Bad Hosting Ltd", "4 Mal", "2026-01-30"}},
	}
	subjects := map[Language]string{EN: "Notice", NL: "Melding", FR: "Signalement", DE: "Meldung"}
	for _, lang := range Languages {
		for _, kind := range []Kind{KindNotice, KindRenotice, KindEscalation} {
			n := sampleNotice(kind, lang)
			out, err := m.RenderNotice(n)
			if err != nil {
				t.Fatalf("%s/%s: %v", lang, kind, err)
			}
			msg, subject, body := readMessage(t, out.Raw)
			h := msg.Header
			for _, want := range []string{n.URL, "2026-02-02 08:30:00 UTC", "iwf-a", "fetch-1234", "BE-2026-0007", "Vigil Hotline"} {
				if !strings.Contains(body, want) {
					t.Errorf("%s/%s: body lacks %q:\n%s", lang, kind, want, body)
				}
			}
			for _, want := range phrases[lang][kind] {
				if !strings.Contains(body, want) {
					t.Errorf("%s/%s: body lacks %q:\n%s", lang, kind, want, body)
				}
			}
			if !strings.Contains(subject, "BE-2026-0007") || strings.Contains(subject, n.URL) {
				t.Errorf("%s/%s: subject %q", lang, kind, subject)
			}
			if kind != KindEscalation && !strings.Contains(subject, subjects[lang]) {
				t.Errorf("%s/%s: subject %q lacks %q", lang, kind, subject, subjects[lang])
			}
			from, _ := h.AddressList("From")
			replyTo, _ := h.AddressList("Reply-To")
			to, _ := h.AddressList("To")
			if len(from) != 1 || from[0].Address != "notices@hotline.example" || from[0].Name != "Meldpunt Vigil" ||
				len(replyTo) != 1 || replyTo[0].Address != "analysts@hotline.example" || len(to) != 1 || to[0].Address != n.To[0].Address {
				t.Errorf("%s/%s: addresses %v %v %v", lang, kind, from, replyTo, to)
			}
			if d, err := h.Date(); err != nil || !d.Equal(n.Date) {
				t.Errorf("%s/%s: Date %v %v", lang, kind, d, err)
			}
			if h.Get("Message-ID") != "<vigil."+n.ID+"@hotline.example>" || out.MessageID != h.Get("Message-ID") {
				t.Errorf("%s/%s: Message-ID %q", lang, kind, h.Get("Message-ID"))
			}
			if h.Get("MIME-Version") != "1.0" || h.Get("Content-Type") != "text/plain; charset=utf-8" || h.Get("Content-Language") != string(lang) || h.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("%s/%s: MIME headers %v", lang, kind, h)
			}
			if kind == KindRenotice && h.Get("In-Reply-To") != "<vigil.notice-41@hotline.example>" {
				t.Errorf("renotice In-Reply-To %q", h.Get("In-Reply-To"))
			}
			checkLines(t, out.Raw)
		}
	}
}

// checkLines checks RFC 5322 form: CRLF everywhere, no line over 998.
func checkLines(t *testing.T, raw []byte) {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("bare LF in message")
	}
	for _, l := range bytes.Split(raw, []byte("\r\n")) {
		if len(l) > 998 {
			t.Errorf("line of %d bytes", len(l))
		}
		for _, c := range l {
			if c >= 0x80 {
				t.Fatalf("8-bit byte in message line %q", l)
			}
		}
	}
}

func TestRenderNoticeEncodesNonASCIISubject(t *testing.T) {
	m := testMailer(t, SMTPConfig{})
	out, err := m.RenderNotice(sampleNotice(KindNotice, FR))
	if err != nil {
		t.Fatal(err)
	}
	raw := string(out.Raw)
	if !strings.Contains(raw, "Subject: =?utf-8?q?") || !strings.Contains(raw, "Content-Transfer-Encoding: quoted-printable") {
		t.Fatalf("French notice not RFC 2047 / QP encoded:\n%s", raw)
	}
	out, _ = m.RenderNotice(sampleNotice(KindNotice, EN))
	if !strings.Contains(string(out.Raw), "Content-Transfer-Encoding: 7bit") || !strings.Contains(string(out.Raw), "Subject: [Vigil Hotline BE-2026-0007]") {
		t.Fatalf("English notice should stay readable:\n%s", out.Raw)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	m1 := testMailer(t, SMTPConfig{})
	m2 := testMailer(t, SMTPConfig{Addr: "127.0.0.1:1"})
	for _, kind := range []Kind{KindNotice, KindRenotice, KindEscalation} {
		n := sampleNotice(kind, DE)
		a, err := m1.RenderNotice(n)
		if err != nil {
			t.Fatal(err)
		}
		// The same instant in another zone, from another Mailer: same bytes.
		n2 := *n
		n2.Date = n.Date.In(time.FixedZone("CET", 3600))
		n2.SeenAt = n.SeenAt.In(time.FixedZone("X", -5*3600))
		b, err := m2.RenderNotice(&n2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Raw, b.Raw) || a.MessageID != b.MessageID || a.SHA256() != b.SHA256() {
			t.Fatalf("%s: renders differ:\n%s\n---\n%s", kind, a.Raw, b.Raw)
		}
	}
	a, _ := m1.RenderNotice(sampleNotice(KindNotice, EN))
	n := sampleNotice(KindNotice, EN)
	n.ID = "notice-99"
	b, _ := m1.RenderNotice(n)
	if a.MessageID == b.MessageID {
		t.Fatal("different messages share a Message-ID")
	}
}

func TestRenderNoticeRejectsBadInput(t *testing.T) {
	m := testMailer(t, SMTPConfig{})
	for name, mod := range map[string]func(*Notice){
		"no id":        func(n *Notice) { n.ID = "" },
		"id with @":    func(n *Notice) { n.ID = "a@b" },
		"no to":        func(n *Notice) { n.To = nil },
		"no date":      func(n *Notice) { n.Date = time.Time{} },
		"header break": func(n *Notice) { n.CaseRef = "X\r\nBcc: evil@example.com" },
		"url newline":  func(n *Notice) { n.URL = "https://x.example/\nmore" },
		"bad address":  func(n *Notice) { n.To = []mail.Address{{Address: "a@b>\r\nBcc: c@d"}} },
		"language":     func(n *Notice) { n.Lang = "es" },
		"kind":         func(n *Notice) { n.Kind = "forward" },
		"renotice":     func(n *Notice) { n.Kind = KindRenotice; n.Count = 1 },
		"escalation":   func(n *Notice) { n.Kind = KindEscalation; n.Count = 2; n.FirstNoticeAt = n.Date },
	} {
		n := sampleNotice(KindNotice, EN)
		mod(n)
		if _, err := m.RenderNotice(n); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// benignImage is a generated gradient: the stand-in for media in tests.
func benignImage(t *testing.T, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 8), seed, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestNoticesNeverCarryMedia(t *testing.T) {
	m := testMailer(t, SMTPConfig{})
	media := benignImage(t, 7)
	b64 := base64.StdEncoding.EncodeToString(media)
	for _, lang := range Languages {
		for _, kind := range []Kind{KindNotice, KindRenotice, KindEscalation} {
			out, err := m.RenderNotice(sampleNotice(kind, lang))
			if err != nil {
				t.Fatal(err)
			}
			raw := string(out.Raw)
			if strings.Contains(raw, string(media[8:40])) || strings.Contains(raw, b64[:40]) || strings.Contains(raw, "\x89PNG") {
				t.Fatalf("%s/%s: media bytes in a notice", lang, kind)
			}
			msg, _, _ := readMessage(t, out.Raw)
			if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || msg.Header.Get("Content-Disposition") != "" || strings.Contains(raw, "multipart") {
				t.Fatalf("%s/%s: a notice must be a single text part, got %q", lang, kind, ct)
			}
			// A notice is small: text only.
			if len(out.Raw) > 8<<10 {
				t.Fatalf("%s/%s: notice of %d bytes", lang, kind, len(out.Raw))
			}
		}
	}
}

func TestTemplatesCheckedAtStartUp(t *testing.T) {
	full := fstest.MapFS{}
	for _, l := range Languages {
		src, err := DefaultTemplates.(interface{ ReadFile(string) ([]byte, error) }).ReadFile("templates/" + string(l) + ".tmpl")
		if err != nil {
			t.Fatal(err)
		}
		full["templates/"+string(l)+".tmpl"] = &fstest.MapFile{Data: src}
	}
	cfg := Config{From: mail.Address{Address: "n@hotline.example"}, Templates: full}
	if _, err := NewMailer(cfg); err != nil {
		t.Fatalf("full set refused: %v", err)
	}
	clone := func() fstest.MapFS {
		c := fstest.MapFS{}
		for k, v := range full {
			c[k] = &fstest.MapFile{Data: bytes.Clone(v.Data)}
		}
		return c
	}
	broken := map[string]func(fstest.MapFS){
		"missing language": func(f fstest.MapFS) { delete(f, "templates/de.tmpl") },
		"missing template": func(f fstest.MapFS) {
			f["templates/fr.tmpl"].Data = bytes.Replace(f["templates/fr.tmpl"].Data, []byte(`{{define "renotice.body"}}`), []byte(`{{define "renotice.bodyx"}}`), 1)
		},
		"misspelt field": func(f fstest.MapFS) {
			f["templates/nl.tmpl"].Data = bytes.Replace(f["templates/nl.tmpl"].Data, []byte("{{.EvidenceRef}}"), []byte("{{.EvidenceRf}}"), 1)
		},
		"syntax": func(f fstest.MapFS) {
			f["templates/en.tmpl"].Data = append(f["templates/en.tmpl"].Data, []byte("{{if}}")...)
		},
	}
	for name, breakIt := range broken {
		f := clone()
		breakIt(f)
		cfg.Templates = f
		if _, err := NewMailer(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseLanguage(t *testing.T) {
	for in, want := range map[string]Language{"nl-BE": NL, "FR": FR, "de": DE, " en-GB ": EN} {
		if got, err := ParseLanguage(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	if _, err := ParseLanguage("es"); err == nil {
		t.Error("es accepted")
	}
}
