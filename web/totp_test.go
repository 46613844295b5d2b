package web

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipdesk/sqldb"
	"ipdesk/totp"
)

// secretPattern finds the secret a page offers to set up.
var secretPattern = regexp.MustCompile(`name="(?:totp_)?secret" value="([A-Z2-7]+)"`)

// newTOTPEnv is a server with policy whose clock the test moves.
func newTOTPEnv(t *testing.T, policy TOTPPolicy) (*testEnv, *time.Time) {
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	e := newEnvWith(t, filepath.Join(t.TempDir(), "t.db"), nil, func(_ *sqldb.DB, o *Options) {
		o.TOTP = policy
		o.Now = func() time.Time { return clock }
	})
	return e, &clock
}

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := totp.Decode(secret)
	if err != nil {
		t.Fatal(err)
	}
	return totp.Code(key, totp.Step(at))
}

func hasSession(r *response) bool {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return true
		}
	}
	return false
}

// TestTOTPSetUpAndSignIn: a user sets up two-factor sign-in on the
// settings page; from then on a sign-in needs a code, a wrong or used code
// is refused, the next code works; with a code it is turned off again.
func TestTOTPSetUpAndSignIn(t *testing.T) {
	e, clock := newTOTPEnv(t, TOTPPolicy{})
	c := e.login("admin", "password123")
	r := e.form("POST", "/settings/totp/start", c, nil)
	m := secretPattern.FindStringSubmatch(string(r.body))
	if r.code != 200 || m == nil || !strings.Contains(string(r.body), "otpauth://totp/ipdesk:admin?") {
		t.Fatalf("start: %d %s", r.code, r.body)
	}
	secret := m[1]
	if r := e.form("POST", "/settings/totp", c, url.Values{"secret": {secret}, "code": {"000000"}}); r.code != 400 || !strings.Contains(string(r.body), "totp-code-error") {
		t.Fatalf("wrong code: %d", r.code)
	}
	if s, _, _ := e.db.FindTOTP(context.Background(), 1); s != "" {
		t.Fatal("on after a wrong code")
	}
	if r := e.form("POST", "/settings/totp", c, url.Values{"secret": {secret}, "code": {codeAt(t, secret, *clock)}}); r.code != http.StatusSeeOther {
		t.Fatalf("enable: %d %s", r.code, r.body)
	}
	if r := e.page("/settings", c); !strings.Contains(string(r.body), "Two-factor sign-in is on") {
		t.Fatal("settings do not say it is on")
	}

	// Password alone: asked for a code, no session.
	login := func(code string) *response {
		v := url.Values{"name": {"admin"}, "password": {"password123"}}
		if code != "" {
			v.Set("code", code)
		}
		return e.form("POST", "/login", nil, v)
	}
	if r := login(""); r.code != 200 || !strings.Contains(string(r.body), `id="totp-needed"`) || hasSession(r) {
		t.Fatalf("password only: %d %v", r.code, hasSession(r))
	}
	// The code used to set it up is used.
	if r := login(codeAt(t, secret, *clock)); r.code != http.StatusUnauthorized || hasSession(r) {
		t.Fatalf("used code: %d", r.code)
	}
	*clock = clock.Add(totp.Period)
	code := codeAt(t, secret, *clock)
	if r := login("999999"); r.code != http.StatusUnauthorized || hasSession(r) {
		t.Fatalf("wrong code: %d", r.code)
	}
	if r := e.form("POST", "/login", nil, url.Values{"name": {"admin"}, "password": {"wrong password"}, "code": {code}}); r.code != http.StatusUnauthorized || hasSession(r) {
		t.Fatalf("wrong password, right code: %d", r.code)
	}
	if r := login(code); r.code != http.StatusSeeOther || !hasSession(r) {
		t.Fatalf("right code: %d %s", r.code, r.body)
	}
	if r := login(code); r.code != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d", r.code)
	}
	// Turned off with a fresh code.
	*clock = clock.Add(totp.Period)
	if r := e.form("POST", "/settings/totp/off", c, url.Values{"code": {"123456"}}); r.code != 400 {
		t.Fatalf("off with a wrong code: %d", r.code)
	}
	if r := e.form("POST", "/settings/totp/off", c, url.Values{"code": {codeAt(t, secret, *clock)}}); r.code != http.StatusSeeOther {
		t.Fatalf("off: %d %s", r.code, r.body)
	}
	if r := login(""); r.code != http.StatusSeeOther {
		t.Fatalf("after off, the password suffices: %d", r.code)
	}
}

// TestTOTPRequired: with the policy requiring it of administrators, an
// administrator without it sets it up while signing in, and may not turn
// it off; other users sign in with their password.
func TestTOTPRequired(t *testing.T) {
	e, clock := newTOTPEnv(t, TOTPPolicy{Admins: true})
	r := e.form("POST", "/login", nil, url.Values{"name": {"admin"}, "password": {"password123"}})
	m := secretPattern.FindStringSubmatch(string(r.body))
	if r.code != 200 || m == nil || hasSession(r) {
		t.Fatalf("admin without a second factor: %d %s", r.code, r.body)
	}
	secret := m[1]
	enrol := url.Values{"name": {"admin"}, "password": {"password123"}, "totp_secret": {secret}, "code": {"000000"}}
	if r := e.form("POST", "/login", nil, enrol); r.code != http.StatusUnauthorized || hasSession(r) || !strings.Contains(string(r.body), secret) {
		t.Fatalf("wrong code at set-up: %d", r.code)
	}
	enrol.Set("code", codeAt(t, secret, *clock))
	r = e.form("POST", "/login", nil, enrol)
	if r.code != http.StatusSeeOther || !hasSession(r) {
		t.Fatalf("set-up at sign-in: %d %s", r.code, r.body)
	}
	if s, _, _ := e.db.FindTOTP(context.Background(), 1); s != secret {
		t.Fatalf("stored secret %q", s)
	}
	c := (&http.Response{Header: r.header}).Cookies()[0]
	*clock = clock.Add(totp.Period)
	if r := e.form("POST", "/settings/totp/off", c, url.Values{"code": {codeAt(t, secret, *clock)}}); r.code != 400 || !strings.Contains(string(r.body), "required") {
		t.Fatalf("required, turned off: %d", r.code)
	}
	// A secret set up, a new one offered at sign-in does not replace it.
	other := totp.NewSecret()
	*clock = clock.Add(totp.Period)
	if r := e.form("POST", "/login", nil, url.Values{"name": {"admin"}, "password": {"password123"}, "totp_secret": {other}, "code": {codeAt(t, other, *clock)}}); r.code != http.StatusUnauthorized {
		t.Fatalf("another secret at sign-in: %d", r.code)
	}
	e.login("reader", "password123")
}

// TestTOTPRequiredByGroup: the policy can name groups.
func TestTOTPRequiredByGroup(t *testing.T) {
	e, _ := newTOTPEnv(t, TOTPPolicy{Groups: []string{"readers"}})
	if r := e.form("POST", "/login", nil, url.Values{"name": {"reader"}, "password": {"password123"}}); r.code != 200 || secretPattern.Find(r.body) == nil {
		t.Fatalf("reader in a required group: %d", r.code)
	}
	e.login("admin", "password123")
}
