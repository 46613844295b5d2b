package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/callerid"
	"ipdesk/live"
	"ipdesk/sqldb"
)

const pbxToken = "pbx-test-token-0123456789"

var germanRules = callerid.Config{CountryCode: "49", InternationalPrefix: "00", TrunkPrefix: "0", ExtensionDigits: 4}

// callEnv is a server with caller-ID: a PBX token, the allowed sources
// 192.0.2.0/24 and loopback, the trusted proxy 10.9.9.1, German rules.
type callEnv struct {
	*testEnv
	svc    *callerid.Service
	broker *live.Broker
}

func newCallEnv(t testing.TB, dsn string, mod func(o *Options)) *callEnv {
	t.Helper()
	if dsn == "" {
		dsn = filepath.Join(t.TempDir(), "t.db")
	}
	db, err := sqldb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &testEnv{t: t, db: db, logs: &syncBuffer{}}
	e.admin = e.makeUser("admin", true)
	e.user = e.makeUser("reader", false)
	return startCallEnv(t, e, mod)
}

// startCallEnv starts the caller-ID service and a server on e's database.
func startCallEnv(t testing.TB, e *testEnv, mod func(o *Options)) *callEnv {
	t.Helper()
	return startCallEnvWith(t, e, live.Options{MaxStreamsPerKey: 3}, mod)
}

// startCallEnvWith is startCallEnv with a broker of the given options.
func startCallEnvWith(t testing.TB, e *testEnv, bo live.Options, mod func(o *Options)) *callEnv {
	t.Helper()
	bo.Journal = callerid.Journal{Store: e.db}
	broker := live.New(bo)
	svc, err := callerid.New(e.db, callerid.Options{Rules: germanRules, Broker: broker})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	<-svc.Ready()
	opts := Options{
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Events: broker,
		CallerID: CallerIDOptions{
			Intake:         svc,
			PBXTokens:      []string{"another-token-abcdefghij", pbxToken},
			AllowedSources: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.9.9.1/32")},
			RateLimit:      1000, RateBurst: 1000,
		},
	}
	if mod != nil {
		mod(&opts)
	}
	e.srv = NewServer(e.db, opts)
	e.h = e.srv.Handler()
	return &callEnv{testEnv: e, svc: svc, broker: broker}
}

// from sends a request from the address remote ("ip:port") with the
// headers given as name, value pairs.
func (e *testEnv) from(remote, method, target string, body string, headers ...string) *response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	req.RemoteAddr = remote
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// call records a ring from the number directly in the store.
func (e *testEnv) call(from string) *ipdesk.CallEvent {
	e.t.Helper()
	ev, err := e.db.RecordCallEvent(context.Background(), &ipdesk.CallReport{
		Kind: ipdesk.CallRing, Time: time.Now(), Source: "192.0.2.1",
		From:    ipdesk.PhoneNumber{Raw: from, Number: from, Kind: ipdesk.NumberExtension},
		Matches: ipdesk.CallMatches{Kind: ipdesk.MatchNone},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}

// lastCall returns the newest call.
func (e *testEnv) lastCall() *ipdesk.Call {
	e.t.Helper()
	calls, _, err := e.db.FindCalls(context.Background(), ipdesk.CallFilter{Page: ipdesk.Page{Limit: 1}})
	if err != nil || len(calls) == 0 {
		e.t.Fatalf("no call: %v", err)
	}
	return calls[0]
}

func (e *testEnv) callCount() int {
	e.t.Helper()
	_, n, err := e.db.FindCalls(context.Background(), ipdesk.CallFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestSetCall(t *testing.T) {
	e := newCallEnv(t, "", nil)
	const pbx = "192.0.2.10:40000"
	tok := "?token=" + url.QueryEscape(pbxToken)

	r := e.from(pbx, "GET", "/set_call/03591%2012345"+tok, "")
	if r.code != 200 || string(r.body) != "OK\n" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("set_call: %d %q %v", r.code, r.body, r.header)
	}
	c := e.lastCall()
	if c.From.Raw != "03591 12345" || c.From.Number != "+49359112345" || c.Source != "192.0.2.10" || c.State != ipdesk.CallRinging {
		t.Fatalf("call: %+v", c)
	}
	if r := e.from(pbx, "GET", "/set_call/2345", "", pbxTokenHeader, pbxToken); r.code != 200 {
		t.Fatalf("token in the header: %d %q", r.code, r.body)
	}
	if r := e.from(pbx, "HEAD", "/set_call/2345"+tok, ""); r.code != 200 || len(r.body) != 0 {
		t.Fatalf("HEAD: %d %q", r.code, r.body)
	}

	// Every bad number is answered OK, stored as given and unknown.
	n := e.callCount()
	for _, tt := range []struct{ path, raw string }{
		{"/set_call/", ""},
		{"/set_call", ""},
		{"/set_call/anonymous", "anonymous"},
		{"/set_call/" + strings.Repeat("7", 1000), strings.Repeat("7", 1000)},
		{"/set_call/../", "../"},
		{"/set_call/../../etc/passwd", "../../etc/passwd"},
		{"/set_call/%2E%2E%2F", "../"},
		{"/set_call//x", "/x"},
		{"/set_call/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "<script>alert(1)</script>"},
		{"/set_call/0359%0D%0A112345", "0359\r\n112345"},
		{"/set_call/%D9%A2%D9%A3%D9%A4%D9%A5", "٢٣٤٥"},
		{"/set_call/%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95", "２３４５"},
		{"/set_call/%FF%00", "\uFFFD\uFFFD"},
		{"/set_call/%22%7D%3B", `"};`},
	} {
		r := e.from(pbx, "GET", tt.path+tok, "")
		if r.code != 200 || string(r.body) != "OK\n" {
			t.Errorf("%s: %d %q", tt.path, r.code, r.body)
			continue
		}
		c := e.lastCall()
		if c.From.Raw != ipdesk.BoundRaw(tt.raw) || c.From.Kind != ipdesk.NumberUnknown || c.Matches.Kind != ipdesk.MatchNone {
			t.Errorf("%s: stored %q %s, want %q unknown", tt.path, clipText(c.From.Raw), c.From.Kind, clipText(tt.raw))
		}
		n++
	}
	if got := e.callCount(); got != n {
		t.Fatalf("%d calls, want %d", got, n)
	}

	// Refused: plain 403, nothing recorded.
	for _, tt := range []struct {
		name, remote, target string
		headers              []string
	}{
		{"no token", pbx, "/set_call/2345", nil},
		{"wrong token", pbx, "/set_call/2345?token=wrong", nil},
		{"token of another length", pbx, "/set_call/2345?token=" + pbxToken + "x", nil},
		{"a wrong token in the header", pbx, "/set_call/2345?token=" + pbxToken, []string{pbxTokenHeader, "wrong-token-0123456789"}},
		{"a user's API token", pbx, "/set_call/2345", []string{"Authorization", "Bearer " + e.admin}},
		{"a user's API token as the PBX token", pbx, "/set_call/2345?token=" + url.QueryEscape(e.admin), nil},
		{"source not allowed", "198.51.100.7:5060", "/set_call/2345" + tok, nil},
		{"forwarded by an untrusted proxy", "198.51.100.7:5060", "/set_call/2345" + tok, []string{"X-Forwarded-For", "192.0.2.20"}},
		{"forwarded for a client not allowed", "10.9.9.1:80", "/set_call/2345" + tok, []string{"X-Forwarded-For", "192.0.2.20, 198.51.100.9"}},
		{"a forged first hop", "10.9.9.1:80", "/set_call/2345" + tok, []string{"X-Forwarded-For", "192.0.2.20, nonsense"}},
		{"only the proxy", "10.9.9.1:80", "/set_call/2345" + tok, nil},
	} {
		r := e.from(tt.remote, "GET", tt.target, "", tt.headers...)
		if r.code != http.StatusForbidden || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s: %d %q", tt.name, r.code, r.body)
		}
	}
	if got := e.callCount(); got != n {
		t.Fatalf("refused reports were recorded: %d calls, want %d", got, n)
	}

	// Forwarded by the trusted proxy: the client it names counts.
	for _, xff := range []string{"192.0.2.20", "198.51.100.9, 192.0.2.20", "192.0.2.20:5060"} {
		r := e.from("10.9.9.1:80", "GET", "/set_call/4711"+tok, "", "X-Forwarded-For", xff)
		if r.code != 200 || e.lastCall().Source != "192.0.2.20" {
			t.Errorf("via the proxy (%s): %d %q, source %s", xff, r.code, r.body, e.lastCall().Source)
		}
	}
	// Two headers are one list.
	r = e.from("10.9.9.1:80", "GET", "/set_call/4711"+tok, "", "X-Forwarded-For", "198.51.100.9", "X-Forwarded-For", "192.0.2.21")
	if r.code != 200 || e.lastCall().Source != "192.0.2.21" {
		t.Errorf("two headers: %d, source %s", r.code, e.lastCall().Source)
	}
	// IPv6 and mapped addresses.
	if r := e.from("[::1]:5060", "GET", "/set_call/4711"+tok, ""); r.code != 200 || e.lastCall().Source != "::1" {
		t.Errorf("IPv6 loopback: %d, %s", r.code, e.lastCall().Source)
	}
	if r := e.from("[::ffff:192.0.2.30]:5060", "GET", "/set_call/4711"+tok, ""); r.code != 200 || e.lastCall().Source != "192.0.2.30" {
		t.Errorf("mapped IPv4: %d, %s", r.code, e.lastCall().Source)
	}

	if r := e.from(pbx, "POST", "/set_call/2345"+tok, ""); r.code != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /set_call: %d %v", r.code, r.header)
	}

	// The access log has no token, and one line per record whatever the
	// number held.
	logs := e.logs.String()
	if strings.Contains(logs, pbxToken) || strings.Contains(logs, url.QueryEscape(pbxToken)) {
		t.Fatal("the PBX token is in the log")
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !strings.HasPrefix(line, "time=") {
			t.Fatalf("a log record spans lines: %q", line)
		}
	}
	if !strings.Contains(logs, `path=/set_call/anonymous`) || !strings.Contains(logs, `user=pbx`) {
		t.Fatalf("the access log lacks the set_call requests:\n%s", logs)
	}
}

func TestSetCallOnlySources(t *testing.T) {
	// Sources without tokens: the old scripts keep working unchanged.
	e := newCallEnv(t, "", func(o *Options) { o.CallerID.PBXTokens = nil })
	if r := e.from("192.0.2.10:1", "GET", "/set_call/2345", ""); r.code != 200 {
		t.Fatalf("allowed source without token: %d %q", r.code, r.body)
	}
	if r := e.from("198.51.100.1:1", "GET", "/set_call/2345", ""); r.code != 403 {
		t.Fatalf("other source: %d", r.code)
	}
	// Tokens without sources: any address with the token.
	e = newCallEnv(t, "", func(o *Options) { o.CallerID.AllowedSources = nil })
	if r := e.from("198.51.100.1:1", "GET", "/set_call/2345?token="+pbxToken, ""); r.code != 200 {
		t.Fatalf("token from anywhere: %d %q", r.code, r.body)
	}
	// Neither: intake is off.
	e = newCallEnv(t, "", func(o *Options) { o.CallerID.AllowedSources, o.CallerID.PBXTokens = nil, nil })
	if r := e.from("192.0.2.10:1", "GET", "/set_call/2345", ""); r.code != 403 || !strings.Contains(string(r.body), "callerid.pbx_tokens") {
		t.Fatalf("intake off: %d %q", r.code, r.body)
	}
	// No intake at all (a server without caller-ID).
	plain := newEnv(t)
	if r := plain.from("192.0.2.10:1", "GET", "/set_call/2345", ""); r.code != 403 {
		t.Fatalf("without caller-ID: %d %q", r.code, r.body)
	}
}

func TestReportCall(t *testing.T) {
	e := newCallEnv(t, "", nil)
	const pbx = "192.0.2.10:5060"
	post := func(body string, headers ...string) *response {
		return e.from(pbx, "POST", "/api/v1/calls", body, append([]string{pbxTokenHeader, pbxToken}, headers...)...)
	}
	var res callReportResult
	r := post(`{"event": "ring", "call_id": "1715000000.42", "from": "+49 (0)3591 123-45", "to": "0359 1100", "time": "` + time.Now().UTC().Format(time.RFC3339) + `"}`)
	if r.code != http.StatusCreated || json.Unmarshal(r.body, &res) != nil || res.State != ipdesk.CallRinging || res.EventID == 0 {
		t.Fatalf("ring: %d %s", r.code, r.body)
	}
	if strings.Contains(string(r.body), "matches") {
		t.Fatalf("the PBX is told the matches: %s", r.body)
	}
	r = post(`{"event": "answer", "call_id": "1715000000.42", "extension": "201"}`)
	var ans callReportResult
	json.Unmarshal(r.body, &ans)
	if r.code != http.StatusCreated || ans.Call != res.Call || ans.State != ipdesk.CallAnswered {
		t.Fatalf("answer: %d %s", r.code, r.body)
	}
	post(`{"event": "hangup", "call_id": "1715000000.42"}`)
	var d callDetail
	e.must(200, "GET", path("/api/v1/calls/%d", res.Call), e.admin, nil, &d)
	if d.State != ipdesk.CallEnded || d.Extension != "201" || d.From.Number != "+49359112345" || d.To.Number != "+493591100" || len(d.Events) != 3 || d.PBXCallID != "1715000000.42" {
		t.Fatalf("call: %+v, %d events", d.Call, len(d.Events))
	}

	// Bad input: 400 naming the field; nothing recorded.
	n := e.callCount()
	for field, body := range map[string]string{
		"event":   `{"event": "dial"}`,
		"call_id": `{"event": "ring", "call_id": "a\nb"}`,
		"time":    `{"event": "ring", "time": "yesterday"}`,
		"from":    `{"event": "ring", "from": 49}`,
		"state":   `{"event": "ring", "state": "ended"}`,
	} {
		r := post(body)
		if r.code != 400 || r.apiError(t).Field != field {
			t.Errorf("%s: %d %s", body, r.code, r.body)
		}
	}
	if r := post(`{"from": "2345"}`); r.code != 400 || r.apiError(t).Field != "event" {
		t.Errorf("no event: %d %s", r.code, r.body)
	}
	old := time.Now().Add(-5 * time.Hour).UTC().Format(time.RFC3339)
	if r := post(`{"event": "ring", "from": "2345", "time": "` + old + `"}`); r.code != 400 || r.apiError(t).Field != "time" {
		t.Errorf("time far off: %d %s", r.code, r.body)
	}
	// A bad number is no error.
	if r := post(`{"event": "ring", "from": "<script>\r\n"}`); r.code != 201 {
		t.Errorf("bad number: %d %s", r.code, r.body)
	}
	n++
	// Refused: no token, a user's token, the token in the query.
	if r := e.from(pbx, "POST", "/api/v1/calls", `{"event": "ring"}`); r.code != 403 {
		t.Errorf("no token: %d %s", r.code, r.body)
	}
	if r := e.from(pbx, "POST", "/api/v1/calls", `{"event": "ring"}`, "Authorization", "Bearer "+e.admin); r.code != 403 {
		t.Errorf("a user's token: %d %s", r.code, r.body)
	}
	if r := e.from(pbx, "POST", "/api/v1/calls?token="+pbxToken, `{"event": "ring"}`); r.code != 400 || strings.Contains(string(r.body), pbxToken) {
		t.Errorf("token in the query: %d %s", r.code, r.body)
	}
	if r := e.from("198.51.100.7:1", "POST", "/api/v1/calls", `{"event": "ring"}`, pbxTokenHeader, pbxToken); r.code != 403 {
		t.Errorf("source not allowed: %d %s", r.code, r.body)
	}
	if got := e.callCount(); got != n {
		t.Fatalf("%d calls, want %d", got, n)
	}
	if strings.Contains(e.logs.String(), pbxToken) {
		t.Fatal("the PBX token is in the log")
	}
}

func TestIntakeRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2024, 5, 6, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newCallEnv(t, "", func(o *Options) {
		o.CallerID.RateLimit, o.CallerID.RateBurst = 2, 3
		o.Now = clock
	})
	get := func(remote string) int {
		return e.from(remote, "GET", "/set_call/2345?token="+pbxToken, "").code
	}
	for i := range 3 {
		if c := get("192.0.2.10:1"); c != 200 {
			t.Fatalf("report %d: %d", i, c)
		}
	}
	r := e.from("192.0.2.10:1", "GET", "/set_call/2345?token="+pbxToken, "")
	if r.code != 429 || r.header.Get("Retry-After") == "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("over the limit: %d %q", r.code, r.body)
	}
	if r := e.from("192.0.2.10:1", "POST", "/api/v1/calls", `{"event": "ring"}`, pbxTokenHeader, pbxToken); r.code != 429 || r.apiError(t).Code != ipdesk.ETOOMANY {
		t.Fatalf("POST over the limit: %d %s", r.code, r.body)
	}
	// Refused guesses count too: no token brute force past the limit.
	if c := e.from("192.0.2.10:1", "GET", "/set_call/2345?token=guess", "").code; c != 429 {
		t.Fatalf("a guess over the limit: %d", c)
	}
	if c := get("192.0.2.11:1"); c != 200 {
		t.Fatalf("another source: %d", c)
	}
	// The same /64 is one source.
	e2 := newCallEnv(t, "", func(o *Options) {
		o.CallerID.RateLimit, o.CallerID.RateBurst = 2, 1
		o.CallerID.AllowedSources = []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}
		o.Now = clock
	})
	if c := e2.from("[2001:db8:0:1::1]:1", "GET", "/set_call/1?token="+pbxToken, "").code; c != 200 {
		t.Fatalf("v6: %d", c)
	}
	if c := e2.from("[2001:db8:0:1::2]:1", "GET", "/set_call/1?token="+pbxToken, "").code; c != 429 {
		t.Fatalf("v6 same /64: %d", c)
	}
	if c := e2.from("[2001:db8:0:2::1]:1", "GET", "/set_call/1?token="+pbxToken, "").code; c != 200 {
		t.Fatalf("v6 other /64: %d", c)
	}
	// Time refills the bucket.
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	for i := range 2 {
		if c := get("192.0.2.10:1"); c != 200 {
			t.Fatalf("after a second, report %d: %d", i, c)
		}
	}
	if c := get("192.0.2.10:1"); c != 429 {
		t.Fatalf("after a second, third report: %d", c)
	}
}

func TestCallLog(t *testing.T) {
	eachBackend(t, func(t *testing.T, base *testEnv) {
		e := startCallEnv(t, base, nil)
		sp := e.space("school")
		e.prefix(sp, "10.1.0.0/16", ipdesk.PrefixSubnet)
		var site, room ipdesk.Location
		e.must(201, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "site", "name": "Main"}, &site)
		e.must(201, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": "303", "parent_id": site.ID, "phones": []string{"2345"}}, &room)
		e.must(201, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.1.3.1", "hostname": "z303c1", "mac": "02:00:00:00:03:01", "location_id": room.ID}, nil)
		get := func(number string) {
			t.Helper()
			if r := e.from("192.0.2.10:1", "GET", "/set_call/"+url.PathEscape(number)+"?token="+pbxToken, ""); r.code != 200 {
				t.Fatalf("set_call %s: %d", number, r.code)
			}
		}
		get("2345")
		get("+49 3591 99999")
		get("anonymous")

		var page listResponse[ipdesk.Call]
		e.must(200, "GET", "/api/v1/calls", e.admin, nil, &page)
		if page.Count != 3 || page.Results[0].From.Raw != "anonymous" || page.Results[2].Matches.Kind != ipdesk.MatchFull {
			t.Fatalf("call log: %+v", page)
		}
		first := page.Results[2]
		if first.Matches.Locations[0].Path != "Main > 303" || first.Matches.Hosts[0].Hostname != "z303c1" || first.Matches.Hosts[0].MAC.String() != "02:00:00:00:03:01" {
			t.Fatalf("matches: %+v", first.Matches)
		}
		// Only the helpdesk sees calls.
		if r := e.do("GET", "/api/v1/calls", e.user, nil); r.code != 403 {
			t.Fatalf("plain user: %d", r.code)
		}
		if r := e.do("GET", path("/api/v1/calls/%d", first.ID), e.user, nil); r.code != 403 {
			t.Fatalf("plain user, one call: %d", r.code)
		}
		if r := e.do("GET", "/api/v1/calls", "", nil); r.code != 401 {
			t.Fatalf("no token: %d", r.code)
		}
		for q, want := range map[string]int{
			"?q=z303c1":                          1,
			"?q=main":                            1,
			"?q=99999":                           1,
			"?q=%2B4935919":                      1,
			"?match=none":                        2,
			"?match=full":                        1,
			"?state=ring":                        3,
			"?state=missed":                      0,
			"?since=2000-01-01T00:00:00Z":        3,
			"?until=2000-01-01T00:00:00Z":        0,
			"?limit=1&offset=1":                  3,
			"?q=anonymous&match=none&state=ring": 1,
		} {
			var p listResponse[ipdesk.Call]
			e.must(200, "GET", "/api/v1/calls"+q, e.admin, nil, &p)
			if p.Count != want {
				t.Errorf("%s: %d calls, want %d", q, p.Count, want)
			}
		}
		if r := e.do("GET", "/api/v1/calls?state=rung", e.admin, nil); r.code != 400 || r.apiError(t).Field != "state" {
			t.Fatalf("bad state: %d %s", r.code, r.body)
		}
		if r := e.do("GET", "/api/v1/calls/999999", e.admin, nil); r.code != 404 {
			t.Fatalf("unknown call: %d", r.code)
		}

		// An unknown number carries a suggestion; storing it with the
		// existing location PATCH makes the next call match in full.
		unknown := page.Results[1]
		if unknown.Matches.Kind != ipdesk.MatchNone || unknown.Matches.Suggestion == nil || unknown.Matches.Suggestion.Phone != "+49359199999" {
			t.Fatalf("suggestion: %+v", unknown.Matches)
		}
		e.must(200, "PATCH", path("/api/v1/locations/%d", room.ID), e.admin, map[string]any{"phones": []string{"2345", unknown.Matches.Suggestion.Phone}}, nil)
		get("03591 99999")
		if c := e.lastCall(); c.Matches.Kind != ipdesk.MatchFull || c.Matches.Locations[0].ID != room.ID {
			t.Fatalf("after adding the number: %+v", c.Matches)
		}
		var d callDetail
		e.must(200, "GET", path("/api/v1/calls/%d", first.ID), e.admin, nil, &d)
		if len(d.Events) != 1 || d.Events[0].Kind != ipdesk.CallRing || d.Events[0].Source != "192.0.2.10" {
			t.Fatalf("events: %+v", d.Events)
		}
	})
}

// TestCallJSONEscapes: a number with quotes, braces, tags and line breaks
// comes back as data, escaped, in the JSON.
func TestCallJSONEscapes(t *testing.T) {
	e := newCallEnv(t, "", nil)
	raw := "\"}]</script><script>x()</script>\r\n;{"
	e.from("192.0.2.10:1", "GET", "/set_call/"+url.PathEscape(raw)+"?token="+pbxToken, "")
	r := e.must(200, "GET", "/api/v1/calls", e.admin, nil, nil)
	if strings.Contains(string(r.body), "<script>") || strings.Contains(string(r.body), "\r\n") {
		t.Fatalf("unescaped: %s", r.body)
	}
	var page listResponse[ipdesk.Call]
	json.Unmarshal(r.body, &page)
	if page.Results[0].From.Raw != raw {
		t.Fatalf("raw %q", page.Results[0].From.Raw)
	}
}
