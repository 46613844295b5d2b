package ipdesk

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// The timetable of the computer rooms ("Sperrprogramm"): during a lesson a
// room's computers may not reach the web; in breaks, free periods and
// outside school hours they may. Staff override single periods or block
// and open a room "now, until"; a room's policy can take it out of the
// timetable altogether. Package schedule computes the state; the switcher
// writes it to the proxy and keeps a logbook.

// Period is one numbered period of the bell schedule: the same times on
// every school day, as wall-clock times in the school's time zone.
type Period struct {
	Number  int       `json:"number"`
	Start   TimeOfDay `json:"start"`
	End     TimeOfDay `json:"end"`
	Version int64     `json:"version"`
	Timestamps
}

// MaxPeriods is the highest period number.
const MaxPeriods = 20

// Validate checks the fields of p.
func (p *Period) Validate() error {
	if p.Number < 1 || p.Number > MaxPeriods {
		return FieldErrorf(EINVALID, "number", "period number %d is outside 1..%d", p.Number, MaxPeriods)
	}
	if p.Start < 0 || p.Start >= EndOfDay {
		return FieldErrorf(EINVALID, "start", "start %d minutes is outside 00:00..23:59", int(p.Start))
	}
	if p.End <= p.Start || p.End > EndOfDay {
		return FieldErrorf(EINVALID, "end", "period %d ends at %s, which is not after its start %s", p.Number, p.End, p.Start)
	}
	return nil
}

// ValidatePeriods checks a whole bell schedule: each period valid, each
// number once, and in the order of their numbers the periods follow one
// another without overlapping (a period may start when the one before it
// ends).
func ValidatePeriods(ps []*Period) error {
	sorted := slices.Clone(ps)
	slices.SortFunc(sorted, func(a, b *Period) int { return a.Number - b.Number })
	for i, p := range sorted {
		if err := p.Validate(); err != nil {
			return err
		}
		if i == 0 {
			continue
		}
		prev := sorted[i-1]
		if prev.Number == p.Number {
			return FieldErrorf(EINVALID, "number", "period %d is given twice", p.Number)
		}
		if p.Start < prev.End {
			return FieldErrorf(EINVALID, "start", "period %d starts at %s, before period %d ends at %s; periods follow one another in the order of their numbers", p.Number, p.Start, prev.Number, prev.End)
		}
	}
	return nil
}

// PeriodUpdate holds the fields to change; nil fields stay as they are.
type PeriodUpdate struct {
	Start   *TimeOfDay `json:"start"`
	End     *TimeOfDay `json:"end"`
	Version *int64     `json:"-"`
}

// Holiday is a range of days without school (holidays, closed days): the
// lessons on them do not count. First and Last are inclusive.
type Holiday struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	First   Date   `json:"first"`
	Last    Date   `json:"last"`
	Version int64  `json:"version"`
	Timestamps
}

// MaxHolidayDays bounds a holiday's length.
const MaxHolidayDays = 366

// Validate checks the fields of h; a missing Last is First.
func (h *Holiday) Validate() error {
	if err := ValidateName("name", h.Name); err != nil {
		return err
	}
	if err := h.First.Check("first"); err != nil {
		return err
	}
	if h.Last.IsZero() {
		h.Last = h.First
	}
	if err := h.Last.Check("last"); err != nil {
		return err
	}
	if h.Last.Before(h.First) {
		return FieldErrorf(EINVALID, "last", "last %s is before first %s", h.Last, h.First)
	}
	if n := h.First.DaysUntil(h.Last) + 1; n > MaxHolidayDays {
		return FieldErrorf(EINVALID, "last", "the holiday %s to %s has %d days; at most %d are allowed", h.First, h.Last, n, MaxHolidayDays)
	}
	return nil
}

// Covers tells whether d is one of h's days.
func (h *Holiday) Covers(d Date) bool { return !d.Before(h.First) && !d.After(h.Last) }

// HolidayFilter selects holidays. Nil fields do not filter.
type HolidayFilter struct {
	// From and To select the holidays that have a day in the range.
	From *Date
	To   *Date
	Page
}

// HolidayUpdate holds the fields to change; nil fields stay as they are.
type HolidayUpdate struct {
	Name    *string `json:"name"`
	First   *Date   `json:"first"`
	Last    *Date   `json:"last"`
	Version *int64  `json:"-"`
}

// Lesson is a lesson in a room on a date, in one period or a span of
// periods (Period to LastPeriod).
type Lesson struct {
	ID         int64  `json:"id"`
	RoomID     int64  `json:"room_id"`
	Date       Date   `json:"date"`
	Period     int    `json:"period"`
	LastPeriod int    `json:"last_period"`
	Course     string `json:"course"`
	Teacher    string `json:"teacher"`
	Version    int64  `json:"version"`
	Timestamps
}

// Validate checks the fields of l that need no stored data; a missing
// LastPeriod is Period.
func (l *Lesson) Validate() error {
	if l.RoomID <= 0 {
		return FieldErrorf(EINVALID, "room_id", "room_id is required")
	}
	if err := l.Date.Check("date"); err != nil {
		return err
	}
	if l.Period < 1 || l.Period > MaxPeriods {
		return FieldErrorf(EINVALID, "period", "period %d is outside 1..%d", l.Period, MaxPeriods)
	}
	if l.LastPeriod == 0 {
		l.LastPeriod = l.Period
	}
	if l.LastPeriod < l.Period || l.LastPeriod > MaxPeriods {
		return FieldErrorf(EINVALID, "last_period", "last_period %d is not between period %d and %d", l.LastPeriod, l.Period, MaxPeriods)
	}
	if err := ValidateText("course", l.Course, MaxNameLen); err != nil {
		return err
	}
	return ValidateText("teacher", l.Teacher, MaxNameLen)
}

// Periods returns the text of l's periods: "3" or "3-4".
func (l *Lesson) Periods() string {
	if l.LastPeriod > l.Period {
		return fmt.Sprintf("%d-%d", l.Period, l.LastPeriod)
	}
	return fmt.Sprint(l.Period)
}

// LessonFilter selects lessons, ordered by date, room and period. Nil
// fields do not filter.
type LessonFilter struct {
	ID     *int64
	RoomID *int64
	// From and To select the lessons on these days and those between.
	From    *Date
	To      *Date
	Course  *string
	Teacher *string
	Page
}

// LessonUpdate holds the fields to change; nil fields stay as they are.
type LessonUpdate struct {
	RoomID     *int64  `json:"room_id"`
	Date       *Date   `json:"date"`
	Period     *int    `json:"period"`
	LastPeriod *int    `json:"last_period"`
	Course     *string `json:"course"`
	Teacher    *string `json:"teacher"`
	Version    *int64  `json:"-"`
}

// LessonImportOptions qualify a lesson import.
type LessonImportOptions struct {
	// DryRun checks and counts but writes nothing.
	DryRun bool
	// Replace first removes the stored lessons of the rooms the rows
	// name, on the days from the rows' first date to their last, so that
	// an export of the timetable software replaces the plan it covers.
	Replace bool
}

// LessonImportResult tells what a lesson import did or would do.
type LessonImportResult struct {
	ImportResult
	// Deleted counts the lessons Replace removed.
	Deleted int `json:"deleted"`
}

// MaxReasonLen bounds the reason of an override.
const MaxReasonLen = 200

// Override is an exception of the timetable for one room, date and
// period: Blocked is the state the period gets, whatever its lesson says
// (the seed's ticked checkbox: block a free period, open a lesson).
type Override struct {
	ID      int64 `json:"id"`
	RoomID  int64 `json:"room_id"`
	Date    Date  `json:"date"`
	Period  int   `json:"period"`
	Blocked bool  `json:"blocked"`
	// Reason is optional text; CreatedBy is set by the storage.
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks the fields of o that need no stored data.
func (o *Override) Validate() error {
	if o.RoomID <= 0 {
		return FieldErrorf(EINVALID, "room_id", "room_id is required")
	}
	if err := o.Date.Check("date"); err != nil {
		return err
	}
	if o.Period < 1 || o.Period > MaxPeriods {
		return FieldErrorf(EINVALID, "period", "period %d is outside 1..%d", o.Period, MaxPeriods)
	}
	return ValidateText("reason", o.Reason, MaxReasonLen)
}

// OverrideFilter selects overrides, ordered by date, room and period.
// Nil fields do not filter.
type OverrideFilter struct {
	RoomID *int64
	From   *Date
	To     *Date
	Page
}

// DayOverrides are the overrides one room shall have on one date, one per
// period: the periods ticked in the override grid. The room's other
// overrides of the date are removed; one equal to a stored override (the
// same period and state) keeps the stored one with its reason and author.
// RoomID and Date of the overrides are taken from the day.
type DayOverrides struct {
	RoomID    int64
	Date      Date
	Overrides []*Override
}

// OverrideChanges counts what SetDayOverrides did.
type OverrideChanges struct {
	Created int `json:"created"`
	Deleted int `json:"deleted"`
}

// NowOverride blocks or opens a room from Start until Until, whatever the
// timetable says ("block now", "open now until 10:30"). A room has at most
// one; a new one replaces it.
type NowOverride struct {
	RoomID    int64     `json:"room_id"`
	Blocked   bool      `json:"blocked"`
	Start     time.Time `json:"start"`
	Until     time.Time `json:"until"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
}

// MaxNowOverride bounds how long a "now, until" override lasts; longer
// exceptions are a room policy.
const MaxNowOverride = 24 * time.Hour

// Validate checks the fields of n.
func (n *NowOverride) Validate() error {
	if n.RoomID <= 0 {
		return FieldErrorf(EINVALID, "room_id", "room_id is required")
	}
	if n.Start.IsZero() {
		return FieldErrorf(EINVALID, "start", "start is required")
	}
	if !n.Until.After(n.Start) {
		return FieldErrorf(EINVALID, "until", "until %s is not after now (%s)", n.Until.Format(time.RFC3339), n.Start.Format(time.RFC3339))
	}
	if n.Until.Sub(n.Start) > MaxNowOverride {
		return FieldErrorf(EINVALID, "until", "until %s is more than %s away; set the room's policy for longer exceptions", n.Until.Format(time.RFC3339), MaxNowOverride)
	}
	return ValidateText("reason", n.Reason, MaxReasonLen)
}

// Active tells whether n is in force at t.
func (n *NowOverride) Active(t time.Time) bool { return !t.Before(n.Start) && t.Before(n.Until) }

// RoomPolicy decides whether a room follows the timetable.
type RoomPolicy string

// Room policies.
const (
	PolicyTimetable RoomPolicy = "timetable" // blocked during lessons (the default)
	PolicyNever     RoomPolicy = "never"     // never blocked
	PolicyAlways    RoomPolicy = "always"    // always blocked
)

// RoomPolicies lists the policies.
var RoomPolicies = []RoomPolicy{PolicyTimetable, PolicyNever, PolicyAlways}

// RoomPolicySetting is the policy of one room.
type RoomPolicySetting struct {
	RoomID  int64      `json:"room_id"`
	Policy  RoomPolicy `json:"policy"`
	Reason  string     `json:"reason"`
	Version int64      `json:"version"`
	// UpdatedBy and UpdatedAt are empty for a room that never had one set.
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the fields of s.
func (s *RoomPolicySetting) Validate() error {
	if !slices.Contains(RoomPolicies, s.Policy) {
		return FieldErrorf(EINVALID, "policy", "policy %q is not one of timetable, never, always", clip(string(s.Policy)))
	}
	return ValidateText("reason", s.Reason, MaxReasonLen)
}

// RoomPolicyUpdate holds the fields to change; nil fields stay as they
// are.
type RoomPolicyUpdate struct {
	Policy  *RoomPolicy `json:"policy"`
	Reason  *string     `json:"reason"`
	Version *int64      `json:"-"`
}

// TimetableData is everything the engine needs for a range of days, read
// in one consistent view: the bell schedule, the holidays touching the
// range, the rooms with their policies, the lessons and overrides of the
// range, and every "now, until" override.
type TimetableData struct {
	From, To     Date
	Periods      []*Period
	Holidays     []*Holiday
	Rooms        []*Location // the locations of kind room, without phones
	Policies     []*RoomPolicySetting
	Lessons      []*Lesson
	Overrides    []*Override
	NowOverrides []*NowOverride
}

// MaxTimetableDays bounds the range of TimetableData and schedule
// previews.
const MaxTimetableDays = 62

// TimetableService manages the bell schedule, the holidays and the room
// policies, and reads the whole timetable of a range of days.
type TimetableService interface {
	FindPeriods(ctx context.Context) ([]*Period, error)
	FindPeriod(ctx context.Context, number int) (*Period, error)
	CreatePeriod(ctx context.Context, p *Period) error
	UpdatePeriod(ctx context.Context, number int, upd PeriodUpdate) (*Period, error)
	// DeletePeriod removes a period no lesson or override uses; with
	// Cascade it removes those too.
	DeletePeriod(ctx context.Context, number int, opts DeleteOptions) error
	// ReplacePeriods makes ps the whole bell schedule; periods that
	// lessons or overrides use must stay.
	ReplacePeriods(ctx context.Context, ps []*Period) error

	FindHolidayByID(ctx context.Context, id int64) (*Holiday, error)
	FindHolidays(ctx context.Context, f HolidayFilter) ([]*Holiday, int, error)
	CreateHoliday(ctx context.Context, h *Holiday) error
	UpdateHoliday(ctx context.Context, id int64, upd HolidayUpdate) (*Holiday, error)
	DeleteHoliday(ctx context.Context, id int64, opts DeleteOptions) error

	// FindRoomPolicy returns the policy of a room: PolicyTimetable with
	// version 0 for a room that never had one set.
	FindRoomPolicy(ctx context.Context, roomID int64) (*RoomPolicySetting, error)
	SetRoomPolicy(ctx context.Context, roomID int64, upd RoomPolicyUpdate) (*RoomPolicySetting, error)

	// TimetableSnapshot reads the timetable of the days from to to
	// (inclusive, at most MaxTimetableDays) in one consistent view.
	TimetableSnapshot(ctx context.Context, from, to Date) (*TimetableData, error)
}

// LessonService manages lessons.
type LessonService interface {
	FindLessonByID(ctx context.Context, id int64) (*Lesson, error)
	FindLessons(ctx context.Context, f LessonFilter) ([]*Lesson, int, error)
	// CreateLesson stores a lesson in a room of kind room, in periods of
	// the bell schedule, overlapping no other lesson of the room.
	CreateLesson(ctx context.Context, l *Lesson) error
	UpdateLesson(ctx context.Context, id int64, upd LessonUpdate) (*Lesson, error)
	DeleteLesson(ctx context.Context, id int64, opts DeleteOptions) error
	// ImportLessons stores all rows in one transaction, or, if any row is
	// bad, none. A row with the room, date and periods of a stored lesson
	// updates it; a row that overlaps another is a problem.
	ImportLessons(ctx context.Context, rows []*Lesson, opts LessonImportOptions) (LessonImportResult, error)
}

// OverrideService manages the exceptions of the timetable.
type OverrideService interface {
	FindOverrideByID(ctx context.Context, id int64) (*Override, error)
	FindOverrides(ctx context.Context, f OverrideFilter) ([]*Override, int, error)
	// SetOverride stores o, replacing an override of the same room, date
	// and period. A nil blocked makes the period the opposite of what its
	// lesson (or the lack of one) says.
	SetOverride(ctx context.Context, o *Override, blocked *bool) error
	DeleteOverride(ctx context.Context, id int64) error
	// SetDayOverrides makes the overrides of each room and date the
	// given ones (the override grid's form of a day), in one transaction:
	// all days or, when one is bad, none.
	SetDayOverrides(ctx context.Context, days []DayOverrides) (OverrideChanges, error)
	// FindNowOverrides returns the rooms' "now, until" overrides that are
	// in force at or after t (all when t is zero).
	FindNowOverrides(ctx context.Context, t time.Time) ([]*NowOverride, error)
	// SetNowOverride stores n, replacing the room's previous one.
	SetNowOverride(ctx context.Context, n *NowOverride) error
	// DeleteNowOverride removes the room's "now, until" override;
	// ENOTFOUND when it has none.
	DeleteNowOverride(ctx context.Context, roomID int64) error
}

// LogActorTimetable is the actor of the switches the timetable makes by
// itself.
const LogActorTimetable = "timetable"

// LogRoom names a room in a logbook entry as it was named then.
type LogRoom struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// LogEntry is one entry of the switching logbook: a change of the set of
// blocked rooms (or a failure to make it).
type LogEntry struct {
	ID   int64     `json:"id"`
	Time time.Time `json:"time"`
	// Actor is the user whose change caused the switch, several joined by
	// ", ", or LogActorTimetable.
	Actor string `json:"actor"`
	// Blocked and Opened are the rooms that were blocked and opened.
	Blocked []LogRoom `json:"blocked"`
	Opened  []LogRoom `json:"opened"`
	// BlockedNow is every room the proxy blocks after the entry: the new
	// set, or the old one when the switch failed.
	BlockedNow []LogRoom `json:"blocked_now"`
	// Error tells why the switch failed; "" when it succeeded.
	Error string `json:"error"`
}

// LogFilter selects logbook entries, newest first. Nil fields do not
// filter.
type LogFilter struct {
	Since *time.Time
	Until *time.Time
	// RoomID selects the entries that blocked or opened the room.
	RoomID *int64
	Actor  *string
	// Failed selects the entries with (true) or without (false) an error.
	Failed *bool
	Page
}

// LogbookService keeps the switching logbook. Entries are not audited:
// they record what the switcher did, not a change of the plan.
type LogbookService interface {
	RecordLogEntry(ctx context.Context, e *LogEntry) error
	FindLogEntries(ctx context.Context, f LogFilter) ([]*LogEntry, int, error)
}

// StateReason tells why a room is blocked or open.
type StateReason string

// State reasons, in the order the engine decides them.
const (
	ReasonPolicy   StateReason = "policy"   // the room's policy is never or always
	ReasonNow      StateReason = "now"      // a "now, until" override
	ReasonClosed   StateReason = "closed"   // not a school day, or a holiday
	ReasonBreak    StateReason = "break"    // between two periods
	ReasonOutside  StateReason = "outside"  // before the first or after the last period
	ReasonOverride StateReason = "override" // an override of the period
	ReasonLesson   StateReason = "lesson"   // a lesson in the period
	ReasonFree     StateReason = "free"     // a period without a lesson
)

// StateReasons lists the reasons.
var StateReasons = []StateReason{ReasonPolicy, ReasonNow, ReasonClosed, ReasonBreak, ReasonOutside, ReasonOverride, ReasonLesson, ReasonFree}

// RoomState is whether a room is blocked at an instant, and why.
type RoomState struct {
	RoomID  int64       `json:"room_id"`
	Name    string      `json:"name"`
	Blocked bool        `json:"blocked"`
	Reason  StateReason `json:"reason"`
	// Why says it in words: "lesson Maths (Müller) in period 3".
	Why string `json:"why"`
	// Period is the period running, 0 in a break or outside school hours.
	Period int `json:"period"`
	// Course and Teacher are those of the lesson of the period, if any.
	Course  string `json:"course"`
	Teacher string `json:"teacher"`
	// SetBy is who set the override or policy that decides; "" otherwise.
	SetBy string `json:"set_by"`
	// ValidUntil is when the room's state changes next, as far as the
	// plan is known now; nil when no change is due in the next days.
	ValidUntil *time.Time `json:"valid_until"`
}

// RoomStates is the state of every room at an instant.
type RoomStates struct {
	Time time.Time `json:"time"`
	// Next is the next boundary (a period's start or end, an override's
	// expiry) after which a state may change; nil when none is due.
	Next  *time.Time  `json:"next"`
	Rooms []RoomState `json:"rooms"`
}

// Blocked returns the ids of the blocked rooms, sorted.
func (s *RoomStates) Blocked() []int64 {
	var out []int64
	for _, r := range s.Rooms {
		if r.Blocked {
			out = append(out, r.RoomID)
		}
	}
	slices.Sort(out)
	return out
}

// SchedulePreview is the rooms × periods grid of a range of days, the
// occupancy view: every cell with its state, and flags for the period
// running now and the periods that are over.
type SchedulePreview struct {
	From    Date          `json:"from"`
	To      Date          `json:"to"`
	Now     time.Time     `json:"now"`
	Periods []*Period     `json:"periods"`
	Days    []PreviewDay  `json:"days"`
	Rooms   []PreviewRoom `json:"rooms"`
}

// PreviewDay is one day of a preview.
type PreviewDay struct {
	Date      Date `json:"date"`
	SchoolDay bool `json:"school_day"`
	// Holiday is the name of the holiday the day is in, "" if none.
	Holiday string `json:"holiday"`
}

// PreviewRoom is one room of a preview with a cell per day and period, in
// the order of Days and Periods.
type PreviewRoom struct {
	RoomID int64         `json:"room_id"`
	Name   string        `json:"name"`
	Policy RoomPolicy    `json:"policy"`
	Cells  []PreviewCell `json:"cells"`
}

// PreviewCell is one period of one room on one day.
type PreviewCell struct {
	Date   Date `json:"date"`
	Period int  `json:"period"`
	// Blocked is the planned state of the period: the policy, the
	// override, or the lesson. Reason is ReasonPolicy, ReasonOverride,
	// ReasonLesson, ReasonFree or ReasonClosed.
	Blocked bool        `json:"blocked"`
	Reason  StateReason `json:"reason"`
	// LessonID, Course and Teacher describe the lesson, if any (also on a
	// closed day, where it does not count).
	LessonID int64  `json:"lesson_id"`
	Course   string `json:"course"`
	Teacher  string `json:"teacher"`
	// OverrideID is the override of the period, 0 if none.
	OverrideID int64 `json:"override_id"`
	// NowOverride is the state a "now, until" override in force during
	// part of the period gives: null when none.
	NowOverride *bool `json:"now_override"`
	// Current is the period running now; Past the periods that are over.
	Current bool `json:"current"`
	Past    bool `json:"past"`
}
