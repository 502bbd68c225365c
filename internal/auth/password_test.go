package auth

import (
	"strings"
	"testing"
)

var fast = Argon2Params{Memory: 1024, Time: 1, Threads: 1}

func TestPassword(t *testing.T) {
	h, err := HashPassword("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hash %q", h)
	}
	if ok, err := VerifyPassword("correct horse battery", h); !ok || err != nil {
		t.Errorf("right password refused: %v", err)
	}
	if ok, _ := VerifyPassword("correct horse batterY", h); ok {
		t.Error("wrong password accepted")
	}
	if _, err := HashPassword("short", fast); err == nil {
		t.Error("short password accepted")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=x$a$b", "$argon2id$v=19$m=1,t=1,p=1$!!$aGFzaA"} {
		if _, err := VerifyPassword("x", bad); err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestAPIKey(t *testing.T) {
	k1, h1 := NewAPIKey()
	k2, _ := NewAPIKey()
	if k1 == k2 || !strings.HasPrefix(k1, APIKeyPrefix) || len(h1) != 32 {
		t.Errorf("keys %q %q", k1, k2)
	}
	if string(HashToken(k1)) != string(h1) {
		t.Error("hash of key differs from the one returned")
	}
}
