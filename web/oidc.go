package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"ipdesk"
)

// SingleSignOn is an OpenID Connect provider (package directory): where to
// send the browser, and the identity its answer vouches for.
type SingleSignOn interface {
	// Label is the text of the sign-in page's button.
	Label() string
	AuthURL(ctx context.Context, state, nonce, verifier string) (string, error)
	Exchange(ctx context.Context, code, verifier, nonce string) (*ipdesk.DirectoryIdentity, error)
}

// oidcCookie carries a sign-in's state, nonce, PKCE verifier and the page
// to go to, from the start to the provider's answer. It is HttpOnly and
// lives ten minutes; the provider's redirect back is a top-level
// navigation, so SameSite=Lax sends it.
const (
	oidcCookie    = "ipdesk_oidc"
	oidcCookieAge = 600
)

// oidcStart sends the browser to the provider.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) error {
	if s.sso == nil {
		return ipdesk.Errorf(ipdesk.ENOTFOUND, "there is no page %s", r.URL.Path)
	}
	state, nonce, verifier := rand.Text(), rand.Text(), rand.Text()+rand.Text()
	next := localPath(r.URL.Query().Get("next"))
	target, err := s.sso.AuthURL(r.Context(), state, nonce, verifier)
	if err != nil {
		return s.ssoFailed(w, r, next, err)
	}
	value := strings.Join([]string{state, nonce, verifier, base64.RawURLEncoding.EncodeToString([]byte(next))}, ".")
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: value, Path: "/login/oidc", MaxAge: oidcCookieAge,
		HttpOnly: true, Secure: s.secureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// oidcCallback takes the provider's answer: the state must be the one
// this browser was sent with; the code is redeemed with the verifier and
// the ID token checked with the nonce; then the user's local record is
// kept and a session starts.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	if s.sso == nil {
		return ipdesk.Errorf(ipdesk.ENOTFOUND, "there is no page %s", r.URL.Path)
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/login/oidc", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	var parts []string
	if c, err := r.Cookie(oidcCookie); err == nil {
		parts = strings.Split(c.Value, ".")
	}
	if len(parts) != 4 || q.Get("state") == "" || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(q.Get("state"))) != 1 {
		return s.ssoFailed(w, r, "/", ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the sign-in's state does not match this browser's (started elsewhere, or more than ten minutes ago)"))
	}
	nb, _ := base64.RawURLEncoding.DecodeString(parts[3])
	next := localPath(string(nb))
	if e := q.Get("error"); e != "" {
		return s.ssoFailed(w, r, next, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the provider refused the sign-in: %s", clipValue(e)))
	}
	id, err := s.sso.Exchange(r.Context(), q.Get("code"), parts[2], parts[1])
	if err != nil {
		return s.ssoFailed(w, r, next, err)
	}
	u, err := s.syncDirectoryUser(r.Context(), id)
	if err != nil {
		return s.ssoFailed(w, r, next, err)
	}
	if _, err := s.startSession(w, r, u); err != nil {
		return err
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "signed in", slog.String("user", u.Name), slog.String("remote", clientIP(r)), slog.String("via", "oidc"))
	redirect(w, r, next)
	return nil
}

// ssoFailed shows the sign-in page with what went wrong: a refused
// sign-in (401) or a provider that did not answer (503). The details go
// to the log.
func (s *Server) ssoFailed(w http.ResponseWriter, r *http.Request, next string, err error) error {
	cat := s.catalog(r)
	d := loginData{page: s.base(w, r, cat.T("login.title"), "login"), Next: next, SSO: s.ssoLabel()}
	status := http.StatusUnauthorized
	d.Error = cat.T("login.sso_refused")
	if ipdesk.ErrorCode(err) == ipdesk.EINTERNAL || errors.Is(err, errDirectoryDown) {
		status = http.StatusServiceUnavailable
		d.Error = cat.T("login.directory_down")
	}
	s.log.LogAttrs(r.Context(), slog.LevelWarn, "single sign-on failed", slog.String("error", err.Error()), slog.String("remote", clientIP(r)))
	s.render(w, r, status, "login", d)
	return nil
}
