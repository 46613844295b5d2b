package web

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/schedule"
	"ipdesk/schedule/schedtest"
	"ipdesk/sqldb"
)

// TestPublicRooms: with timetable.public_view on, /public/rooms shows
// anyone, without signing in, the rooms and their states now and in
// today's periods, and nothing about people, lessons, hosts or the
// logbook; off (the default), the address does not exist, signed in or
// not.
func TestPublicRooms(t *testing.T) {
	clock := schedtest.NewClock(monday0900)
	e := newEnvWith(t, filepath.Join(t.TempDir(), "t.db"), nil, func(db *sqldb.DB, o *Options) {
		o.Timetable = schedule.NewPlanner(db, schedule.Settings{Location: berlin}, clock)
		o.PublicRooms = true
	})
	r303 := seedTimetable(t, e)
	sp := e.space("school")
	e.prefix(sp, "10.0.0.0/24", ipdesk.PrefixSubnet)
	e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp, "address": "10.0.0.5",
		"hostname": "z303c1", "mac": "aa:bb:cc:00:00:01", "owner": "Anna Secret", "phone": "+49 30 555", "location_id": r303}, nil)
	e.must(http.StatusOK, "POST", path("/api/v1/rooms/%d/now", r303), e.admin, map[string]any{"blocked": true, "reason": "Klassenarbeit Geheim"}, nil)

	r := e.page(publicRoomsPath, nil)
	if r.code != http.StatusOK {
		t.Fatalf("public page: %d %.500s", r.code, r.body)
	}
	body := string(r.body)
	mustContain(t, "the public page", r.body, "Room occupancy", ">303</th>", ">=316</th>", `<span class="state blocked">Blocked</span>`,
		`<span class="state open">Open</span>`, "Period 2", `aria-current="time"`, `http-equiv="refresh"`)
	for _, secret := range []string{"Müller", "Maths", "exam", "Klassenarbeit", "Anna Secret", "z303c1", "aa:bb:cc", "+49 30 555",
		"10.0.0.5", "admin", "timetable", "Campus", "Haus A", `href="/rooms`, `href="/hosts`, "/logout"} {
		if strings.Contains(body, secret) {
			t.Errorf("the public page shows %q", secret)
		}
	}
	// Room 303 is blocked now (its lesson and the "now" override), 316
	// open; the current period cell says so.
	i303, i316 := strings.Index(body, ">303</th>"), strings.Index(body, ">=316</th>")
	if i303 < 0 || i316 < 0 {
		t.Fatal("rooms missing")
	}
	row := func(i int) string {
		rest := body[i:]
		return rest[:strings.Index(rest, "</tr>")]
	}
	if !strings.Contains(row(i303), `state blocked`) || !strings.Contains(row(i316), `state open`) {
		t.Errorf("the rows:\n%s\n%s", row(i303), row(i316))
	}
	if !strings.Contains(row(i303), `<td class="cell blocked current" aria-current="time">`) || !strings.Contains(row(i316), `<td class="cell open current" aria-current="time">`) {
		t.Errorf("the current period cells:\n%s\n%s", row(i303), row(i316))
	}
	// The other languages.
	r = e.page(publicRoomsPath, nil, "Accept-Language", "de")
	mustContain(t, "the German page", r.body, "Raumbelegung", "Gesperrt")

	// Off: the address does not exist.
	off := newEnvWith(t, filepath.Join(t.TempDir(), "off.db"), nil, func(db *sqldb.DB, o *Options) {
		o.Timetable = schedule.NewPlanner(db, schedule.Settings{Location: berlin}, clock)
	})
	seedTimetable(t, off)
	if r := off.page(publicRoomsPath, nil); r.code != http.StatusNotFound {
		t.Errorf("off, not signed in: %d", r.code)
	}
	if r := off.page(publicRoomsPath, off.login("admin", "password123")); r.code != http.StatusNotFound {
		t.Errorf("off, signed in: %d", r.code)
	}
}
