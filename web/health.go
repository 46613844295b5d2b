package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// pinger is implemented by stores that can check their database cheaply.
type pinger interface {
	Ping(ctx context.Context) error
}

// healthTimeout bounds the database check of /healthz.
const healthTimeout = 2 * time.Second

// health answers 200 "ok" when the database answers and 503 otherwise. It
// needs no credentials, so load balancers and monitoring can call it.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	var err error
	if p, ok := s.store.(pinger); ok {
		err = p.Ping(ctx)
	} else {
		_, err = s.store.CountUsers(ctx)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "health check failed", slog.String("error", err.Error()))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unavailable\n"))
		return nil
	}
	w.Write([]byte("ok\n"))
	return nil
}
