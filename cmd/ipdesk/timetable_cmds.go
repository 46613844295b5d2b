package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"ipdesk"
	"ipdesk/importer"
	"ipdesk/schedule"
)

// TimetableConfig is the school calendar in the config file:
//
//	"timetable": {"school_days": ["mon", "tue", "wed", "thu", "fri"]}
//
// The bell schedule runs in the config file's time_zone.
type TimetableConfig struct {
	// SchoolDays are the weekdays with lessons (mon … sun, or the full
	// English names); absent means Monday to Friday.
	SchoolDays []string `json:"school_days"`
	// PublicView offers the read-only occupancy page /public/rooms to
	// everyone who can reach the server, without signing in: rooms and
	// their states only. Off by default.
	PublicView bool `json:"public_view"`
}

// scheduleSettings checks the timetable settings and returns them.
func (c Config) scheduleSettings() (schedule.Settings, error) {
	var s schedule.Settings
	if tz := c.TimeZone; tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return s, fmt.Errorf("config file: time_zone %q is not a known time zone; give an IANA name such as \"Europe/Berlin\"", tz)
		}
		s.Location = loc
	}
	if c.Timetable.SchoolDays != nil {
		if len(c.Timetable.SchoolDays) == 0 {
			return s, errors.New("config file: timetable.school_days is empty; name the days with lessons, such as [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]")
		}
		s.SchoolDays = []time.Weekday{}
		for _, name := range c.Timetable.SchoolDays {
			d, ok := weekday(name)
			if !ok {
				return s, fmt.Errorf("config file: timetable.school_days: %q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", name)
			}
			if slices.Contains(s.SchoolDays, d) {
				return s, fmt.Errorf("config file: timetable.school_days names %q twice", name)
			}
			s.SchoolDays = append(s.SchoolDays, d)
		}
	}
	return s, nil
}

// weekday reads mon … sun or a full English weekday name.
func weekday(name string) (time.Weekday, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	for d := time.Sunday; d <= time.Saturday; d++ {
		full := strings.ToLower(d.String())
		if n == full || n == full[:3] {
			return d, true
		}
	}
	return 0, false
}

// importLessons runs "ipdesk import lessons FILE.csv|FILE.ics": it reads
// the lessons, resolves their rooms, maps iCalendar times to the bell
// schedule, and imports everything in one transaction or, when any line
// has a problem, nothing.
func (m *Main) importLessons(ctx context.Context, args []string) error {
	var dryRun, replace, ignoreUnknown bool
	c, pos, err := m.flags("import lessons", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "check and report, change nothing")
		fs.BoolVar(&replace, "replace", false, "first remove the stored lessons of the file's rooms from its first to its last day")
		fs.BoolVar(&ignoreUnknown, "ignore-unknown-rooms", false, "leave out the lessons of rooms ipdesk does not know (a whole school's export) instead of refusing them")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("import lessons takes one file (.csv or .ics; - for CSV on standard input)")
	}
	settings, err := c.scheduleSettings()
	if err != nil {
		return err
	}
	r, err := m.input(pos[0])
	if err != nil {
		return err
	}
	defer r.Close()
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	f := importer.LessonFile{Location: settings.Location, IgnoreUnknown: ignoreUnknown,
		Options: ipdesk.LessonImportOptions{DryRun: dryRun, Replace: replace}}
	ext := strings.ToLower(filepath.Ext(pos[0]))
	f.ICal = ext == ".ics" || ext == ".ical"
	rep, err := importer.ImportLessons(systemCtx(ctx, m.Getenv), db, r, f)
	if ipdesk.ErrorField(err) == "periods" {
		return errors.New(ipdesk.ErrorMessage(err) + " (ipdesk periods set 1=08:00-08:45 …)")
	} else if err != nil {
		return err
	}
	if err := m.report(rep.Warnings, rep.Problems); err != nil {
		return err
	}
	out := rep.Result
	verb, removed := "imported", "removed first"
	if dryRun {
		verb, removed = "would import", "to be removed first"
	}
	n := rep.Lessons
	fmt.Fprintf(m.Stdout, "%s %s: %d created, %d updated, %d unchanged", verb, lessons(n), out.Created, out.Updated, n-out.Created-out.Updated)
	if replace {
		fmt.Fprintf(m.Stdout, "; %s of the file's rooms and days %s", lessons(out.Deleted), removed)
	}
	if rep.Skipped > 0 {
		fmt.Fprintf(m.Stdout, "; %s of unknown rooms left out (%s)", lessons(rep.Skipped), strings.Join(rep.SkippedRooms, ", "))
	}
	fmt.Fprintln(m.Stdout)
	return nil
}

// lessons returns "1 lesson" or "N lessons".
func lessons(n int) string {
	if n == 1 {
		return "1 lesson"
	}
	return fmt.Sprintf("%d lessons", n)
}

// periods runs "ipdesk periods" (list the bell schedule) and "ipdesk
// periods set N=HH:MM-HH:MM …" (replace it).
func (m *Main) periods(ctx context.Context, args []string) error {
	set := len(args) > 0 && args[0] == "set"
	if set || len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	name := "periods"
	if set {
		name = "periods set"
	}
	c, pos, err := m.flags(name, args, nil)
	if err != nil {
		return err
	}
	if !set && len(pos) > 0 {
		return fmt.Errorf("periods lists the bell schedule and takes no arguments; did you mean \"periods set %s\"?", strings.Join(pos, " "))
	}
	var ps []*ipdesk.Period
	for _, a := range pos {
		p, err := parsePeriodArg(a)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	if set && len(ps) == 0 {
		return errors.New("periods set needs the periods, such as: ipdesk periods set 1=08:00-08:45 2=08:50-09:35")
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	if set {
		if err := db.ReplacePeriods(systemCtx(ctx, m.Getenv), ps); err != nil {
			return err
		}
	}
	if ps, err = db.FindPeriods(ctx); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	for _, p := range ps {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", p.Number, p.Start, p.End)
	}
	return tw.Flush()
}

// parsePeriodArg reads N=HH:MM-HH:MM.
func parsePeriodArg(a string) (*ipdesk.Period, error) {
	num, span, ok1 := strings.Cut(a, "=")
	start, end, ok2 := strings.Cut(span, "-")
	n, err := strconv.Atoi(num)
	if !ok1 || !ok2 || err != nil {
		return nil, fmt.Errorf("period %q is not written N=HH:MM-HH:MM, such as 1=08:00-08:45", a)
	}
	p := &ipdesk.Period{Number: n}
	if p.Start, err = ipdesk.ParseTimeOfDay("start", start); err != nil {
		return nil, fmt.Errorf("period %q: %s", a, ipdesk.ErrorMessage(err))
	}
	if p.End, err = ipdesk.ParseTimeOfDay("end", end); err != nil {
		return nil, fmt.Errorf("period %q: %s", a, ipdesk.ErrorMessage(err))
	}
	return p, nil
}

// holidays runs "ipdesk holidays" (list), "ipdesk holidays add NAME FIRST
// [LAST]" and "ipdesk holidays delete ID".
func (m *Main) holidays(ctx context.Context, args []string) error {
	verb := "list"
	if len(args) > 0 && (args[0] == "add" || args[0] == "delete" || args[0] == "list") {
		verb, args = args[0], args[1:]
	}
	name := "holidays"
	if verb != "list" {
		name += " " + verb
	}
	c, pos, err := m.flags(name, args, nil)
	if err != nil {
		return err
	}
	var h *ipdesk.Holiday
	var id int64
	switch {
	case verb == "add" && (len(pos) == 2 || len(pos) == 3):
		h = &ipdesk.Holiday{Name: pos[0]}
		if h.First, err = importer.ParseLessonDate(pos[1]); err != nil {
			return fmt.Errorf("first day: %s", ipdesk.ErrorMessage(err))
		}
		if len(pos) == 3 {
			if h.Last, err = importer.ParseLessonDate(pos[2]); err != nil {
				return fmt.Errorf("last day: %s", ipdesk.ErrorMessage(err))
			}
		}
	case verb == "add":
		return errors.New("holidays add takes a name, the first day and optionally the last: ipdesk holidays add \"Osterferien\" 2026-03-30 2026-04-10")
	case verb == "delete":
		if len(pos) != 1 {
			return errors.New("holidays delete takes the holiday's id (see ipdesk holidays)")
		}
		if id, err = strconv.ParseInt(pos[0], 10, 64); err != nil {
			return fmt.Errorf("holiday id %q is not a number", pos[0])
		}
	case len(pos) > 0:
		return fmt.Errorf("holidays lists the holidays and takes no arguments, got %q", pos)
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	switch verb {
	case "add":
		if err := db.CreateHoliday(systemCtx(ctx, m.Getenv), h); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "holiday %d %q: %s to %s\n", h.ID, h.Name, h.First, h.Last)
		return nil
	case "delete":
		return db.DeleteHoliday(systemCtx(ctx, m.Getenv), id, ipdesk.DeleteOptions{})
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	for off := 0; ; off += ipdesk.MaxLimit {
		hs, total, err := db.FindHolidays(ctx, ipdesk.HolidayFilter{Page: ipdesk.Page{Offset: off, Limit: ipdesk.MaxLimit}})
		if err != nil {
			return err
		}
		for _, h := range hs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", h.ID, h.First, h.Last, h.Name)
		}
		if off+ipdesk.MaxLimit >= total {
			break
		}
	}
	return tw.Flush()
}
