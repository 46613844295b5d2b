package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipdesk"
)

// Script payloads that stored texts and numbers carry in these tests.
const (
	callXSSScript = `<script>alert(1)</script>`
	callXSSImg    = `"><img src=x onerror=alert(2)>`
	callXSSAttr   = `" onmouseover=alert(3) x="`
)

// callWorld is a server with caller-ID and a small plan: room 303 (phone
// 2345) and a room named with a payload (phone 2346), a host in each
// whose owners carry payloads, and a helpdesk user who sees everything and
// may change nothing.
type callWorld struct {
	*callEnv
	room, other int64
	host        ipdesk.Address
	helper      string // a helpdesk member's name; password123
}

func newCallWorld(t *testing.T, dsn string) *callWorld {
	t.Helper()
	return setUpCallWorld(t, newCallEnv(t, dsn, func(o *Options) { o.CallerID.Retention = 90 * 24 * time.Hour }))
}

// newCallWorldOn is newCallWorld on the database of base.
func newCallWorldOn(t *testing.T, base *testEnv) *callWorld {
	t.Helper()
	return setUpCallWorld(t, startCallEnv(t, base, func(o *Options) { o.CallerID.Retention = 90 * 24 * time.Hour }))
}

// setUpCallWorld stores the plan and the helpdesk user of a callWorld.
func setUpCallWorld(t *testing.T, e *callEnv) *callWorld {
	t.Helper()
	w := &callWorld{callEnv: e, helper: "helper"}
	sp := e.space("school")
	e.prefix(sp, "10.1.0.0/16", ipdesk.PrefixSubnet)
	var site, room, other ipdesk.Location
	e.must(201, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "site", "name": "Main"}, &site)
	e.must(201, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": "303", "parent_id": site.ID, "phones": []string{"2345"}}, &room)
	e.must(201, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": callXSSImg, "parent_id": site.ID, "phones": []string{"2346"}}, &other)
	w.room, w.other = room.ID, other.ID
	e.must(201, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.1.3.1", "hostname": "z303c1",
		"mac": "02:00:00:00:03:01", "location_id": room.ID, "owner": callXSSScript}, &w.host)
	e.must(201, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.1.3.2", "hostname": "z303c2",
		"location_id": other.ID, "owner": callXSSAttr, "phone": "4711"}, nil)
	e.makeUser(w.helper, false)
	h, err := e.db.FindUserByName(context.Background(), w.helper)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateGroup(context.Background(), &ipdesk.Group{Name: "helpdesk", Helpdesk: true, ViewAll: true, Members: []int64{h.ID}}); err != nil {
		t.Fatal(err)
	}
	return w
}

// ring reports a call with GET /set_call, as a PBX script does.
func (w *callWorld) ring(number string) *ipdesk.Call {
	w.t.Helper()
	r := w.from("192.0.2.10:1", "GET", "/set_call/"+url.PathEscape(number)+"?token="+pbxToken, "")
	if r.code != 200 {
		w.t.Fatalf("set_call %q: %d %s", number, r.code, r.body)
	}
	return w.lastCall()
}

// noPayload fails when a payload appears unescaped in a page.
func noPayload(t *testing.T, what string, body []byte) {
	t.Helper()
	// Escaped, the texts remain ("&#34; onmouseover=…" is harmless text);
	// a real tag or a quote that ends an attribute is not.
	for _, p := range []string{callXSSScript, callXSSImg, callXSSAttr, "<img src=x", `" onmouseover`} {
		if strings.Contains(string(body), p) {
			t.Fatalf("%s shows %q unescaped", what, p)
		}
	}
}

var callRowRE = regexp.MustCompile(`<tr id="call-\d+">`)

// TestCallPagesHelpdeskOnly: users without the helpdesk role get 403 on
// every call page and no popup on theirs; helpdesk users get both.
func TestCallPagesHelpdeskOnly(t *testing.T) {
	w := newCallWorld(t, "")
	c := w.ring("2345")
	unknown := w.ring("0351 99999")
	reader := w.login("reader", "password123")
	for _, p := range []string{"/calls", path("/calls/%d", c.ID), path("/calls/%d/assign", unknown.ID)} {
		if r := w.page(p, reader); r.code != http.StatusForbidden || !strings.Contains(string(r.body), "helpdesk") {
			t.Errorf("reader GET %s: %d", p, r.code)
		}
	}
	r := w.form("POST", path("/calls/%d/assign", unknown.ID), reader, url.Values{"target": {"location"}, "location_id": {fmt.Sprint(w.room)}})
	if r.code != http.StatusForbidden {
		t.Errorf("reader POST assign: %d", r.code)
	}
	for _, p := range []string{"/", "/hosts", "/locations"} {
		body := string(w.page(p, reader).body)
		if strings.Contains(body, "calls.") && strings.Contains(body, "/static/calls.") || strings.Contains(body, `id="call-card"`) ||
			strings.Contains(body, "data-helpdesk") || strings.Contains(body, `href="/calls"`) {
			t.Errorf("the reader's %s carries the call popup or menu", p)
		}
	}
	if body := string(w.page("/", reader).body); strings.Contains(body, "Recent calls") {
		t.Error("the reader's dashboard lists calls")
	}

	for _, name := range []string{"admin", w.helper} {
		ck := w.login(name, "password123")
		body := string(w.page("/hosts", ck).body)
		if !regexp.MustCompile(`<script src="/static/calls\.[0-9a-f]+\.js" defer>`).MatchString(body) || !strings.Contains(body, `id="call-card"`) ||
			!strings.Contains(body, `data-helpdesk="1"`) || !strings.Contains(body, `href="/calls"`) {
			t.Errorf("%s's hosts page lacks the call popup", name)
		}
		// Only who may change a room or host is offered "add this number".
		wantAssign := name == "admin"
		if got := strings.Contains(body, `data-can-assign="1"`); got != wantAssign {
			t.Errorf("%s: data-can-assign %v, want %v", name, got, wantAssign)
		}
		if r := w.page("/calls", ck); r.code != 200 || len(callRowRE.FindAll(r.body, -1)) != 2 {
			t.Errorf("%s GET /calls: %d, %d rows", name, r.code, len(callRowRE.FindAll(r.body, -1)))
		}
		if r := w.page("/", ck); !strings.Contains(string(r.body), "Recent calls") || !strings.Contains(string(r.body), path(`href="/calls/%d"`, c.ID)) {
			t.Errorf("%s's dashboard lacks the recent calls", name)
		}
	}
	// In German and Russian.
	ck := w.login("admin", "password123")
	for lang, want := range map[string]string{"de": "Anrufliste", "ru": "Журнал звонков"} {
		w.form("POST", "/language", ck, url.Values{"lang": {lang}, "back": {"/calls"}})
		body := string(w.page("/calls", ck).body)
		if !strings.Contains(body, want) || !strings.Contains(body, `data-state-ring="`) || strings.Contains(body, "[calls.") {
			t.Errorf("/calls in %s lacks %q or a text", lang, want)
		}
	}
	// The static script is served.
	if r := w.page(w.srv.assets.byName["calls.js"].path, nil); r.code != 200 || !strings.Contains(r.header.Get("Content-Type"), "javascript") {
		t.Fatalf("calls.js: %d %s", r.code, r.header.Get("Content-Type"))
	}
}

// TestCallLogPage: the log shows every call with its number as given and
// normalised, matches and state, escapes whatever the number and the
// stored names hold, and searches, filters and pages in the database.
func TestCallLogPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, base *testEnv) {
		w := newCallWorldOn(t, base)
		ck := w.login("admin", "password123")
		w.ring("2345")
		w.ring(callXSSScript)
		w.ring(callXSSImg)
		w.ring("2346")
		w.ring("+49 3591 99999")

		r := w.page("/calls", ck)
		if r.code != 200 {
			t.Fatalf("GET /calls: %d %s", r.code, r.body)
		}
		noPayload(t, "the call log", r.body)
		body := string(r.body)
		for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;", "Main &gt; 303", "&#43;49359199999", "z303c1",
			"Calls are kept for 90 days", `href="/hosts?location=` + fmt.Sprint(w.room) + `"`, "unknown number"} {
			if !strings.Contains(body, want) {
				t.Errorf("the call log lacks %q", want)
			}
		}
		if n := len(callRowRE.FindAll(r.body, -1)); n != 5 {
			t.Fatalf("%d rows, want 5", n)
		}

		for q, want := range map[string]int{
			"?q=z303c1":            1,
			"?q=99999":             1,
			"?q=" + callXSSImg[:6]: 2, // the number, and the room's name of the call from 2346
			"?match=none":          3,
			"?match=full":          2,
			"?state=ring":          5,
			"?state=missed":        0,
			"?since=2000-01-01":    5,
			"?until=2000-01-01":    0,
			"?q=main&match=full":   2,
		} {
			u, _ := url.Parse("/calls" + q)
			u.RawQuery = u.Query().Encode()
			r := w.page(u.String(), ck)
			if n := len(callRowRE.FindAll(r.body, -1)); r.code != 200 || n != want {
				t.Errorf("%s: %d, %d rows, want %d", q, r.code, n, want)
			}
			noPayload(t, "the call log "+q, r.body)
		}
		// Bad filters: the message beside the field, the value kept and
		// escaped, nothing listed.
		for q, field := range map[string]string{
			"?state=" + url.QueryEscape(callXSSImg):    "f-state",
			"?match=some":                              "f-match",
			"?since=" + url.QueryEscape(callXSSScript): "f-since",
			"?since=2026-03-02&until=2026-03-01":       "f-until",
			"?q=" + strings.Repeat("x", 201):           "f-q",
		} {
			r := w.page("/calls"+q, ck)
			if r.code != 400 || !strings.Contains(string(r.body), `aria-describedby="`+field+`-error"`) || !strings.Contains(string(r.body), `id="`+field+`-error" role="alert"`) {
				t.Errorf("%s: %d, no error beside %s", q, r.code, field)
			}
			noPayload(t, "the call log "+q, r.body)
		}

		// Paging: 50 a page, in the database.
		for i := range 50 {
			w.call(fmt.Sprintf("9%03d", i))
		}
		r = w.page("/calls", ck)
		if n := len(callRowRE.FindAll(r.body, -1)); n != 50 || !strings.Contains(string(r.body), `href="?offset=50" rel="next"`) {
			t.Fatalf("first page: %d rows", n)
		}
		r = w.page("/calls?offset=50", ck)
		if n := len(callRowRE.FindAll(r.body, -1)); n != 5 || !strings.Contains(string(r.body), `rel="prev"`) {
			t.Fatalf("second page: %d rows", n)
		}
		if r := w.page("/calls?offset=x", ck); r.code != 400 {
			t.Fatalf("bad offset: %d", r.code)
		}
	})
}

// TestCallPage: a call's page has its matches, hosts with links, the
// hosts table filtered to them and its event history; an unknown number
// offers to store it, and the form stores it with a room or a host, or
// says why not beside the field.
func TestCallPage(t *testing.T) {
	w := newCallWorld(t, "")
	ck := w.login("admin", "password123")
	c := w.ring("2345")
	r := w.page(path("/calls/%d", c.ID), ck)
	if r.code != 200 {
		t.Fatalf("call page: %d", r.code)
	}
	noPayload(t, "the call page", r.body)
	body := string(r.body)
	for _, want := range []string{"Main &gt; 303", path(`href="/hosts/%d"`, w.host.ID), "02:00:00:00:03:01", "z303c1", "&lt;script&gt;",
		path(`href="/hosts?location=%d"`, w.room), "192.0.2.10", "rings", "full number"} {
		if !strings.Contains(body, want) {
			t.Errorf("the call page lacks %q", want)
		}
	}
	if strings.Contains(body, `<form class="call-assign"`) {
		t.Error("a number that matched in full is offered for adding")
	}
	if r := w.page(path("/calls/%d/assign", c.ID), ck); r.code != 404 {
		t.Errorf("the form of a matched call: %d", r.code)
	}
	if r := w.page("/calls/999999", ck); r.code != 404 {
		t.Errorf("unknown call: %d", r.code)
	}

	// A person's phone matched: the link filters the hosts by it.
	p := w.ring("4711")
	if body := string(w.page(path("/calls/%d", p.ID), ck).body); !strings.Contains(body, `href="/hosts?q=4711"`) {
		t.Error("no link to the hosts with the person's phone")
	}

	// An unknown number: the form, in the page and alone.
	u := w.ring("0351 4711")
	r = w.page(path("/calls/%d", u.ID), ck)
	body = string(r.body)
	if !strings.Contains(body, path(`action="/calls/%d/assign"`, u.ID)) || !strings.Contains(body, "Main &gt; 303") || !strings.Contains(body, `data-phone="&#43;493514711"`) {
		t.Fatalf("the unknown call's page lacks the form:\n%s", body)
	}
	noPayload(t, "the form", r.body)
	frag := w.page(path("/calls/%d/assign", u.ID), ck)
	if frag.code != 200 || !strings.HasPrefix(strings.TrimSpace(string(frag.body)), `<form class="call-assign"`) || !strings.Contains(string(frag.body), `id="popup-`) {
		t.Fatalf("the form alone: %d %s", frag.code, frag.body)
	}

	post := func(v url.Values) *response {
		t.Helper()
		return w.form("POST", path("/calls/%d/assign", u.ID), ck, v)
	}
	// Bad input: beside the field, the value kept and escaped, nothing
	// stored.
	before, _ := w.db.FindLocationByID(context.Background(), w.room)
	for _, tt := range []struct {
		v     url.Values
		field string
		msg   string
	}{
		{url.Values{"target": {"location"}}, "location_id", "choose the room"},
		{url.Values{"target": {"location"}, "location_id": {"x"}}, "location_id", `location_id &#34;x&#34;`},
		{url.Values{"target": {"location"}, "location_id": {"999999"}}, "location_id", "no such location"},
		{url.Values{"target": {"host"}, "host": {callXSSScript}}, "host", "no host you may see"},
		{url.Values{"target": {"host"}, "host": {""}}, "host", "host is required"},
		{url.Values{"target": {"host"}, "host": {"10.1.9.9"}}, "host", "no host you may see"},
	} {
		r := post(tt.v)
		b := string(r.body)
		if r.code != 400 || !strings.Contains(b, `id="assign-`+fmt.Sprint(u.ID)+`-`+strings.TrimSuffix(tt.field, "_id")) ||
			!strings.Contains(b, tt.msg) || !strings.Contains(b, `aria-invalid="true"`) {
			t.Errorf("%v: %d; want the error %q beside %s", tt.v, r.code, tt.msg, tt.field)
		}
		noPayload(t, "the form's error", r.body)
	}
	if r := post(url.Values{"target": {"nowhere"}}); r.code != 400 || !strings.Contains(string(r.body), `target &#34;nowhere&#34;`) {
		t.Errorf("bad target: %d", r.code)
	}
	if after, _ := w.db.FindLocationByID(context.Background(), w.room); after.Version != before.Version {
		t.Fatal("a refused form changed the room")
	}

	// To a room: added once, the next call matches in full.
	r = post(url.Values{"target": {"location"}, "location_id": {fmt.Sprint(w.room)}})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != path("/calls/%d", u.ID) {
		t.Fatalf("assign to the room: %d %s", r.code, r.body)
	}
	l, _ := w.db.FindLocationByID(context.Background(), w.room)
	if len(l.Phones) != 2 || l.Phones[1] != "+493514711" {
		t.Fatalf("room phones %q", l.Phones)
	}
	flash := r.header.Get("Set-Cookie")
	if !strings.Contains(flash, flashCookie) {
		t.Fatalf("no flash: %q", flash)
	}
	post(url.Values{"target": {"location"}, "location_id": {fmt.Sprint(w.room)}})
	if l2, _ := w.db.FindLocationByID(context.Background(), w.room); len(l2.Phones) != 2 {
		t.Fatalf("added twice: %q", l2.Phones)
	}
	if next := w.ring("0351/4711"); next.Matches.Kind != ipdesk.MatchFull || next.Matches.Locations[0].ID != w.room {
		t.Fatalf("the next call: %+v", next.Matches)
	}

	// To a host, by its host name or IP address.
	u2 := w.ring("0351 5555")
	r = w.form("POST", path("/calls/%d/assign", u2.ID), ck, url.Values{"target": {"host"}, "host": {"Z303C1"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("assign to a host: %d %s", r.code, r.body)
	}
	if a, _ := w.db.FindAddressByID(context.Background(), w.host.ID); a.Phone != "+493515555" {
		t.Fatalf("host phone %q", a.Phone)
	}
	r = w.form("POST", path("/calls/%d/assign", u2.ID), ck, url.Values{"target": {"host"}, "host": {"10.1.3.2"}})
	if r.code != http.StatusSeeOther {
		t.Fatalf("assign to a host by IP: %d %s", r.code, r.body)
	}

	// A helpdesk user who may change nothing sees no form, and forced
	// POSTs are refused.
	hk := w.login(w.helper, "password123")
	if body := string(w.page(path("/calls/%d", u2.ID), hk).body); strings.Contains(body, `<form class="call-assign"`) {
		t.Error("a helpdesk user without edit rights is offered the form")
	}
	if r := w.page(path("/calls/%d/assign", u2.ID), hk); r.code != 404 {
		t.Errorf("the form alone for a user without edit rights: %d", r.code)
	}
	l, _ = w.db.FindLocationByID(context.Background(), w.room)
	a, _ := w.db.FindAddressByID(context.Background(), w.host.ID)
	for _, v := range []url.Values{
		{"target": {"location"}, "location_id": {fmt.Sprint(w.room)}},
		{"target": {"host"}, "host": {"z303c1"}},
	} {
		if r := w.form("POST", path("/calls/%d/assign", u2.ID), hk, v); r.code != http.StatusForbidden {
			t.Errorf("forced POST %v by the helpdesk user: %d", v, r.code)
		}
	}
	l2, _ := w.db.FindLocationByID(context.Background(), w.room)
	a2, _ := w.db.FindAddressByID(context.Background(), w.host.ID)
	if l2.Version != l.Version || a2.Version != a.Version {
		t.Fatal("a forced POST changed the room or the host")
	}
}

// TestEventStreamHelpdeskMember: a member of a helpdesk group who is no
// administrator opens the call stream (the popup's); a user without the
// role may not.
func TestEventStreamHelpdeskMember(t *testing.T) {
	w := newCallWorld(t, "")
	base := w.serve(t)
	token, _, err := w.db.CreateToken(context.Background(), mustUser(t, w.testEnv, w.helper).ID, "stream")
	if err != nil {
		t.Fatal(err)
	}
	s := openStream(t, base+eventsPath+"?topics=calls", token)
	if s.resp.StatusCode != 200 {
		t.Fatalf("helpdesk member: %d", s.resp.StatusCode)
	}
	s.next(t)
	w.setCall(t, base, "2345")
	if _, d := s.nextCall(t); d.Call.From.Raw != "2345" {
		t.Fatalf("call %q", d.Call.From.Raw)
	}
	// A plain user may follow the rooms (every user sees them), not the
	// calls.
	if s := openStream(t, base+eventsPath+"?topics=calls", w.user); s.resp.StatusCode != 403 {
		t.Fatalf("plain user asking for the calls: %d", s.resp.StatusCode)
	}
	if s := openStream(t, base+eventsPath+"?topics=rooms", w.user); s.resp.StatusCode != 200 {
		t.Fatalf("plain user asking for the rooms: %d", s.resp.StatusCode)
	}
}

func mustUser(t *testing.T, e *testEnv, name string) *ipdesk.User {
	t.Helper()
	u, err := e.db.FindUserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
