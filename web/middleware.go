package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"ipdesk"
)

// logInfoKey keys the per-request record the access log reads after the
// request: the authentication step fills in the user.
type logInfoKey struct{}

type logInfo struct {
	user  string
	route string // the mux pattern that served the request, for the metrics
}

// setLogRoute records the route pattern that serves the request.
func setLogRoute(ctx context.Context, pattern string) {
	if li, ok := ctx.Value(logInfoKey{}).(*logInfo); ok {
		li.route = pattern
	}
}

// setLogUser records the authenticated user's name for the access log.
func setLogUser(ctx context.Context, name string) {
	if li, ok := ctx.Value(logInfoKey{}).(*logInfo); ok {
		li.user = name
	}
}

// statusRecorder remembers the status and size of a response. It passes
// Flush through and unwraps for http.ResponseController, so that streaming
// responses keep working behind it.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusRecorder) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog writes one structured record per request: method, path (never
// the query string, which could carry secrets), status, size, duration and
// user. The Authorization header is never logged. Values are attributes of
// the record, so no input can forge a line of the log.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		li := &logInfo{}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), logInfoKey{}, li)))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		d := s.now().Sub(start)
		route := li.route
		if route == "" {
			route = "unmatched"
		}
		s.metrics.ObserveRequest(route, rec.status, d)
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		if !s.log.Enabled(r.Context(), level) {
			return
		}
		s.log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", d),
			slog.String("user", li.user),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// recoverPanics turns a panic in a handler into a logged 500 answer instead
// of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic in handler",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())),
			)
			s.writeError(w, r, fmt.Errorf("panic: %v", v))
		}()
		next.ServeHTTP(w, r)
	})
}

// dispatch hands the request to the mux when a route matches and otherwise
// answers 404 or 405 in the API's JSON error format. The mux decides which
// of the two, and which methods the Allow header lists.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if isSetCall(r) {
		setLogRoute(r.Context(), "GET /set_call")
		s.setCall(w, r) // before the mux, which would clean the number as a path
		return
	}
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		setLogRoute(r.Context(), pattern)
		s.mux.ServeHTTP(w, r)
		return
	}
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if !strings.HasPrefix(r.URL.Path, "/api/") && probe.status != http.StatusMethodNotAllowed {
		s.renderError(w, r, ipdesk.Errorf(ipdesk.ENOTFOUND, "there is no page %s", r.URL.Path))
		return
	}
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.writeError(w, r, ipdesk.Errorf(eMethodNotAllowed, "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, probe.header.Get("Allow")))
		return
	}
	s.writeError(w, r, ipdesk.Errorf(ipdesk.ENOTFOUND, "no such resource: %s", r.URL.Path))
}

// headerProbe is a ResponseWriter that keeps only the status and headers.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }

func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}

func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
