package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipdesk"
)

// roomsWorld is the seeded timetable (see seedTimetable) on the fake
// Monday 09:00 (period 2) with a teacher who may override room 303 and a
// pupil in no group, besides the admin and the reader (view_all).
type roomsWorld struct {
	*timetableEnv
	r303, r316 int64
	cookies    map[string]*http.Cookie
}

func newRoomsWorld(t *testing.T, e *timetableEnv) *roomsWorld {
	t.Helper()
	w := &roomsWorld{timetableEnv: e, cookies: map[string]*http.Cookie{}}
	w.r303 = seedTimetable(t, e.testEnv)
	w.r316 = e.roomByName("=316")
	e.makeUser("teacher", false)
	e.makeUser("pupil", false)
	teacher, err := e.db.FindUserByName(context.Background(), "teacher")
	if err != nil {
		t.Fatal(err)
	}
	var g ipdesk.Group
	e.must(http.StatusCreated, "POST", "/api/v1/groups", e.admin, map[string]any{"name": "teachers 303", "members": []int64{teacher.ID}}, &g)
	e.must(http.StatusCreated, "POST", "/api/v1/grants", e.admin, map[string]any{"group_id": g.ID, "object_type": "location", "object_id": w.r303, "right": "override"}, nil)
	for _, u := range []string{"admin", "reader", "teacher", "pupil"} {
		w.cookies[u] = e.login(u, "password123")
	}
	return w
}

// get fetches a page as user and checks the status.
func (w *roomsWorld) get(t *testing.T, user, target string, want int, headers ...string) string {
	t.Helper()
	r := w.page(target, w.cookies[user], headers...)
	if r.code != want {
		t.Fatalf("%s GET %s: %d, want %d: %.600s", user, target, r.code, want, r.body)
	}
	return string(r.body)
}

// post sends a form as user and checks the status.
func (w *roomsWorld) post(t *testing.T, user, target string, v url.Values, want int) *response {
	t.Helper()
	r := w.form("POST", target, w.cookies[user], v)
	if r.code != want {
		t.Fatalf("%s POST %s %v: %d, want %d: %.600s", user, target, v, r.code, want, r.body)
	}
	return r
}

// key is the name of a room's period in the override form.
func key(room int64, period int) string {
	return strconv.FormatInt(room, 10) + ":" + strconv.Itoa(period)
}

var cellRE = regexp.MustCompile(`<td class="cell ([^"]*)"( aria-current="time")?\s+data-key="([0-9]+:[0-9]+)"`)

// daySection returns the part of a page with the day's grid.
func daySection(t *testing.T, body, day string) string {
	t.Helper()
	i := strings.Index(body, `data-day="`+day+`"`)
	if i < 0 {
		i = strings.Index(body, `data-grid-day="`+day+`"`)
	}
	if i < 0 {
		t.Fatalf("no grid of %s in %.300s", day, body)
	}
	rest := body[i+1:]
	if j := strings.Index(rest, `<section class="day`); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// dayCells returns the classes of the cells of the day's grid by key; a
// current cell has " aria-current" added.
func dayCells(t *testing.T, body, day string) map[string]string {
	t.Helper()
	i := strings.Index(body, `data-grid-day="`+day+`"`)
	if i < 0 {
		t.Fatalf("no grid of %s in %.300s", day, body)
	}
	rest := body[i+1:]
	if j := strings.Index(rest, `data-grid-day="`); j >= 0 {
		rest = rest[:j]
	}
	out := map[string]string{}
	for _, m := range cellRE.FindAllStringSubmatch(rest, -1) {
		out[m[3]] = m[1]
		if m[2] != "" {
			out[m[3]] += " aria-current"
		}
	}
	return out
}

// cellHTML returns the HTML of the cell k of the day's grid.
func cellHTML(t *testing.T, body, day, k string) string {
	t.Helper()
	rest := body[strings.Index(body, `data-grid-day="`+day+`"`)+1:]
	i := strings.Index(rest, `data-key="`+k+`"`)
	if i < 0 {
		t.Fatalf("no cell %s on %s", k, day)
	}
	rest = rest[i:]
	if j := strings.Index(rest, "</td>"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// has tells whether the classes cs contain every one of want.
func has(cs string, want ...string) bool {
	f := strings.Fields(cs)
	for _, w := range want {
		found := false
		for _, c := range f {
			found = found || c == w
		}
		if !found {
			return false
		}
	}
	return true
}

// overrides returns the stored overrides of a room.
func (w *roomsWorld) overrides(t *testing.T, room int64) []*ipdesk.Override {
	t.Helper()
	os, _, err := w.db.FindOverrides(context.Background(), ipdesk.OverrideFilter{RoomID: &room})
	if err != nil {
		t.Fatal(err)
	}
	return os
}

// state returns a room's state from the API.
func (w *roomsWorld) state(t *testing.T, room int64) ipdesk.RoomState {
	t.Helper()
	var st ipdesk.RoomState
	w.must(http.StatusOK, "GET", path("/api/v1/rooms/%d/state", room), w.user, nil, &st)
	return st
}

// TestRoomsGrid: at a fixed clock the occupancy view marks the current
// period (in words and with aria-current, not by colour alone), greys the
// past ones, shows lessons, blocked cells and the override, each room's
// state with its reason in the reader's language and the time it is
// valid until; and it moves on with the clock.
func TestRoomsGrid(t *testing.T) {
	w := newRoomsWorld(t, newTimetableEnv(t, t.TempDir()+"/t.db"))
	body := w.get(t, "reader", "/rooms", http.StatusOK)
	mon := dayCells(t, body, "2026-03-02")
	for k, want := range map[string][]string{
		key(w.r303, 1): {"open", "past"},
		key(w.r303, 2): {"blocked", "current", "aria-current"},
		key(w.r303, 3): {"blocked"},
		key(w.r303, 4): {"blocked", "flipped"},
		key(w.r316, 1): {"open", "past"},
		key(w.r316, 2): {"open", "current", "aria-current"},
		key(w.r316, 4): {"open"},
	} {
		if !has(mon[k], want...) {
			t.Errorf("Monday cell %s has classes %q, want %v", k, mon[k], want)
		}
	}
	if has(mon[key(w.r303, 3)], "past") || has(mon[key(w.r303, 3)], "current") || has(mon[key(w.r303, 2)], "past") {
		t.Errorf("periods 2 and 3: %q %q", mon[key(w.r303, 2)], mon[key(w.r303, 3)])
	}
	for _, want := range []string{
		`<span class="course">Maths</span>`, `<span class="teacher">Müller</span>`,
		`lesson in period 2: Maths (Müller)`, `<td>09:35</td>`, // 303 opens in the break
		`<span class="tag current-tag">now</span>`, `<span class="tag flip-tag">override</span>`,
		`Holiday: Closed day`, `As of Monday 2026-03-02 09:00:00`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the occupancy view lacks %q", want)
		}
	}
	// Tuesday is a closed day: the lesson-free plan, nothing current.
	for k, cs := range dayCells(t, body, "2026-03-03") {
		if !has(cs, "open") || has(cs, "current") || has(cs, "past") {
			t.Errorf("Tuesday cell %s: %q", k, cs)
		}
	}

	// In German, from the reason codes.
	de := w.get(t, "reader", "/rooms", http.StatusOK, "Accept-Language", "de")
	for _, want := range []string{"Raumbelegung", "Unterricht in der 2. Stunde: Maths (Müller)", "Gesperrt", "Montag"} {
		if !strings.Contains(de, want) {
			t.Errorf("the German view lacks %q", want)
		}
	}

	// In the break after period 3 everything is open; period 3 is over.
	w.clock.Set(time.Date(2026, 3, 2, 10, 42, 0, 0, berlin))
	body = w.get(t, "reader", "/rooms/grid", http.StatusOK)
	if strings.Contains(body, "<html") || !strings.Contains(body, `id="rooms-grid"`) {
		t.Fatalf("the grid fragment is not the grid alone: %.200s", body)
	}
	mon = dayCells(t, body, "2026-03-02")
	if !has(mon[key(w.r303, 3)], "past", "blocked") || strings.Contains(body, `aria-current="time"`) {
		t.Errorf("at 10:42 period 3 is %q; a cell is current: %v", mon[key(w.r303, 3)], strings.Contains(body, `aria-current="time"`))
	}
	if !strings.Contains(body, ">break<") {
		t.Errorf("at 10:42 the rooms are not in the break")
	}

	// Other days and filters; bad ones name the parameter.
	body = w.get(t, "reader", "/rooms?date=2026-03-09&days=1", http.StatusOK)
	if !strings.Contains(body, `data-grid-day="2026-03-09"`) || strings.Contains(body, `data-grid-day="2026-03-10"`) {
		t.Errorf("date=2026-03-09&days=1 shows other days")
	}
	if body := w.get(t, "reader", "/rooms?days=99", http.StatusOK); !strings.Contains(body, `days &#34;99&#34; is not a number of days from 1 to 14`) {
		t.Errorf("days=99: no message")
	}
	var site ipdesk.Location
	w.must(http.StatusCreated, "POST", "/api/v1/locations", w.admin, map[string]any{"kind": "site", "name": "Elsewhere"}, &site)
	body = w.get(t, "reader", "/rooms?in="+strconv.FormatInt(site.ID, 10), http.StatusOK)
	if strings.Contains(body, `data-key="`) {
		t.Errorf("a site without rooms shows rooms")
	}
}

// TestRoomsOverrideRights: the teacher with the override right for room
// 303 gets the checkboxes and buttons of 303 only; the reader and a user
// in no group get none, and their forced forms are refused with 403 and
// change nothing; the teacher's form flips the ticked periods, keeps the
// override that is still ticked and leaves the past alone.
func TestRoomsOverrideRights(t *testing.T) {
	eachTimetableBackend(t, func(t *testing.T, e *timetableEnv) {
		w := newRoomsWorld(t, e)
		page := w.get(t, "teacher", "/rooms", http.StatusOK)
		body := daySection(t, page, "2026-03-02")
		for _, want := range []string{`value="` + key(w.r303, 2) + `"`, `value="` + key(w.r303, 3) + `"`, `value="` + key(w.r303, 4) + `" checked`} {
			if !strings.Contains(body, want) {
				t.Errorf("the teacher's Monday lacks %q", want)
			}
		}
		for _, not := range []string{`value="` + key(w.r303, 1) + `"`, `value="` + key(w.r316, 2) + `"`} {
			if strings.Contains(body, not) {
				t.Errorf("the teacher's Monday has %q (a past period, or room 316)", not)
			}
		}
		if !strings.Contains(page, `action="/rooms/`+strconv.FormatInt(w.r303, 10)+`/now"`) || !strings.Contains(page, "Open until 10:40") ||
			strings.Contains(page, `action="/rooms/`+strconv.FormatInt(w.r316, 10)+`/now"`) {
			t.Errorf("the teacher's buttons are not those of room 303 alone")
		}
		for _, u := range []string{"reader", "pupil"} {
			body := w.get(t, u, "/rooms", http.StatusOK)
			if strings.Contains(body, `name="flip"`) || strings.Contains(body, `/now"`) || strings.Contains(body, `action="/rooms/overrides"`) {
				t.Errorf("%s sees override controls", u)
			}
			room := w.get(t, u, path("/rooms/%d", w.r303), http.StatusOK)
			if strings.Contains(room, `name="flip"`) || strings.Contains(room, `id="now-form"`) || strings.Contains(room, `action="/rooms/`+strconv.FormatInt(w.r303, 10)+`/policy"`) {
				t.Errorf("%s sees controls on the room's page", u)
			}
		}

		before := w.overrides(t, w.r303)
		form := url.Values{"date": {"2026-03-02"}, "room": {strconv.FormatInt(w.r303, 10)}, "flip": {key(w.r303, 3)}}
		// Both see the room in the occupancy view and are refused with
		// 403.
		for u, status := range map[string]int{"reader": http.StatusForbidden, "pupil": http.StatusForbidden} {
			w.post(t, u, "/rooms/overrides", form, status)
			w.post(t, u, path("/rooms/%d/now", w.r303), url.Values{"blocked": {"0"}}, status)
			w.post(t, u, path("/rooms/%d/now/end", w.r303), nil, status)
			w.post(t, u, path("/rooms/%d/overrides/%d/delete", w.r303, before[0].ID), nil, status)
			w.post(t, u, path("/rooms/%d/policy", w.r303), url.Values{"policy": {"never"}}, status)
		}
		// The teacher may not override room 316, not even alongside 303.
		w.post(t, "teacher", "/rooms/overrides", url.Values{"date": {"2026-03-02"}, "room": {strconv.FormatInt(w.r303, 10), strconv.FormatInt(w.r316, 10)}, "flip": {key(w.r316, 3)}}, http.StatusForbidden)
		if after := w.overrides(t, w.r303); len(after) != len(before) || after[0].ID != before[0].ID {
			t.Fatalf("refused forms changed the overrides: %v", after)
		}

		// The teacher opens periods 2 (now) and 3, keeps 4 and ticks the
		// past period 1, which stays as it is.
		r := w.post(t, "teacher", "/rooms/overrides", url.Values{"date": {"2026-03-02"}, "room": {strconv.FormatInt(w.r303, 10)},
			"flip": {key(w.r303, 1), key(w.r303, 2), key(w.r303, 3), key(w.r303, 4)}, "reason": {"project week"},
			"back": {"/rooms?days=2"}}, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/rooms?days=2" {
			t.Errorf("after saving: Location %q", loc)
		}
		got := w.overrides(t, w.r303)
		if len(got) != 3 || got[0].Period != 2 || got[0].Blocked || got[0].Reason != "project week" || got[0].CreatedBy != "teacher" ||
			got[1].Period != 3 || got[1].Blocked || got[2].ID != before[0].ID || got[2].Reason != "exam" {
			t.Fatalf("overrides after the teacher's form: %+v", got)
		}
		if st := w.state(t, w.r303); st.Blocked || st.Reason != ipdesk.ReasonOverride || st.SetBy != "teacher" {
			t.Errorf("room 303 after opening period 2: %+v", st)
		}
		mon := dayCells(t, w.get(t, "reader", "/rooms", http.StatusOK), "2026-03-02")
		if !has(mon[key(w.r303, 2)], "open", "flipped", "current") {
			t.Errorf("period 2 of 303 after the form: %q", mon[key(w.r303, 2)])
		}
		// A flip of a room the form does not name is bad input.
		w.post(t, "teacher", "/rooms/overrides", url.Values{"date": {"2026-03-02"}, "room": {strconv.FormatInt(w.r303, 10)}, "flip": {key(w.r316, 2)}}, http.StatusBadRequest)
		// Nothing ticked: the timetable decides again.
		w.post(t, "teacher", "/rooms/overrides", url.Values{"date": {"2026-03-02"}, "room": {strconv.FormatInt(w.r303, 10)}}, http.StatusSeeOther)
		if got := w.overrides(t, w.r303); len(got) != 0 {
			t.Fatalf("overrides after unticking all: %+v", got)
		}
		if st := w.state(t, w.r303); !st.Blocked || st.Reason != ipdesk.ReasonLesson {
			t.Errorf("room 303 after unticking: %+v", st)
		}
	})
}

// TestRoomsNow: "open now" without a time lasts to the end of the
// lesson; ending it gives the room back to the timetable; a bad time is
// shown beside its field with what was typed.
func TestRoomsNow(t *testing.T) {
	w := newRoomsWorld(t, newTimetableEnv(t, t.TempDir()+"/t.db"))
	room := strconv.FormatInt(w.r303, 10)
	w.post(t, "teacher", "/rooms/"+room+"/now", url.Values{"blocked": {"0"}, "back": {"/rooms"}}, http.StatusSeeOther)
	// Open until the lesson's end at 10:40, and then in the break until
	// period 4, which an override blocks.
	st := w.state(t, w.r303)
	if st.Blocked || st.Reason != ipdesk.ReasonNow || st.ValidUntil == nil || !st.ValidUntil.Equal(time.Date(2026, 3, 2, 10, 45, 0, 0, berlin)) {
		t.Fatalf("after open now: %+v", st)
	}
	if ns, _ := w.db.FindNowOverrides(context.Background(), monday0900); len(ns) != 1 || !ns[0].Until.Equal(time.Date(2026, 3, 2, 10, 40, 0, 0, berlin)) {
		t.Fatalf("the now override: %+v", ns)
	}
	body := w.get(t, "teacher", "/rooms/"+room, http.StatusOK)
	if !strings.Contains(body, "Opened by hand until 10:40, by teacher.") || !strings.Contains(body, `action="/rooms/`+room+`/now/end"`) {
		t.Errorf("the room's page does not show the now override")
	}
	// The cells of the periods the override opens say open, on green,
	// with the mark of the "now" override, on the occupancy view and on
	// the room's page; period 4 stays blocked by its override.
	for _, page := range []string{"/rooms", "/rooms/" + room} {
		body := w.get(t, "teacher", page, http.StatusOK)
		cells := dayCells(t, body, "2026-03-02")
		if c := cells[key(w.r303, 2)]; !has(c, "open", "current", "aria-current") || has(c, "blocked") {
			t.Errorf("%s: the current period of the opened room is %q", page, c)
		}
		if c := cells[key(w.r303, 3)]; !has(c, "open") || has(c, "blocked") {
			t.Errorf("%s: period 3, opened until 10:40, is %q", page, c)
		}
		for _, p := range []int{2, 3} {
			if cell := cellHTML(t, body, "2026-03-02", key(w.r303, p)); !strings.Contains(cell, `<span class="st">open</span>`) || !strings.Contains(cell, "opened now") {
				t.Errorf("%s: the cell of period %d says %s", page, p, cell)
			}
		}
	}
	w.post(t, "teacher", "/rooms/"+room+"/now/end", nil, http.StatusSeeOther)
	if st := w.state(t, w.r303); !st.Blocked || st.Reason != ipdesk.ReasonLesson {
		t.Errorf("after ending: %+v", st)
	}
	r := w.post(t, "teacher", "/rooms/"+room+"/now", url.Values{"blocked": {"1"}, "until": {"25:99"}}, http.StatusBadRequest)
	if b := string(r.body); !strings.Contains(b, `id="now-until-error"`) || !strings.Contains(b, `value="25:99"`) || !strings.Contains(b, `aria-invalid="true"`) {
		t.Errorf("a bad time is not shown beside its field: %.2000s", b)
	}
}

// xss are the script payloads stored in every text field.
var xss = []string{`"><script>alert(1)</script>`, `" onmouseover=x`}

// noXSS fails when a payload appears unescaped in body.
func noXSS(t *testing.T, what, body string) {
	t.Helper()
	for _, p := range append(xss, "<script>alert(1)</script>") {
		if strings.Contains(body, p) {
			t.Errorf("%s: the payload %q appears unescaped", what, p)
		}
	}
}

// TestRoomsXSS: room names, courses, teachers, reasons, actors and
// logbook errors holding script stay text on every timetable page, on
// normal and error paths.
func TestRoomsXSS(t *testing.T) {
	w := newRoomsWorld(t, newTimetableEnv(t, t.TempDir()+"/t.db"))
	ctx := context.Background()
	var bad ipdesk.Location
	parent, _ := w.db.FindLocationByID(ctx, w.r303)
	w.must(http.StatusCreated, "POST", "/api/v1/locations", w.admin, map[string]any{"kind": "room", "name": xss[0], "parent_id": parent.ParentID}, &bad)
	w.must(http.StatusCreated, "POST", "/api/v1/lessons", w.admin, map[string]any{"room_id": bad.ID, "date": "2026-03-02", "period": 3, "course": xss[1], "teacher": xss[0]}, nil)
	w.must(http.StatusCreated, "POST", path("/api/v1/rooms/%d/overrides", bad.ID), w.admin, map[string]any{"date": "2026-03-02", "period": 4, "reason": xss[0]}, nil)
	w.must(http.StatusOK, "POST", path("/api/v1/rooms/%d/now", bad.ID), w.admin, map[string]any{"blocked": true, "reason": xss[1]}, nil)
	w.must(http.StatusOK, "PUT", path("/api/v1/rooms/%d/policy", w.r316), w.admin, map[string]any{"policy": "always", "reason": xss[0]}, nil)
	w.must(http.StatusCreated, "POST", "/api/v1/holidays", w.admin, map[string]any{"name": xss[1], "first": "2026-03-04"}, nil)
	if err := w.db.RecordLogEntry(ctx, &ipdesk.LogEntry{Time: monday0900, Actor: "timetable", Blocked: []ipdesk.LogRoom{{ID: bad.ID, Name: xss[0]}},
		Error: xss[0] + "\nsecond line"}); err != nil {
		t.Fatal(err)
	}
	pages := []string{"/rooms", "/rooms/grid", path("/rooms/%d", bad.ID), path("/rooms/%d", w.r316), "/rooms/logbook", "/rooms/lessons?from=2026-03-01",
		"/rooms/periods", "/", "/rooms/logbook?room=" + strconv.FormatInt(bad.ID, 10)}
	for _, u := range []string{"admin", "reader"} {
		for _, p := range pages {
			noXSS(t, u+" "+p, w.get(t, u, p, http.StatusOK))
		}
	}
	// Error paths: the payload typed into a form comes back escaped.
	badReason := xss[0] + "\tx"
	r := w.post(t, "admin", "/rooms/overrides", url.Values{"date": {"2026-03-02"}, "room": {strconv.FormatInt(bad.ID, 10)}, "flip": {key(bad.ID, 3)}, "reason": {badReason}}, http.StatusBadRequest)
	noXSS(t, "override form with a bad reason", string(r.body))
	if !strings.Contains(string(r.body), `id="reason-2026-03-02-error"`) {
		t.Errorf("the bad reason is not shown beside its field")
	}
	r = w.post(t, "admin", "/rooms/overrides", url.Values{"date": {"2026-03-02"}, "room": {strconv.FormatInt(bad.ID, 10)}, "flip": {key(bad.ID, 3)}, "reason": {badReason}, "room_page": {strconv.FormatInt(bad.ID, 10)}}, http.StatusBadRequest)
	noXSS(t, "room page override form with a bad reason", string(r.body))
	r = w.post(t, "admin", path("/rooms/%d/now", bad.ID), url.Values{"blocked": {"1"}, "until": {xss[0]}, "reason": {xss[1]}}, http.StatusBadRequest)
	noXSS(t, "now form with a bad time", string(r.body))
	r = w.post(t, "admin", path("/rooms/%d/policy", bad.ID), url.Values{"policy": {xss[0]}, "policy_reason": {xss[1]}}, http.StatusBadRequest)
	noXSS(t, "policy form with a bad policy", string(r.body))
	r = w.post(t, "admin", "/rooms/lessons/new", url.Values{"room_id": {strconv.FormatInt(bad.ID, 10)}, "date": {xss[0]}, "period": {"1"}, "course": {xss[1]}}, http.StatusBadRequest)
	noXSS(t, "lesson form with a bad date", string(r.body))
	r = w.post(t, "admin", "/rooms/holidays", url.Values{"name": {xss[0]}, "first": {"2026-03-09"}, "last": {xss[1]}}, http.StatusBadRequest)
	noXSS(t, "holiday form with a bad last day", string(r.body))
	noXSS(t, "logbook with a bad actor", w.get(t, "admin", "/rooms/logbook?actor="+url.QueryEscape(xss[0])+"&from="+url.QueryEscape(xss[1]), http.StatusBadRequest))
}

// upload posts a multipart form as user; name "" sends no file.
func (w *roomsWorld) upload(t *testing.T, user, target, name, content string, fields url.Values, want int) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write([]byte(content))
	}
	mw.Close()
	req := httptest.NewRequest("POST", target, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(w.cookies[user])
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	if rec.Code != want {
		t.Fatalf("%s upload %s to %s: %d, want %d: %.800s", user, name, target, rec.Code, want, rec.Body.String())
	}
	return rec.Body.String()
}

// TestLessonsImport: a file with problems is shown line by line and
// writes nothing; a clean one is imported with the second step; iCalendar
// is mapped to the periods; only administrators may import.
func TestLessonsImport(t *testing.T) {
	w := newRoomsWorld(t, newTimetableEnv(t, t.TempDir()+"/t.db"))
	count := func() int {
		_, n, err := w.db.FindLessons(context.Background(), ipdesk.LessonFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	broken := "room,date,period,course,teacher\n" +
		"303,2026-03-09,1,\"<script>alert(1)</script>\",Müller\n" + // line 2: fine
		"Aula,2026-03-09,2,Art,Weber\n" + // line 3: no such room
		"303,2026-03-09,9,Maths,Müller\n" + // line 4: no period 9
		"303,9.3.2026,x,Maths,Müller\n" // line 5: not a period
	body := w.upload(t, "admin", "/rooms/lessons/import", "plan.csv", broken, nil, http.StatusBadRequest)
	for _, want := range []string{
		`<th scope="row">2</th>`, `<th scope="row">3</th>`, `room &#34;Aula&#34; does not exist`,
		`<th scope="row">4</th>`, `period 9 is not in the bell schedule`, `<th scope="row">5</th>`, `period &#34;x&#34; is not a period number`,
		`3 problems: nothing can be imported until they are fixed.`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the check of the broken file lacks %q", want)
		}
	}
	noXSS(t, "import preview", body)
	if strings.Contains(body, `name="commit"`) || count() != before {
		t.Fatalf("a file with problems can be imported or was written: %d lessons, %d before", count(), before)
	}

	good := "room,date,period,course,teacher\n303,2026-03-09,1-2,Physics,Weber\n=316,10.3.2026,3,Art,Roth\n"
	body = w.upload(t, "admin", "/rooms/lessons/import", "plan.csv", good, nil, http.StatusOK)
	if !strings.Contains(body, `name="commit" value="1"`) || !strings.Contains(body, "No problems: 2 lessons new, 0 changed, 0 unchanged.") || count() != before {
		t.Fatalf("the check of the good file: %d lessons; %.1500s", count(), body)
	}
	w.upload(t, "admin", "/rooms/lessons/import", "", "", url.Values{"commit": {"1"}, "format": {"csv"}, "name": {"plan.csv"}, "data": {good}}, http.StatusSeeOther)
	if n := count(); n != before+2 {
		t.Fatalf("after the import %d lessons, want %d", n, before+2)
	}

	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a@x\r\nDTSTART;TZID=Europe/Berlin:20260311T080000\r\nDTEND;TZID=Europe/Berlin:20260311T084500\r\n" +
		"SUMMARY:Chemistry\r\nLOCATION:303\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	body = w.upload(t, "admin", "/rooms/lessons/import", "plan.ics", ics, nil, http.StatusOK)
	if !strings.Contains(body, "Chemistry") || !strings.Contains(body, `name="format" value="ics"`) {
		t.Errorf("the iCalendar check: %.1500s", body)
	}
	body = w.upload(t, "admin", "/rooms/lessons/import", "plan.csv", "what,ever\n1,2\n", nil, http.StatusBadRequest)
	if !strings.Contains(body, `unknown column &#34;what&#34;`) {
		t.Errorf("a file that is no lessons CSV: %.1000s", body)
	}
	for _, u := range []string{"reader", "teacher"} {
		w.get(t, u, "/rooms/lessons/import", http.StatusForbidden)
		w.upload(t, u, "/rooms/lessons/import", "plan.csv", good, nil, http.StatusForbidden)
	}
}

// TestLessonForms: administrators add, change and delete lessons, with
// errors beside their fields; others see the list only.
func TestLessonForms(t *testing.T) {
	w := newRoomsWorld(t, newTimetableEnv(t, t.TempDir()+"/t.db"))
	room := strconv.FormatInt(w.r316, 10)
	r := w.post(t, "admin", "/rooms/lessons/new", url.Values{"room_id": {room}, "date": {"2026-03-09"}, "period": {"9"}, "course": {"Art"}}, http.StatusBadRequest)
	if !strings.Contains(string(r.body), `id="e-period"`) {
		t.Errorf("a bad period is not shown beside its field: %.1500s", r.body)
	}
	w.post(t, "admin", "/rooms/lessons/new", url.Values{"room_id": {room}, "date": {"9.3.2026"}, "period": {"2"}, "last_period": {"3"}, "course": {"Art"}, "teacher": {"Roth"}}, http.StatusSeeOther)
	ls, _, _ := w.db.FindLessons(context.Background(), ipdesk.LessonFilter{RoomID: &w.r316})
	if len(ls) != 1 || ls[0].Period != 2 || ls[0].LastPeriod != 3 || ls[0].Teacher != "Roth" {
		t.Fatalf("the new lesson: %+v", ls)
	}
	id := strconv.FormatInt(ls[0].ID, 10)
	list := w.get(t, "reader", "/rooms/lessons?room="+room+"&from=2026-03-09&to=2026-03-09", http.StatusOK)
	if !strings.Contains(list, "Roth") || strings.Contains(list, "/rooms/lessons/"+id+"/delete") {
		t.Errorf("the reader's list: lesson missing or delete offered")
	}
	w.post(t, "reader", "/rooms/lessons/"+id+"/save", url.Values{"room_id": {room}, "date": {"2026-03-09"}, "period": {"1"}, "version": {"1"}}, http.StatusForbidden)
	w.post(t, "admin", "/rooms/lessons/"+id+"/save", url.Values{"room_id": {room}, "date": {"2026-03-09"}, "period": {"1"}, "last_period": {""},
		"course": {"Art"}, "teacher": {"Roth"}, "version": {"1"}}, http.StatusSeeOther)
	w.post(t, "admin", "/rooms/lessons/"+id+"/save", url.Values{"room_id": {room}, "date": {"2026-03-09"}, "period": {"2"}, "version": {"1"}}, http.StatusPreconditionFailed)
	w.post(t, "admin", "/rooms/lessons/"+id+"/delete", url.Values{"version": {"2"}}, http.StatusSeeOther)
	if _, n, _ := w.db.FindLessons(context.Background(), ipdesk.LessonFilter{RoomID: &w.r316}); n != 0 {
		t.Errorf("the lesson was not deleted")
	}
}

// TestPeriodsAndHolidays: the bell schedule is saved as a whole with
// errors beside the fields; holidays are added, changed and removed;
// only administrators may.
func TestPeriodsAndHolidays(t *testing.T) {
	w := newRoomsWorld(t, newTimetableEnv(t, t.TempDir()+"/t.db"))
	rows := func(ps ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(ps); i += 3 {
			n := strconv.Itoa(i / 3)
			v.Set("number-"+n, ps[i])
			v.Set("start-"+n, ps[i+1])
			v.Set("end-"+n, ps[i+2])
		}
		return v
	}
	body := w.get(t, "reader", "/rooms/periods", http.StatusOK)
	if strings.Contains(body, `id="periods-form"`) || !strings.Contains(body, "09:55") {
		t.Errorf("the reader's bell schedule: a form, or no periods")
	}
	w.post(t, "reader", "/rooms/periods", rows("1", "08:00", "08:45"), http.StatusForbidden)
	r := w.post(t, "admin", "/rooms/periods", rows("1", "08:00", "08:45", "2", "8:5x", "09:35", "3", "09:55", "10:40", "4", "10:45", "11:30"), http.StatusBadRequest)
	if b := string(r.body); !strings.Contains(b, `id="e-start-1"`) || !strings.Contains(b, `value="8:5x"`) {
		t.Errorf("a bad start is not shown beside its field")
	}
	// Period 2 holds a lesson: it must stay.
	r = w.post(t, "admin", "/rooms/periods", rows("1", "08:00", "08:45"), http.StatusConflict)
	if !strings.Contains(string(r.body), `id="periods-error"`) {
		t.Errorf("removing periods in use: no message: %.1500s", r.body)
	}
	w.post(t, "admin", "/rooms/periods", rows("1", "08:00", "08:45", "2", "08:50", "09:35", "3", "09:55", "10:40", "4", "10:45", "11:30", "5", "11:35", "12:20", "", "", ""), http.StatusSeeOther)
	if ps, _ := w.db.FindPeriods(context.Background()); len(ps) != 5 || ps[4].End.String() != "12:20" {
		t.Fatalf("periods after saving: %v", ps)
	}

	r = w.post(t, "admin", "/rooms/holidays", url.Values{"name": {"Easter"}, "first": {"2026-04-10"}, "last": {"2026-03-30"}}, http.StatusBadRequest)
	if !strings.Contains(string(r.body), `id="e-h-last"`) {
		t.Errorf("a last day before the first is not shown beside its field")
	}
	w.post(t, "reader", "/rooms/holidays", url.Values{"name": {"Easter"}, "first": {"2026-03-30"}}, http.StatusForbidden)
	w.post(t, "admin", "/rooms/holidays", url.Values{"name": {"Easter"}, "first": {"30.3.2026"}, "last": {"2026-04-10"}}, http.StatusSeeOther)
	hs, _, _ := w.db.FindHolidays(context.Background(), ipdesk.HolidayFilter{})
	var easter *ipdesk.Holiday
	for _, h := range hs {
		if h.Name == "Easter" {
			easter = h
		}
	}
	if easter == nil || easter.Last.String() != "2026-04-10" {
		t.Fatalf("holidays: %v", hs)
	}
	id := strconv.FormatInt(easter.ID, 10)
	w.post(t, "admin", "/rooms/holidays/"+id+"/save", url.Values{"name": {"Easter holidays"}, "first": {"2026-03-30"}, "last": {""}, "version": {"1"}}, http.StatusSeeOther)
	if h, _ := w.db.FindHolidayByID(context.Background(), easter.ID); h.Name != "Easter holidays" || h.Last.String() != "2026-03-30" {
		t.Errorf("the changed holiday: %+v", h)
	}
	w.post(t, "reader", "/rooms/holidays/"+id+"/delete", url.Values{"version": {"2"}}, http.StatusForbidden)
	w.post(t, "admin", "/rooms/holidays/"+id+"/delete", url.Values{"version": {"2"}}, http.StatusSeeOther)
	if _, err := w.db.FindHolidayByID(context.Background(), easter.ID); ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
		t.Errorf("the holiday was not deleted: %v", err)
	}
}

// TestRoomPolicyAndLogbook: a room's policy is set by users with edit on
// the room, and the grid follows it; the logbook filters and exports.
func TestRoomPolicyAndLogbook(t *testing.T) {
	w := newRoomsWorld(t, newTimetableEnv(t, t.TempDir()+"/t.db"))
	room := strconv.FormatInt(w.r303, 10)
	w.post(t, "teacher", "/rooms/"+room+"/policy", url.Values{"policy": {"never"}}, http.StatusForbidden)
	w.post(t, "admin", "/rooms/"+room+"/policy", url.Values{"policy": {"never"}, "policy_reason": {"open day"}}, http.StatusSeeOther)
	if st := w.state(t, w.r303); st.Blocked || st.Reason != ipdesk.ReasonPolicy {
		t.Fatalf("after the policy never: %+v", st)
	}
	body := w.get(t, "teacher", "/rooms", http.StatusOK)
	if strings.Contains(body, `value="`+key(w.r303, 3)+`"`) || !strings.Contains(body, "never blocked by the room&#39;s policy") {
		t.Errorf("a room that never blocks still offers checkboxes, or its reason is missing")
	}
	r := w.post(t, "admin", "/rooms/"+room+"/policy", url.Values{"policy": {"sometimes"}, "version": {"1"}}, http.StatusBadRequest)
	if !strings.Contains(string(r.body), `id="policy-error"`) {
		t.Errorf("a bad policy is not shown beside its field")
	}

	body = w.get(t, "reader", "/rooms/logbook?room="+room, http.StatusOK)
	if !strings.Contains(body, `<span class="badge">timetable</span>`) || !strings.Contains(body, "=316") {
		t.Errorf("the logbook of room 303 lacks the entry")
	}
	if body := w.get(t, "reader", "/rooms/logbook?failed=yes", http.StatusOK); strings.Contains(body, `class="logbook"`) {
		t.Errorf("failed=yes shows the successful switch")
	}
	if body := w.get(t, "reader", "/rooms/logbook?from=2026-03-03", http.StatusOK); strings.Contains(body, `class="logbook"`) {
		t.Errorf("from=2026-03-03 shows Monday's switch")
	}
	if body := w.get(t, "reader", "/rooms/logbook?from=2026-03-05&to=2026-03-01", http.StatusBadRequest); !strings.Contains(body, `id="l-to-error"`) {
		t.Errorf("to before from: no message")
	}
	r = w.page("/rooms/logbook.csv?room="+room, w.cookies["reader"])
	if r.code != http.StatusOK || r.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(string(r.body), "time,actor,blocked,opened,blocked_now,error\n") ||
		!strings.Contains(string(r.body), "2026-03-02 09:00:00,timetable,303,'=316,303,") {
		t.Errorf("the logbook CSV: %d %s %q", r.code, r.header.Get("Content-Type"), r.body)
	}
	if r := w.page("/rooms/logbook.csv?failed=maybe", w.cookies["reader"]); r.code != http.StatusBadRequest {
		t.Errorf("a bad filter of the CSV: %d", r.code)
	}
}
