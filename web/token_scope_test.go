package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ipdesk"
)

// newToken makes an API token through the API with the caller's token and
// returns its secret.
func (e *testEnv) newToken(caller string, body map[string]any) string {
	e.t.Helper()
	var res struct {
		Secret string            `json:"secret"`
		Scope  ipdesk.TokenScope `json:"scope"`
	}
	e.must(http.StatusCreated, "POST", "/api/v1/me/tokens", caller, body, &res)
	if want, _ := body["scope"].(string); want != "" && string(res.Scope) != want {
		e.t.Fatalf("token scope %q, want %q", res.Scope, want)
	}
	return res.Secret
}

// TestTokenScopes: a read token only reads, a pbx token only uses the
// call API; neither can make a wider token.
func TestTokenScopes(t *testing.T) {
	e := newCallEnv(t, "", nil)
	read := e.newToken(e.admin, map[string]any{"description": "monitoring", "scope": "read"})
	pbx := e.newToken(e.admin, map[string]any{"description": "pbx", "scope": "pbx"})
	full := e.newToken(e.admin, map[string]any{"description": "script"})

	e.must(200, "GET", "/api/v1/spaces", read, nil, nil)
	e.must(200, "GET", "/api/v1/me", read, nil, nil)
	r := e.must(403, "POST", "/api/v1/spaces", read, map[string]any{"name": "x"}, nil)
	if msg := r.apiError(t).Message; !strings.Contains(msg, "read-only") {
		t.Errorf("read token POST: %q", msg)
	}
	e.must(403, "POST", "/api/v1/me/tokens", read, map[string]any{"scope": "full"}, nil)
	e.must(403, "DELETE", "/api/v1/me/tokens/1", read, nil, nil)

	e.must(200, "GET", "/api/v1/calls", pbx, nil, nil)
	for _, p := range []string{"/api/v1/spaces", "/api/v1/me", "/api/v1/events"} {
		if r := e.do("GET", p, pbx, nil); r.code != http.StatusForbidden {
			t.Errorf("pbx token GET %s: %d", p, r.code)
		}
	}
	e.must(403, "POST", "/api/v1/me/tokens", pbx, map[string]any{"scope": "full"}, nil)

	e.must(201, "POST", "/api/v1/spaces", full, map[string]any{"name": "campus"}, nil)

	// The list shows scope and expiry.
	var list struct{ Results []ipdesk.Token }
	e.must(200, "GET", "/api/v1/me/tokens", e.admin, nil, &list)
	scopes := map[string]ipdesk.TokenScope{}
	for _, tk := range list.Results {
		scopes[tk.Description] = tk.Scope
	}
	if scopes["monitoring"] != ipdesk.ScopeRead || scopes["pbx"] != ipdesk.ScopePBX || scopes["script"] != ipdesk.ScopeFull || scopes["test"] != ipdesk.ScopeFull {
		t.Errorf("scopes %v", scopes)
	}

	// Bad input names the field and changes nothing.
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"scope": "admin"}, "scope"},
		{map[string]any{"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"},
		{map[string]any{"expires_at": "tomorrow"}, ""},
	} {
		r := e.do("POST", "/api/v1/me/tokens", e.admin, tc.body)
		if r.code != http.StatusBadRequest || (tc.field != "" && r.apiError(t).Field != tc.field) {
			t.Errorf("%v: %d %s", tc.body, r.code, r.body)
		}
	}
	e.must(200, "GET", "/api/v1/me/tokens", e.admin, nil, &list)
	if len(list.Results) != 4 {
		t.Errorf("%d tokens after bad requests, want 4", len(list.Results))
	}
}

// TestTokenExpiry: a token works until its expiry and not after.
func TestTokenExpiry(t *testing.T) {
	e := newEnv(t)
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	tok := e.newToken(e.admin, map[string]any{"description": "temp", "expires_at": at.Format(time.RFC3339)})
	e.must(200, "GET", "/api/v1/spaces", tok, nil, nil)
	var list struct{ Results []ipdesk.Token }
	e.must(200, "GET", "/api/v1/me/tokens", e.admin, nil, &list)
	if got := list.Results[0].ExpiresAt; got == nil || !got.Equal(at) {
		t.Fatalf("expires_at %v, want %v", got, at)
	}
	later := func() time.Time { return at.Add(time.Second) }
	e.db.Now, e.srv.now = later, later
	if r := e.do("GET", "/api/v1/spaces", tok, nil); r.code != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", r.code)
	}
	// Even a user known from before (a cache) is refused by the server's
	// clock.
	u, _ := e.db.FindUserByName(context.Background(), "admin")
	u.Token = &ipdesk.Token{Scope: ipdesk.ScopeFull, ExpiresAt: &at}
	e.srv.now = func() time.Time { return at }
	req, _ := http.NewRequest("GET", "/api/v1/spaces", nil)
	if err := e.srv.checkTokenScope(u, req); ipdesk.ErrorCode(err) != ipdesk.EUNAUTHORIZED {
		t.Fatalf("expired token by the server's clock: %v", err)
	}
}

// TestPBXScopedTokenReports: an administrator's pbx token reports calls
// as a PBX token does; a full token, or a pbx token of a non-admin, does
// not.
func TestPBXScopedTokenReports(t *testing.T) {
	e := newCallEnv(t, "", nil)
	adminPBX := e.newToken(e.admin, map[string]any{"scope": "pbx"})
	readerPBX := e.newToken(e.user, map[string]any{"scope": "pbx"})
	full := e.newToken(e.admin, map[string]any{})
	for _, tc := range []struct {
		token string
		want  int
	}{{adminPBX, 200}, {readerPBX, 403}, {full, 403}, {"", 403}, {pbxToken, 200}} {
		if r := e.do("GET", "/set_call/4711?token="+url.QueryEscape(tc.token), "", nil); r.code != tc.want {
			t.Errorf("set_call with %.8q: %d %s, want %d", tc.token, r.code, r.body, tc.want)
		}
		if r := e.do("POST", "/api/v1/calls", "", map[string]any{"from": "4711", "event": "ring"}, "X-PBX-Token", tc.token); (r.code < 300) != (tc.want == 200) {
			t.Errorf("POST calls with %.8q: %d %s", tc.token, r.code, r.body)
		}
	}
}

// TestSettingsTokenForm: the settings page makes a read-only token with a
// last day and lists scope and expiry; a bad date names the field.
func TestSettingsTokenForm(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin", "password123")
	day := time.Now().AddDate(0, 0, 30).Format(time.DateOnly)
	r := e.form("POST", "/settings/tokens", c, url.Values{"description": {"grafana"}, "scope": {"read"}, "expires": {day}})
	if r.code != 200 || !strings.Contains(string(r.body), "read-only") {
		t.Fatalf("%d %s", r.code, r.body)
	}
	toks, _ := e.db.FindTokens(context.Background(), 1)
	if toks[0].Description != "grafana" || toks[0].Scope != ipdesk.ScopeRead || toks[0].ExpiresAt == nil ||
		toks[0].ExpiresAt.In(time.Local).Format(time.DateOnly) != time.Now().AddDate(0, 0, 31).Format(time.DateOnly) {
		t.Fatalf("token %+v", toks[0])
	}
	for _, bad := range []url.Values{{"expires": {"31.12.2030"}}, {"expires": {"2001-01-01"}}, {"scope": {"root"}}} {
		r := e.form("POST", "/settings/tokens", c, bad)
		if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "field-error") {
			t.Errorf("%v: %d", bad, r.code)
		}
	}
	if toks2, _ := e.db.FindTokens(context.Background(), 1); len(toks2) != len(toks) {
		t.Errorf("bad forms made tokens")
	}
}
