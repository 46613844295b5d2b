package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipdesk/i18n"
	"ipdesk/sqldb"
)

// uiKeyPattern finds the literal catalogue keys templates ask for.
var uiKeyPattern = regexp.MustCompile(`\{\{-?\s*(?:t|tn)\s+"([^"]+)"`)

// TestTemplateKeys: every text a template asks for by a literal key is in
// the catalogues (which agree with each other, see package i18n).
func TestTemplateKeys(t *testing.T) {
	en := i18n.For("en")
	err := fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFiles, p)
		if err != nil {
			return err
		}
		for _, m := range uiKeyPattern.FindAllStringSubmatch(string(b), -1) {
			key := m[1]
			if strings.HasPrefix(m[0], "{{tn") || strings.HasPrefix(strings.TrimLeft(m[0], "{- "), "tn") {
				key += ".many"
			}
			if !en.Has(key) {
				t.Errorf("%s asks for the text %q, which the catalogue lacks", p, key)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// login signs in through the form and returns the session cookie.
func (e *testEnv) login(name, password string) *http.Cookie {
	e.t.Helper()
	r := e.form("POST", "/login", nil, url.Values{"name": {name}, "password": {password}, "next": {"/hosts"}})
	if r.code != http.StatusSeeOther {
		e.t.Fatalf("sign-in as %s: %d %s", name, r.code, r.body)
	}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return c
		}
	}
	e.t.Fatalf("sign-in as %s set no session cookie", name)
	return nil
}

// form sends a form as a browser of the same origin would.
func (e *testEnv) form(method, target string, cookie *http.Cookie, v url.Values, headers ...string) *response {
	e.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// page fetches a page with a session cookie.
func (e *testEnv) page(target string, cookie *http.Cookie, headers ...string) *response {
	e.t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func TestSessions(t *testing.T) {
	e := newEnv(t)

	// Without a session every page leads to the sign-in page and back.
	r := e.page("/?q=x", nil)
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/login?next="+url.QueryEscape("/?q=x") {
		t.Fatalf("GET /?q=x without a session: %d, Location %q", r.code, r.header.Get("Location"))
	}
	if r := e.page("/login", nil); r.code != http.StatusOK || !strings.Contains(string(r.body), `name="password"`) {
		t.Fatalf("sign-in page: %d", r.code)
	}

	// A wrong password: the same answer as an unknown user, no cookie.
	for _, name := range []string{"admin", "nobody"} {
		r := e.form("POST", "/login", nil, url.Values{"name": {name}, "password": {"wrong password"}})
		if r.code != http.StatusUnauthorized || !strings.Contains(string(r.body), "Wrong user name or password") || r.header.Get("Set-Cookie") != "" {
			t.Fatalf("wrong password for %s: %d %q", name, r.code, r.header.Get("Set-Cookie"))
		}
	}

	c := e.login("admin", "password123")
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/", c)
	}
	if r := e.page("/", c); r.code != http.StatusOK || !strings.Contains(string(r.body), "Dashboard") {
		t.Fatalf("dashboard with a session: %d", r.code)
	}
	// The API takes the session too.
	if r := e.page("/api/v1/me", c); r.code != http.StatusOK || !strings.Contains(string(r.body), `"name":"admin"`) {
		t.Fatalf("/api/v1/me with a session: %d %s", r.code, r.body)
	}

	// Signing in again gives a new session; the old one ends.
	req := url.Values{"name": {"admin"}, "password": {"password123"}}
	r = e.form("POST", "/login", c, req)
	var c2 *http.Cookie
	for _, k := range (&http.Response{Header: r.header}).Cookies() {
		if k.Name == sessionCookie {
			c2 = k
		}
	}
	if c2 == nil || c2.Value == c.Value {
		t.Fatalf("a second sign-in kept the session id")
	}
	if r := e.page("/", c); r.code != http.StatusSeeOther {
		t.Fatalf("the session before the sign-in still works: %d", r.code)
	}

	// A redirect target elsewhere is refused.
	r = e.form("POST", "/login", nil, url.Values{"name": {"admin"}, "password": {"password123"}, "next": {"//evil.example/"}})
	if loc := r.header.Get("Location"); loc != "/" {
		t.Fatalf("next=//evil.example/ redirected to %q", loc)
	}

	// Cross-site changes with the session are refused.
	r = e.form("POST", "/logout", c2, nil, "Sec-Fetch-Site", "cross-site")
	if r.code != http.StatusForbidden {
		t.Fatalf("cross-site sign-out: %d", r.code)
	}
	req2 := httptest.NewRequest("POST", "/api/v1/spaces", strings.NewReader(`{"name":"x"}`))
	req2.Header.Set("Content-Type", "application/json")
	req2.Header.Set("Origin", "http://evil.example")
	req2.AddCookie(c2)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req2)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("cross-origin API change with a session cookie: %d", rec.Code)
	}

	// Signing out ends the session.
	if r := e.form("POST", "/logout", c2, nil); r.code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.code)
	}
	if r := e.page("/", c2); r.code != http.StatusSeeOther {
		t.Fatalf("the session works after signing out: %d", r.code)
	}

	// Every page carries the security headers.
	r = e.page("/login", nil)
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("Content-Security-Policy %q", csp)
	}
}

// TestLoginThrottle: failures slow further attempts of the account and of
// the client address down, and the wait passes; nothing is locked for
// good.
func TestLoginThrottle(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	e := newEnv(t)
	e.srv.now = func() time.Time { return now }
	bad := url.Values{"name": {"admin"}, "password": {"wrong password"}}
	for i := 0; i < loginFreeFailures; i++ {
		if r := e.form("POST", "/login", nil, bad); r.code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, r.code)
		}
	}
	// Now even the right password must wait.
	good := url.Values{"name": {"admin"}, "password": {"password123"}}
	if r := e.form("POST", "/login", nil, good); r.code != http.StatusTooManyRequests || !strings.Contains(string(r.body), "Too many failed sign-ins") {
		t.Fatalf("right password during the wait: %d", r.code)
	}
	now = now.Add(2 * time.Second)
	if r := e.form("POST", "/login", nil, good); r.code != http.StatusSeeOther {
		t.Fatalf("right password after the wait: %d %s", r.code, r.body)
	}
	// Another account from the same address still waits after more
	// failures from it; the account's own count was cleared.
	var th loginThrottle
	for i := 0; i < 8; i++ {
		th.failed(now, "anna", "192.0.2.1")
	}
	if w := th.wait(now, "bert", "192.0.2.1"); w < 8*time.Second {
		t.Fatalf("the address's wait is %v", w)
	}
	if w := th.wait(now, "anna", "192.0.2.9"); w < 8*time.Second {
		t.Fatalf("the account's wait from another address is %v", w)
	}
	if w := th.wait(now.Add(loginMaxDelay+time.Second), "anna", "192.0.2.1"); w != 0 {
		t.Fatalf("still waiting after the longest delay: %v", w)
	}
}

// TestErrorPages: unknown pages and forbidden ones answer in HTML.
func TestErrorPages(t *testing.T) {
	e := newEnv(t)
	c := e.login("reader", "password123")
	r := e.page("/no/such/page", c)
	if r.code != http.StatusNotFound || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("unknown page: %d %s", r.code, r.header.Get("Content-Type"))
	}
	r = e.page("/api/v1/no/such", c)
	if r.code != http.StatusNotFound || !strings.Contains(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("unknown API path: %d %s", r.code, r.header.Get("Content-Type"))
	}
}

// TestPagesCarryTheZone: scripts format times in the server's zone, which
// every page names.
func TestPagesCarryTheZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, filepath.Join(t.TempDir(), "t.db"), nil, func(_ *sqldb.DB, o *Options) { o.Location = berlin })
	if r := e.page("/login", nil); !strings.Contains(string(r.body), `data-tz="Europe/Berlin"`) {
		t.Fatalf("the sign-in page does not name the zone")
	}
	e = newEnv(t) // the machine's zone, without a name
	if r := e.page("/login", nil); strings.Contains(string(r.body), `data-tz=`) {
		t.Fatalf("a page names a zone although the server has none configured")
	}
}
