package ipdesk

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a day of the calendar, without a time zone: the date of a
// lesson, an override or a holiday. The zero Date is "no date". In JSON and
// text it is written as YYYY-MM-DD.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// Date limits: a timetable names days of this century and the next.
const (
	MinDateYear = 2000
	MaxDateYear = 2199
)

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads a date written YYYY-MM-DD. The error names field and
// quotes the value.
func ParseDate(field, s string) (Date, error) {
	d, err := parseDate(s)
	if err != nil {
		return Date{}, FieldErrorf(EINVALID, field, "%s %s", field, AsError(err))
	}
	return d, nil
}

// parseDate is ParseDate with an error that names no field.
func parseDate(s string) (Date, error) {
	bad := FieldErrorf(EINVALID, "", "%q is not a date written YYYY-MM-DD (for example 2026-03-02)", clip(s))
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || strings.ContainsAny(s, "+ ") {
		return Date{}, bad
	}
	y, err1 := strconv.Atoi(s[:4])
	m, err2 := strconv.Atoi(s[5:7])
	d, err3 := strconv.Atoi(s[8:])
	if err1 != nil || err2 != nil || err3 != nil {
		return Date{}, bad
	}
	dt := Date{y, time.Month(m), d}
	if msg := dt.problem(); msg != nil {
		return Date{}, FieldErrorf(EINVALID, "", "%q %s", s, msg)
	}
	return dt, nil
}

// Check reports whether d is a real day between MinDateYear and
// MaxDateYear; the error names field.
func (d Date) Check(field string) error {
	if d.IsZero() {
		return FieldErrorf(EINVALID, field, "%s is required", field)
	}
	if msg := d.problem(); msg != nil {
		return FieldErrorf(EINVALID, field, "%s %04d-%02d-%02d %s", field, d.Year, int(d.Month), d.Day, msg)
	}
	return nil
}

// problem says what is wrong with a non-zero d, or "".
func (d Date) problem() *Error {
	if d.Year < MinDateYear || d.Year > MaxDateYear {
		return Errorf(EINVALID, "is outside the years %d to %d", MinDateYear, MaxDateYear)
	}
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 || d.time().Day() != d.Day {
		return Errorf(EINVALID, "is not a day of the calendar")
	}
	return nil
}

// IsZero tells whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// time returns midnight UTC of d.
func (d Date) time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String returns d as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; "" gives the zero
// Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := parseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// AddDays returns the date n days after d (before it for negative n).
func (d Date) AddDays(n int) Date { return DateOf(d.time().AddDate(0, 0, n)) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.time().Weekday() }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int { return d.time().Compare(e.time()) }

// Before tells whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After tells whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// DaysUntil returns the number of days from d to e (negative when e is
// before d).
func (d Date) DaysUntil(e Date) int { return int(e.time().Sub(d.time()).Hours()) / 24 }

// At returns the instant at which the wall clock in loc shows the time
// of day t on date d. On the day a daylight-saving change skips or repeats
// an hour, a time in that hour is taken as time.Date takes it.
func (d Date) At(t TimeOfDay, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(t)/60, int(t)%60, 0, 0, loc)
}

// TimeOfDay is a wall-clock time in minutes after midnight, 0 to 1440
// (24:00, the end of the day). In JSON and text it is written HH:MM.
type TimeOfDay int

// EndOfDay is 24:00.
const EndOfDay TimeOfDay = 24 * 60

// ParseTimeOfDay reads a time written H:MM or HH:MM (00:00 to 24:00).
// The error names field and quotes the value.
func ParseTimeOfDay(field, s string) (TimeOfDay, error) {
	t, err := parseTimeOfDay(s)
	if err != nil {
		return 0, FieldErrorf(EINVALID, field, "%s %s", field, AsError(err))
	}
	return t, nil
}

// parseTimeOfDay is ParseTimeOfDay with an error that names no field.
func parseTimeOfDay(s string) (TimeOfDay, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(h) < 1 || len(h) > 2 || len(m) != 2 || strings.ContainsAny(s, "+- ") ||
		hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh == 24 && mm != 0 {
		return 0, FieldErrorf(EINVALID, "", "%q is not a time written HH:MM (00:00 to 24:00)", clip(s))
	}
	return TimeOfDay(hh*60 + mm), nil
}

// String returns t as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// MarshalText implements encoding.TextMarshaler.
func (t TimeOfDay) MarshalText() ([]byte, error) {
	if t < 0 || t > EndOfDay {
		return nil, fmt.Errorf("time of day %d is outside 0..%d minutes", int(t), int(EndOfDay))
	}
	return []byte(t.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	v, err := parseTimeOfDay(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// ClockOf returns the wall-clock time of day of t in t's location, in
// minutes (seconds are dropped).
func ClockOf(t time.Time) TimeOfDay { return TimeOfDay(t.Hour()*60 + t.Minute()) }
