package vigil

import (
	"crypto/rand"
	"strings"
)

// Tracking codes use Crockford's base32: no I, L, O or U, so a code read out
// over the phone or copied by hand survives.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewTrackingCode returns a random 80-bit code such as "7K3Q-M9XD-2B4T-HW6P".
// It is the reporter's only handle on their report, so it must not be
// guessable.
func NewTrackingCode() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(crockford[c&31])
	}
	return sb.String()
}

// NormalizeTrackingCode turns a code as typed (any case, spaces, missing or
// extra dashes, O for 0, I or L for 1) into its canonical form, or returns an
// error when it cannot be a tracking code.
func NormalizeTrackingCode(s string) (string, error) {
	var digits []byte
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 0x7f || !strings.ContainsRune(crockford, r) {
			return "", &Error{Code: EINVALID, Key: "err_code", Message: "That is not a tracking code."}
		}
		digits = append(digits, byte(r))
	}
	if len(digits) != 16 {
		return "", &Error{Code: EINVALID, Key: "err_code", Message: "That is not a tracking code."}
	}
	var sb strings.Builder
	for i, c := range digits {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(c)
	}
	return sb.String(), nil
}
