package web

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"ipdesk"
)

// TestAccessLog: one record per request with method, path, status, user
// and duration; never a token, whether sent in the header or the query;
// no input can break a record into two lines.
func TestAccessLog(t *testing.T) {
	e := newEnv(t)
	before := strings.Count(e.logs.String(), "\n")
	requests := []struct {
		method, path, token string
	}{
		{"GET", "/api/v1/spaces", e.admin},
		{"GET", "/api/v1/me", e.user},
		{"GET", "/api/v1/spaces?token=" + e.admin, ""},
		{"GET", "/api/v1/nothing%0Atime=2020-01-01T00:00:00Z%20level=INFO%20msg=%22http%20request%22%20user=admin", e.admin},
		{"POST", "/api/v1/spaces", "wrong-" + e.admin},
	}
	for _, rq := range requests {
		e.do(rq.method, rq.path, rq.token, nil)
	}
	logs := e.logs.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")[before:]
	if len(lines) != len(requests) {
		t.Fatalf("%d log lines for %d requests:\n%s", len(lines), len(requests), logs)
	}
	for _, tok := range []string{e.admin, e.user} {
		if strings.Contains(logs, tok) {
			t.Errorf("the log contains a token:\n%s", logs)
		}
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "time=") || !strings.Contains(l, `msg="http request"`) {
			t.Errorf("unexpected log line %q", l)
		}
		for _, attr := range []string{"method=", "path=", "status=", "duration=", "user="} {
			if !strings.Contains(l, attr) {
				t.Errorf("log line lacks %s: %q", attr, l)
			}
		}
	}
	if !strings.Contains(lines[0], "user=admin") || !strings.Contains(lines[0], "status=200") || !strings.Contains(lines[0], "path=/api/v1/spaces ") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(lines[1], "user=reader") {
		t.Errorf("second line %q", lines[1])
	}
	if !strings.Contains(lines[4], "status=401") || !strings.Contains(lines[4], `user=""`) {
		t.Errorf("failed login line %q", lines[4])
	}
}

// TestServeAndShutdown serves on a real socket with the server's timeouts
// set, and shuts down gracefully.
func TestServeAndShutdown(t *testing.T) {
	e := newEnv(t)
	hs := e.srv.httpServer
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 || hs.IdleTimeout <= 0 || hs.MaxHeaderBytes <= 0 {
		t.Fatalf("server limits not set: %+v", hs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+e.admin)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("me over TCP: %d", resp.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after Shutdown")
	}
}

// TestShutdownSilentClient: a client that connects and sends nothing
// cannot hold Shutdown past its deadline; its connection is closed.
func TestShutdownSilentClient(t *testing.T) {
	e := newEnv(t)
	srv := NewServer(e.db, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	time.Sleep(50 * time.Millisecond) // let the server accept it

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// Shutdown gives up at its deadline (it does not wait for the silent
	// client) and says so.
	err = srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a silent client: %v, want the deadline", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	silent.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the silent connection is still open: %v", err)
	}
}

// TestSpacesLifecycle covers the space endpoints and ETags end to end.
func TestSpacesLifecycle(t *testing.T) {
	e := newEnv(t)
	var created spaceResult
	r := e.must(http.StatusCreated, "POST", "/api/v1/spaces", e.admin, map[string]any{"name": "campus", "description": "main"}, &created)
	if r.header.Get("Location") != spaceURL(created.ID) || r.header.Get("ETag") != `"1"` || created.Warnings == nil {
		t.Errorf("create: Location %q ETag %q warnings %v", r.header.Get("Location"), r.header.Get("ETag"), created.Warnings)
	}
	var list listResponse[ipdesk.Space]
	e.must(200, "GET", "/api/v1/spaces?name=campus", e.user, nil, &list)
	if list.Count != 1 || list.Results[0].Description != "main" {
		t.Errorf("?name=campus: %+v", list)
	}
	e.must(200, "GET", "/api/v1/spaces?name=nothing", e.user, nil, &list)
	if list.Count != 0 {
		t.Errorf("?name=nothing: %+v", list)
	}
	var upd spaceResult
	r = e.must(200, "PATCH", spaceURL(created.ID), e.admin, map[string]any{"name": "campus-2"}, &upd, "If-Match", `"1"`)
	if upd.Name != "campus-2" || upd.Description != "main" || r.header.Get("ETag") != `"2"` {
		t.Errorf("after PATCH: %+v ETag %q", upd.Space, r.header.Get("ETag"))
	}
	// HEAD answers like GET without a body.
	if r := e.do("HEAD", spaceURL(created.ID), e.user, nil); r.code != 200 || r.header.Get("ETag") != `"2"` {
		t.Errorf("HEAD: %d ETag %q", r.code, r.header.Get("ETag"))
	}
	e.must(http.StatusNoContent, "DELETE", spaceURL(created.ID), e.admin, nil, nil, "If-Match", `"2"`)
	e.must(http.StatusNotFound, "GET", spaceURL(created.ID), e.user, nil, nil)
}

// BenchmarkGetAddress measures GET /api/v1/addresses/{id} through the
// whole handler: token lookup, routing, store read, JSON.
func BenchmarkGetAddress(b *testing.B) {
	e := newEnv(b)
	var sp ipdesk.Space
	e.must(http.StatusCreated, "POST", "/api/v1/spaces", e.admin, map[string]any{"name": "campus"}, &sp)
	e.must(http.StatusCreated, "POST", "/api/v1/prefixes", e.admin, map[string]any{"space_id": sp.ID, "prefix": "10.1.0.0/24"}, nil)
	var a ipdesk.Address
	e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin,
		map[string]any{"space_id": sp.ID, "address": "10.1.0.10", "hostname": "pc1", "mac": "aa:bb:cc:00:00:01", "owner": "Ada"}, &a)
	url := addressURL(a.ID)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+e.user)
			rec := &discardWriter{header: http.Header{}}
			e.h.ServeHTTP(rec, req)
			if rec.status != http.StatusOK {
				b.Fatalf("status %d", rec.status)
			}
		}
	})
}

// discardWriter is a minimal ResponseWriter for the benchmark.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}

func (w *discardWriter) WriteHeader(code int) { w.status = code }
