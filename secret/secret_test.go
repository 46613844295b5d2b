package secret

import (
	"strings"
	"testing"
)

func TestPassword(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, pw := range []string{"correct horse", "пароль-ünïcode", long} {
		h, err := HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !CheckPassword(h, pw) {
			t.Errorf("CheckPassword(%q) = false", pw)
		}
		if CheckPassword(h, pw+"x") || CheckPassword(h, pw[:len(pw)-1]) {
			t.Errorf("CheckPassword accepted a different password for %q", pw)
		}
	}
	// No truncation: passwords sharing the first 72 bytes differ.
	h, _ := HashPassword(long + "a")
	if CheckPassword(h, long+"b") {
		t.Error("long passwords are truncated")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$x$y$z$w", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA"} {
		if CheckPassword(bad, "x") {
			t.Errorf("CheckPassword accepted hash %q", bad)
		}
	}
}

func TestToken(t *testing.T) {
	a, _ := NewToken()
	b, _ := NewToken()
	if a == b || !strings.HasPrefix(a, TokenPrefix) || len(a) < 40 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if string(HashToken(a)) == string(HashToken(b)) || len(HashToken(a)) != 32 {
		t.Fatal("HashToken")
	}
}
