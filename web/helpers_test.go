package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testEnv is a server on a fresh SQLite database with an administrator
// and a read-only user.
type testEnv struct {
	t     testing.TB
	db    *sqldb.DB
	srv   *Server
	h     http.Handler
	admin string // admin's token
	user  string // non-admin's token
	logs  *syncBuffer
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	return newEnvOn(t, filepath.Join(t.TempDir(), "t.db"))
}

// eachBackend runs fn with a server on SQLite and, when configured (always
// under CI), on PostgreSQL.
func eachBackend(t *testing.T, fn func(t *testing.T, e *testEnv)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) {
		dsn := sqldbtest.PostgresDSN(t)
		if dsn == "" {
			t.Skipf("%s not set", sqldbtest.EnvPostgres)
		}
		fn(t, newEnvOn(t, dsn))
	})
}

// newEnvOn is newEnv on the database dsn.
func newEnvOn(t testing.TB, dsn string) *testEnv {
	t.Helper()
	return newEnvWith(t, dsn, nil)
}

// newEnvWith is newEnvOn with the config outputs that outputs makes for
// the database (none when outputs is nil); each of more may set further
// options.
func newEnvWith(t testing.TB, dsn string, outputs func(db *sqldb.DB) Outputs, more ...func(db *sqldb.DB, o *Options)) *testEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	e := &testEnv{t: t, db: db, logs: &syncBuffer{}}
	e.admin = e.makeUser("admin", true)
	e.user = e.makeUser("reader", false)
	// The reader sees everything and may change nothing: a member of a
	// group with view_all and no grants.
	reader, err := db.FindUserByName(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateGroup(ctx, &ipdesk.Group{Name: "readers", ViewAll: true, Members: []int64{reader.ID}}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := Options{Logger: logger}
	if outputs != nil {
		opts.Outputs = outputs(db)
	}
	for _, f := range more {
		f(db, &opts)
	}
	e.srv = NewServer(db, opts)
	e.h = e.srv.Handler()
	return e
}

func (e *testEnv) makeUser(name string, admin bool) string {
	e.t.Helper()
	ctx := context.Background()
	u := &ipdesk.User{Name: name, Admin: admin}
	if err := e.db.CreateUser(ctx, u, "password123"); err != nil {
		e.t.Fatalf("create user %s: %v", name, err)
	}
	secret, _, err := e.db.CreateToken(ctx, u.ID, "test")
	if err != nil {
		e.t.Fatalf("create token for %s: %v", name, err)
	}
	return secret
}

// response is a recorded answer.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// do sends a request through the server's handler. body is sent as is
// when it is a string and as JSON otherwise; headers are name, value pairs.
func (e *testEnv) do(method, path, token string, body any, headers ...string) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// must sends a request that must get status want and decodes the answer
// into out (unless out is nil).
func (e *testEnv) must(want int, method, path, token string, body, out any, headers ...string) *response {
	e.t.Helper()
	r := e.do(method, path, token, body, headers...)
	if r.code != want {
		e.t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, r.code, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

// apiError decodes an error answer.
func (r *response) apiError(t testing.TB) errorDetail {
	t.Helper()
	var er errorResponse
	if err := json.Unmarshal(r.body, &er); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	return er.Error
}

// space creates a space and returns its id.
func (e *testEnv) space(name string) int64 {
	e.t.Helper()
	var sp ipdesk.Space
	e.must(http.StatusCreated, "POST", "/api/v1/spaces", e.admin, map[string]any{"name": name}, &sp)
	return sp.ID
}

// prefix creates a prefix and returns it.
func (e *testEnv) prefix(space int64, cidr string, kind ipdesk.PrefixKind, extra ...any) ipdesk.Prefix {
	e.t.Helper()
	body := map[string]any{"space_id": space, "prefix": cidr, "kind": kind}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	var p ipdesk.Prefix
	e.must(http.StatusCreated, "POST", "/api/v1/prefixes", e.admin, body, &p)
	return p
}

func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }
