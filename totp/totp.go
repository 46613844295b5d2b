// Package totp computes and checks time-based one-time passwords (RFC 6238
// over the HOTP of RFC 4226): HMAC-SHA1, 30-second steps, 6 digits, as
// every authenticator app does by default.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Parameters of the codes.
const (
	// Period is the length of a time step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// Skew is how many steps before and after the current one a code may
	// come from, for clocks that differ a little.
	Skew = 1
	// SecretLen is the length of new secrets in bytes (160 bits, the
	// size RFC 4226 recommends).
	SecretLen = 20
)

// enc is the base32 form authenticator apps take secrets in.
var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a new random secret in base32.
func NewSecret() string {
	b := make([]byte, SecretLen)
	rand.Read(b)
	return enc.EncodeToString(b)
}

// Decode reads a base32 secret; blanks and lower case are accepted.
func Decode(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.Join(strings.Fields(secret), ""))
	b, err := enc.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) < 10 {
		return nil, fmt.Errorf("the secret is not base32 of at least 80 bits")
	}
	return b, nil
}

// Step returns the time step of t.
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// Code returns the code of key for a time step.
func Code(key []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", Digits, v%1_000_000)
}

// Verify checks code against key at now, allowing Skew steps either way,
// and returns the step it matched. A step at or before last (the step of
// the last code used) is refused, so that a code cannot be used twice.
func Verify(key []byte, code string, now time.Time, last int64) (int64, bool) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != Digits {
		return 0, false
	}
	cur := Step(now)
	var found int64
	ok := 0
	for s := cur - Skew; s <= cur+Skew; s++ {
		if subtle.ConstantTimeCompare([]byte(Code(key, s)), []byte(code)) == 1 && s > last {
			found, ok = s, 1
		}
	}
	return found, ok == 1
}

// URI returns the otpauth:// URI that authenticator apps import (as text
// or from a QR code) for account at issuer.
func URI(issuer, account, secret string) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{"secret": {secret}, "issuer": {issuer}, "algorithm": {"SHA1"}, "digits": {fmt.Sprint(Digits)}, "period": {fmt.Sprint(int(Period / time.Second))}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// Group writes a secret in groups of four for reading off the screen.
func Group(secret string) string {
	var b strings.Builder
	for i, r := range secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
