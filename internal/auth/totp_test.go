package auth

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"
)

// RFC 6238 appendix B, SHA-1 column (8 digits there; the last 6 here).
func TestTOTPRFC6238(t *testing.T) {
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		got, err := TOTPCode(secret, TOTPStep(time.Unix(tc.unix, 0)))
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want[2:] {
			t.Errorf("T=%d: %s, want %s", tc.unix, got, tc.want[2:])
		}
	}
}

func TestVerifyTOTP(t *testing.T) {
	secret := NewTOTPSecret()
	now := time.Unix(1_700_000_000, 0)
	cur := TOTPStep(now)
	code := func(step int64) string {
		c, err := TOTPCode(secret, step)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, d := range []int64{-1, 0, 1} {
		if step, ok := VerifyTOTP(secret, code(cur+d), now, 0); !ok || step != cur+d {
			t.Errorf("step %+d refused", d)
		}
	}
	for _, d := range []int64{-2, 2} {
		if _, ok := VerifyTOTP(secret, code(cur+d), now, 0); ok {
			t.Errorf("step %+d accepted", d)
		}
	}
	// A used step, or an older one, is a replay.
	if _, ok := VerifyTOTP(secret, code(cur), now, cur); ok {
		t.Error("replayed code accepted")
	}
	if _, ok := VerifyTOTP(secret, code(cur-1), now, cur); ok {
		t.Error("older code accepted after a newer one")
	}
	if _, ok := VerifyTOTP(secret, code(cur+1), now, cur); !ok {
		t.Error("next step refused after the current one")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := VerifyTOTP(secret, bad, now, 0); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	// Lower case and spaces in the secret, as people type it, still work.
	loose := strings.ToLower(secret[:4] + " " + secret[4:])
	if _, ok := VerifyTOTP(loose, code(cur), now, 0); !ok {
		t.Error("loosely written secret refused")
	}
}

func TestTOTPURI(t *testing.T) {
	u := TOTPURI("Vigil Hotline", "ana", "JBSWY3DPEHPK3PXP")
	if !strings.HasPrefix(u, "otpauth://totp/Vigil%20Hotline:ana?") || !strings.Contains(u, "secret=JBSWY3DPEHPK3PXP") ||
		!strings.Contains(u, "issuer=Vigil+Hotline") {
		t.Error(u)
	}
}
