package takedown

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/vigil-hotline/vigil/internal/notify"
)

// OutboxSender writes each message as a .eml file into a folder instead of
// sending it: the default when no SMTP server is configured, so that
// nothing is lost and an operator can send the files by other means. A
// message's file is created once and never overwritten.
type OutboxSender struct{ Dir string }

var safeName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Send implements Sender.
func (o OutboxSender) Send(_ context.Context, msg *notify.Message) (notify.Receipt, error) {
	rec := notify.Receipt{Transport: "outbox", MessageID: msg.MessageID}
	if !safeName.MatchString(msg.ID) {
		return rec, fmt.Errorf("outbox: bad message id %q", msg.ID)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return rec, err
	}
	path := filepath.Join(o.Dir, msg.ID+".eml")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		rec.Reply, rec.At = path+" (written before)", time.Now()
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	_, err = f.Write(msg.Raw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rec, errors.Join(err, os.Remove(path))
	}
	rec.Reply, rec.At = path, time.Now()
	return rec, nil
}
