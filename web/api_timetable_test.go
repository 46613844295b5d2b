package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/schedule"
	"ipdesk/schedule/schedtest"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// berlin is the school's time zone in the tests.
var berlin = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// monday0900 is the tests' "now": Monday 2 March 2026, 09:00 in Berlin,
// in period 2.
var monday0900 = time.Date(2026, 3, 2, 9, 0, 0, 0, berlin)

// timetableEnv is a server whose planner runs on a fake clock in Berlin.
type timetableEnv struct {
	*testEnv
	clock *schedtest.Clock
}

func newTimetableEnv(t *testing.T, dsn string) *timetableEnv {
	t.Helper()
	clock := schedtest.NewClock(monday0900)
	e := newEnvWith(t, dsn, nil, func(db *sqldb.DB, o *Options) {
		o.Timetable = schedule.NewPlanner(db, schedule.Settings{Location: berlin}, clock)
	})
	return &timetableEnv{testEnv: e, clock: clock}
}

func eachTimetableBackend(t *testing.T, fn func(t *testing.T, e *timetableEnv)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newTimetableEnv(t, filepath.Join(t.TempDir(), "t.db"))) })
	t.Run("postgres", func(t *testing.T) {
		dsn := sqldbtest.PostgresDSN(t)
		if dsn == "" {
			t.Skipf("%s not set", sqldbtest.EnvPostgres)
		}
		fn(t, newTimetableEnv(t, dsn))
	})
}

// seedTimetable creates through the API a bell schedule of four periods, a
// site, a building and the rooms 303 and 316, a holiday, a lesson of
// room 303 in periods 2 and 3 on Monday 2 March 2026 and an override, and
// records a logbook entry. It returns the id of room 303.
func seedTimetable(t *testing.T, e *testEnv) int64 {
	t.Helper()
	e.must(http.StatusOK, "PUT", "/api/v1/periods", e.admin, map[string]any{"periods": []map[string]any{
		{"number": 1, "start": "08:00", "end": "08:45"},
		{"number": 2, "start": "08:50", "end": "09:35"},
		{"number": 3, "start": "09:55", "end": "10:40"},
		{"number": 4, "start": "10:45", "end": "11:30"},
	}}, nil)
	var site, building, r303, r316 ipdesk.Location
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "site", "name": "Campus"}, &site)
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "building", "name": "Haus A", "parent_id": site.ID}, &building)
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": "303", "parent_id": building.ID, "hostname_pattern": "z303c"}, &r303)
	e.must(http.StatusCreated, "POST", "/api/v1/locations", e.admin, map[string]any{"kind": "room", "name": "=316", "parent_id": building.ID}, &r316)
	e.must(http.StatusCreated, "POST", "/api/v1/holidays", e.admin, map[string]any{"name": "Closed day", "first": "2026-03-03"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/lessons", e.admin, map[string]any{"room_id": r303.ID, "date": "2026-03-02", "period": 2, "last_period": 3, "course": "Maths", "teacher": "Müller"}, nil)
	e.must(http.StatusCreated, "POST", path("/api/v1/rooms/%d/overrides", r303.ID), e.admin, map[string]any{"date": "2026-03-02", "period": 4, "reason": "exam"}, nil)
	entry := &ipdesk.LogEntry{Time: monday0900, Actor: "timetable", Blocked: []ipdesk.LogRoom{{ID: r303.ID, Name: "303"}},
		Opened: []ipdesk.LogRoom{{ID: r316.ID, Name: "=316"}}, BlockedNow: []ipdesk.LogRoom{{ID: r303.ID, Name: "303"}}}
	if err := e.db.RecordLogEntry(context.Background(), entry); err != nil {
		t.Fatal(err)
	}
	return r303.ID
}

// roomByName returns the id of the room called name.
func (e *testEnv) roomByName(name string) int64 {
	e.t.Helper()
	var l listResponse[ipdesk.Location]
	e.must(http.StatusOK, "GET", "/api/v1/locations?kind=room&name="+name, e.admin, nil, &l)
	if len(l.Results) != 1 {
		e.t.Fatalf("room %q: %d results", name, len(l.Results))
	}
	return l.Results[0].ID
}

// TestTimetableAPI walks through the timetable API as an administrator and
// a plain user on a fake Monday morning: the states of rooms with and
// without a lesson, overrides and "now, until" overrides with their
// defaults, the room policy, the occupancy preview with its current and
// past periods, the logbook and its CSV, and bad input refused with the
// field named.
func TestTimetableAPI(t *testing.T) {
	eachTimetableBackend(t, func(t *testing.T, e *timetableEnv) {
		r303 := seedTimetable(t, e.testEnv)
		r316 := e.roomByName("=316")
		at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, berlin) }
		state := func(room int64) ipdesk.RoomState {
			t.Helper()
			var st ipdesk.RoomState
			e.must(http.StatusOK, "GET", path("/api/v1/rooms/%d/state", room), e.user, nil, &st)
			return st
		}
		until := func(st ipdesk.RoomState) time.Time {
			t.Helper()
			if st.ValidUntil == nil {
				t.Fatalf("state %+v has no valid_until", st)
			}
			return *st.ValidUntil
		}

		// 09:00, period 2: room 303 has its lesson, 316 is free.
		st := state(r303)
		if !st.Blocked || st.Reason != ipdesk.ReasonLesson || st.Period != 2 || st.Course != "Maths" || st.Teacher != "Müller" {
			t.Fatalf("303 at 09:00: %+v", st)
		}
		if got := until(st); !got.Equal(at(9, 35)) {
			t.Errorf("303 blocked until %s, want the end of period 2 (the break is open)", got.In(berlin))
		}
		if st.Why != "lesson Maths in period 2 (Müller)" {
			t.Errorf("why %q", st.Why)
		}
		if st := state(r316); st.Blocked || st.Reason != ipdesk.ReasonFree || st.ValidUntil != nil {
			t.Errorf("316 at 09:00: %+v", st)
		}

		// A plain user may look but not override.
		r := e.do("POST", path("/api/v1/rooms/%d/overrides", r316), e.user, map[string]any{"date": "2026-03-02", "period": 2})
		if r.code != http.StatusForbidden {
			t.Fatalf("override by a plain user: %d %s", r.code, r.body)
		}
		if r := e.do("POST", path("/api/v1/rooms/%d/now", r303), e.user, map[string]any{"blocked": false}); r.code != http.StatusForbidden {
			t.Fatalf("open now by a plain user: %d %s", r.code, r.body)
		}

		// The admin blocks the free period 2 of room 316: the opposite of
		// the timetable, answered with the new state.
		var ov overrideResult
		e.must(http.StatusCreated, "POST", path("/api/v1/rooms/%d/overrides", r316), e.admin, map[string]any{"date": "2026-03-02", "period": 2, "reason": "test; {x}"}, &ov)
		if !ov.Override.Blocked || ov.Override.CreatedBy != "admin" || !ov.State.Blocked || ov.State.Reason != ipdesk.ReasonOverride || ov.State.SetBy != "admin" {
			t.Fatalf("override: %+v", ov)
		}
		// Deleting it through another room is refused.
		if r := e.do("DELETE", path("/api/v1/rooms/%d/overrides/%d", r303, ov.Override.ID), e.admin, nil); r.code != http.StatusNotFound {
			t.Errorf("delete through another room: %d %s", r.code, r.body)
		}
		e.must(http.StatusNoContent, "DELETE", path("/api/v1/rooms/%d/overrides/%d", r316, ov.Override.ID), e.admin, nil, nil)
		if st := state(r316); st.Blocked {
			t.Errorf("316 after the override was deleted: %+v", st)
		}

		// Open 303 now: by default until the end of its lesson, the end of
		// period 3 (10:40).
		var now nowResult
		e.must(http.StatusOK, "POST", path("/api/v1/rooms/%d/now", r303), e.admin, map[string]any{"blocked": false, "reason": "Internet research"}, &now)
		if !now.NowOverride.Until.Equal(at(10, 40)) || now.State.Blocked || now.State.Reason != ipdesk.ReasonNow {
			t.Fatalf("open now: %+v", now)
		}
		// At 10:40 the break follows, open anyway; the exam blocks period 4.
		if got := until(now.State); !got.Equal(at(10, 45)) {
			t.Errorf("open until %s, want 10:45", got.In(berlin))
		}
		// An explicit time of day.
		e.must(http.StatusOK, "POST", path("/api/v1/rooms/%d/now", r303), e.admin, map[string]any{"blocked": true, "until": "12:15"}, &now)
		if !now.NowOverride.Until.Equal(at(12, 15)) || !now.State.Blocked {
			t.Fatalf("block until 12:15: %+v", now)
		}
		e.must(http.StatusNoContent, "DELETE", path("/api/v1/rooms/%d/now", r303), e.admin, nil, nil)
		if st := state(r303); st.Reason != ipdesk.ReasonLesson {
			t.Errorf("303 after the now override ended: %+v", st)
		}
		if r := e.do("DELETE", path("/api/v1/rooms/%d/now", r303), e.admin, nil); r.code != http.StatusNotFound {
			t.Errorf("second delete: %d", r.code)
		}

		// All rooms at once, with the next boundary.
		var all ipdesk.RoomStates
		e.must(http.StatusOK, "GET", "/api/v1/room-states", e.user, nil, &all)
		if len(all.Rooms) != 2 || all.Next == nil || !all.Next.Equal(at(9, 35)) {
			t.Errorf("room states: %+v", all)
		}

		// The preview of Monday and the closed Tuesday.
		var pv ipdesk.SchedulePreview
		e.must(http.StatusOK, "GET", "/api/v1/timetable/preview?from=2026-03-02&to=2026-03-03", e.user, nil, &pv)
		if len(pv.Days) != 2 || !pv.Days[0].SchoolDay || pv.Days[1].SchoolDay || pv.Days[1].Holiday != "Closed day" || len(pv.Periods) != 4 {
			t.Fatalf("preview days %+v, periods %d", pv.Days, len(pv.Periods))
		}
		var cells []ipdesk.PreviewCell
		for _, room := range pv.Rooms {
			if room.RoomID == r303 {
				cells = room.Cells
			}
		}
		if len(cells) != 8 {
			t.Fatalf("303 has %d cells", len(cells))
		}
		for i, want := range []struct {
			blocked, current, past bool
			reason                 ipdesk.StateReason
		}{
			{false, false, true, ipdesk.ReasonFree},
			{true, true, false, ipdesk.ReasonLesson},
			{true, false, false, ipdesk.ReasonLesson},
			{true, false, false, ipdesk.ReasonOverride}, // the exam
			{false, false, false, ipdesk.ReasonClosed},
		} {
			c := cells[i]
			if c.Blocked != want.blocked || c.Current != want.current || c.Past != want.past || c.Reason != want.reason {
				t.Errorf("cell %d (%s period %d): %+v, want %+v", i, c.Date, c.Period, c, want)
			}
		}

		// The policy takes the room out of the timetable.
		var pol ipdesk.RoomPolicySetting
		e.must(http.StatusOK, "GET", path("/api/v1/rooms/%d/policy", r303), e.user, nil, &pol)
		if pol.Policy != ipdesk.PolicyTimetable || pol.Version != 0 {
			t.Errorf("default policy %+v", pol)
		}
		e.must(http.StatusOK, "PUT", path("/api/v1/rooms/%d/policy", r303), e.admin, map[string]any{"policy": "never", "reason": "teachers' room"}, &pol)
		if st := state(r303); st.Blocked || st.Reason != ipdesk.ReasonPolicy || st.SetBy != "admin" {
			t.Errorf("303 with policy never: %+v", st)
		}
		if r := e.do("PUT", path("/api/v1/rooms/%d/policy", r303), e.user, map[string]any{"policy": "always"}); r.code != http.StatusForbidden {
			t.Errorf("policy by a plain user: %d", r.code)
		}

		// The logbook, filtered and as CSV.
		var log listResponse[ipdesk.LogEntry]
		e.must(http.StatusOK, "GET", path("/api/v1/logbook?room=%d", r316), e.user, nil, &log)
		if log.Count != 1 || len(log.Results[0].Opened) != 1 {
			t.Errorf("logbook of 316: %+v", log)
		}
		e.must(http.StatusOK, "GET", "/api/v1/logbook?actor=anna", e.user, nil, &log)
		if log.Count != 0 {
			t.Errorf("logbook of anna: %+v", log)
		}
		r = e.must(http.StatusOK, "GET", "/api/v1/logbook.csv", e.user, nil, nil)
		if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		recs, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || strings.Join(recs[1], "|") != "2026-03-02 09:00:00|timetable|303|'=316|303|" {
			t.Errorf("CSV %q", recs)
		}

		// Bad input changes nothing and names the field.
		for _, c := range []struct {
			method, path string
			body         any
			field        string
		}{
			{"POST", "/api/v1/lessons", map[string]any{"room_id": r303, "date": "2026-02-30", "period": 1}, "date"},
			{"POST", "/api/v1/lessons", map[string]any{"room_id": r303, "date": 20260302, "period": 1}, "date"},
			{"POST", "/api/v1/lessons", map[string]any{"room_id": r303, "date": "2026-03-02", "period": 9}, "period"},
			{"POST", "/api/v1/lessons", map[string]any{"room_id": r303, "date": "2026-03-02", "period": 1, "last_period": 2}, "period"},
			{"POST", "/api/v1/lessons", map[string]any{"room_id": r303, "date": "2026-03-02", "period": 4, "course": "a\nb"}, "course"},
			{"PUT", "/api/v1/periods", map[string]any{"periods": []map[string]any{{"number": 1, "start": "08:00", "end": "09:00"}, {"number": 2, "start": "08:30", "end": "09:30"}}}, "start"},
			{"POST", "/api/v1/periods", map[string]any{"number": 5, "start": "25:00", "end": "12:00"}, "start"},
			{"POST", "/api/v1/holidays", map[string]any{"name": "x", "first": "2026-03-05", "last": "2026-03-01"}, "last"},
			{"POST", path("/api/v1/rooms/%d/now", r303), map[string]any{"blocked": true, "until": "25:00"}, "until"},
			{"POST", path("/api/v1/rooms/%d/overrides", r303), map[string]any{"date": "2026-03-02", "period": 7}, "period"},
			{"GET", "/api/v1/timetable/preview?from=2026-03-05&to=2026-03-01", nil, "to"},
			{"GET", "/api/v1/lessons?from=tomorrow", nil, "from"},
		} {
			r := e.do(c.method, c.path, e.admin, c.body)
			if r.code != http.StatusBadRequest && r.code != http.StatusConflict {
				t.Errorf("%s %s %v: %d %s", c.method, c.path, c.body, r.code, r.body)
				continue
			}
			if got := r.apiError(t); got.Field != c.field {
				t.Errorf("%s %s %v: field %q (%s), want %q", c.method, c.path, c.body, got.Field, got.Message, c.field)
			}
		}
		var lessons listResponse[ipdesk.Lesson]
		e.must(http.StatusOK, "GET", path("/api/v1/lessons?room=%d&from=2026-03-02&to=2026-03-02", r303), e.user, nil, &lessons)
		if lessons.Count != 1 {
			t.Errorf("%d lessons after the refused changes", lessons.Count)
		}
	})
}
