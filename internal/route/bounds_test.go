package route

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A routing file of any size is refused without being read whole, and
// errors quote only a short prefix of a key or value (issue 12 item 6).
func TestConfigBounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "routes.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// 64 MiB, sparse: no disk space used.
	if err := f.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Load(path)
	if err == nil || !strings.Contains(err.Error(), "larger than") || len(err.Error()) > 300 {
		t.Errorf("64 MiB file: %.300v", err)
	}
	huge := strings.Repeat("k", 100_000)
	for _, src := range []string{`{"` + huge + `": 1}`, `{"home_country": "` + huge + `"}`} {
		_, err := Parse([]byte(src))
		if err == nil || len(err.Error()) > 600 {
			t.Errorf("error of %d bytes: %.200v", len(err.Error()), err)
		}
	}
}
