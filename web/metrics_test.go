package web

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/metrics"
	"ipdesk/sqldb"
)

// metricValue returns the value of the sample series (name with its
// labels, as Prometheus writes them) in a scrape, and whether it is there.
func metricValue(t testing.TB, scrape []byte, series string) (float64, bool) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(scrape))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i > 0 && line[:i] == series {
			val := line[i+1:]
			v, err := strconv.ParseFloat(val, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return v, true
		}
	}
	return 0, false
}

// scrape reads /metrics through the handler as a loopback client.
func (e *testEnv) scrape(headers ...string) *response {
	e.t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// TestMetricsAccess: without a token only loopback clients read the
// metrics; with one, any client that sends it and no other.
func TestMetricsAccess(t *testing.T) {
	e := newEnv(t)
	if r := e.scrape(); r.code != http.StatusOK || !bytes.Contains(r.body, []byte("ipdesk_sse_streams_open 0")) {
		t.Fatalf("loopback: %d %.200s", r.code, r.body)
	}
	for _, remote := range []string{"[::1]:5000", "[::ffff:127.0.0.1]:5000"} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d", remote, rec.Code)
		}
	}
	// httptest's requests come from 192.0.2.1; forwarded headers do not
	// make a client local.
	if r := e.do("GET", "/metrics", "", nil, "X-Forwarded-For", "127.0.0.1"); r.code != http.StatusForbidden {
		t.Fatalf("remote: %d", r.code)
	}

	const tok = "scrape-secret-0123456789"
	e = newEnvWith(t, t.TempDir()+"/t.db", nil, func(_ *sqldb.DB, o *Options) { o.MetricsToken = tok })
	for _, tc := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer wrong-secret-0123456789", 401}, {"Basic " + tok, 401}, {"Bearer " + tok, 200}, {"bearer " + tok, 200}} {
		var h []string
		if tc.auth != "" {
			h = []string{"Authorization", tc.auth}
		}
		if r := e.do("GET", "/metrics", "", nil, h...); r.code != tc.want {
			t.Errorf("remote with %q: %d, want %d", tc.auth, r.code, tc.want)
		}
	}
	// With a token, loopback clients need it too.
	if r := e.scrape(); r.code != http.StatusUnauthorized {
		t.Errorf("loopback without the token: %d", r.code)
	}
	// An API token is not a metrics token.
	if r := e.do("GET", "/metrics", e.admin, nil); r.code != http.StatusUnauthorized {
		t.Errorf("API token: %d", r.code)
	}
}

// TestMetricsValues: requests are counted by route pattern and status,
// open live streams and the database pools are shown, apply runs are
// counted by target and result.
func TestMetricsValues(t *testing.T) {
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	m := metrics.New(func() time.Time { return clock })
	e := newCallEnv(t, "", func(o *Options) { o.Metrics = m })
	sp := e.space("campus")
	spaces := `ipdesk_http_requests_total{code="200",route="GET /api/v1/spaces/{id}"}`
	missing := `ipdesk_http_requests_total{code="404",route="GET /api/v1/spaces/{id}"}`
	before := e.scrape().body
	if _, ok := metricValue(t, before, spaces); ok {
		t.Fatalf("%s before any request", spaces)
	}
	for range 3 {
		e.must(200, "GET", path("/api/v1/spaces/%d", sp), e.admin, nil, nil)
	}
	e.must(404, "GET", "/api/v1/spaces/999", e.admin, nil, nil)
	e.do("GET", "/no/such/page", "", nil)
	after := e.scrape().body
	for series, want := range map[string]float64{
		spaces:  3,
		missing: 1,
		`ipdesk_http_requests_total{code="201",route="POST /api/v1/spaces"}`:          1,
		`ipdesk_http_requests_total{code="404",route="unmatched"}`:                    1,
		`ipdesk_http_request_duration_seconds_count{route="GET /api/v1/spaces/{id}"}`: 4,
		`ipdesk_db_connections_max{pool="write"}`:                                     1,
		`ipdesk_sse_streams_open`:                                                     0,
	} {
		if v, ok := metricValue(t, after, series); !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}

	// A live stream is counted while it is open.
	base := e.serve(t)
	s := openStream(t, base+eventsPath, e.admin)
	if ready := s.next(t); ready.event != "ready" {
		t.Fatalf("stream: %+v", ready)
	}
	if v, _ := metricValue(t, e.scrape().body, "ipdesk_sse_streams_open"); v != 1 {
		t.Errorf("open streams %v, want 1", v)
	}

	// Apply runs by target and result; the time since the last success
	// follows the clock.
	m.ObserveApplyRun(&ipdesk.ApplyRun{Target: "dhcpd", Status: ipdesk.ApplyApplied, Started: clock.Add(-time.Minute), Duration: time.Second})
	m.ObserveApplyRun(&ipdesk.ApplyRun{Target: "dhcpd", Status: ipdesk.ApplyInvalid, Started: clock, Duration: time.Second})
	m.ObserveApplyRun(&ipdesk.ApplyRun{Target: "dhcpd", Status: ipdesk.ApplyInvalid, Started: clock, Duration: time.Second})
	clock = clock.Add(time.Hour)
	body := e.scrape().body
	for series, want := range map[string]float64{
		`ipdesk_apply_runs_total{result="applied",target="dhcpd"}`:    1,
		`ipdesk_apply_runs_total{result="invalid",target="dhcpd"}`:    2,
		`ipdesk_apply_seconds_since_last_success{target="dhcpd"}`:     3659,
		`ipdesk_apply_last_success_timestamp_seconds{target="dhcpd"}`: float64(time.Date(2026, 3, 2, 9, 59, 1, 0, time.UTC).Unix()),
	} {
		if v, ok := metricValue(t, body, series); !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
}

// BenchmarkMetrics measures one scrape of /metrics on a server that has
// answered requests on many routes.
func BenchmarkMetrics(b *testing.B) {
	e := newEnv(b)
	sp := e.space("campus")
	for _, p := range []string{"/api/v1/spaces", path("/api/v1/spaces/%d", sp), "/api/v1/prefixes", "/api/v1/addresses", "/api/v1/locations", "/api/v1/me", "/api/v1/audit", "/healthz", "/readyz"} {
		for range 20 {
			e.do("GET", p, e.admin, nil)
		}
	}
	e.do("GET", "/api/v1/spaces/999", e.admin, nil)
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		io.Copy(io.Discard, rec.Body)
	}
}
