package importer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"ipdesk"
)

// LessonColumns are the columns of the lessons CSV. room, date and period
// are required.
var LessonColumns = []string{"room", "date", "period", "course", "teacher"}

// LessonRow is a lesson as a file gives it: the room by name or path.
type LessonRow struct {
	// Line is the input line of the row (CSV) or of the event's BEGIN
	// line (iCalendar).
	Line       int
	Room       string
	Date       ipdesk.Date
	Period     int
	LastPeriod int
	Course     string
	Teacher    string
}

// ReadLessonsCSV reads a lessons CSV with a header row naming the columns
// (any order; see LessonColumns). A date is YYYY-MM-DD or D.M.YYYY; a
// period is a number or a span "3-4". It returns the good rows and a
// LineError for every bad one.
func ReadLessonsCSV(r io.Reader) ([]LessonRow, []LineError, error) {
	var rows []LessonRow
	problems, err := readCSV(r, LessonColumns, []string{"room", "date", "period"}, func(line int, get func(string) string) *LineError {
		cell := func(name string) string { return strings.TrimSpace(get(name)) }
		if cell("room")+cell("date")+cell("period")+cell("course")+cell("teacher") == "" {
			return nil // a line of empty cells
		}
		row, lerr := parseLessonRow(line, cell)
		if lerr == nil {
			rows = append(rows, row)
		}
		return lerr
	})
	if err != nil {
		return nil, nil, err
	}
	return rows, problems, nil
}

func parseLessonRow(line int, get func(string) string) (LessonRow, *LineError) {
	row := LessonRow{Line: line, Room: get("room"), Course: get("course"), Teacher: get("teacher")}
	bad := func(field, format string, args ...any) (LessonRow, *LineError) {
		return row, &LineError{Line: line, Field: field, Err: fmt.Sprintf(format, args...)}
	}
	if row.Room == "" {
		return bad("room", "room is required")
	}
	d, err := ParseLessonDate(get("date"))
	if err != nil {
		return bad("date", "%s", ipdesk.ErrorMessage(err))
	}
	row.Date = d
	p := get("period")
	from, to, span := strings.Cut(strings.NewReplacer("–", "-", " ", "").Replace(p), "-")
	var err1, err2 error
	row.Period, err1 = strconv.Atoi(from)
	row.LastPeriod = row.Period
	if span {
		row.LastPeriod, err2 = strconv.Atoi(to)
	}
	if err1 != nil || err2 != nil || row.Period < 1 || row.LastPeriod < row.Period || row.LastPeriod > ipdesk.MaxPeriods {
		return bad("period", "period %q is not a period number or a span like 3-4 (1..%d)", clipCell(p), ipdesk.MaxPeriods)
	}
	for _, f := range []struct{ name, v string }{{"course", row.Course}, {"teacher", row.Teacher}} {
		if err := ipdesk.ValidateText(f.name, f.v, ipdesk.MaxNameLen); err != nil {
			return bad(f.name, "%s", ipdesk.ErrorMessage(err))
		}
	}
	return row, nil
}

// ParseLessonDate reads a date written YYYY-MM-DD or, as German timetables
// write it, D.M.YYYY.
func ParseLessonDate(s string) (ipdesk.Date, error) {
	if d, m, ok := strings.Cut(s, "."); ok {
		m, y, ok2 := strings.Cut(m, ".")
		dd, e1 := strconv.Atoi(d)
		mm, e2 := strconv.Atoi(m)
		yy, e3 := strconv.Atoi(y)
		if ok2 && e1 == nil && e2 == nil && e3 == nil && len(y) == 4 {
			dt := ipdesk.Date{Year: yy, Month: time.Month(mm), Day: dd}
			return dt, dt.Check("date")
		}
		return ipdesk.Date{}, ipdesk.FieldErrorf(ipdesk.EINVALID, "date", "date %q is not a date written YYYY-MM-DD or D.M.YYYY", clipCell(s))
	}
	d, err := ipdesk.ParseDate("date", s)
	if err != nil {
		return d, ipdesk.FieldErrorf(ipdesk.EINVALID, "date", "date %q is not a date written YYYY-MM-DD or D.M.YYYY", clipCell(s))
	}
	return d, nil
}

// clipCell shortens a cell for quoting in a message.
func clipCell(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}

// LessonResolution is the outcome of ToLessons.
type LessonResolution struct {
	Lessons []*ipdesk.Lesson
	// Lines[i] is the input line of Lessons[i].
	Lines    []int
	Problems []LineError
	// Skipped counts the rows of unknown rooms left out (with
	// ignoreUnknown).
	Skipped int
	// SkippedRooms names those rooms, sorted.
	SkippedRooms []string
}

// ToLessons turns rows into lessons, looking rooms up by name (when only
// one room has it) or by path (Site > Building > Room). With ignoreUnknown
// the rows of rooms ipdesk does not know are left out and counted (a
// timetable export lists every room of a school, ipdesk only the computer
// rooms); otherwise each is a problem.
func ToLessons(ctx context.Context, store ipdesk.Store, rows []LessonRow, ignoreUnknown bool) (*LessonResolution, error) {
	n, err := loadNames(ctx, store)
	if err != nil {
		return nil, err
	}
	kind := ipdesk.LocationRoom
	byName := map[string][]int64{}
	isRoom := map[int64]bool{}
	for off := 0; ; off += ipdesk.MaxLimit {
		rooms, total, err := store.FindLocations(ctx, ipdesk.LocationFilter{Kind: &kind, Page: ipdesk.Page{Offset: off, Limit: ipdesk.MaxLimit}})
		if err != nil {
			return nil, err
		}
		for _, r := range rooms {
			byName[r.Name] = append(byName[r.Name], r.ID)
			isRoom[r.ID] = true
		}
		if off+ipdesk.MaxLimit >= total {
			break
		}
	}
	res := &LessonResolution{}
	skipped := map[string]bool{}
	for _, row := range rows {
		var id int64
		switch ids := byName[row.Room]; {
		case len(ids) == 1:
			id = ids[0]
		case len(ids) > 1:
			res.Problems = append(res.Problems, LineError{Line: row.Line, Field: "room", Err: fmt.Sprintf("room name %q is used by %d rooms; write the path (Site%sBuilding%sRoom)", row.Room, len(ids), PathSeparator, PathSeparator)})
			continue
		default:
			if pid, ok := n.locID[row.Room]; ok && isRoom[pid] {
				id = pid
			}
		}
		if id == 0 {
			if ignoreUnknown {
				res.Skipped++
				skipped[row.Room] = true
				continue
			}
			res.Problems = append(res.Problems, LineError{Line: row.Line, Field: "room", Err: fmt.Sprintf("room %q does not exist (give a room's name or its path Site%sBuilding%sRoom)", clipCell(row.Room), PathSeparator, PathSeparator)})
			continue
		}
		res.Lessons = append(res.Lessons, &ipdesk.Lesson{RoomID: id, Date: row.Date, Period: row.Period, LastPeriod: row.LastPeriod, Course: row.Course, Teacher: row.Teacher})
		res.Lines = append(res.Lines, row.Line)
	}
	for r := range skipped {
		res.SkippedRooms = append(res.SkippedRooms, r)
	}
	slices.Sort(res.SkippedRooms)
	return res, nil
}

// LessonFile is a lessons file to import and how.
type LessonFile struct {
	// ICal tells that the file is iCalendar (.ics); else it is CSV.
	ICal bool
	// Location is the school's time zone, in which iCalendar's floating
	// times are; nil means time.Local.
	Location *time.Location
	// IgnoreUnknown leaves out the rows of rooms ipdesk does not know
	// (see ToLessons).
	IgnoreUnknown bool
	// Options are handed to the store; when any line has a problem the
	// import is a dry run whatever they say.
	Options ipdesk.LessonImportOptions
}

// LessonReport tells what a lessons import did or, on a dry run or with
// problems, would do.
type LessonReport struct {
	// Rows are the rows read, in the order of the file.
	Rows []LessonRow
	// Lessons is the number of lessons handed to the store.
	Lessons int
	Result  ipdesk.LessonImportResult
	// Problems and Warnings are sorted by line. When Problems is not
	// empty nothing was written.
	Problems []LineError
	Warnings []LineError
	// Skipped counts the rows of unknown rooms left out (IgnoreUnknown),
	// SkippedRooms names those rooms.
	Skipped      int
	SkippedRooms []string
}

// Written tells whether the import wrote the lessons.
func (r *LessonReport) Written(f LessonFile) bool { return !f.Options.DryRun && len(r.Problems) == 0 }

// ImportLessons reads a lessons file, CSV or iCalendar (whose times are
// mapped to the stored bell schedule), resolves the rooms, and imports the
// lessons in one transaction or, when any line has a problem, none: the
// store then checks every row in a dry run, so that one run reports every
// problem with its line. An EINVALID error is about the file as a whole
// (field "file": a bad header row; field "periods": an empty bell
// schedule for iCalendar); others come from the storage.
func ImportLessons(ctx context.Context, store ipdesk.Store, r io.Reader, f LessonFile) (*LessonReport, error) {
	rep := &LessonReport{}
	var err error
	if f.ICal {
		periods, err := store.FindPeriods(ctx)
		if err != nil {
			return nil, err
		}
		if len(periods) == 0 {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "periods", "the bell schedule is empty, so the lessons' times cannot be mapped to periods; set the periods first")
		}
		rep.Rows, rep.Problems, rep.Warnings, err = ReadLessonsICal(r, ICalOptions{Location: f.Location, Periods: periods})
	} else {
		rep.Rows, rep.Problems, err = ReadLessonsCSV(r)
	}
	if err != nil {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "file", "%v", err)
	}
	res, err := ToLessons(ctx, store, rep.Rows, f.IgnoreUnknown)
	if err != nil {
		return nil, err
	}
	rep.Problems = append(rep.Problems, res.Problems...)
	rep.Lessons, rep.Skipped, rep.SkippedRooms = len(res.Lessons), res.Skipped, res.SkippedRooms
	opts := f.Options
	opts.DryRun = opts.DryRun || len(rep.Problems) > 0
	if rep.Result, err = store.ImportLessons(ctx, res.Lessons, opts); err != nil {
		return nil, err
	}
	for _, p := range rep.Result.Problems {
		rep.Problems = append(rep.Problems, LineError{Line: res.Lines[p.Row-1], Field: p.Field, Err: p.Error})
	}
	SortLineErrors(rep.Problems)
	SortLineErrors(rep.Warnings)
	return rep, nil
}
