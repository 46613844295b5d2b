package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/directory"
	"ipdesk/directory/oidctest"
	"ipdesk/sqldb"
)

// oidcEnv is a server with single sign-on through a test provider,
// listening on loopback.
type oidcEnv struct {
	*testEnv
	base string
	idp  *oidctest.Provider
}

func newOIDCEnv(t *testing.T) *oidcEnv {
	t.Helper()
	idp := oidctest.Start(t)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	sso, err := directory.NewOIDC(directory.OIDCConfig{
		Issuer: idp.URL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		RedirectURL: base + "/login/oidc/callback", Label: "School SSO",
		Groups: map[string][]string{"teachers": {"teachers"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, filepath.Join(t.TempDir(), "t.db"), nil, func(_ *sqldb.DB, o *Options) { o.SSO = sso })
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "admin", Admin: true})
	if err := e.db.CreateGroup(ctx, &ipdesk.Group{Name: "teachers", Helpdesk: true}); err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = e.h
	ts.Start()
	t.Cleanup(ts.Close)
	return &oidcEnv{testEnv: e, base: base, idp: idp}
}

// browser is a client with a cookie jar that follows redirects.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestOIDCSignIn: the button on the sign-in page leads through the
// provider back to the page asked for, signed in as a directory user in
// the mapped group; a second sign-in keeps the same record.
func TestOIDCSignIn(t *testing.T) {
	e := newOIDCEnv(t)
	c := browser(t)
	if _, body := get(t, c, e.base+"/login?next=/hosts"); !strings.Contains(body, `href="/login/oidc?next=%2fhosts"`) || !strings.Contains(body, "Sign in with School SSO") {
		t.Fatalf("no single sign-on button: %s", body)
	}
	e.idp.SignIn(&oidctest.User{Subject: "s-1", Name: "tina", FullName: "Tina Teacher", Groups: []string{"teachers", "pupils"}})
	resp, body := get(t, c, e.base+"/login/oidc?next=/hosts")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/hosts" {
		t.Fatalf("after sign-on: %d %s %.300s", resp.StatusCode, resp.Request.URL, body)
	}
	ctx := context.Background()
	u, err := e.db.FindUserByName(ctx, "tina")
	if err != nil {
		t.Fatal(err)
	}
	if u.Directory != ipdesk.DirectoryOIDC || u.FullName != "Tina Teacher" {
		t.Fatalf("tina: %+v", u)
	}
	gs, _ := e.db.FindUserGroups(ctx, u.ID)
	if len(gs) != 1 || gs[0].Name != "teachers" {
		t.Fatalf("tina's groups: %v", gs)
	}
	// Out of the group at the provider: out of it here at the next
	// sign-in.
	e.idp.SignIn(&oidctest.User{Subject: "s-1", Name: "tina", FullName: "Tina Teacher"})
	if resp, _ := get(t, browser(t), e.base+"/login/oidc"); resp.Request.URL.Path != "/" || resp.StatusCode != 200 {
		t.Fatalf("second sign-on: %d %s", resp.StatusCode, resp.Request.URL)
	}
	if gs, _ := e.db.FindUserGroups(ctx, u.ID); len(gs) != 0 {
		t.Fatalf("tina's groups after leaving: %v", gs)
	}
}

// TestOIDCRefused: every broken or forged answer ends on the sign-in page
// with a refusal and no session.
func TestOIDCRefused(t *testing.T) {
	e := newOIDCEnv(t)
	noSession := func(t *testing.T, c *http.Client) {
		t.Helper()
		for _, ck := range c.Jar.Cookies(mustURL(t, e.base)) {
			if ck.Name == sessionCookie {
				t.Fatal("a session was started")
			}
		}
	}
	e.idp.SignIn(&oidctest.User{Subject: "s-2", Name: "mallory", Groups: []string{"teachers"}})
	for _, tc := range []struct {
		name string
		set  func(p *oidctest.Provider)
	}{
		{"bad nonce", func(p *oidctest.Provider) { p.BadNonce = true }},
		{"expired", func(p *oidctest.Provider) { p.Expired = true }},
		{"wrong key", func(p *oidctest.Provider) { p.WrongKey = true }},
		{"denied", func(p *oidctest.Provider) { p.SignIn(nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.idp.BadNonce, e.idp.Expired, e.idp.WrongKey = false, false, false
			e.idp.SignIn(&oidctest.User{Subject: "s-2", Name: "mallory", Groups: []string{"teachers"}})
			tc.set(e.idp)
			c := browser(t)
			resp, body := get(t, c, e.base+"/login/oidc")
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "single sign-on did not succeed") {
				t.Fatalf("%d %.300s", resp.StatusCode, body)
			}
			noSession(t, c)
		})
	}
	e.idp.BadNonce, e.idp.Expired, e.idp.WrongKey = false, false, false
	if _, err := e.db.FindUserByName(context.Background(), "mallory"); ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
		t.Fatalf("a refused user got a record: %v", err)
	}

	// The provider's answer only counts in the browser that started the
	// sign-in (state), and only once (the code).
	e.idp.SignIn(&oidctest.User{Subject: "s-3", Name: "olga"})
	c := browser(t)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/login/oidc/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, _ := get(t, c, e.base+"/login/oidc")
	callback := resp.Header.Get("Location")
	if !strings.Contains(callback, "/login/oidc/callback?") {
		t.Fatalf("no callback: %s", callback)
	}
	other := browser(t)
	if resp, _ := get(t, other, callback); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("callback in another browser: %d", resp.StatusCode)
	}
	noSession(t, other)
	forged := strings.Replace(callback, "state=", "state=x", 1)
	if resp, _ := get(t, c, forged); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged state: %d", resp.StatusCode)
	}
	noSession(t, c)

	// A provider user with a local account's name is refused.
	e.idp.SignIn(&oidctest.User{Subject: "s-4", Name: "admin"})
	if resp, _ := get(t, browser(t), e.base+"/login/oidc"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("local name: %d", resp.StatusCode)
	}
	if u, _ := e.db.FindUserByName(context.Background(), "admin"); u.Directory != "" {
		t.Fatal("the local admin was taken over")
	}
}

// TestOIDCOff: without a provider the routes do not exist and the
// sign-in page has no button.
func TestOIDCOff(t *testing.T) {
	e := newEnv(t)
	if r := e.page("/login/oidc", nil); r.code != http.StatusNotFound {
		t.Fatalf("%d", r.code)
	}
	if r := e.page("/login", nil); strings.Contains(string(r.body), "/login/oidc") {
		t.Fatal("button without a provider")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
