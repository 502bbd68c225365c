package vigil_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
)

var testTime = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestSignalValues(t *testing.T) {
	for _, s := range []string{"md5", "SHA-1", "sha_256", "PDQ", "pdq_hash"} {
		if _, err := vigil.ParseSignalType(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := vigil.ParseSignalType("crc32"); err == nil {
		t.Error("crc32 accepted")
	}
	hex64 := strings.Repeat("aB", 32)
	for _, typ := range []vigil.SignalType{vigil.SignalSHA256, vigil.SignalPDQ} {
		if v, err := vigil.NormalizeSignalValue(typ, hex64); err != nil || v != strings.ToLower(hex64) {
			t.Errorf("%s: %q %v", typ, v, err)
		}
	}
	if _, err := vigil.NormalizeSignalValue(vigil.SignalMD5, hex64); err == nil {
		t.Error("64 digits accepted as md5")
	}
	if _, err := vigil.NormalizeSignalValue(vigil.SignalMD5, strings.Repeat("g", 32)); err == nil {
		t.Error("non-hex accepted")
	}
}
