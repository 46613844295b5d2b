package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/callerid"
	"ipdesk/internal/testwait"
	"ipdesk/sqldb/sqldbtest"
)

// sseMsg is one message of an event stream as a browser parses it.
type sseMsg struct {
	id, event, data string
	comment         string
}

// stream is an open event stream.
type stream struct {
	resp *http.Response
	msgs chan sseMsg
}

// openStream connects to the event stream at url.
func openStream(t *testing.T, url, token string, headers ...string) *stream {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{resp: resp, msgs: make(chan sseMsg, 1000)}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		return s
	}
	go func() {
		defer close(s.msgs)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var m sseMsg
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m.event != "" || len(data) > 0 {
					m.data = strings.Join(data, "\n")
					s.msgs <- m
				}
				m, data = sseMsg{id: m.id}, nil
			case strings.HasPrefix(line, ":"):
				s.msgs <- sseMsg{comment: strings.TrimSpace(line[1:])}
			default:
				field, value, _ := strings.Cut(line, ":")
				value = strings.TrimPrefix(value, " ")
				switch field {
				case "id":
					m.id = value
				case "event":
					m.event = value
				case "data":
					data = append(data, value)
				}
			}
		}
	}()
	return s
}

// next returns the next message that is not a comment.
func (s *stream) next(t *testing.T) sseMsg {
	t.Helper()
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				t.Fatal("the stream ended")
			}
			if m.comment == "" {
				return m
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no message in 10s")
		}
	}
}

// nextCall returns the next call event and its decoded data.
func (s *stream) nextCall(t *testing.T) (sseMsg, callerid.EventData) {
	t.Helper()
	m := s.next(t)
	if m.event != callerid.EventName {
		t.Fatalf("event %q (%s), want a call", m.event, m.data)
	}
	var d callerid.EventData
	if err := json.Unmarshal([]byte(m.data), &d); err != nil {
		t.Fatalf("data %q: %v", m.data, err)
	}
	return m, d
}

// serve runs e's server on a loopback listener until the test ends.
func (e *callEnv) serve(t testing.TB) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(e.srv.Handler())
	ts.Config = e.srv.httpServer
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.URL
}

// eventsPath is the path of the event stream.
const eventsPath = "/api/v1/events"

func (e *callEnv) setCall(t *testing.T, base, number string) {
	t.Helper()
	resp, err := http.Get(base + "/set_call/" + number + "?token=" + pbxToken)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("set_call %s: %d", number, resp.StatusCode)
	}
}

func TestEventStream(t *testing.T) {
	e := newCallEnv(t, "", nil)
	base := e.serve(t)
	s := openStream(t, base+eventsPath, e.admin)
	if s.resp.StatusCode != 200 {
		t.Fatalf("status %d", s.resp.StatusCode)
	}
	h := s.resp.Header
	if h.Get("Content-Type") != "text/event-stream" || h.Get("Cache-Control") != "no-store" || h.Get("X-Accel-Buffering") != "no" {
		t.Fatalf("headers %v", h)
	}
	ready := s.next(t)
	if ready.event != "ready" || ready.id != "0" || ready.data != `{"cursor":0,"topics":["calls","rooms"]}` {
		t.Fatalf("ready: %+v", ready)
	}

	e.setCall(t, base, "2345")
	m, d := s.nextCall(t)
	if d.Kind != ipdesk.CallRing || d.State != ipdesk.CallRinging || d.Call == nil || d.Call.From.Raw != "2345" || m.id != strconv.FormatInt(d.ID, 10) || d.Call.ID == 0 {
		t.Fatalf("call event: %+v %+v", m, d)
	}
	// A number that could break the stream stays inside its data line.
	e.setCall(t, base, "%0D%0Aevent:%20evil%0A%0Adata:%20x")
	if _, d := s.nextCall(t); d.Call.From.Raw != "\r\nevent: evil\n\ndata: x" {
		t.Fatalf("raw %q", d.Call.From.Raw)
	}
	e.setCall(t, base, "4711")
	if m, d := s.nextCall(t); d.Call.From.Raw != "4711" || m.event != "call" {
		t.Fatalf("after the odd number: %+v", m)
	}
}

func TestEventStreamAccess(t *testing.T) {
	e := newCallEnv(t, "", nil)
	base := e.serve(t)
	for _, tt := range []struct {
		name, target, token string
		status              int
	}{
		{"no token", eventsPath, "", 401},
		{"plain user: the rooms, not the calls", eventsPath, e.user, 200},
		{"plain user asks for calls", "/api/v1/events?topics=calls", e.user, 403},
		{"unknown topic", "/api/v1/events?topics=calls,weather", e.admin, 400},
		{"bad last_event_id", "/api/v1/events?last_event_id=x", e.admin, 400},
	} {
		s := openStream(t, base+tt.target, tt.token)
		if tt.target == "/api/v1/events" {
			s = openStream(t, base+eventsPath, tt.token)
		}
		if s.resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, s.resp.StatusCode, tt.status)
		}
	}
	s := openStream(t, base+eventsPath, e.admin, "Last-Event-ID", "yesterday")
	if s.resp.StatusCode != 400 {
		t.Errorf("bad Last-Event-ID: %d", s.resp.StatusCode)
	}
}

// TestEventStreamResume: a stream that reconnects with Last-Event-ID gets
// the calls it missed, in order, then the live ones; also from a restarted
// server on the same database.
func TestEventStreamResume(t *testing.T) {
	e := newCallEnv(t, "", nil)
	base := e.serve(t)
	s := openStream(t, base+eventsPath, e.admin)
	s.next(t)
	e.setCall(t, base, "1001")
	m, _ := s.nextCall(t)
	s.resp.Body.Close() // the browser loses the connection

	var missed []string
	for i := range 3 {
		n := fmt.Sprintf("100%d", i+2)
		e.setCall(t, base, n)
		missed = append(missed, n)
	}
	s = openStream(t, base+eventsPath, e.admin, "Last-Event-ID", m.id)
	if r := s.next(t); r.event != "ready" || r.id != m.id {
		t.Fatalf("ready after reconnect: %+v", r)
	}
	last := m.id
	for _, n := range missed {
		m, d := s.nextCall(t)
		if d.Call.From.Raw != n {
			t.Fatalf("replayed %q, want %q", d.Call.From.Raw, n)
		}
		if mustAtoi(t, m.id) <= mustAtoi(t, last) {
			t.Fatalf("id %s after %s", m.id, last)
		}
		last = m.id
	}
	e.setCall(t, base, "1005")
	if _, d := s.nextCall(t); d.Call.From.Raw != "1005" {
		t.Fatalf("live after replay: %q", d.Call.From.Raw)
	}
	s.resp.Body.Close()

	// A restart: a new server, broker and service on the same database.
	e.setCall(t, base, "1006")
	e2 := startCallEnv(t, &testEnv{t: t, db: e.db, logs: &syncBuffer{}, admin: e.admin, user: e.user}, nil)
	base2 := e2.serve(t)
	s = openStream(t, base2+"/api/v1/events?last_event_id="+last, e.admin)
	s.next(t)
	for _, n := range []string{"1005", "1006"} {
		if _, d := s.nextCall(t); d.Call.From.Raw != n {
			t.Fatalf("after restart: %q, want %q", d.Call.From.Raw, n)
		}
	}
	// A new stream without Last-Event-ID starts at the newest event.
	fresh := openStream(t, base2+eventsPath, e.admin)
	r := fresh.next(t)
	e2.setCall(t, base2, "1007")
	if m, d := fresh.nextCall(t); d.Call.From.Raw != "1007" || r.id == "0" || m.id == r.id {
		t.Fatalf("fresh stream: ready %+v, then %q", r, d.Call.From.Raw)
	}
}

func TestEventStreamLimitAndHeartbeat(t *testing.T) {
	e := newCallEnv(t, "", func(o *Options) { o.Heartbeat = 50 * time.Millisecond })
	base := e.serve(t)
	var open []*stream
	for range 3 {
		s := openStream(t, base+eventsPath, e.admin)
		if s.resp.StatusCode != 200 {
			t.Fatalf("stream: %d", s.resp.StatusCode)
		}
		s.next(t)
		open = append(open, s)
	}
	if s := openStream(t, base+eventsPath, e.admin); s.resp.StatusCode != 429 {
		t.Fatalf("fourth stream of one user: %d", s.resp.StatusCode)
	}
	// Heartbeats keep an idle stream alive; they are comments, so they do
	// not move the browser's last event id.
	select {
	case m := <-open[0].msgs:
		if m.comment != "heartbeat" {
			t.Fatalf("idle stream sent %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat")
	}
	// A disabled user's streams end at the next heartbeat.
	other := e.makeUser("helper", true)
	s := openStream(t, base+eventsPath, other)
	s.next(t)
	h, _ := e.db.FindUserByName(context.Background(), "helper")
	disabled := true
	if _, err := e.db.UpdateUser(context.Background(), h.ID, ipdesk.UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	ended := time.After(5 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-s.msgs:
		case <-ended:
			t.Fatal("the stream of a disabled user stayed open")
		}
	}

	// A closed stream frees its place.
	open[1].resp.Body.Close()
	deadline := testwait.Deadline(t)
	for {
		s := openStream(t, base+eventsPath, e.admin)
		if s.resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the place of a closed stream was not freed: %d", s.resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEventStreamShutdown: Shutdown ends the open streams at once rather
// than waiting for them.
func TestEventStreamShutdown(t *testing.T) {
	e := newCallEnv(t, "", nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.Serve(ln)
	s := openStream(t, "http://"+ln.Addr().String()+eventsPath, e.admin)
	s.next(t)
	// Shutdown waits for open handlers: it returns without error before
	// its deadline only if it ended the stream itself.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown did not end the open stream: %v", err)
	}
	for range s.msgs {
	}
}

// TestEventStreamTwoInstances: two servers on two handles of one
// PostgreSQL database; a call reported to one reaches a stream on the
// other.
func TestEventStreamTwoInstances(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	if dsn == "" {
		t.Skipf("%s not set", sqldbtest.EnvPostgres)
	}
	a := newCallEnv(t, dsn, nil)
	b := startCallEnv(t, &testEnv{t: t, db: sqldbtest.Open(t, dsn), logs: &syncBuffer{}, admin: a.admin, user: a.user}, nil)
	baseA, baseB := a.serve(t), b.serve(t)
	s := openStream(t, baseB+eventsPath, a.admin)
	s.next(t)
	for _, n := range []string{"2345", "03591%2012345", "anonymous"} {
		a.setCall(t, baseA, n)
	}
	for _, want := range []string{"2345", "03591 12345", "anonymous"} {
		if _, d := s.nextCall(t); d.Call.From.Raw != want {
			t.Fatalf("on the other instance: %q, want %q", d.Call.From.Raw, want)
		}
	}
	// And back: a reconnect to the first instance replays what the
	// second recorded.
	m, _ := s.nextCallAfter(t, func() { b.setCall(t, baseB, "4711") })
	s2 := openStream(t, baseA+eventsPath, a.admin, "Last-Event-ID", strconv.Itoa(mustAtoi(t, m.id)-1))
	s2.next(t)
	if _, d := s2.nextCall(t); d.Call.From.Raw != "4711" {
		t.Fatalf("replayed on the first instance: %q", d.Call.From.Raw)
	}
}

func (s *stream) nextCallAfter(t *testing.T, do func()) (sseMsg, callerid.EventData) {
	t.Helper()
	do()
	return s.nextCall(t)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
