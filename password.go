package vigil

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"
)

// Passwords are at least MinPasswordLength characters and must not be easy
// to guess: not a common password, and not made mostly of repeats,
// sequences, keyboard rows and common passwords (the red-team found
// "123456789012", "aaaaaaaaaaaa" and "passwordpass" accepted). Guessing
// is what the rule is about, so no character classes are imposed.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 1024
)

// minGuessTokens is how many "tokens" a password must be worth: every
// character counts one, except that a common password, a run of one
// character, a sequence, a keyboard row or a repeat of an earlier part
// counts one in all, and a run of digits about one per three digits.
const minGuessTokens = 8

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords is the embedded list, parsed on first use.
var commonPasswords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "# ") && line != "#" {
			m[line] = true
		}
	}
	return m
})

// ValidatePassword checks a new password.
func ValidatePassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < MinPasswordLength || len(pw) > MaxPasswordLength {
		return Errorf(EINVALID, "a password must be %d to %d characters long", MinPasswordLength, MaxPasswordLength).
			WithKey("users_err_password_length", MinPasswordLength, MaxPasswordLength)
	}
	if passwordTokens(pw) < minGuessTokens {
		return Errorf(EINVALID, "this password is too easy to guess: it is a common password, or made of repeats, sequences or common words; "+
			"a few unrelated words or a password manager's random password will do").WithKey("users_err_password_weak")
	}
	return nil
}

// keyboardRows are sequences people type as if they were random.
var keyboardRows = []string{"qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qwertzuiop", "yxcvbnm", "1234567890", "!@#$%^&*()"}

// deleet undoes the commonest substitutions ("p4ssw0rd").
var deleet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i")

// passwordTokens is the cheapest cover of the password by the patterns a
// guesser tries first (see minGuessTokens), by dynamic programming.
func passwordTokens(pw string) int {
	s := []rune(strings.ToLower(pw))
	d := []rune(deleet.Replace(strings.ToLower(pw)))
	if len(d) != len(s) {
		d = s
	}
	common := commonPasswords()
	n := len(s)
	best := make([]int, n+1)
	for i := 1; i <= n; i++ {
		best[i] = n + 1
	}
	for i := 0; i < n; i++ {
		c := best[i]
		relax := func(j, cost int) {
			if c+cost < best[j] {
				best[j] = c + cost
			}
		}
		relax(i+1, 1)
		// A run of one character, or a sequence going up or down by one.
		for _, step := range []rune{0, 1, -1} {
			j := i + 1
			for j < n && s[j]-s[j-1] == step {
				j++
			}
			for k := i + 3; k <= j; k++ {
				relax(k, 1)
			}
		}
		// Digits: a year or a PIN is a few guesses, not one per digit.
		if isDigit(s[i]) {
			j := i
			for j < n && isDigit(s[j]) {
				j++
				relax(j, 1+(j-i-1)/3)
			}
		}
		before := string(s[:i])
		for j := i + 3; j <= n && j-i <= 32; j++ {
			part := string(s[i:j])
			if j-i >= 4 && (common[part] || common[string(d[i:j])]) ||
				inKeyboardRow(part) ||
				strings.Contains(before, part) {
				relax(j, 1)
			}
		}
	}
	return best[n]
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func inKeyboardRow(part string) bool {
	if len(part) < 4 {
		return false
	}
	for _, row := range keyboardRows {
		if strings.Contains(row, part) || strings.Contains(reverse(row), part) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
