package vigil

import (
	"encoding/hex"
	"strings"
)

// SignalType names a kind of hash exchanged between hotlines.
type SignalType string

const (
	SignalMD5    SignalType = "md5"
	SignalSHA1   SignalType = "sha1"
	SignalSHA256 SignalType = "sha256"
	SignalPDQ    SignalType = "pdq"
	// SignalVPDQ is a video's vPDQ hash: a list of frames (BankEntry.Frames),
	// whose value is the list's digest (VideoDigest). Not in SignalTypes:
	// hash-list files carry single hashes, videos come in their own files.
	SignalVPDQ SignalType = "vpdq"
)

// SignalTypes lists every supported signal type in a stable order.
var SignalTypes = []SignalType{SignalMD5, SignalSHA1, SignalSHA256, SignalPDQ}

// HexLen is the number of hex digits a value of this type has.
func (t SignalType) HexLen() int {
	switch t {
	case SignalMD5:
		return 32
	case SignalSHA1:
		return 40
	case SignalSHA256, SignalPDQ, SignalVPDQ:
		return 64
	}
	return 0
}

// ParseSignalType accepts a type name in any case, with common aliases
// ("sha-256", "pdq_hash").
func ParseSignalType(s string) (SignalType, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", "", "_", "").Replace(s)
	switch s {
	case "md5":
		return SignalMD5, nil
	case "sha1":
		return SignalSHA1, nil
	case "sha256":
		return SignalSHA256, nil
	case "pdq", "pdqhash":
		return SignalPDQ, nil
	case "vpdq":
		return SignalVPDQ, nil
	}
	return "", Errorf(EINVALID, "unknown signal type %q (want md5, sha1, sha256 or pdq)", s).WithKey("exch_err_signal", s)
}

// NormalizeSignalValue lower-cases a hex value and checks its length and
// digits for the type. A 64-digit value is valid for both sha256 and pdq: the
// type always comes from the caller, never from the value.
func NormalizeSignalValue(t SignalType, v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	want := t.HexLen()
	if want == 0 {
		return "", Errorf(EINVALID, "unknown signal type %q", string(t))
	}
	if len(v) != want {
		return "", Errorf(EINVALID, "%s value must be %d hex digits, got %d characters", t, want, len(v))
	}
	if _, err := hex.DecodeString(v); err != nil {
		return "", Errorf(EINVALID, "%s value is not hexadecimal", t)
	}
	return v, nil
}
