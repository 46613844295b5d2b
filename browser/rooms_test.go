package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ipdesk"
	"ipdesk/live"
	"ipdesk/schedule"
	"ipdesk/schedule/schedtest"
	"ipdesk/sqldb"
	"ipdesk/web"
)

// roomsSite is a site whose timetable runs on a fake clock, Monday 2
// March 2026, 09:00 in Berlin (period 2), with a switcher that publishes
// the rooms' states to the live streams as serve does.
type roomsSite struct {
	*site
	clock      *schedtest.Clock
	r303, r316 int64
}

// newRoomsSite seeds four periods, the rooms 303 and 316, a lesson of
// 303 in periods 2 and 3, the teacher (override on 303) and the reader
// (sees everything, may change nothing).
func newRoomsSite(t *testing.T) *roomsSite {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	must(t, err)
	clock := schedtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, berlin))
	broker := live.New(live.Options{})
	var sw *schedule.Switcher
	s := newSite(t, web.Options{Location: berlin}, func(db *sqldb.DB, o *web.Options) {
		sw = schedule.NewSwitcher(db, schedule.SwitcherConfig{Settings: schedule.Settings{Location: berlin}, Clock: clock,
			Notify: func(st ipdesk.RoomStates) { broker.Publish(web.RoomsEvent(st)) }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			// The proxy: every switch succeeds.
			Apply: func(context.Context) ([]*ipdesk.ApplyRun, error) { return nil, nil }})
		db.OnCommit = sw.Changed
		o.Events, o.Timetable = broker, sw.Planner()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sw.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	rs := &roomsSite{site: s, clock: clock}
	actx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "setup"})
	var ps []*ipdesk.Period
	for i, span := range [][2]string{{"08:00", "08:45"}, {"08:50", "09:35"}, {"09:55", "10:40"}, {"10:45", "11:30"}} {
		start, _ := ipdesk.ParseTimeOfDay("start", span[0])
		end, _ := ipdesk.ParseTimeOfDay("end", span[1])
		ps = append(ps, &ipdesk.Period{Number: i + 1, Start: start, End: end})
	}
	must(t, s.db.ReplacePeriods(actx, ps))
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Campus"}
	must(t, s.db.CreateLocation(actx, site))
	house := &ipdesk.Location{Kind: ipdesk.LocationBuilding, Name: "Haus A", ParentID: site.ID}
	must(t, s.db.CreateLocation(actx, house))
	r303 := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "303", ParentID: house.ID, HostnamePattern: "z303c"}
	must(t, s.db.CreateLocation(actx, r303))
	r316 := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "316", ParentID: house.ID}
	must(t, s.db.CreateLocation(actx, r316))
	rs.r303, rs.r316 = r303.ID, r316.ID
	mon := ipdesk.Date{Year: 2026, Month: time.March, Day: 2}
	must(t, s.db.CreateLesson(actx, &ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 2, LastPeriod: 3, Course: xssTitle, Teacher: "Müller"}))
	must(t, s.db.CreateLesson(actx, &ipdesk.Lesson{RoomID: r316.ID, Date: mon, Period: 4, Course: "Informatik", Teacher: `" onmouseover=alert(5) x="`}))

	teacher := s.user("teacher", false)
	teachers := &ipdesk.Group{Name: "Lehrkräfte 303", Members: []int64{teacher.ID}}
	must(t, s.db.CreateGroup(actx, teachers))
	must(t, s.db.CreateGrant(actx, &ipdesk.Grant{GroupID: teachers.ID, ObjectType: ipdesk.ObjectLocation, ObjectID: r303.ID, Right: ipdesk.RightOverride}))
	reader := s.user("reader", false)
	must(t, s.db.CreateGroup(actx, &ipdesk.Group{Name: "readers", ViewAll: true, Members: []int64{reader.ID}}))
	return rs
}

// api calls the JSON API as user with a fresh token.
func (rs *roomsSite) api(user, method, path string, body string) (int, []byte) {
	rs.t.Helper()
	u, err := rs.db.FindUserByName(context.Background(), user)
	must(rs.t, err)
	token, _, err := rs.db.CreateToken(context.Background(), u.ID, "test")
	must(rs.t, err)
	req, _ := http.NewRequest(method, rs.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	must(rs.t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// state returns a room's state from the API.
func (rs *roomsSite) state(room int64) ipdesk.RoomState {
	rs.t.Helper()
	code, b := rs.api("reader", "GET", fmt.Sprintf("/api/v1/rooms/%d/state", room), "")
	var st ipdesk.RoomState
	if code != http.StatusOK || json.Unmarshal(b, &st) != nil {
		rs.t.Fatalf("state of room %d: %d %s", room, code, b)
	}
	return st
}

// cell is the CSS selector of a room's period on Monday.
func cell(room int64, period int) string {
	return fmt.Sprintf(`table[data-grid-day="2026-03-02"] td[data-key="%d:%d"]`, room, period)
}

// TestRoomsOverride: the teacher with the right for room 303 ticks the
// period running now, sees before saving that it will open, saves; the
// cell shows open and the room state API agrees. The reader sees the
// plan without a control, and a POST sent from the page anyway is
// refused. No stored payload runs.
func TestRoomsOverride(t *testing.T) {
	rs := newRoomsSite(t)
	ctx := rs.browser(120 * time.Second)
	defer watchDialogs(t, ctx).none(t)
	rs.login(ctx, "teacher")

	box := fmt.Sprintf(`form[data-day="2026-03-02"] input[name="flip"][value="%d:2"]`, rs.r303)
	rs.run(ctx, "open the occupancy view", chromedp.Navigate(rs.url+"/rooms"), chromedp.WaitVisible(chromedp.CSS(box)))
	if n := eval[int](rs.site, ctx, fmt.Sprintf(`document.querySelectorAll('input[name="flip"][value^="%d:"]').length`, rs.r316)); n != 0 {
		t.Fatalf("the teacher has %d checkboxes of room 316", n)
	}
	if got := eval[string](rs.site, ctx, `document.querySelector('td.cell[aria-current="time"] .current-tag').textContent`); got != "now" {
		t.Errorf("the current period says %q", got)
	}
	rs.screenshot(ctx, "rooms-occupancy")
	rs.run(ctx, "tick period 2 of room 303",
		chromedp.Click(chromedp.CSS(box)),
		chromedp.WaitVisible(chromedp.CSS(`form[data-day="2026-03-02"] .switch-preview li`)),
	)
	if got := rs.text(ctx, `form[data-day="2026-03-02"] .switch-preview li`); got != "303, period 2: will be opened" {
		t.Errorf("before saving the page says %q", got)
	}
	rs.run(ctx, "give a reason", chromedp.SendKeys(chromedp.CSS(`#reason-2026-03-02`), "Recherche "+xssTitle))
	rs.screenshot(ctx, "rooms-override-grid")
	rs.run(ctx, "save Monday",
		chromedp.Click(chromedp.CSS(`form[data-day="2026-03-02"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
		chromedp.WaitVisible(chromedp.CSS(cell(rs.r303, 2)+`.flipped`)),
	)
	if cls := eval[string](rs.site, ctx, fmt.Sprintf(`document.querySelector('%s').className`, cell(rs.r303, 2))); !strings.Contains(cls, "open") {
		t.Errorf("after saving the cell is %q", cls)
	}
	if st := rs.state(rs.r303); st.Blocked || st.Reason != ipdesk.ReasonOverride || st.SetBy != "teacher" {
		t.Errorf("the state API says %+v", st)
	}

	// The room's page, and the logbook with the switch.
	rs.run(ctx, "open the room's page", chromedp.Navigate(fmt.Sprintf("%s/rooms/%d", rs.url, rs.r303)), chromedp.WaitVisible(chromedp.CSS(`#now-form`)))
	if got := rs.text(ctx, "main h1 .state"); got != "Open" {
		t.Errorf("the room's page says %q", got)
	}
	rs.screenshot(ctx, "rooms-room")
	rs.run(ctx, "open the logbook", chromedp.Navigate(rs.url+"/rooms/logbook"), chromedp.WaitVisible(chromedp.CSS(`table.logbook`)))
	if !strings.Contains(rs.text(ctx, "table.logbook tbody"), "teacher") {
		t.Errorf("the logbook lacks the teacher's switch")
	}
	rs.screenshot(ctx, "rooms-logbook")

	// The reader: the plan, no controls; a forced POST is refused.
	rctx := rs.browser(60 * time.Second)
	defer watchDialogs(t, rctx).none(t)
	rs.login(rctx, "reader")
	rs.run(rctx, "open the occupancy view as the reader", chromedp.Navigate(rs.url+"/rooms"), chromedp.WaitVisible(chromedp.CSS(cell(rs.r303, 3))))
	if n := eval[int](rs.site, rctx, `document.querySelectorAll('input[name="flip"], form[action$="/now"], form[action="/rooms/overrides"]').length`); n != 0 {
		t.Errorf("the reader has %d override controls", n)
	}
	status := await[int](rs.site, rctx, fmt.Sprintf(`fetch("/rooms/overrides", {method: "POST", body: new URLSearchParams({date: "2026-03-02", room: "%d", flip: "%d:3"})}).then(r => r.status)`, rs.r303, rs.r303))
	if status != http.StatusForbidden {
		t.Errorf("the reader's POST: %d, want 403", status)
	}
	status = await[int](rs.site, rctx, fmt.Sprintf(`fetch("/api/v1/rooms/%d/now", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({blocked: true})}).then(r => r.status)`, rs.r303))
	if status != http.StatusForbidden {
		t.Errorf("the reader's API call: %d, want 403", status)
	}
	if st := rs.state(rs.r303); st.Reason != ipdesk.ReasonOverride {
		t.Errorf("after the reader's attempts: %+v", st)
	}
}

// TestRoomsLive: the occupancy view updates itself, without a reload,
// when an override is set from elsewhere (the API here), and when the
// clock passes a period's end.
func TestRoomsLive(t *testing.T) {
	rs := newRoomsSite(t)
	ctx := rs.browser(120 * time.Second)
	defer watchDialogs(t, ctx).none(t)
	rs.login(ctx, "reader")
	rs.run(ctx, "open the occupancy view", chromedp.Navigate(rs.url+"/rooms"), chromedp.WaitVisible(chromedp.CSS(cell(rs.r316, 3))))
	// The stream is open once its ready event came; a marker tells a
	// reload from an update.
	eval[bool](rs.site, ctx, `window.ipdeskMarker = true`)
	rs.run(ctx, "wait for the stream", chromedp.WaitVisible(chromedp.CSS(`body[data-rooms-stream="open"]`)))

	code, b := rs.api("admin", "POST", fmt.Sprintf("/api/v1/rooms/%d/overrides", rs.r316), `{"date": "2026-03-02", "period": 3, "reason": "Klausur"}`)
	if code != http.StatusCreated {
		t.Fatalf("set an override: %d %s", code, b)
	}
	rs.run(ctx, "wait for the update", chromedp.WaitVisible(chromedp.CSS(cell(rs.r316, 3)+`.flipped.blocked`)))
	if !eval[bool](rs.site, ctx, `window.ipdeskMarker === true`) {
		t.Fatal("the page was reloaded, not updated")
	}
	if got := rs.text(ctx, "#rooms-live"); !strings.Contains(got, "Updated at") {
		t.Errorf("the live status says %q", got)
	}

	// At 09:35 period 2 ends: the switcher's boundary updates the view.
	rs.clock.Set(time.Date(2026, 3, 2, 9, 35, 0, 0, rs.clock.Now().Location()))
	rs.run(ctx, "wait for the break", chromedp.WaitVisible(chromedp.CSS(cell(rs.r303, 2)+`.past`)))
	if n := eval[int](rs.site, ctx, `document.querySelectorAll('td.cell[aria-current="time"]').length`); n != 0 {
		t.Errorf("in the break %d cells are current", n)
	}
	if !eval[bool](rs.site, ctx, `window.ipdeskMarker === true`) {
		t.Fatal("the page was reloaded at the boundary")
	}
}
