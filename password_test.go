package vigil

import (
	"strings"
	"testing"
)

// The red-team's accepted passwords, and their kin, are refused; long
// unrelated words and random strings pass.
func TestValidatePasswordRefusesWeak(t *testing.T) {
	for _, pw := range []string{
		"123456789012", "aaaaaaaaaaaa", "passwordpass", // the red-team's
		"Password2024!", "qwertyuiop12", "p4ssw0rd1234", "iloveyou2024", "monkeymonkey",
		"abcdefghijkl", "letmeinletmein", "zxcvbnmasdfg", "abcabcabcabc", "welcome12345",
		"short", strings.Repeat("x", MaxPasswordLength+1),
	} {
		if err := ValidatePassword(pw); ErrorCode(err) != EINVALID {
			t.Errorf("%q accepted (%v)", pw, err)
		}
	}
	for _, pw := range []string{"correct horse battery staple", "x7Gk29pQmZ4w", "Tr0ub4dor&3xyz", "my dog eats carrots", "a long enough password"} {
		if err := ValidatePassword(pw); err != nil {
			t.Errorf("%q refused: %v", pw, err)
		}
	}
}
