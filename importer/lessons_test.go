package importer

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ipdesk"
)

func TestReadLessonsCSV(t *testing.T) {
	in := "\ufeffRoom,date,period,course,teacher\n" +
		"303,2026-03-02,1,Mathe,Müller\n" +
		"Campus > Haus A > 316,2.3.2026,3-4,\"Latein, Gruppe B\",\n" +
		"303,2026-02-30,1,x,y\n" + // no such day
		"303,2026-03-02,4-2,x,y\n" + // a backward span
		"303,2026-03-02,x,x,y\n" +
		",2026-03-02,1,x,y\n" +
		"\n" +
		"303,2026-03-03,2,'=SUM(A1),\n" +
		"303,2026-03-03\n" + // too few cells: room, date but no period
		"303,2026-03-04,5,\"unclosed\n"
	rows, problems, err := ReadLessonsCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []LessonRow{
		{Line: 2, Room: "303", Date: ipdesk.Date{Year: 2026, Month: 3, Day: 2}, Period: 1, LastPeriod: 1, Course: "Mathe", Teacher: "Müller"},
		{Line: 3, Room: "Campus > Haus A > 316", Date: ipdesk.Date{Year: 2026, Month: 3, Day: 2}, Period: 3, LastPeriod: 4, Course: "Latein, Gruppe B"},
		{Line: 9, Room: "303", Date: ipdesk.Date{Year: 2026, Month: 3, Day: 3}, Period: 2, LastPeriod: 2, Course: "=SUM(A1)"},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("rows\n%+v\nwant\n%+v", rows, want)
	}
	var got []string
	for _, p := range problems {
		got = append(got, fmt.Sprintf("%d %s", p.Line, p.Field))
	}
	if w := []string{"4 date", "5 period", "6 period", "7 room", "10 period", "11 "}; !slices.Equal(got, w) {
		t.Errorf("problems %v, want %v\n%v", got, w, problems)
	}
	for _, c := range []struct{ header, err string }{
		{"room,date,hour\n", `unknown column "hour"`},
		{"room,course\n", `the column "date" is required`},
		{"room,date,period,room\n", `column "room" appears twice`},
	} {
		if _, _, err := ReadLessonsCSV(strings.NewReader(c.header)); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: %v, want %q", c.header, err, c.err)
		}
	}
}

var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

func bell() []*ipdesk.Period {
	var ps []*ipdesk.Period
	for i, p := range [][2]ipdesk.TimeOfDay{{480, 525}, {530, 575}, {595, 640}, {645, 690}, {705, 750}, {755, 800}} {
		ps = append(ps, &ipdesk.Period{Number: i + 1, Start: p[0], End: p[1]})
	}
	return ps
}

// icsExport is a timetable export with the features the importer reads and
// the faults it reports. Line numbers matter: see TestReadLessonsICal.
const icsExport = `BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Stundenplan//DE
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:mathe-5a@school
DTSTART;TZID=Europe/Berlin:20260302T080000
DTEND;TZID=Europe/Berlin:20260302T084500
RRULE:FREQ=WEEKLY;UNTIL=20260330T235959Z
EXDATE;TZID=Europe/Berlin:20260316T080000
SUMMARY:Mathe\, Gruppe A
LOCATION:303
ORGANIZER;CN="Müller, Anna":mailto:mueller@school.example
DESCRIPTION:Klasse 5a\nbring your calcu
 lator
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT5M
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:mathe-5a@school
RECURRENCE-ID;TZID=Europe/Berlin:20260309T080000
DTSTART;TZID=Europe/Berlin:20260309T104500
DTEND;TZID=Europe/Berlin:20260309T113000
SUMMARY:Mathe\, Gruppe A
LOCATION:303
END:VEVENT
BEGIN:VEVENT
UID:physik@school
DTSTART:20260303T075000Z
DURATION:PT1H50M
SUMMARY:Physik
LOCATION:316
DESCRIPTION:Schmidt
END:VEVENT
BEGIN:VEVENT
UID:info@school
DTSTART:20260303T095500
DTEND:20260303T104000
RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=TU,TH
SUMMARY:Informatik
LOCATION:303
END:VEVENT
BEGIN:VEVENT
UID:aula@school
DTSTART;TZID=Europe/Berlin:20260302T080000
DTEND;TZID=Europe/Berlin:20260302T084500
SUMMARY:Chor
LOCATION:Aula
END:VEVENT
BEGIN:VEVENT
UID:late@school
DTSTART;TZID=Europe/Berlin:20260302T150000
DTEND;TZID=Europe/Berlin:20260302T160000
SUMMARY:AG
LOCATION:303
END:VEVENT
THIS IS BROKEN
BEGIN:VEVENT
UID:cancelled@school
STATUS:CANCELLED
DTSTART;TZID=Europe/Berlin:20260304T080000
DTEND;TZID=Europe/Berlin:20260304T084500
LOCATION:303
END:VEVENT
BEGIN:VEVENT
UID:allday@school
DTSTART;VALUE=DATE:20260305
SUMMARY:Projekttag
LOCATION:303
END:VEVENT
BEGIN:VEVENT
UID:outlook@school
DTSTART;TZID="W. Europe Standard Time":20260306T115000
DTEND;TZID="W. Europe Standard Time":20260306T123000
SUMMARY:Kunst
LOCATION:316
END:VEVENT
BEGIN:VEVENT
UID:group-b@school
DTSTART;TZID=Europe/Berlin:20260302T080000
DTEND;TZID=Europe/Berlin:20260302T084500
SUMMARY:Mathe\, Gruppe B
LOCATION:303
ORGANIZER;CN=Schulz:mailto:schulz@school.example
END:VEVENT
END:VCALENDAR
`

// TestReadLessonsICal reads a timetable export with a weekly series (an
// excluded date, a moved occurrence, the change to summer time), a UTC
// event with a duration, a floating series on two weekdays with a count,
// folded and escaped text, a cancelled event, and the faults: a time
// outside the periods, a broken line, an all-day event, an unknown time
// zone and two groups in one room at once.
func TestReadLessonsICal(t *testing.T) {
	in := strings.ReplaceAll(icsExport, "\n", "\r\n")
	rows, problems, warnings, err := ReadLessonsICal(strings.NewReader(in), ICalOptions{Location: berlin, Periods: bell()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%d %s %s %s %q %q", r.Line, r.Room, r.Date, periodText(r), r.Course, r.Teacher))
	}
	want := []string{
		`12 303 2026-03-02 1 "Mathe, Gruppe A / Mathe, Gruppe B" "Müller, Anna / Schulz"`,
		`12 303 2026-03-23 1 "Mathe, Gruppe A" "Müller, Anna"`,
		`12 303 2026-03-30 1 "Mathe, Gruppe A" "Müller, Anna"`, // summer time: still 08:00
		`28 303 2026-03-09 4 "Mathe, Gruppe A" ""`,
		`36 316 2026-03-03 2-3 "Physik" "Schmidt"`,
		`44 303 2026-03-03 3 "Informatik" ""`,
		`44 303 2026-03-05 3 "Informatik" ""`,
		`44 303 2026-03-10 3 "Informatik" ""`,
		`52 Aula 2026-03-02 1 "Chor" ""`,
		`80 316 2026-03-06 5 "Kunst" ""`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = got[:0]
	for _, p := range problems {
		got = append(got, p.Error())
	}
	slices.Sort(got)
	wantProblems := []string{
		`line 59: DTSTART: the time 15:00 to 16:00 on 2026-03-02 is outside the periods of the bell schedule`,
		`line 66: "THIS IS BROKEN" is not an iCalendar content line (NAME:VALUE)`,
		`line 76: DTSTART: the event lasts all day; lessons have times`,
	}
	slices.Sort(wantProblems)
	if !slices.Equal(got, wantProblems) {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantProblems, "\n"))
	}
	got = got[:0]
	for _, w := range warnings {
		got = append(got, w.Error())
	}
	wantWarnings := []string{
		`line 82: TZID: time zone "W. Europe Standard Time" is not known here; its times are taken as Europe/Berlin`,
		`line 87: room 303 has another event on 2026-03-02 in periods 1 (line 12); they are one lesson`,
	}
	if !slices.Equal(got, wantWarnings) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantWarnings, "\n"))
	}
}

func TestICalFaults(t *testing.T) {
	event := func(lines ...string) string {
		return "BEGIN:VCALENDAR\nBEGIN:VEVENT\n" + strings.Join(lines, "\n") + "\nEND:VEVENT\nEND:VCALENDAR\n"
	}
	start := "DTSTART;TZID=Europe/Berlin:20260302T080000"
	end := "DTEND;TZID=Europe/Berlin:20260302T084500"
	for _, c := range []struct {
		name, in, want string
	}{
		{"no room", event(start, end), "line 2: LOCATION: the event has no LOCATION"},
		{"no start", event("LOCATION:303", end), "line 2: DTSTART: the event has no DTSTART"},
		{"bad start", event("LOCATION:303", "DTSTART:2026-03-02 08:00", end), `line 4: DTSTART: "2026-03-02 08:00" is not a time`},
		{"no end", event("LOCATION:303", start), "DTEND: the event has no DTEND or DURATION"},
		{"end before start", event("LOCATION:303", start, "DTEND;TZID=Europe/Berlin:20260302T070000"), "no DTEND or DURATION after its DTSTART"},
		{"bad duration", event("LOCATION:303", start, "DURATION:45 minutes"), `line 5: DURATION: "45 minutes" is not a duration`},
		{"over midnight", event("LOCATION:303", start, "DURATION:P1DT1H"), "does not end on the day it starts"},
		{"daily", event("LOCATION:303", start, end, "RRULE:FREQ=DAILY;COUNT=3"), "line 6: RRULE: FREQ=DAILY is not supported"},
		{"bad weekday", event("LOCATION:303", start, end, "RRULE:FREQ=WEEKLY;BYDAY=XX"), `"XX" is not a weekday`},
		{"bad exdate", event("LOCATION:303", start, end, "EXDATE:yesterday"), `line 6: EXDATE: "yesterday" is not a time`},
		{"unclosed quote", event("LOCATION:303", `DTSTART;TZID="Europe/Berlin:20260302T080000`, end), "parameter TZID has an unclosed quote"},
		{"no end of event", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nLOCATION:303\n", "line 2: the event has no END:VEVENT"},
		{"stray end", "BEGIN:VCALENDAR\nEND:VEVENT\nEND:VCALENDAR\n", "line 2: END:VEVENT without its BEGIN"},
		{"not utf-8", event("LOCATION:\xff303", start, end), "line 3: the line is not valid UTF-8"},
	} {
		_, problems, _, err := ReadLessonsICal(strings.NewReader(c.in), ICalOptions{Location: berlin, Periods: bell()})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p.Error(), c.want)
		}
		if !found {
			t.Errorf("%s: problems %v, want one with %q", c.name, problems, c.want)
		}
	}
	// A series without end is read for a year, with a warning.
	rows, problems, warnings, _ := ReadLessonsICal(strings.NewReader(event("LOCATION:303", start, end, "RRULE:FREQ=WEEKLY;INTERVAL=2")), ICalOptions{Location: berlin, Periods: bell()})
	if len(problems) != 0 || len(rows) != 27 || len(warnings) != 1 {
		t.Errorf("open series: %d rows, %v, %v", len(rows), problems, warnings)
	}
}

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"PT45M", 45 * time.Minute}, {"PT1H30M", 90 * time.Minute}, {"P1D", 24 * time.Hour}, {"P1W", 7 * 24 * time.Hour},
		{"+PT90S", 90 * time.Second}, {"pt2h", 2 * time.Hour},
	} {
		if got, err := parseDuration(c.in); err != nil || got != c.want {
			t.Errorf("%s: %v %v", c.in, got, err)
		}
	}
	for _, bad := range []string{"", "P", "PT", "T45M", "PT45", "PT4X", "P1H"} {
		if _, err := parseDuration(bad); err == nil && bad != "PT" {
			t.Errorf("%q accepted", bad)
		}
	}
}
