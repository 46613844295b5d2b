package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// pinger is implemented by stores that can check their database cheaply.
type pinger interface {
	Ping(ctx context.Context) error
}

// readier is implemented by stores that can also tell whether their
// schema is up to date.
type readier interface {
	Ready(ctx context.Context) error
}

// healthTimeout bounds the database check of /readyz.
const healthTimeout = 2 * time.Second

// health is the liveness check: it answers 200 "ok" as long as the process
// serves HTTP, whatever the database does, so that a supervisor restarts
// ipdesk only when restarting helps.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
	return nil
}

// ready is the readiness check: 200 "ok" when the database answers and its
// schema is up to date, 503 otherwise. It needs no credentials, so load
// balancers and monitoring can call it.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	var err error
	switch st := s.store.(type) {
	case readier:
		err = st.Ready(ctx)
	case pinger:
		err = st.Ping(ctx)
	default:
		_, err = s.store.CountUsers(ctx)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "readiness check failed", slog.String("error", err.Error()))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unavailable or not migrated\n"))
		return nil
	}
	w.Write([]byte("ok\n"))
	return nil
}

// serveMetrics answers GET /metrics: to clients on the loopback interface
// when no metrics token is configured, else to any client that sends the
// token as a bearer token. The peer address is the connection's, never a
// forwarded header.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if !s.metricsAllowed(r) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.metricsToken != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ipdesk metrics"`)
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte("metrics need the header \"Authorization: Bearer <metrics token>\"\n"))
			return
		}
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte("metrics are served to loopback clients only; configure metrics.token for remote scrapers\n"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.metrics.Handler().ServeHTTP(w, r)
}

// metricsAllowed tells whether r may read the metrics.
func (s *Server) metricsAllowed(r *http.Request) bool {
	if s.metricsToken != nil {
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || len(tok) > maxTokenLen {
			return false
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		return subtle.ConstantTimeCompare(sum[:], s.metricsToken) == 1
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
