// Package web is ipdesk's HTTP side: the server, its middleware, the JSON
// API under /api/v1/ and (later) the HTML pages. Handlers talk to the
// storage only through ipdesk.Store.
//
// The API is described by one route table (routes.go): the mux is
// registered from it, requests are checked against it (query parameters,
// body members, rights) and the OpenAPI document is built from it, so the
// three cannot drift apart.
package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"ipdesk"
	"ipdesk/leases"
	"ipdesk/live"
	"ipdesk/metrics"
	"ipdesk/schedule"
)

// Default limits of the HTTP server. A slow or stalled client cannot hold a
// connection longer than these.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxBodyBytes      = 1 << 20
)

// requestTimeout bounds the work of one API request, so that a stuck
// database cannot pile up goroutines.
const requestTimeout = 30 * time.Second

// Options configure a Server. The zero value is usable.
type Options struct {
	// Logger receives the access log and error reports. Nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Now returns the current time; nil means time.Now. The access log
	// measures durations with it, so tests can make them predictable.
	Now func() time.Time
	// Outputs applies the config outputs of the server's config file;
	// nil when none are configured.
	Outputs Outputs
	// SessionIdle and SessionAbsolute end browser sessions that were not
	// used for so long, or began so long ago; 0 means DefaultSessionIdle
	// and DefaultSessionAbsolute.
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// SecureCookies marks the session cookie Secure even for plain HTTP
	// requests: set it when a TLS proxy sits in front of ipdesk.
	SecureCookies bool
	// Location is the time zone dates and times are shown in; nil means
	// time.Local.
	Location *time.Location
	// Timetable computes the rooms' states; nil means one on the store
	// with the default settings (the server's time zone, Monday to
	// Friday).
	Timetable *schedule.Planner
	// Events is the broker of the live stream GET /api/v1/events; nil
	// gives the server a broker of its own, on which nothing is published.
	Events *live.Broker
	// Heartbeat is how often an idle live stream sends a comment; 0 means
	// DefaultHeartbeat.
	Heartbeat time.Duration
	// CallerID configures the intake of calls from PBXs.
	CallerID CallerIDOptions
	// Metrics receives the request metrics and is served at GET /metrics;
	// nil gives the server metrics of its own.
	Metrics *metrics.Metrics
	// LDAP, when set, signs in the users that have no local account.
	LDAP PasswordDirectory
	// SSO, when set, offers single sign-on through an OpenID Connect
	// provider on the sign-in page.
	SSO SingleSignOn
	// TOTP says who must sign in with a two-factor code.
	TOTP TOTPPolicy
	// MetricsToken, when set, is the bearer token GET /metrics needs;
	// without it only loopback clients may read the metrics.
	MetricsToken string
	// Leases reads the DHCP servers' lease files of the server's config
	// file; nil when none are configured.
	Leases *leases.Reader
	// PublicRooms offers the read-only occupancy page /public/rooms
	// without signing in: the rooms and their states, nothing about
	// people or hosts (config timetable.public_view). Off, the address
	// does not exist.
	PublicRooms bool
}

// Server serves ipdesk over HTTP. Create it with NewServer; use Handler in
// tests and ListenAndServe or Serve in production.
type Server struct {
	store     ipdesk.Store
	outputs   Outputs // nil without configured outputs
	timetable *schedule.Planner
	log       *slog.Logger
	maxBody   int64
	// confirmsAuth: the store's writes check the auth epoch a request
	// was let in at (see serveConfirmed).
	confirmsAuth bool
	now          func() time.Time
	loc          *time.Location

	sessionLimits ipdesk.SessionLimits
	secureCookies bool
	throttle      loginThrottle
	auth          *authCache

	mux      *http.ServeMux
	handler  http.Handler
	routes   []*route
	patterns []string // every pattern registered on mux, in order

	assets *assets
	pages  *pages

	openapiOnce sync.Once
	openapiDoc  []byte
	openapiErr  error

	httpServer *http.Server

	intake *intake
	// publicRooms is Options.PublicRooms.
	publicRooms bool
	events      *live.Broker
	heartbeat   time.Duration
	closing     chan struct{} // closed at Shutdown: live streams end

	ldap         PasswordDirectory
	sso          SingleSignOn
	totp         TOTPPolicy
	metrics      *metrics.Metrics
	metricsToken []byte // SHA-256 of Options.MetricsToken; nil: loopback only

	leases *leases.Reader // nil without configured lease files
}

// NewServer returns a server for store with every route registered.
func NewServer(store ipdesk.Store, opts Options) *Server {
	s := &Server{
		store:   store,
		outputs: opts.Outputs,
		leases:  opts.Leases,
		log:     opts.Logger,
		maxBody: opts.MaxBodyBytes,
		now:     opts.Now,
		mux:     http.NewServeMux(),

		events:    opts.Events,
		heartbeat: opts.Heartbeat,
		closing:   make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.loc = opts.Location
	if s.loc == nil {
		s.loc = time.Local
	}
	s.sessionLimits = ipdesk.SessionLimits{Idle: opts.SessionIdle, Absolute: opts.SessionAbsolute}
	if s.sessionLimits.Idle <= 0 {
		s.sessionLimits.Idle = DefaultSessionIdle
	}
	if s.sessionLimits.Absolute <= 0 {
		s.sessionLimits.Absolute = DefaultSessionAbsolute
	}
	s.secureCookies = opts.SecureCookies
	s.publicRooms = opts.PublicRooms
	if s.timetable = opts.Timetable; s.timetable == nil {
		s.timetable = schedule.NewPlanner(store, schedule.Settings{Location: s.loc}, nil)
	}
	if s.events == nil {
		s.events = live.New(live.Options{})
	}
	if s.heartbeat <= 0 {
		s.heartbeat = DefaultHeartbeat
	}
	s.auth = newAuthCache(store)
	if c, ok := store.(interface{ ConfirmsAuth() bool }); ok && s.auth.store != nil {
		s.confirmsAuth = c.ConfirmsAuth()
	}
	s.intake = newIntake(opts.CallerID, s.now)
	s.setupMetrics(opts)
	s.ldap, s.sso, s.totp = opts.LDAP, opts.SSO, opts.TOTP
	s.routes = s.apiRoutes()
	for _, rt := range s.routes {
		s.handle(rt.pattern(), s.apiHandler(rt))
	}
	s.assets = loadAssets()
	s.pages = s.mustPages()
	s.uiRoutes()
	s.handle("GET /metrics", http.HandlerFunc(s.serveMetrics))
	s.handle("GET /login/oidc", s.uiPublic(s.oidcStart))
	s.handle("GET /login/oidc/callback", s.uiPublic(s.oidcCallback))
	// Browsers may send changes (POST, PATCH, DELETE) only from ipdesk's
	// own pages: cross-site requests are refused by their Sec-Fetch-Site
	// or Origin header. Programs (the PBX, scripts with API tokens) send
	// neither and are not affected.
	csrf := http.NewCrossOriginProtection()
	s.handler = s.recoverPanics(s.accessLog(securityHeaders(csrf.Handler(http.HandlerFunc(s.dispatch)))))
	s.httpServer = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	var closeOnce sync.Once
	s.httpServer.RegisterOnShutdown(func() { closeOnce.Do(func() { close(s.closing) }) })
	return s
}

// handle registers h on the mux and records the pattern, so that tests can
// compare what is served with what is documented.
func (s *Server) handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.patterns = append(s.patterns, pattern)
}

// Handler returns the server's complete handler, middleware included.
func (s *Server) Handler() http.Handler { return s.handler }

// ListenAndServe listens on the TCP address addr and serves until Shutdown.
// It returns http.ErrServerClosed after a graceful shutdown.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Shutdown. It returns
// http.ErrServerClosed after a graceful shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return s.httpServer.Serve(ln)
}

// Shutdown stops accepting connections and waits, until ctx ends, for the
// requests in flight to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.httpServer.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// Requests still running past the deadline are cut off.
		if cerr := s.httpServer.Close(); cerr != nil {
			s.log.Warn("closing connections", slog.String("error", cerr.Error()))
		}
	}
	return err
}
