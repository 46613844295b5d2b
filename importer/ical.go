package importer

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"ipdesk"
)

// Lessons from iCalendar (RFC 5545), the export format of timetable
// software: each VEVENT is a lesson or a weekly series of lessons. Read
// are DTSTART and DTEND (or DURATION) in UTC, with a TZID or floating (in
// the school's time zone), RRULE with FREQ=WEEKLY (INTERVAL, BYDAY, UNTIL,
// COUNT), EXDATE, RECURRENCE-ID (a moved or changed occurrence), STATUS
// (cancelled events are left out), LOCATION (the room), SUMMARY (the
// course) and ORGANIZER's CN or DESCRIPTION's first line (the teacher).
// Long lines folded over several and escaped text are unfolded and
// unescaped. Each occurrence is mapped to the periods its time overlaps.

// ICalOptions tell how to read event times.
type ICalOptions struct {
	// Location is the school's time zone: floating times are in it, and
	// so are times whose TZID is not known here (with a warning).
	Location *time.Location
	// Periods is the bell schedule the times are mapped to.
	Periods []*ipdesk.Period
}

// maxOccurrences bounds the lessons one series may make, and
// openSeriesSpan how far a series without UNTIL or COUNT is followed.
const (
	maxOccurrences = 1000
	openSeriesSpan = 366 * 24 * time.Hour
)

// icalLine is one unfolded content line.
type icalLine struct {
	line   int // the first physical line
	name   string
	params map[string]string
	value  string
}

// icalEvent is a VEVENT's properties.
type icalEvent struct {
	line  int
	props map[string][]icalLine
}

func (e *icalEvent) get(name string) (icalLine, bool) {
	if ls := e.props[name]; len(ls) > 0 {
		return ls[0], true
	}
	return icalLine{}, false
}

// ReadLessonsICal reads the lessons of an iCalendar file. It returns the
// rows, a LineError for every line or event that could not be read or
// mapped to periods, and warnings (merged events, times in a time zone not
// known here).
func ReadLessonsICal(r io.Reader, opt ICalOptions) (rows []LessonRow, problems, warnings []LineError, err error) {
	if opt.Location == nil {
		opt.Location = time.Local
	}
	lines, problems, err := unfold(r)
	if err != nil {
		return nil, nil, nil, err
	}
	events, more := icalEvents(lines)
	problems = append(problems, more...)
	rd := &icalReader{opt: opt}
	// Changed occurrences (RECURRENCE-ID) replace those of their series.
	replaced := map[string][]time.Time{}
	for _, e := range events {
		if rid, ok := e.get("RECURRENCE-ID"); ok {
			uid, _ := e.get("UID")
			t, _, err := rd.instant(rid)
			if err != nil {
				problems = append(problems, LineError{Line: rid.line, Field: "RECURRENCE-ID", Err: err.Error()})
				continue
			}
			replaced[uid.value] = append(replaced[uid.value], t)
		}
	}
	for _, e := range events {
		rs, err := rd.event(e, replaced)
		if err != nil {
			problems = append(problems, *err)
			continue
		}
		rows = append(rows, rs...)
	}
	rows, merged := mergeRows(rows)
	return rows, problems, append(rd.warnings, merged...), nil
}

// unfold reads the content lines of r: a line that starts with a blank or
// a tab continues the one before it. Lines that are not content lines
// (NAME[;PARAM=V…]:VALUE) are problems.
func unfold(r io.Reader) ([]icalLine, []LineError, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []icalLine
	var problems []LineError
	var cur strings.Builder
	start, n := 0, 0
	flush := func() {
		if start == 0 {
			return
		}
		if l, err := parseContentLine(cur.String()); err != "" {
			problems = append(problems, LineError{Line: start, Err: err})
		} else {
			l.line = start
			out = append(out, l)
		}
		cur.Reset()
		start = 0
	}
	for sc.Scan() {
		n++
		s := strings.TrimSuffix(sc.Text(), "\r")
		if n == 1 {
			s = strings.TrimPrefix(s, "\ufeff")
		}
		if s != "" && (s[0] == ' ' || s[0] == '\t') && start != 0 {
			cur.WriteString(s[1:])
			continue
		}
		flush()
		if strings.TrimSpace(s) == "" {
			continue
		}
		start = n
		cur.WriteString(s)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	flush()
	return out, problems, nil
}

// parseContentLine splits NAME;P=V;P="V":VALUE; the error says what is
// wrong, "" when nothing is.
func parseContentLine(s string) (icalLine, string) {
	if !utf8.ValidString(s) {
		return icalLine{}, "the line is not valid UTF-8"
	}
	l := icalLine{params: map[string]string{}}
	i := strings.IndexAny(s, ";:")
	if i <= 0 {
		return l, fmt.Sprintf("%q is not an iCalendar content line (NAME:VALUE)", clipCell(s))
	}
	l.name = strings.ToUpper(s[:i])
	rest := s[i:]
	for strings.HasPrefix(rest, ";") {
		rest = rest[1:]
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return l, fmt.Sprintf("%s: a parameter without a value in %q", l.name, clipCell(s))
		}
		pname := strings.ToUpper(rest[:eq])
		rest = rest[eq+1:]
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return l, fmt.Sprintf("%s: parameter %s has an unclosed quote", l.name, pname)
			}
			v, rest = rest[1:end+1], rest[end+2:]
		} else {
			end := strings.IndexAny(rest, ";:")
			if end < 0 {
				return l, fmt.Sprintf("%s: no ':' before the value", l.name)
			}
			v, rest = rest[:end], rest[end:]
		}
		l.params[pname] = v
	}
	if !strings.HasPrefix(rest, ":") {
		return l, fmt.Sprintf("%s: no ':' before the value", l.name)
	}
	l.value = rest[1:]
	return l, ""
}

// icalEvents collects the VEVENTs; components inside an event (VALARM)
// and outside (VTIMEZONE) are skipped.
func icalEvents(lines []icalLine) ([]*icalEvent, []LineError) {
	var events []*icalEvent
	var problems []LineError
	var stack []string
	var cur *icalEvent
	for _, l := range lines {
		switch l.name {
		case "BEGIN":
			v := strings.ToUpper(l.value)
			stack = append(stack, v)
			if v == "VEVENT" && len(stack) <= 2 {
				cur = &icalEvent{line: l.line, props: map[string][]icalLine{}}
			}
			continue
		case "END":
			v := strings.ToUpper(l.value)
			if len(stack) == 0 || stack[len(stack)-1] != v {
				problems = append(problems, LineError{Line: l.line, Err: fmt.Sprintf("END:%s without its BEGIN", clipCell(l.value))})
				continue
			}
			stack = stack[:len(stack)-1]
			if v == "VEVENT" && cur != nil && !slices.Contains(stack, "VEVENT") {
				events = append(events, cur)
				cur = nil
			}
			continue
		}
		if cur != nil && len(stack) > 0 && stack[len(stack)-1] == "VEVENT" {
			cur.props[l.name] = append(cur.props[l.name], l)
		}
	}
	if cur != nil {
		problems = append(problems, LineError{Line: cur.line, Err: "the event has no END:VEVENT"})
	}
	return events, problems
}

// icalReader turns events into rows.
type icalReader struct {
	opt      ICalOptions
	warnings []LineError
	zones    map[string]*time.Location
}

// zone returns the time zone of a TZID, or the school's with a warning.
func (rd *icalReader) zone(tzid string, line int) *time.Location {
	if tzid == "" {
		return rd.opt.Location
	}
	if loc, ok := rd.zones[tzid]; ok {
		return loc
	}
	if rd.zones == nil {
		rd.zones = map[string]*time.Location{}
	}
	loc, err := time.LoadLocation(strings.TrimPrefix(tzid, "/"))
	if err != nil {
		loc = rd.opt.Location
		rd.warnings = append(rd.warnings, LineError{Line: line, Field: "TZID", Err: fmt.Sprintf("time zone %q is not known here; its times are taken as %s", clipCell(tzid), rd.opt.Location)})
	}
	rd.zones[tzid] = loc
	return loc
}

// instant reads a DATE-TIME (or, with VALUE=DATE or 8 digits, a DATE:
// dateOnly) value of l.
func (rd *icalReader) instant(l icalLine) (t time.Time, dateOnly bool, err error) {
	return rd.parseTime(strings.TrimSpace(l.value), l.params["TZID"], l.line)
}

func (rd *icalReader) parseTime(v, tzid string, line int) (time.Time, bool, error) {
	if len(v) == 8 {
		t, err := time.ParseInLocation("20060102", v, rd.opt.Location)
		if err != nil {
			return t, true, fmt.Errorf("%q is not a date (YYYYMMDD)", clipCell(v))
		}
		return t, true, nil
	}
	if strings.HasSuffix(v, "Z") {
		t, err := time.Parse("20060102T150405Z", v)
		if err != nil {
			return t, false, fmt.Errorf("%q is not a UTC time (YYYYMMDDTHHMMSSZ)", clipCell(v))
		}
		return t, false, nil
	}
	t, err := time.ParseInLocation("20060102T150405", v, rd.zone(tzid, line))
	if err != nil {
		return t, false, fmt.Errorf("%q is not a time (YYYYMMDDTHHMMSS)", clipCell(v))
	}
	return t, false, nil
}

// event returns the rows of one event and its series.
func (rd *icalReader) event(e *icalEvent, replaced map[string][]time.Time) ([]LessonRow, *LineError) {
	bad := func(line int, field, format string, args ...any) ([]LessonRow, *LineError) {
		return nil, &LineError{Line: line, Field: field, Err: fmt.Sprintf(format, args...)}
	}
	if st, ok := e.get("STATUS"); ok && strings.EqualFold(strings.TrimSpace(st.value), "CANCELLED") {
		return nil, nil
	}
	loc, ok := e.get("LOCATION")
	room := strings.TrimSpace(icalText(loc.value))
	if !ok || room == "" {
		return bad(e.line, "LOCATION", "the event has no LOCATION (the room)")
	}
	ds, ok := e.get("DTSTART")
	if !ok {
		return bad(e.line, "DTSTART", "the event has no DTSTART")
	}
	start, dateOnly, err := rd.instant(ds)
	if err != nil {
		return bad(ds.line, "DTSTART", "%s", err)
	}
	if dateOnly || strings.EqualFold(ds.params["VALUE"], "DATE") {
		return bad(ds.line, "DTSTART", "the event lasts all day; lessons have times")
	}
	var length time.Duration
	if de, ok := e.get("DTEND"); ok {
		end, _, err := rd.instant(de)
		if err != nil {
			return bad(de.line, "DTEND", "%s", err)
		}
		length = end.Sub(start)
	} else if du, ok := e.get("DURATION"); ok {
		if length, err = parseDuration(du.value); err != nil {
			return bad(du.line, "DURATION", "%s", err)
		}
	}
	if length <= 0 {
		return bad(e.line, "DTEND", "the event has no DTEND or DURATION after its DTSTART")
	}
	course := ""
	if s, ok := e.get("SUMMARY"); ok {
		course = oneLine(icalText(s.value))
	}
	teacher := ""
	if o, ok := e.get("ORGANIZER"); ok {
		teacher = strings.TrimSpace(o.params["CN"])
	}
	if d, ok := e.get("DESCRIPTION"); ok && teacher == "" {
		teacher, _, _ = strings.Cut(icalText(d.value), "\n")
	}
	teacher = oneLine(teacher)

	starts := []time.Time{start}
	if rr, ok := e.get("RRULE"); ok {
		if starts, err = rd.weekly(rr, start); err != nil {
			return bad(rr.line, "RRULE", "%s", err)
		}
	}
	skip := map[time.Time]bool{}
	skipDay := map[ipdesk.Date]bool{}
	for _, ex := range e.props["EXDATE"] {
		for _, v := range strings.Split(ex.value, ",") {
			t, dateOnly, err := rd.parseTime(strings.TrimSpace(v), ex.params["TZID"], ex.line)
			if err != nil {
				return bad(ex.line, "EXDATE", "%s", err)
			}
			if dateOnly {
				skipDay[ipdesk.DateOf(t)] = true
			} else {
				skip[t.UTC()] = true
			}
		}
	}
	if _, ok := e.get("RECURRENCE-ID"); !ok {
		uid, _ := e.get("UID")
		for _, t := range replaced[uid.value] {
			skip[t.UTC()] = true
		}
	}
	var rows []LessonRow
	for _, s := range starts {
		if skip[s.UTC()] || skipDay[ipdesk.DateOf(s.In(start.Location()))] {
			continue
		}
		row, err := rd.mapPeriods(e.line, s, s.Add(length))
		if err != nil {
			return nil, err
		}
		row.Room, row.Course, row.Teacher = room, course, teacher
		rows = append(rows, row)
	}
	return rows, nil
}

// mapPeriods returns the row of a lesson from start to end: the periods
// whose time it overlaps, on its day in the school's time zone.
func (rd *icalReader) mapPeriods(line int, start, end time.Time) (LessonRow, *LineError) {
	ls, le := start.In(rd.opt.Location), end.In(rd.opt.Location)
	d := ipdesk.DateOf(ls)
	if ipdesk.DateOf(le.Add(-time.Nanosecond)) != d {
		return LessonRow{}, &LineError{Line: line, Field: "DTEND", Err: fmt.Sprintf("the lesson %s to %s does not end on the day it starts", ls.Format("2006-01-02 15:04"), le.Format("2006-01-02 15:04"))}
	}
	if err := d.Check("date"); err != nil {
		return LessonRow{}, &LineError{Line: line, Field: "DTSTART", Err: ipdesk.ErrorMessage(err)}
	}
	row := LessonRow{Line: line, Date: d}
	for _, p := range rd.opt.Periods {
		ps, pe := d.At(p.Start, rd.opt.Location), d.At(p.End, rd.opt.Location)
		if ps.Before(end) && pe.After(start) {
			if row.Period == 0 {
				row.Period = p.Number
			}
			row.LastPeriod = p.Number
		}
	}
	if row.Period == 0 {
		return row, &LineError{Line: line, Field: "DTSTART", Err: fmt.Sprintf("the time %s to %s on %s is outside the periods of the bell schedule", ls.Format("15:04"), le.Format("15:04"), d)}
	}
	return row, nil
}

// weekly returns the starts of a weekly series from start.
func (rd *icalReader) weekly(rr icalLine, start time.Time) ([]time.Time, error) {
	rule := map[string]string{}
	for _, part := range strings.Split(rr.value, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not NAME=VALUE", clipCell(part))
		}
		rule[strings.ToUpper(k)] = strings.ToUpper(v)
	}
	if f := rule["FREQ"]; f != "WEEKLY" {
		return nil, fmt.Errorf("FREQ=%s is not supported: timetables repeat weekly (FREQ=WEEKLY)", clipCell(f))
	}
	interval := 1
	if v, ok := rule["INTERVAL"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 52 {
			return nil, fmt.Errorf("INTERVAL=%s is not a number of weeks 1..52", clipCell(v))
		}
		interval = n
	}
	count := 0
	if v, ok := rule["COUNT"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxOccurrences {
			return nil, fmt.Errorf("COUNT=%s is not a number 1..%d", clipCell(v), maxOccurrences)
		}
		count = n
	}
	until := start.Add(openSeriesSpan)
	if v, ok := rule["UNTIL"]; ok {
		t, dateOnly, err := rd.parseTime(v, "", rr.line)
		if err != nil {
			return nil, fmt.Errorf("UNTIL: %s", err)
		}
		if dateOnly {
			t = t.AddDate(0, 0, 1).Add(-time.Nanosecond) // the whole day
		}
		until = t
	} else if count == 0 {
		rd.warnings = append(rd.warnings, LineError{Line: rr.line, Field: "RRULE", Err: "the series has neither UNTIL nor COUNT; it is read for one year"})
	}
	days := []time.Weekday{start.Weekday()}
	if v, ok := rule["BYDAY"]; ok {
		days = days[:0]
		names := map[string]time.Weekday{"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday, "TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday}
		for _, d := range strings.Split(v, ",") {
			wd, ok := names[d]
			if !ok {
				return nil, fmt.Errorf("BYDAY=%s: %q is not a weekday (MO, TU, WE, TH, FR, SA, SU)", clipCell(v), clipCell(d))
			}
			days = append(days, wd)
		}
	}
	// Occurrences keep DTSTART's wall-clock time in its zone, week by
	// week from the week of DTSTART (weeks starting on Monday).
	loc := start.Location()
	wall := start.In(loc)
	monday := ipdesk.DateOf(wall).AddDays(-((int(wall.Weekday()) + 6) % 7))
	var out []time.Time
	for week := 0; ; week += interval {
		base := monday.AddDays(7 * week)
		if base.AddDays(-1).At(0, loc).After(until) {
			return out, nil
		}
		var inWeek []time.Time
		for _, wd := range days {
			d := base.AddDays((int(wd) + 6) % 7)
			t := time.Date(d.Year, d.Month, d.Day, wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
			if !t.Before(start) && !t.After(until) {
				inWeek = append(inWeek, t)
			}
		}
		slices.SortFunc(inWeek, func(a, b time.Time) int { return a.Compare(b) })
		for _, t := range inWeek {
			out = append(out, t)
			if count > 0 && len(out) == count {
				return out, nil
			}
			if len(out) > maxOccurrences {
				return nil, fmt.Errorf("the series has more than %d lessons", maxOccurrences)
			}
		}
	}
}

// parseDuration reads a DURATION such as PT45M, PT1H30M or P1D.
func parseDuration(v string) (time.Duration, error) {
	s := strings.TrimPrefix(strings.TrimSpace(strings.ToUpper(v)), "+")
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" {
		return 0, fmt.Errorf("%q is not a duration such as PT45M", clipCell(v))
	}
	var d time.Duration
	inTime := false
	num := ""
	for _, c := range rest {
		switch {
		case c >= '0' && c <= '9':
			num += string(c)
		case c == 'T':
			inTime = true
		default:
			n, err := strconv.Atoi(num)
			if err != nil {
				return 0, fmt.Errorf("%q is not a duration such as PT45M", clipCell(v))
			}
			num = ""
			unit := map[rune]time.Duration{'W': 7 * 24 * time.Hour, 'D': 24 * time.Hour}
			if inTime {
				unit = map[rune]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}
			}
			u, ok := unit[c]
			if !ok {
				return 0, fmt.Errorf("%q is not a duration such as PT45M", clipCell(v))
			}
			d += time.Duration(n) * u
		}
	}
	if num != "" {
		return 0, fmt.Errorf("%q is not a duration such as PT45M", clipCell(v))
	}
	return d, nil
}

// icalText unescapes a TEXT value: \\ \; \, \n.
func icalText(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

// oneLine makes text fit a single-line field: line breaks and other
// control characters become blanks.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\u2028' || r == '\u2029' }), " ")
}

// mergeRows merges rows of the same room, date and periods (a class split
// into groups, one event each) into one, joining their courses and
// teachers, with a warning.
func mergeRows(rows []LessonRow) ([]LessonRow, []LineError) {
	type key struct {
		room     string
		date     ipdesk.Date
		from, to int
	}
	at := map[key]int{}
	var out []LessonRow
	var warnings []LineError
	join := func(a, b string) string {
		if b == "" || a == b || slices.Contains(strings.Split(a, " / "), b) {
			return a
		}
		if a == "" {
			return b
		}
		return a + " / " + b
	}
	for _, r := range rows {
		k := key{r.Room, r.Date, r.Period, r.LastPeriod}
		i, dup := at[k]
		if !dup {
			at[k] = len(out)
			out = append(out, r)
			continue
		}
		m := &out[i]
		m.Course, m.Teacher = join(m.Course, r.Course), join(m.Teacher, r.Teacher)
		warnings = append(warnings, LineError{Line: r.Line, Err: fmt.Sprintf("room %s has another event on %s in periods %s (line %d); they are one lesson", r.Room, r.Date, periodText(r), m.Line)})
	}
	return out, warnings
}

func periodText(r LessonRow) string {
	if r.LastPeriod > r.Period {
		return fmt.Sprintf("%d-%d", r.Period, r.LastPeriod)
	}
	return strconv.Itoa(r.Period)
}
