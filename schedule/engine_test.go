package schedule

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"ipdesk"
)

var berlin = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func date(s string) ipdesk.Date {
	d, err := ipdesk.ParseDate("date", s)
	if err != nil {
		panic(err)
	}
	return d
}

// local returns the instant of "YYYY-MM-DD HH:MM[:SS]" in Berlin.
func local(s string) time.Time {
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, berlin); err == nil {
			return t
		}
	}
	panic("bad time " + s)
}

func tod(s string) ipdesk.TimeOfDay {
	t, err := ipdesk.ParseTimeOfDay("t", s)
	if err != nil {
		panic(err)
	}
	return t
}

// bellSchedule is six periods with breaks of 5, 20 and 15 minutes.
func bellSchedule() []*ipdesk.Period {
	var ps []*ipdesk.Period
	for i, p := range [][2]string{{"08:00", "08:45"}, {"08:50", "09:35"}, {"09:55", "10:40"}, {"10:45", "11:30"}, {"11:45", "12:30"}, {"12:35", "13:20"}} {
		ps = append(ps, &ipdesk.Period{Number: i + 1, Start: tod(p[0]), End: tod(p[1])})
	}
	return ps
}

// Rooms of the week's test.
const (
	r303 = 1 + iota // lessons
	r316            // free periods, overrides
	r317            // policy always
	r318            // policy never
)

// testWeek is the school week from Monday 23 March 2026 to Monday 30
// March, across the change to summer time in the night to Sunday 29
// March, with a staff day on Wednesday.
func testWeek() *ipdesk.TimetableData {
	l := func(room int64, d string, from, to int, course string) *ipdesk.Lesson {
		return &ipdesk.Lesson{ID: int64(len(d) + from*100 + int(room)), RoomID: room, Date: date(d), Period: from, LastPeriod: to, Course: course, Teacher: "Müller"}
	}
	o := func(room int64, d string, p int, blocked bool) *ipdesk.Override {
		return &ipdesk.Override{ID: int64(p), RoomID: room, Date: date(d), Period: p, Blocked: blocked, CreatedBy: "anna"}
	}
	return &ipdesk.TimetableData{
		From:     date("2026-03-23"),
		To:       date("2026-03-31"),
		Periods:  bellSchedule(),
		Holidays: []*ipdesk.Holiday{{ID: 1, Name: "Staff day", First: date("2026-03-25"), Last: date("2026-03-25")}},
		Rooms: []*ipdesk.Location{
			{ID: r303, Kind: ipdesk.LocationRoom, Name: "303"},
			{ID: r316, Kind: ipdesk.LocationRoom, Name: "316"},
			{ID: r317, Kind: ipdesk.LocationRoom, Name: "317"},
			{ID: r318, Kind: ipdesk.LocationRoom, Name: "318"},
		},
		Policies: []*ipdesk.RoomPolicySetting{
			{RoomID: r317, Policy: ipdesk.PolicyAlways, UpdatedBy: "admin"},
			{RoomID: r318, Policy: ipdesk.PolicyNever, UpdatedBy: "admin"},
		},
		Lessons: []*ipdesk.Lesson{
			l(r303, "2026-03-23", 1, 1, "Maths"),
			l(r303, "2026-03-23", 3, 4, "Physics"), // a span across a 5-minute break
			l(r318, "2026-03-23", 1, 1, "Art"),
			l(r316, "2026-03-24", 2, 2, "Latin"),
			l(r303, "2026-03-25", 1, 1, "Maths"), // on the staff day: does not count
			l(r303, "2026-03-26", 2, 2, "Maths"),
			l(r303, "2026-03-27", 3, 3, "Maths"),
			l(r303, "2026-03-30", 1, 1, "Maths"), // summer time
		},
		Overrides: []*ipdesk.Override{
			o(r303, "2026-03-26", 2, false), // a lesson opened
			o(r316, "2026-03-26", 5, true),  // a free period blocked
			o(r316, "2026-03-25", 6, true),  // an exam on the staff day
			o(r317, "2026-03-26", 1, false), // the policy wins
		},
		NowOverrides: []*ipdesk.NowOverride{
			// Friday: 316 blocked from 09:00 until 10:00, in the middle of
			// period 3.
			{RoomID: r316, Blocked: true, Start: local("2026-03-27 09:00"), Until: local("2026-03-27 10:00"), CreatedBy: "bob"},
		},
	}
}

// TestWeek checks the state of the rooms over the whole week: lesson or
// none × override × breaks, spans, the holiday, the "now, until" override
// expiring mid-period, the policies and the week after the change to
// summer time.
func TestWeek(t *testing.T) {
	p := NewPlan(Settings{Location: berlin}, testWeek())
	type want struct {
		blocked bool
		reason  ipdesk.StateReason
	}
	open := func(r ipdesk.StateReason) want { return want{false, r} }
	blocked := func(r ipdesk.StateReason) want { return want{true, r} }
	for _, c := range []struct {
		at   string
		room int64
		want want
	}{
		// Monday: a lesson in period 1, the span 3–4.
		{"2026-03-23 07:59:59", r303, open(ipdesk.ReasonOutside)},
		{"2026-03-23 08:00", r303, blocked(ipdesk.ReasonLesson)},
		{"2026-03-23 08:44:59", r303, blocked(ipdesk.ReasonLesson)},
		{"2026-03-23 08:45", r303, open(ipdesk.ReasonBreak)},
		{"2026-03-23 09:00", r303, open(ipdesk.ReasonFree)},
		{"2026-03-23 09:55", r303, blocked(ipdesk.ReasonLesson)},
		{"2026-03-23 10:42", r303, open(ipdesk.ReasonBreak)}, // the break inside the span
		{"2026-03-23 10:45", r303, blocked(ipdesk.ReasonLesson)},
		{"2026-03-23 11:30", r303, open(ipdesk.ReasonBreak)},
		{"2026-03-23 13:20", r303, open(ipdesk.ReasonOutside)},
		{"2026-03-23 08:10", r316, open(ipdesk.ReasonFree)},
		{"2026-03-23 08:10", r317, blocked(ipdesk.ReasonPolicy)},
		{"2026-03-23 08:10", r318, open(ipdesk.ReasonPolicy)}, // never, despite the lesson
		{"2026-03-23 20:00", r317, blocked(ipdesk.ReasonPolicy)},
		// Tuesday.
		{"2026-03-24 09:00", r316, blocked(ipdesk.ReasonLesson)},
		{"2026-03-24 09:00", r303, open(ipdesk.ReasonFree)},
		// Wednesday, the staff day: lessons do not count, the exam's
		// override does.
		{"2026-03-25 08:10", r303, open(ipdesk.ReasonClosed)},
		{"2026-03-25 12:40", r316, blocked(ipdesk.ReasonOverride)},
		{"2026-03-25 12:30", r316, open(ipdesk.ReasonClosed)},
		// Thursday: the lesson opened, a free period blocked.
		{"2026-03-26 09:00", r303, open(ipdesk.ReasonOverride)},
		{"2026-03-26 11:50", r316, blocked(ipdesk.ReasonOverride)},
		{"2026-03-26 12:35", r316, open(ipdesk.ReasonFree)},
		{"2026-03-26 08:10", r317, blocked(ipdesk.ReasonPolicy)},
		// Friday: 316 blocked now until 10:00, breaks included, then free.
		{"2026-03-27 08:59:59", r316, open(ipdesk.ReasonFree)},
		{"2026-03-27 09:00", r316, blocked(ipdesk.ReasonNow)},
		{"2026-03-27 09:40", r316, blocked(ipdesk.ReasonNow)},
		{"2026-03-27 09:59:59", r316, blocked(ipdesk.ReasonNow)},
		{"2026-03-27 10:00", r316, open(ipdesk.ReasonFree)},
		{"2026-03-27 10:00", r303, blocked(ipdesk.ReasonLesson)},
		// The weekend.
		{"2026-03-28 09:00", r303, open(ipdesk.ReasonClosed)},
		// Monday after the change to summer time: periods at the same
		// wall-clock times.
		{"2026-03-30 07:59", r303, open(ipdesk.ReasonOutside)},
		{"2026-03-30 08:00", r303, blocked(ipdesk.ReasonLesson)},
		{"2026-03-30 08:45", r303, open(ipdesk.ReasonBreak)},
	} {
		at := local(c.at)
		got, ok := p.Room(c.room, at)
		if !ok {
			t.Fatalf("room %d unknown", c.room)
		}
		if got.Blocked != c.want.blocked || got.Reason != c.want.reason {
			t.Errorf("%s room %d: blocked=%v reason=%s (%s), want blocked=%v reason=%s", c.at, c.room, got.Blocked, got.Reason, got.Why, c.want.blocked, c.want.reason)
		}
		if b := slices.Contains(p.Blocked(at), c.room); b != c.want.blocked {
			t.Errorf("%s: Blocked() has room %d: %v", c.at, c.room, b)
		}
	}
	// The summer-time Monday starts at 06:00 UTC, the Monday before at
	// 07:00 UTC.
	if got := local("2026-03-30 08:00").UTC(); got != time.Date(2026, 3, 30, 6, 0, 0, 0, time.UTC) {
		t.Fatalf("test premise: %s", got)
	}
	if got, _ := p.Room(r303, time.Date(2026, 3, 30, 6, 0, 0, 0, time.UTC)); !got.Blocked {
		t.Errorf("06:00 UTC on 30 March: %+v", got)
	}
	if got, _ := p.Room(r303, time.Date(2026, 3, 23, 6, 0, 0, 0, time.UTC)); got.Blocked {
		t.Errorf("06:00 UTC on 23 March (07:00 in Berlin): %+v", got)
	}
}

// TestNext checks the boundaries: period starts and ends of school days,
// the periods with an override on a closed day, a "now, until" expiry,
// and the step over a weekend with a change of the clocks.
func TestNext(t *testing.T) {
	p := NewPlan(Settings{Location: berlin}, testWeek())
	for _, c := range []struct{ at, want string }{
		{"2026-03-23 07:00", "2026-03-23 08:00"},
		{"2026-03-23 08:00", "2026-03-23 08:45"},
		{"2026-03-23 08:46", "2026-03-23 08:50"},
		{"2026-03-24 13:20", "2026-03-25 12:35"}, // the staff day has period 6 only
		{"2026-03-25 08:00", "2026-03-25 12:35"},
		{"2026-03-25 12:35", "2026-03-25 13:20"},
		{"2026-03-27 09:36", "2026-03-27 09:55"},
		{"2026-03-27 09:55", "2026-03-27 10:00"}, // the now override ends
		{"2026-03-27 10:00", "2026-03-27 10:40"},
		{"2026-03-27 13:20", "2026-03-30 08:00"}, // over the weekend and the change of the clocks
	} {
		got := p.Next(local(c.at))
		if want := local(c.want); !got.Equal(want) {
			t.Errorf("after %s: next %s, want %s", c.at, got.In(berlin), c.want)
		}
	}
	// Friday 13:20 to Monday 08:00 is 66h40m on the wall clock; the
	// change to summer time makes it 65h40m.
	if d := p.Next(local("2026-03-27 13:20")).Sub(local("2026-03-27 13:20")); d != 65*time.Hour+40*time.Minute {
		t.Errorf("Friday 13:20 to Monday 08:00 is %s", d)
	}
	// The change back to winter time makes it 67h40m.
	autumn := &ipdesk.TimetableData{From: date("2026-10-23"), To: date("2026-10-26"), Periods: bellSchedule()}
	q := NewPlan(Settings{Location: berlin}, autumn)
	if d := q.Next(local("2026-10-23 13:20")).Sub(local("2026-10-23 13:20")); d != 67*time.Hour+40*time.Minute {
		t.Errorf("Friday 13:20 to Monday 08:00 across the change to winter time is %s", d)
	}
}

// TestValidUntil checks when a state is said to change next.
func TestValidUntil(t *testing.T) {
	p := NewPlan(Settings{Location: berlin}, testWeek())
	for _, c := range []struct {
		at   string
		room int64
		want string // "" for no change in the known range
	}{
		{"2026-03-23 08:10", r303, "2026-03-23 08:45"},
		{"2026-03-23 08:50", r303, "2026-03-23 09:55"},
		{"2026-03-23 10:00", r303, "2026-03-23 10:40"},
		{"2026-03-27 09:30", r316, "2026-03-27 10:00"}, // the now override expires mid-period
		{"2026-03-23 08:10", r317, ""},                 // always blocked
		{"2026-03-24 09:00", r316, "2026-03-24 09:35"},
		{"2026-03-24 10:00", r316, "2026-03-25 12:35"}, // the exam on the staff day
	} {
		st, _ := p.Room(c.room, local(c.at))
		switch {
		case c.want == "" && st.ValidUntil != nil:
			t.Errorf("%s room %d: valid until %s, want no change", c.at, c.room, st.ValidUntil.In(berlin))
		case c.want != "" && (st.ValidUntil == nil || !st.ValidUntil.Equal(local(c.want))):
			t.Errorf("%s room %d: valid until %v, want %s", c.at, c.room, st.ValidUntil, c.want)
		}
	}
	all := p.States(local("2026-03-27 09:30"))
	if len(all.Rooms) != 4 || all.Next == nil || !all.Next.Equal(local("2026-03-27 09:35")) {
		t.Errorf("states: next %v, %d rooms", all.Next, len(all.Rooms))
	}
	if got := all.Blocked(); !slices.Equal(got, []int64{r316, r317}) {
		t.Errorf("blocked at Friday 09:30: %v", got)
	}
}

// TestWhy checks the explanations.
func TestWhy(t *testing.T) {
	p := NewPlan(Settings{Location: berlin}, testWeek())
	for _, c := range []struct {
		at   string
		room int64
		want string
	}{
		{"2026-03-23 10:00", r303, "lesson Physics in period 3 (Müller)"},
		{"2026-03-23 09:40", r303, "break before period 3"},
		{"2026-03-23 14:00", r303, "outside school hours"},
		{"2026-03-25 09:00", r303, "no school: Staff day"},
		{"2026-03-28 09:00", r303, "no school on Saturdays"},
		{"2026-03-26 09:00", r303, "period 2 open by an override by anna"},
		{"2026-03-27 09:30", r316, "blocked until 10:00 by bob"},
		{"2026-03-23 09:00", r316, "no lesson in period 2"},
		{"2026-03-23 09:00", r317, "always blocked: the room's policy by admin"},
	} {
		if st, _ := p.Room(c.room, local(c.at)); st.Why != c.want {
			t.Errorf("%s room %d: %q, want %q", c.at, c.room, st.Why, c.want)
		}
	}
}

// TestLessonEnd checks the default end of "block now / open now".
func TestLessonEnd(t *testing.T) {
	p := NewPlan(Settings{Location: berlin}, testWeek())
	for _, c := range []struct {
		at   string
		room int64
		want string
	}{
		{"2026-03-23 10:00", r303, "2026-03-23 11:30"}, // the span 3–4
		{"2026-03-23 09:00", r303, "2026-03-23 09:35"}, // a free period: its end
		{"2026-03-23 09:40", r303, "2026-03-23 10:40"}, // a break: the next period's end
		{"2026-03-23 07:00", r316, "2026-03-23 08:45"},
		{"2026-03-25 08:10", r303, "2026-03-25 08:45"}, // the staff day's lesson does not count
		{"2026-03-23 13:30", r303, ""},
	} {
		end, ok := p.LessonEnd(c.room, local(c.at))
		if c.want == "" {
			if ok {
				t.Errorf("%s: end %s, want none", c.at, end.In(berlin))
			}
			continue
		}
		if !ok || !end.Equal(local(c.want)) {
			t.Errorf("%s room %d: end %s %v, want %s", c.at, c.room, end.In(berlin), ok, c.want)
		}
	}
}

// TestPreview checks the grid's cells and flags.
func TestPreview(t *testing.T) {
	p := NewPlan(Settings{Location: berlin}, testWeek())
	pv := p.Preview(date("2026-03-26"), date("2026-03-27"), local("2026-03-27 09:30"))
	if len(pv.Days) != 2 || len(pv.Rooms) != 4 || len(pv.Rooms[0].Cells) != 12 {
		t.Fatalf("preview: %d days, %d rooms, %d cells", len(pv.Days), len(pv.Rooms), len(pv.Rooms[0].Cells))
	}
	cell := func(room, i int) ipdesk.PreviewCell { return pv.Rooms[room].Cells[i] }
	if c := cell(0, 1); c.Blocked || c.Reason != ipdesk.ReasonOverride || c.OverrideID == 0 || c.LessonID == 0 || !c.Past {
		t.Errorf("303 Thursday period 2: %+v", c)
	}
	if c := cell(0, 6+2); !c.Blocked || c.Reason != ipdesk.ReasonLesson || c.Past || c.Current {
		t.Errorf("303 Friday period 3: %+v", c)
	}
	if c := cell(1, 6+1); !c.Current || c.NowOverride == nil || !*c.NowOverride || c.Blocked {
		t.Errorf("316 Friday period 2 (current, blocked now): %+v", c)
	}
	if c := cell(1, 6+3); c.NowOverride != nil {
		t.Errorf("316 Friday period 4, after the now override: %+v", c)
	}
	if pv.Rooms[2].Policy != ipdesk.PolicyAlways || !cell(2, 0).Blocked {
		t.Errorf("317: %+v", pv.Rooms[2])
	}
}

// bigWeek is a plan of rooms rooms with a lesson in every other period of
// five days of twelve periods.
func bigWeek(rooms int) *ipdesk.TimetableData {
	d := &ipdesk.TimetableData{From: date("2026-03-23"), To: date("2026-03-31")}
	for i := range 12 {
		start := ipdesk.TimeOfDay(7*60 + 50*i)
		d.Periods = append(d.Periods, &ipdesk.Period{Number: i + 1, Start: start, End: start + 45})
	}
	var id int64
	for r := range rooms {
		d.Rooms = append(d.Rooms, &ipdesk.Location{ID: int64(r + 1), Kind: ipdesk.LocationRoom, Name: fmt.Sprintf("R%03d", r)})
		for day := range 5 {
			for per := 1 + (r+day)%2; per <= 12; per += 2 {
				id++
				d.Lessons = append(d.Lessons, &ipdesk.Lesson{ID: id, RoomID: int64(r + 1), Date: date("2026-03-23").AddDays(day), Period: per, LastPeriod: per, Course: "C"})
			}
		}
		if r%10 == 0 {
			d.Overrides = append(d.Overrides, &ipdesk.Override{ID: int64(r + 1), RoomID: int64(r + 1), Date: date("2026-03-24"), Period: 3, Blocked: true})
		}
	}
	return d
}

// BenchmarkPreviewWeek computes the state of 500 rooms × 5 days × 12
// periods (30,000 cells), the plan compiled from the data included.
func BenchmarkPreviewWeek(b *testing.B) {
	d := bigWeek(500)
	now := local("2026-03-25 10:00")
	b.ReportAllocs()
	for b.Loop() {
		p := NewPlan(Settings{Location: berlin}, d)
		pv := p.Preview(date("2026-03-23"), date("2026-03-27"), now)
		if len(pv.Rooms) != 500 || len(pv.Rooms[0].Cells) != 60 {
			b.Fatal("wrong grid")
		}
	}
}

// BenchmarkStates computes the state of 500 rooms now, each with the
// time its state changes next, and the blocked set.
func BenchmarkStates(b *testing.B) {
	d := bigWeek(500)
	p := NewPlan(Settings{Location: berlin}, d)
	now := local("2026-03-25 10:00")
	b.ReportAllocs()
	for b.Loop() {
		st := p.States(now)
		if len(st.Rooms) != 500 || len(st.Blocked()) == 0 {
			b.Fatal("wrong states")
		}
	}
}

func TestDayNumber(t *testing.T) {
	epoch := date("2000-01-01")
	for d := date("2000-01-01").AddDays(-800); d.Before(date("2199-12-31")); d = d.AddDays(13) {
		if got, want := dayNumber(d), int32(epoch.DaysUntil(d)); got != want {
			t.Fatalf("%s: %d, want %d", d, got, want)
		}
	}
}
