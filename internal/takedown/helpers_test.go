package takedown_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/mailcatcher"
	"github.com/vigil-hotline/vigil/internal/notify"
)

var _ mailcatcher.Message

// attachedPackage opens the package attached to a forward.
func attachedPackage(t *testing.T, raw []byte) *notify.OpenedPackage {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no package attached: %v", err)
		}
		if p.FileName() == "" {
			continue
		}
		var data []byte
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			data, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		} else {
			data, err = io.ReadAll(p)
		}
		if err != nil {
			t.Fatal(err)
		}
		pkg, err := notify.ReadPackage(data)
		if err != nil {
			t.Fatalf("package %s: %v", p.FileName(), err)
		}
		return pkg
	}
}
