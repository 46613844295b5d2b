package totp

import (
	"strings"
	"testing"
	"time"
)

// rfcKey is the SHA-1 key of RFC 6238's test vectors.
var rfcKey = []byte("12345678901234567890")

// TestRFC6238Vectors: the codes of RFC 6238 appendix B (SHA-1), cut to
// six digits.
func TestRFC6238Vectors(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		want string // the RFC's 8 digits
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		if got := Code(rfcKey, Step(time.Unix(tc.unix, 0))); got != tc.want[2:] {
			t.Errorf("t=%d: %s, want %s", tc.unix, got, tc.want[2:])
		}
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1111111111, 0)
	cur := Step(now)
	for _, tc := range []struct {
		name string
		code string
		last int64
		ok   bool
	}{
		{"current", Code(rfcKey, cur), 0, true},
		{"with a blank", Code(rfcKey, cur)[:3] + " " + Code(rfcKey, cur)[3:], 0, true},
		{"previous step", Code(rfcKey, cur-1), 0, true},
		{"next step", Code(rfcKey, cur+1), 0, true},
		{"two steps old", Code(rfcKey, cur-2), 0, false},
		{"two steps ahead", Code(rfcKey, cur+2), 0, false},
		{"replayed", Code(rfcKey, cur), cur, false},
		{"older than the last used", Code(rfcKey, cur-1), cur, false},
		{"newer than the last used", Code(rfcKey, cur+1), cur, true},
		{"short", "12345", 0, false},
		{"letters", "abcdef", 0, false},
		{"empty", "", 0, false},
	} {
		step, ok := Verify(rfcKey, tc.code, now, tc.last)
		if ok != tc.ok {
			t.Errorf("%s: ok %v, want %v", tc.name, ok, tc.ok)
		}
		if ok && step <= tc.last {
			t.Errorf("%s: step %d not after %d", tc.name, step, tc.last)
		}
	}
}

func TestSecretAndURI(t *testing.T) {
	s := NewSecret()
	key, err := Decode(s)
	if err != nil || len(key) != SecretLen {
		t.Fatalf("%q: %v %d", s, err, len(key))
	}
	if k2, err := Decode(strings.ToLower(Group(s))); err != nil || string(k2) != string(key) {
		t.Fatalf("grouped lower case: %v", err)
	}
	if NewSecret() == s {
		t.Fatal("two secrets alike")
	}
	for _, bad := range []string{"", "not base32!", "AAAA"} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	u := URI("ipdesk school", "anna:x", "JBSWY3DPEHPK3PXP")
	want := "otpauth://totp/ipdesk%20school:anna:x?algorithm=SHA1&digits=6&issuer=ipdesk+school&period=30&secret=JBSWY3DPEHPK3PXP"
	if u != want {
		t.Errorf("URI %s, want %s", u, want)
	}
}
