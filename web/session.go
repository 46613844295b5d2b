package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"ipdesk"
)

// sessionCookie is the name of the cookie that holds a browser's session
// secret.
const sessionCookie = "ipdesk_session"

// Default session timeouts.
const (
	DefaultSessionIdle     = 2 * time.Hour
	DefaultSessionAbsolute = 12 * time.Hour
)

// startSession signs u in: a new session (a new secret, so a secret known
// before the sign-in is worthless after it) in an HttpOnly, SameSite
// cookie, Secure when the request came over TLS or the server is told it
// sits behind TLS.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *ipdesk.User) (*ipdesk.Session, error) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.store.DeleteSession(r.Context(), c.Value); err != nil {
			return nil, err
		}
	}
	sess := &ipdesk.Session{UserID: u.ID, Remote: clientIP(r), UserAgent: r.UserAgent()}
	secret, err := s.store.CreateSession(r.Context(), sess, s.sessionLimits)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    secret,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.secureCookies || r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
		MaxAge:   int(s.sessionLimits.Absolute / time.Second),
	})
	return sess, nil
}

// endSession signs the browser out: its session is removed and its cookie
// cleared.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		// The session's open streams end with it.
		if sess, _, err := s.store.FindSession(r.Context(), c.Value, s.sessionLimits); err == nil {
			defer s.endStreams(sessionStream(sess.ID), "")
		}
		if err := s.store.DeleteSession(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// clientIP returns the address of the client the connection comes from.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Login throttling: after loginFreeFailures failed sign-ins of one account,
// or from one client address, each further attempt must wait, twice as
// long after each failure, up to loginMaxDelay. A success clears the
// account's count; counts are forgotten loginForget after the last
// failure. No account is ever locked for good.
const (
	loginFreeFailures = 5
	loginFirstDelay   = time.Second
	loginMaxDelay     = 5 * time.Minute
	loginForget       = time.Hour
	loginMaxKeys      = 100000
)

// loginThrottle counts failed sign-ins per account and per client
// address.
type loginThrottle struct {
	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	n    int
	last time.Time
}

// delay returns how long the failures ask to wait from the last one.
func (f *failures) delay() time.Duration {
	if f.n < loginFreeFailures {
		return 0
	}
	d := loginFirstDelay << min(f.n-loginFreeFailures, 20)
	return min(d, loginMaxDelay)
}

func throttleKeys(name, ip string) []string {
	return []string{"user:" + strings.ToLower(name), "ip:" + ip}
}

// wait returns how long a sign-in of name from ip must still wait; 0 lets
// it go ahead.
func (t *loginThrottle) wait(now time.Time, name, ip string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var longest time.Duration
	for _, k := range throttleKeys(name, ip) {
		f := t.keys[k]
		if f == nil {
			continue
		}
		if now.Sub(f.last) > loginForget {
			delete(t.keys, k)
			continue
		}
		if w := f.last.Add(f.delay()).Sub(now); w > longest {
			longest = w
		}
	}
	return longest
}

// failed records a failed sign-in.
func (t *loginThrottle) failed(now time.Time, name, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		t.keys = map[string]*failures{}
	}
	if len(t.keys) >= loginMaxKeys {
		for k, f := range t.keys {
			if now.Sub(f.last) > loginForget {
				delete(t.keys, k)
			}
		}
	}
	for _, k := range throttleKeys(name, ip) {
		f := t.keys[k]
		if f == nil {
			if len(t.keys) >= loginMaxKeys {
				continue
			}
			f = &failures{}
			t.keys[k] = f
		}
		f.n++
		f.last = now
	}
}

// succeeded clears the account's failures.
func (t *loginThrottle) succeeded(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, "user:"+strings.ToLower(name))
}

// signIn checks a name and password, throttled, and starts a session. The
// error is ETOOMANY while the throttle asks to wait, EUNAUTHORIZED for a
// wrong name or password (the same answer for both).
func (s *Server) signIn(ctx context.Context, w http.ResponseWriter, r *http.Request, name, password string) (*ipdesk.User, error) {
	ip := clientIP(r)
	if wait := s.throttle.wait(s.now(), name, ip); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		return nil, ipdesk.Errorf(ipdesk.ETOOMANY, "too many failed sign-ins; try again in %d seconds", secs)
	}
	u, err := s.store.Authenticate(ctx, name, password)
	if err != nil {
		if ipdesk.ErrorCode(err) == ipdesk.EUNAUTHORIZED {
			s.throttle.failed(s.now(), name, ip)
			s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in failed", slog.String("user", name), slog.String("remote", ip))
		}
		return nil, err
	}
	s.throttle.succeeded(name)
	if _, err := s.startSession(w, r, u); err != nil {
		return nil, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "signed in", slog.String("user", u.Name), slog.String("remote", ip))
	return u, nil
}
