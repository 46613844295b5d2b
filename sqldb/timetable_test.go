package sqldb_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

func day(s string) ipdesk.Date {
	d, err := ipdesk.ParseDate("day", s)
	if err != nil {
		panic(err)
	}
	return d
}

func period(n int, start, end string) *ipdesk.Period {
	s, _ := ipdesk.ParseTimeOfDay("start", start)
	e, _ := ipdesk.ParseTimeOfDay("end", end)
	return &ipdesk.Period{Number: n, Start: s, End: e}
}

// timetableRooms creates a site with a building and the rooms 303 and 316
// and a bell schedule of four periods.
func timetableRooms(t *testing.T, db *sqldb.DB) (building, r303, r316 *ipdesk.Location) {
	t.Helper()
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Campus"}
	building = &ipdesk.Location{Kind: ipdesk.LocationBuilding, Name: "Haus A"}
	r303 = &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "303", HostnamePattern: "z303c"}
	r316 = &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "316"}
	for _, l := range []*ipdesk.Location{site, building, r303, r316} {
		switch l {
		case building:
			l.ParentID = site.ID
		case r303, r316:
			l.ParentID = building.ID
		}
		if err := db.CreateLocation(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.ReplacePeriods(ctx, []*ipdesk.Period{period(1, "08:00", "08:45"), period(2, "08:50", "09:35"), period(3, "09:55", "10:40"), period(4, "10:45", "11:30")}); err != nil {
		t.Fatal(err)
	}
	return building, r303, r316
}

func TestPeriods(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		_, r303, _ := timetableRooms(t, db)
		ps, err := db.FindPeriods(ctx)
		if err != nil || len(ps) != 4 || ps[2].Start != 9*60+55 || ps[0].Version != 1 {
			t.Fatalf("periods %v %v", ps, err)
		}
		wantCode(t, db.CreatePeriod(ctx, period(2, "12:00", "12:45")), ipdesk.ECONFLICT)
		err = db.CreatePeriod(ctx, period(5, "11:00", "11:45"))
		wantCode(t, err, ipdesk.EINVALID)
		if ipdesk.ErrorField(err) != "start" {
			t.Errorf("overlap: field %q (%v)", ipdesk.ErrorField(err), err)
		}
		wantCode(t, db.CreatePeriod(ctx, period(5, "12:00", "11:45")), ipdesk.EINVALID)
		if err := db.CreatePeriod(ctx, period(5, "11:45", "12:30")); err != nil {
			t.Fatal(err)
		}
		end := ipdesk.TimeOfDay(12*60 + 40)
		p, err := db.UpdatePeriod(ctx, 5, ipdesk.PeriodUpdate{End: &end})
		if err != nil || p.End != end || p.Version != 2 {
			t.Fatalf("update: %+v %v", p, err)
		}
		stale := int64(1)
		_, err = db.UpdatePeriod(ctx, 5, ipdesk.PeriodUpdate{End: &end, Version: &stale})
		wantCode(t, err, ipdesk.EPRECONDITION)

		// A period in use stays unless deleted with cascade.
		l := &ipdesk.Lesson{RoomID: r303.ID, Date: day("2026-03-02"), Period: 3, LastPeriod: 4, Course: "Maths"}
		if err := db.CreateLesson(ctx, l); err != nil {
			t.Fatal(err)
		}
		if err := db.SetOverride(ctx, &ipdesk.Override{RoomID: r303.ID, Date: day("2026-03-02"), Period: 4}, nil); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.DeletePeriod(ctx, 4, ipdesk.DeleteOptions{}), ipdesk.ECONFLICT)
		wantCode(t, db.ReplacePeriods(ctx, []*ipdesk.Period{period(1, "08:00", "08:45")}), ipdesk.ECONFLICT)
		if ps, _ := db.FindPeriods(ctx); len(ps) != 5 {
			t.Fatalf("a refused replace changed the schedule: %d periods", len(ps))
		}
		before := auditCount(t, db)
		if err := db.DeletePeriod(ctx, 4, ipdesk.DeleteOptions{Cascade: true}); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := db.FindLessons(ctx, ipdesk.LessonFilter{}); n != 0 {
			t.Errorf("%d lessons left after the cascade", n)
		}
		if os, _, _ := db.FindOverrides(ctx, ipdesk.OverrideFilter{}); len(os) != 0 {
			t.Errorf("%d overrides left after the cascade", len(os))
		}
		if n := auditCount(t, db) - before; n != 3 {
			t.Errorf("%d audit entries for the cascade, want 3", n)
		}

		// Replace keeps unchanged periods, changes and adds others.
		if err := db.ReplacePeriods(ctx, []*ipdesk.Period{period(1, "08:00", "08:45"), period(2, "08:50", "09:40"), period(6, "13:00", "13:45")}); err != nil {
			t.Fatal(err)
		}
		ps, _ = db.FindPeriods(ctx)
		if len(ps) != 3 || ps[0].Version != 1 || ps[1].Version != 2 || ps[1].End != 9*60+40 || ps[2].Number != 6 {
			t.Errorf("after replace: %+v %+v %+v", ps[0], ps[1], ps[len(ps)-1])
		}
		_, err = db.FindPeriod(ctx, 3)
		wantCode(t, err, ipdesk.ENOTFOUND)
	})
}

func TestHolidays(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		easter := &ipdesk.Holiday{Name: "Osterferien", First: day("2026-03-30"), Last: day("2026-04-10")}
		staff := &ipdesk.Holiday{Name: "Staff day", First: day("2026-03-25")}
		for _, h := range []*ipdesk.Holiday{easter, staff} {
			if err := db.CreateHoliday(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		if staff.Last != staff.First {
			t.Errorf("last defaults to first: %+v", staff)
		}
		wantCode(t, db.CreateHoliday(ctx, &ipdesk.Holiday{Name: "x", First: day("2026-03-25"), Last: day("2026-03-24")}), ipdesk.EINVALID)
		wantCode(t, db.CreateHoliday(ctx, &ipdesk.Holiday{Name: "x"}), ipdesk.EINVALID)
		from, to := day("2026-04-01"), day("2026-04-30")
		hs, n, err := db.FindHolidays(ctx, ipdesk.HolidayFilter{From: &from, To: &to})
		if err != nil || n != 1 || hs[0].ID != easter.ID {
			t.Fatalf("holidays in April: %v %d %v", hs, n, err)
		}
		hs, _, _ = db.FindHolidays(ctx, ipdesk.HolidayFilter{})
		if len(hs) != 2 || hs[0].ID != staff.ID {
			t.Errorf("holidays by first day: %v", hs)
		}
		name := "Ostern"
		h, err := db.UpdateHoliday(ctx, easter.ID, ipdesk.HolidayUpdate{Name: &name})
		if err != nil || h.Name != name || h.Version != 2 || h.Last != easter.Last {
			t.Fatalf("update: %+v %v", h, err)
		}
		if err := db.DeleteHoliday(ctx, staff.ID, ipdesk.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err = db.FindHolidayByID(ctx, staff.ID)
		wantCode(t, err, ipdesk.ENOTFOUND)
	})
}

func TestLessons(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		building, r303, r316 := timetableRooms(t, db)
		mon := day("2026-03-02")
		l := &ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 2, LastPeriod: 3, Course: "Maths", Teacher: "Müller"}
		if err := db.CreateLesson(ctx, l); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			l     ipdesk.Lesson
			code  string
			field string
		}{
			{ipdesk.Lesson{RoomID: building.ID, Date: mon, Period: 1}, ipdesk.EINVALID, "room_id"},
			{ipdesk.Lesson{RoomID: 999, Date: mon, Period: 1}, ipdesk.EINVALID, "room_id"},
			{ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 5}, ipdesk.EINVALID, "period"},
			{ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 3, LastPeriod: 5}, ipdesk.EINVALID, "last_period"},
			{ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 3, LastPeriod: 4}, ipdesk.ECONFLICT, "period"},
			{ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 1, LastPeriod: 2}, ipdesk.ECONFLICT, "period"},
			{ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 4, Course: "a\x00b"}, ipdesk.EINVALID, "course"},
			{ipdesk.Lesson{RoomID: r303.ID, Period: 4}, ipdesk.EINVALID, "date"},
		} {
			err := db.CreateLesson(ctx, &c.l)
			if ipdesk.ErrorCode(err) != c.code || ipdesk.ErrorField(err) != c.field {
				t.Errorf("%+v: %v (field %q), want %s on %s", c.l, err, ipdesk.ErrorField(err), c.code, c.field)
			}
		}
		// The same periods in another room, and the next period.
		if err := db.CreateLesson(ctx, &ipdesk.Lesson{RoomID: r316.ID, Date: mon, Period: 2}); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateLesson(ctx, &ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 4}); err != nil {
			t.Fatal(err)
		}
		// Moved, it keeps its length; it may not overlap its neighbour.
		p1 := 1
		moved, err := db.UpdateLesson(ctx, l.ID, ipdesk.LessonUpdate{Period: &p1})
		if err != nil || moved.Period != 1 || moved.LastPeriod != 2 || moved.Version != 2 {
			t.Fatalf("moved: %+v %v", moved, err)
		}
		p3 := 3
		_, err = db.UpdateLesson(ctx, l.ID, ipdesk.LessonUpdate{Period: &p3})
		wantCode(t, err, ipdesk.ECONFLICT)

		room, from, to := r303.ID, mon, mon
		ls, n, err := db.FindLessons(ctx, ipdesk.LessonFilter{RoomID: &room, From: &from, To: &to})
		if err != nil || n != 2 || ls[0].ID != l.ID {
			t.Fatalf("lessons of 303: %v %d %v", ls, n, err)
		}
		tue := day("2026-03-03")
		if _, n, _ := db.FindLessons(ctx, ipdesk.LessonFilter{From: &tue}); n != 0 {
			t.Errorf("%d lessons from Tuesday", n)
		}
		if err := db.DeleteLesson(ctx, l.ID, ipdesk.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err = db.FindLessonByID(ctx, l.ID)
		wantCode(t, err, ipdesk.ENOTFOUND)

		// A deleted room takes its lessons along.
		if err := db.DeleteLocation(ctx, r316.ID, ipdesk.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		room = r316.ID
		if _, n, _ := db.FindLessons(ctx, ipdesk.LessonFilter{RoomID: &room}); n != 0 {
			t.Errorf("%d lessons of a deleted room", n)
		}
	})
}

func TestImportLessons(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		building, r303, r316 := timetableRooms(t, db)
		mon, tue := day("2026-03-02"), day("2026-03-03")
		old := &ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 1, Course: "Old"}
		same := &ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 3, LastPeriod: 4, Course: "Physics"}
		for _, l := range []*ipdesk.Lesson{old, same} {
			if err := db.CreateLesson(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		rows := func() []*ipdesk.Lesson {
			return []*ipdesk.Lesson{
				{RoomID: r303.ID, Date: mon, Period: 1, Course: "Maths"},                  // updates old
				{RoomID: r303.ID, Date: mon, Period: 3, LastPeriod: 4, Course: "Physics"}, // unchanged
				{RoomID: r316.ID, Date: mon, Period: 1, LastPeriod: 2, Course: "Latin"},   // new
				{RoomID: r316.ID, Date: tue, Period: 4, Course: "Art"},                    // new
			}
		}
		// A dry run counts and writes nothing.
		res, err := db.ImportLessons(ctx, rows(), ipdesk.LessonImportOptions{DryRun: true})
		if err != nil || res.Created != 2 || res.Updated != 1 || len(res.Problems) != 0 {
			t.Fatalf("dry run: %+v %v", res, err)
		}
		if _, n, _ := db.FindLessons(ctx, ipdesk.LessonFilter{}); n != 2 {
			t.Fatalf("the dry run wrote: %d lessons", n)
		}
		// Bad rows: nothing is written, every problem is named.
		bad := append(rows(),
			&ipdesk.Lesson{RoomID: r316.ID, Date: mon, Period: 2, Course: "Clash"},
			&ipdesk.Lesson{RoomID: building.ID, Date: mon, Period: 1},
			&ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 2, LastPeriod: 3},
			&ipdesk.Lesson{RoomID: r303.ID, Date: tue, Period: 7},
		)
		audits := auditCount(t, db)
		res, err = db.ImportLessons(ctx, bad, ipdesk.LessonImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var problems []int
		for _, p := range res.Problems {
			problems = append(problems, p.Row)
		}
		if !slices.Equal(problems, []int{5, 6, 7, 8}) || res.Created != 0 {
			t.Fatalf("problems %+v", res)
		}
		if auditCount(t, db) != audits {
			t.Fatal("a refused import wrote audit entries")
		}
		// The good rows.
		rs := rows()
		res, err = db.ImportLessons(ctx, rs, ipdesk.LessonImportOptions{})
		if err != nil || res.Created != 2 || res.Updated != 1 || res.Deleted != 0 {
			t.Fatalf("import: %+v %v", res, err)
		}
		if rs[0].ID != old.ID || rs[0].Version != 2 || rs[2].ID == 0 || rs[3].ID == 0 {
			t.Errorf("imported rows: %+v %+v", rs[0], rs[2])
		}
		if n := auditCount(t, db) - audits; n != 3 {
			t.Errorf("%d audit entries, want 3", n)
		}
		got, _ := db.FindLessonByID(ctx, rs[2].ID)
		if got.Course != "Latin" || got.LastPeriod != 2 {
			t.Errorf("stored %+v", got)
		}
		// Replace: the file's rooms and days are what the file says.
		res, err = db.ImportLessons(ctx, []*ipdesk.Lesson{{RoomID: r303.ID, Date: mon, Period: 2, Course: "Only"}}, ipdesk.LessonImportOptions{Replace: true})
		if err != nil || res.Created != 1 || res.Deleted != 2 {
			t.Fatalf("replace: %+v %v", res, err)
		}
		ls, _, _ := db.FindLessons(ctx, ipdesk.LessonFilter{})
		if len(ls) != 3 { // 303's one, 316's two
			t.Errorf("after replace: %v", ls)
		}
	})
}

func TestOverrides(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		building, r303, r316 := timetableRooms(t, db)
		mon := day("2026-03-02")
		if err := db.CreateLesson(ctx, &ipdesk.Lesson{RoomID: r303.ID, Date: mon, Period: 2}); err != nil {
			t.Fatal(err)
		}
		// Without blocked, the opposite of the timetable.
		open := &ipdesk.Override{RoomID: r303.ID, Date: mon, Period: 2, Reason: "research"}
		closed := &ipdesk.Override{RoomID: r316.ID, Date: mon, Period: 2}
		for _, o := range []*ipdesk.Override{open, closed} {
			if err := db.SetOverride(ctx, o, nil); err != nil {
				t.Fatal(err)
			}
		}
		if open.Blocked || !closed.Blocked || open.CreatedBy != "tester" {
			t.Errorf("overrides %+v %+v", open, closed)
		}
		// Another for the same slot replaces it.
		yes := true
		again := &ipdesk.Override{RoomID: r303.ID, Date: mon, Period: 2}
		if err := db.SetOverride(ctx, again, &yes); err != nil {
			t.Fatal(err)
		}
		os, n, err := db.FindOverrides(ctx, ipdesk.OverrideFilter{RoomID: &r303.ID})
		if err != nil || n != 1 || os[0].ID != again.ID || !os[0].Blocked {
			t.Fatalf("overrides of 303: %v %v", os, err)
		}
		wantCode(t, db.SetOverride(ctx, &ipdesk.Override{RoomID: building.ID, Date: mon, Period: 1}, nil), ipdesk.EINVALID)
		wantCode(t, db.SetOverride(ctx, &ipdesk.Override{RoomID: r303.ID, Date: mon, Period: 9}, nil), ipdesk.EINVALID)
		wantCode(t, db.SetOverride(ctx, &ipdesk.Override{RoomID: 999, Date: mon, Period: 1}, nil), ipdesk.ENOTFOUND)
		if err := db.DeleteOverride(ctx, again.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.DeleteOverride(ctx, again.ID), ipdesk.ENOTFOUND)

		// "Now, until".
		start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		n1 := &ipdesk.NowOverride{RoomID: r303.ID, Blocked: true, Start: start, Until: start.Add(time.Hour), Reason: "exam"}
		if err := db.SetNowOverride(ctx, n1); err != nil {
			t.Fatal(err)
		}
		n2 := &ipdesk.NowOverride{RoomID: r303.ID, Blocked: false, Start: start.Add(time.Minute), Until: start.Add(2 * time.Hour)}
		if err := db.SetNowOverride(ctx, n2); err != nil {
			t.Fatal(err)
		}
		ns, err := db.FindNowOverrides(ctx, start.Add(90*time.Minute))
		if err != nil || len(ns) != 1 || ns[0].Blocked || !ns[0].Until.Equal(n2.Until) || ns[0].CreatedBy != "tester" {
			t.Fatalf("now overrides: %+v %v", ns, err)
		}
		if ns, _ := db.FindNowOverrides(ctx, start.Add(3*time.Hour)); len(ns) != 0 {
			t.Errorf("expired now overrides found: %v", ns)
		}
		wantCode(t, db.SetNowOverride(ctx, &ipdesk.NowOverride{RoomID: r316.ID, Start: start, Until: start}), ipdesk.EINVALID)
		wantCode(t, db.SetNowOverride(ctx, &ipdesk.NowOverride{RoomID: r316.ID, Start: start, Until: start.Add(25 * time.Hour)}), ipdesk.EINVALID)
		if err := db.DeleteNowOverride(ctx, r303.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.DeleteNowOverride(ctx, r303.ID), ipdesk.ENOTFOUND)
	})
}

// TestSetDayOverrides: the override grid's form of a day sets the
// overrides of several rooms at once; stored ones that stay are kept as
// they are, the others removed; a bad day changes nothing of any day.
func TestSetDayOverrides(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		building, r303, r316 := timetableRooms(t, db)
		mon := day("2026-03-02")
		kept := &ipdesk.Override{RoomID: r303.ID, Date: mon, Period: 1, Blocked: true, Reason: "exam"}
		flipped := &ipdesk.Override{RoomID: r303.ID, Date: mon, Period: 2, Blocked: true}
		dropped := &ipdesk.Override{RoomID: r303.ID, Date: mon, Period: 3, Blocked: true}
		other := &ipdesk.Override{RoomID: r303.ID, Date: mon.AddDays(1), Period: 3, Blocked: true}
		for _, o := range []*ipdesk.Override{kept, flipped, dropped, other} {
			if err := db.SetOverride(ctx, o, &o.Blocked); err != nil {
				t.Fatal(err)
			}
		}
		overrides := func(room int64, d ipdesk.Date) []*ipdesk.Override {
			t.Helper()
			os, _, err := db.FindOverrides(ctx, ipdesk.OverrideFilter{RoomID: &room, From: &d, To: &d})
			if err != nil {
				t.Fatal(err)
			}
			return os
		}
		audits := auditCount(t, db)

		// A bad day (a building, a period twice, a period not in the bell
		// schedule) changes nothing, also of the good days before it.
		good := ipdesk.DayOverrides{RoomID: r316.ID, Date: mon, Overrides: []*ipdesk.Override{{Period: 4, Blocked: true}}}
		for _, bad := range []ipdesk.DayOverrides{
			{RoomID: building.ID, Date: mon, Overrides: []*ipdesk.Override{{Period: 1}}},
			{RoomID: r303.ID, Date: mon, Overrides: []*ipdesk.Override{{Period: 1}, {Period: 1}}},
			{RoomID: r303.ID, Date: mon, Overrides: []*ipdesk.Override{{Period: 9}}},
			{RoomID: r303.ID, Date: mon, Overrides: []*ipdesk.Override{{Period: 2, Reason: "bad\x00reason"}}},
		} {
			if _, err := db.SetDayOverrides(ctx, []ipdesk.DayOverrides{good, bad}); err == nil {
				t.Fatalf("bad day %+v accepted", bad)
			}
		}
		if _, err := db.SetDayOverrides(ctx, []ipdesk.DayOverrides{good, good}); ipdesk.ErrorCode(err) != ipdesk.EINVALID {
			t.Fatalf("a day given twice: %v", err)
		}
		if n := auditCount(t, db); n != audits || len(overrides(r316.ID, mon)) != 0 {
			t.Fatalf("a refused form changed something: %d audit entries, was %d", n, audits)
		}

		// Period 1 stays as it is, period 2 changes its state, period 3
		// goes, period 4 is new; room 316 gets one; Tuesday is untouched.
		ch, err := db.SetDayOverrides(ctx, []ipdesk.DayOverrides{
			{RoomID: r303.ID, Date: mon, Overrides: []*ipdesk.Override{
				{Period: 1, Blocked: true, Reason: "other reason"},
				{Period: 2, Blocked: false, Reason: "open"},
				{Period: 4, Blocked: true, Reason: "new"},
			}},
			good,
		})
		if err != nil {
			t.Fatal(err)
		}
		if ch.Created != 3 || ch.Deleted != 2 {
			t.Errorf("changes %+v, want 3 created (303/2, 303/4, 316/4) and 2 deleted (303/2, 303/3)", ch)
		}
		got := overrides(r303.ID, mon)
		if len(got) != 3 || got[0].ID != kept.ID || got[0].Reason != "exam" || got[1].Period != 2 || got[1].Blocked || got[1].Reason != "open" ||
			got[2].Period != 4 || !got[2].Blocked || got[2].CreatedBy != "tester" {
			t.Fatalf("overrides of 303 on Monday: %+v %+v %+v", got[0], got[1], got[2])
		}
		if len(overrides(r316.ID, mon)) != 1 || len(overrides(r303.ID, mon.AddDays(1))) != 1 {
			t.Errorf("room 316 or Tuesday: %v %v", overrides(r316.ID, mon), overrides(r303.ID, mon.AddDays(1)))
		}
		if n := auditCount(t, db); n != audits+5 {
			t.Errorf("%d audit entries after the form, want %d", n, audits+5)
		}
		// No periods: every override of the day goes.
		if ch, err := db.SetDayOverrides(ctx, []ipdesk.DayOverrides{{RoomID: r303.ID, Date: mon}}); err != nil || ch.Deleted != 3 || len(overrides(r303.ID, mon)) != 0 {
			t.Fatalf("clearing the day: %+v %v", ch, err)
		}
	})
}

func TestRoomPolicyAndSnapshot(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		building, r303, r316 := timetableRooms(t, db)
		pol, err := db.FindRoomPolicy(ctx, r303.ID)
		if err != nil || pol.Policy != ipdesk.PolicyTimetable || pol.Version != 0 {
			t.Fatalf("default policy %+v %v", pol, err)
		}
		_, err = db.FindRoomPolicy(ctx, building.ID)
		wantCode(t, err, ipdesk.EINVALID)
		never := ipdesk.PolicyNever
		pol, err = db.SetRoomPolicy(ctx, r303.ID, ipdesk.RoomPolicyUpdate{Policy: &never})
		if err != nil || pol.Policy != never || pol.Version != 1 || pol.UpdatedBy != "tester" {
			t.Fatalf("set policy %+v %v", pol, err)
		}
		bad := ipdesk.RoomPolicy("sometimes")
		_, err = db.SetRoomPolicy(ctx, r303.ID, ipdesk.RoomPolicyUpdate{Policy: &bad})
		wantCode(t, err, ipdesk.EINVALID)
		stale := int64(0)
		_, err = db.SetRoomPolicy(ctx, r303.ID, ipdesk.RoomPolicyUpdate{Policy: &never, Version: &stale})
		wantCode(t, err, ipdesk.EPRECONDITION)

		mon := day("2026-03-02")
		for _, l := range []*ipdesk.Lesson{{RoomID: r303.ID, Date: mon, Period: 1}, {RoomID: r316.ID, Date: mon.AddDays(7), Period: 1}, {RoomID: r316.ID, Date: mon.AddDays(-1), Period: 1}} {
			if err := db.CreateLesson(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateHoliday(ctx, &ipdesk.Holiday{Name: "Ferien", First: mon.AddDays(-10), Last: mon}); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		if err := db.SetNowOverride(ctx, &ipdesk.NowOverride{RoomID: r316.ID, Blocked: true, Start: start, Until: start.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		d, err := db.TimetableSnapshot(ctx, mon, mon.AddDays(6))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Periods) != 4 || len(d.Rooms) != 2 || len(d.Policies) != 1 || len(d.Lessons) != 1 || len(d.Holidays) != 1 || len(d.NowOverrides) != 1 {
			t.Errorf("snapshot: %d periods, %d rooms, %d policies, %d lessons, %d holidays, %d now", len(d.Periods), len(d.Rooms), len(d.Policies), len(d.Lessons), len(d.Holidays), len(d.NowOverrides))
		}
		_, err = db.TimetableSnapshot(ctx, mon, mon.AddDays(ipdesk.MaxTimetableDays))
		wantCode(t, err, ipdesk.EINVALID)

		// The policy goes with its room.
		if err := db.DeleteLocation(ctx, r303.ID, ipdesk.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if d, _ := db.TimetableSnapshot(ctx, mon, mon); len(d.Policies) != 0 || len(d.Rooms) != 1 {
			t.Errorf("after deleting 303: %d policies, %d rooms", len(d.Policies), len(d.Rooms))
		}
	})
}

func TestLogbook(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		var committed [][]string
		db.OnCommit = func(types []string) { committed = append(committed, types) }
		_, r303, r316 := timetableRooms(t, db)
		at := time.Date(2026, 3, 2, 8, 50, 0, 123456789, time.UTC)
		e1 := &ipdesk.LogEntry{Time: at, Actor: ipdesk.LogActorTimetable, Blocked: []ipdesk.LogRoom{{ID: r303.ID, Name: "303"}, {ID: r316.ID, Name: "316"}},
			BlockedNow: []ipdesk.LogRoom{{ID: r303.ID, Name: "303"}, {ID: r316.ID, Name: "316"}}}
		e2 := &ipdesk.LogEntry{Time: at.Add(time.Hour), Actor: "anna", Opened: []ipdesk.LogRoom{{ID: r316.ID, Name: "316"}},
			BlockedNow: []ipdesk.LogRoom{{ID: r303.ID, Name: "303"}}, Error: "rooms.hosts: invalid:\n\tsquid: Bad host"}
		commits := len(committed)
		for _, e := range []*ipdesk.LogEntry{e1, e2} {
			if err := db.RecordLogEntry(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if len(committed) != commits {
			t.Errorf("logbook entries were reported as changes: %v", committed[commits:])
		}
		wantCode(t, db.RecordLogEntry(ctx, &ipdesk.LogEntry{Time: at, Actor: "a\nb"}), ipdesk.EINVALID)
		all, n, err := db.FindLogEntries(ctx, ipdesk.LogFilter{})
		if err != nil || n != 2 || all[0].ID != e2.ID || all[1].Time != at.Truncate(time.Microsecond) || len(all[1].Blocked) != 2 || all[0].Error != e2.Error {
			t.Fatalf("logbook %+v %v", all, err)
		}
		yes, no := true, false
		anna := "anna"
		since := at.Add(time.Minute)
		for _, c := range []struct {
			name string
			f    ipdesk.LogFilter
			want []int64
		}{
			{"room 303", ipdesk.LogFilter{RoomID: &r303.ID}, []int64{e1.ID}},
			{"room 316", ipdesk.LogFilter{RoomID: &r316.ID}, []int64{e2.ID, e1.ID}},
			{"actor", ipdesk.LogFilter{Actor: &anna}, []int64{e2.ID}},
			{"failed", ipdesk.LogFilter{Failed: &yes}, []int64{e2.ID}},
			{"not failed", ipdesk.LogFilter{Failed: &no}, []int64{e1.ID}},
			{"since", ipdesk.LogFilter{Since: &since}, []int64{e2.ID}},
			{"until", ipdesk.LogFilter{Until: &since}, []int64{e1.ID}},
		} {
			es, _, err := db.FindLogEntries(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range es {
				got = append(got, e.ID)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}

		// Who changed what since an audit entry.
		_, newest, err := db.ChangeActorsSince(ctx, -1, nil)
		if err != nil || newest == 0 {
			t.Fatal(newest, err)
		}
		bob := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "bob"})
		if err := db.CreateLesson(bob, &ipdesk.Lesson{RoomID: r303.ID, Date: day("2026-03-02"), Period: 1}); err != nil {
			t.Fatal(err)
		}
		if err := db.SetOverride(ctx, &ipdesk.Override{RoomID: r303.ID, Date: day("2026-03-02"), Period: 2}, nil); err != nil {
			t.Fatal(err)
		}
		actors, last, err := db.ChangeActorsSince(ctx, newest, []string{ipdesk.ObjectLesson, ipdesk.ObjectOverride})
		if err != nil || !slices.Equal(actors, []string{"bob", "tester"}) || last != newest+2 {
			t.Errorf("actors %v, newest %d (was %d), %v", actors, last, newest, err)
		}
		actors, _, _ = db.ChangeActorsSince(ctx, newest, []string{ipdesk.ObjectHoliday})
		if len(actors) != 0 {
			t.Errorf("actors of holidays: %v", actors)
		}
		if got := committed[len(committed)-1]; !slices.Equal(got, []string{ipdesk.ObjectOverride}) {
			t.Errorf("OnCommit got %v", got)
		}
	})
}
