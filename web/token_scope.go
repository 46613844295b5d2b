package web

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"ipdesk"
)

// callAPIPath is the call API that tokens of scope pbx may use.
const callAPIPath = "/api/v1/calls"

// checkTokenScope refuses a request that the API token it came with may
// not make: a read token anything but GET and HEAD, a pbx token anything
// outside the call API. Sessions and full tokens pass; an expired token
// is refused even if a cache still knows it.
func (s *Server) checkTokenScope(u *ipdesk.User, r *http.Request) error {
	t := u.Token
	if t == nil {
		return nil
	}
	if t.Expired(s.now()) {
		return ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the bearer token is not valid")
	}
	switch t.Scope {
	case ipdesk.ScopeRead:
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return nil
		}
		return ipdesk.Errorf(ipdesk.EFORBIDDEN, "this API token is read-only (scope read): it may not %s %s", r.Method, r.URL.Path)
	case ipdesk.ScopePBX:
		if r.URL.Path == callAPIPath || strings.HasPrefix(r.URL.Path, callAPIPath+"/") {
			return nil
		}
		return ipdesk.Errorf(ipdesk.EFORBIDDEN, "this API token may only report calls and use %s (scope pbx), not %s", callAPIPath, r.URL.Path)
	}
	return nil
}

// checkReport is intake.check, where a refused PBX token may also be an
// API token of scope pbx of an administrator: PBXs can then be given
// tokens that expire and are revoked without editing the config file.
// Intake must be on and the source allowed all the same.
func (s *Server) checkReport(ctx context.Context, src netip.Addr, token string) error {
	err := s.intake.check(src, token)
	in := s.intake
	if err == nil || token == "" || len(token) > maxTokenLen || in.report == nil || len(in.tokens) == 0 ||
		(len(in.sources) > 0 && !inPrefixes(in.sources, src)) {
		return err
	}
	u, ferr := s.store.FindUserByToken(ctx, token)
	if ferr != nil || u.Token == nil || u.Token.Scope != ipdesk.ScopePBX || u.Token.Expired(s.now()) || !u.Admin || u.Disabled {
		return err
	}
	return nil
}
