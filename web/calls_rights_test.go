package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ipdesk"
)

// narrowWorld is a callWorld with a second address space, "secret", that
// holds the computer of the headmaster in room 303 (phone 5555), and a
// helpdesk user "narrow" who sees the space school but not the space
// secret, and no location.
type narrowWorld struct {
	*callWorld
	secretHost  ipdesk.Address
	narrowToken string
	narrow      *http.Cookie
	admin       *http.Cookie
}

// Texts of the secret host that the narrow user must never see. Its
// owner is the person of a call to its phone, shown as such; a call to
// its room does not name the owner.
var secretTexts = []string{"ceo-pc", "10.7.0.5", "02:00:00:00:07:77"}

func newNarrowWorld(t *testing.T, mod func(o *Options)) *narrowWorld {
	t.Helper()
	e := newCallEnv(t, "", func(o *Options) {
		o.CallerID.Retention = 90 * 24 * time.Hour
		if mod != nil {
			mod(o)
		}
	})
	w := &narrowWorld{callWorld: setUpCallWorld(t, e)}
	secret := e.space("secret")
	e.prefix(secret, "10.7.0.0/24", ipdesk.PrefixSubnet)
	e.must(201, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": secret, "address": "10.7.0.5", "hostname": "ceo-pc",
		"mac": "02:00:00:00:07:77", "location_id": w.room, "owner": "Secret Owner", "phone": "5555"}, &w.secretHost)
	w.narrowToken = e.makeUser("narrow", false)
	n := mustUser(t, e.testEnv, "narrow")
	var g ipdesk.Group
	e.must(201, "POST", "/api/v1/groups", e.admin, map[string]any{"name": "narrow-helpdesk", "members": []int64{n.ID}, "helpdesk": true}, &g)
	var list struct {
		Results []ipdesk.Space `json:"results"`
	}
	e.must(200, "GET", "/api/v1/spaces?name=school", e.admin, nil, &list)
	e.must(201, "POST", "/api/v1/grants", e.admin, map[string]any{"group_id": g.ID, "object_type": "space", "object_id": list.Results[0].ID, "right": "view"}, nil)
	w.narrow = e.login("narrow", "password123")
	w.admin = e.login("admin", "password123")
	return w
}

// noSecret fails when body shows a text of the secret host.
func noSecret(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, s := range secretTexts {
		if strings.Contains(string(body), s) {
			t.Errorf("%s shows %q", what, s)
		}
	}
}

// TestCallMatchesNarrowed: a helpdesk user who may not see a host learns
// of a call that matched it the room and the person, not the host:
// neither in the API, the search, the call log, the call's page nor the
// live popup; and the pages link only where the user may go.
func TestCallMatchesNarrowed(t *testing.T) {
	w := newNarrowWorld(t, nil)
	byPhone := w.ring("5555") // the secret host's own phone
	byRoom := w.ring("2345")  // room 303: a school host and the secret one

	// The API.
	var c callDetail
	r := w.do("GET", path("/api/v1/calls/%d", byPhone.ID), w.narrowToken, nil)
	noSecret(t, "GET /api/v1/calls/{id} by phone", r.body)
	json.Unmarshal(r.body, &c)
	if len(c.Matches.Hosts) != 0 || c.Matches.HostsTotal != 0 || len(c.Matches.People) != 1 || c.Matches.People[0].Name != "Secret Owner" {
		t.Errorf("narrow user's matches of the secret phone: %+v", c.Matches)
	}
	if len(c.Matches.Locations) != 1 || c.Matches.Locations[0].ID != w.room {
		t.Errorf("narrow user does not see the room: %+v", c.Matches.Locations)
	}
	r = w.do("GET", path("/api/v1/calls/%d", byRoom.ID), w.narrowToken, nil)
	noSecret(t, "GET /api/v1/calls/{id} by room", r.body)
	if strings.Contains(string(r.body), "Secret Owner") {
		t.Errorf("GET /api/v1/calls/{id} by room names the secret host's owner")
	}
	json.Unmarshal(r.body, &c)
	if len(c.Matches.Hosts) != 1 || c.Matches.Hosts[0].Hostname != "z303c1" || c.Matches.HostsTotal != 1 {
		t.Errorf("narrow user's hosts of room 303: %+v (total %d)", c.Matches.Hosts, c.Matches.HostsTotal)
	}
	w.must(200, "GET", path("/api/v1/calls/%d", byRoom.ID), w.testEnv.admin, nil, &c)
	if len(c.Matches.Hosts) != 2 {
		t.Errorf("the administrator's hosts of room 303: %+v", c.Matches.Hosts)
	}
	r = w.do("GET", "/api/v1/calls", w.narrowToken, nil)
	noSecret(t, "GET /api/v1/calls", r.body)

	// The search finds no call by what the user may not see.
	for _, q := range []string{"ceo-pc", "10.7.0.5", "02:00:00:00:07:77"} {
		var l struct {
			Count int `json:"count"`
		}
		w.must(200, "GET", "/api/v1/calls?q="+url.QueryEscape(q), w.narrowToken, nil, &l)
		if l.Count != 0 {
			t.Errorf("narrow user's search %q finds %d calls", q, l.Count)
		}
		w.must(200, "GET", "/api/v1/calls?q="+url.QueryEscape(q), w.testEnv.admin, nil, &l)
		if l.Count == 0 {
			t.Errorf("the administrator's search %q finds nothing", q)
		}
		if p := w.page("/calls?q="+url.QueryEscape(q), w.narrow); p.code != 200 || len(callRowRE.FindAll(p.body, -1)) != 0 {
			t.Errorf("narrow user's /calls?q=%s: %d, %d rows", q, p.code, len(callRowRE.FindAll(p.body, -1)))
		}
	}
	var l struct {
		Count   int            `json:"count"`
		Results []*ipdesk.Call `json:"results"`
	}
	w.must(200, "GET", "/api/v1/calls?q=z303c1&limit=1", w.narrowToken, nil, &l)
	if l.Count != 1 || len(l.Results) != 1 || l.Results[0].ID != byRoom.ID {
		t.Errorf("narrow user's search for a host it sees: %d calls %+v", l.Count, l.Results)
	}

	// The pages.
	for _, p := range []string{"/calls", path("/calls/%d", byPhone.ID), path("/calls/%d", byRoom.ID), "/"} {
		r := w.page(p, w.narrow)
		if r.code != 200 {
			t.Fatalf("narrow user GET %s: %d", p, r.code)
		}
		noSecret(t, "narrow user's "+p, r.body)
		if strings.Contains(string(r.body), path(`href="/hosts/%d"`, w.secretHost.ID)) {
			t.Errorf("narrow user's %s links the secret host", p)
		}
	}
	// The room links where the user may go: the occupancy page of the
	// room, not the location the user may not see.
	body := string(w.page(path("/calls/%d", byRoom.ID), w.narrow).body)
	if strings.Contains(body, path(`href="/locations/%d"`, w.room)) || !strings.Contains(body, path(`href="/rooms/%d"`, w.room)) {
		t.Errorf("narrow user's call page links the room wrongly")
	}
	if r := w.page(path("/rooms/%d", w.room), w.narrow); r.code != 200 {
		t.Errorf("narrow user follows the room's link: %d", r.code)
	}
	body = string(w.page(path("/calls/%d", byRoom.ID), w.admin).body)
	if !strings.Contains(body, path(`href="/locations/%d"`, w.room)) || !strings.Contains(body, "ceo-pc") {
		t.Errorf("the administrator's call page lacks the location link or the host")
	}

	// The live popup's events.
	base := w.serve(t)
	narrow := openStream(t, base+eventsPath+"?topics=calls", w.narrowToken)
	admin := openStream(t, base+eventsPath+"?topics=calls", w.testEnv.admin)
	narrow.next(t)
	admin.next(t)
	w.setCall(t, base, "2345")
	m, d := narrow.nextCall(t)
	noSecret(t, "narrow user's live event", []byte(m.data))
	if len(d.Call.Matches.Hosts) != 1 || len(d.Call.Matches.Locations) != 1 {
		t.Errorf("narrow user's live matches: %+v", d.Call.Matches)
	}
	if m, _ := admin.nextCall(t); !strings.Contains(m.data, "ceo-pc") {
		t.Errorf("the administrator's live event lacks the secret host")
	}
}

// TestEventStreamEndsAtOnce: disabling a user, signing a session out and
// a password change end the open streams at once, not at the next
// heartbeat (here never).
func TestEventStreamEndsAtOnce(t *testing.T) {
	w := newNarrowWorld(t, func(o *Options) { o.Heartbeat = time.Hour })
	base := w.serve(t)
	ended := func(s *stream, what string) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case _, open := <-s.msgs:
				if !open {
					return
				}
			case <-deadline:
				t.Fatalf("%s: the stream stayed open", what)
			}
		}
	}
	cookieHeader := func(c *http.Cookie) []string { return []string{"Cookie", c.String()} }

	// Signing out ends the session's stream, not the user's others.
	other := w.login("narrow", "password123")
	s1 := openStream(t, base+eventsPath, "", cookieHeader(w.narrow)...)
	s2 := openStream(t, base+eventsPath, "", cookieHeader(other)...)
	s1.next(t)
	s2.next(t)
	if r := w.form("POST", "/logout", w.narrow, nil); r.code != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.code)
	}
	ended(s1, "signed out")
	w.setCall(t, base, "2345")
	if _, d := s2.nextCall(t); d.Call == nil {
		t.Fatal("the other session's stream lost the call")
	}

	// A password set by an administrator ends the sessions' streams.
	n := mustUser(t, w.testEnv, "narrow")
	w.must(204, "POST", path("/api/v1/users/%d/password", n.ID), w.testEnv.admin, map[string]any{"password": "another-password-1"}, nil)
	ended(s2, "password set")

	// Disabling the user ends its token's stream.
	s3 := openStream(t, base+eventsPath, w.narrowToken)
	s3.next(t)
	w.must(200, "PATCH", path("/api/v1/users/%d", n.ID), w.testEnv.admin, map[string]any{"disabled": true}, nil)
	ended(s3, "disabled")
}

// TestEventStreamNoCallCount: a user without the helpdesk role does not
// learn from the stream's ids how many call events there were.
func TestEventStreamNoCallCount(t *testing.T) {
	w := newNarrowWorld(t, nil)
	for range 3 {
		w.ring("2345")
	}
	base := w.serve(t)
	for _, headers := range [][]string{nil, {"Last-Event-ID", "1"}} {
		s := openStream(t, base+eventsPath, w.user, headers...)
		if s.resp.StatusCode != 200 {
			t.Fatalf("plain user's stream: %d", s.resp.StatusCode)
		}
		ready := s.next(t)
		if ready.event != "ready" || ready.id != "0" || !strings.Contains(ready.data, `"cursor":0`) {
			t.Errorf("plain user's ready (%v): %+v", headers, ready)
		}
	}
	// The helpdesk's stream counts on.
	s := openStream(t, base+eventsPath, w.narrowToken)
	if ready := s.next(t); ready.id == "0" {
		t.Errorf("helpdesk ready: %+v", ready)
	}
}
