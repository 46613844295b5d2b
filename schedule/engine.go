// Package schedule decides which computer rooms are blocked: a pure engine
// that turns the timetable (bell schedule, holidays, lessons, overrides,
// room policies) and an instant into the state of every room and the next
// instant at which a state may change, and the switcher that wakes at
// those instants and on every change of the plan and writes the blocked
// set to the proxy.
//
// The rules, in the order they are decided for a room at an instant:
//
//  1. A room policy of "never" or "always" decides alone.
//  2. A "now, until" override in force decides (breaks included).
//  3. On a day that is not a school day, or in a holiday, lessons do not
//     count: a period with an override takes the override's state,
//     everything else is open.
//  4. In a break and outside school hours the room is open.
//  5. In a period, an override of the period decides; else the room is
//     blocked when it has a lesson in the period.
//
// Periods are wall-clock times in the configured time zone, so they stay
// at 08:00 across a daylight-saving change.
package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"ipdesk"
)

// Settings are the school's calendar settings from the config file.
type Settings struct {
	// Location is the time zone of the bell schedule; nil means
	// time.Local.
	Location *time.Location
	// SchoolDays are the weekdays with lessons; nil means Monday to
	// Friday.
	SchoolDays []time.Weekday
}

// DefaultSchoolDays are Monday to Friday.
var DefaultSchoolDays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

// location returns the time zone of s.
func (s Settings) location() *time.Location {
	if s.Location == nil {
		return time.Local
	}
	return s.Location
}

// schoolDays returns the school days of s as a set.
func (s Settings) schoolDays() [7]bool {
	days := s.SchoolDays
	if days == nil {
		days = DefaultSchoolDays
	}
	var set [7]bool
	for _, d := range days {
		set[d] = true
	}
	return set
}

// Plan is the timetable of a range of days, compiled for quick questions.
// It is immutable and safe for concurrent use.
type Plan struct {
	loc      *time.Location
	school   [7]bool
	from, to ipdesk.Date
	periods  []*ipdesk.Period // by number, which is also their order in time
	holidays []*ipdesk.Holiday
	rooms    []*ipdesk.Location
	policies map[int64]*ipdesk.RoomPolicySetting
	lessons  map[slot]*ipdesk.Lesson
	override map[slot]*ipdesk.Override
	nows     map[int64]*ipdesk.NowOverride
	days     map[ipdesk.Date]*day
}

// slot is a room's period on a date: a small key, quick to hash.
type slot struct {
	room   int64
	day    int32 // dayNumber of the date
	period int32
}

// dayNumber returns the number of days from 1 January 2000 to d (the
// proleptic Gregorian calendar's day count, without time.Date).
func dayNumber(d ipdesk.Date) int32 {
	y, m := d.Year, int(d.Month)
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d.Day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 730425) // 730425: 2000-01-01 after 0000-03-01
}

// slotOf returns the slot of room's period on day.
func slotOf(room int64, day int32, period int) slot { return slot{room, day, int32(period)} }

// day is the calendar of one date: whether it is a school day, and the
// instants at which its periods start and end.
type day struct {
	date    ipdesk.Date
	num     int32 // dayNumber(date)
	school  bool
	holiday string
	known   bool        // inside the plan's range: its lessons are loaded
	starts  []time.Time // by period index
	ends    []time.Time
	// active tells, per period index, whether a state may change at the
	// period's start and end: every period of a school day, and on other
	// days the periods with an override.
	active []bool
}

// NewPlan compiles the timetable data for settings s. The data is taken
// as it is (the storage has validated it); lessons and overrides outside
// the data's range are ignored.
func NewPlan(s Settings, d *ipdesk.TimetableData) *Plan {
	p := &Plan{
		loc:      s.location(),
		school:   s.schoolDays(),
		from:     d.From,
		to:       d.To,
		periods:  slices.Clone(d.Periods),
		holidays: d.Holidays,
		rooms:    d.Rooms,
		policies: make(map[int64]*ipdesk.RoomPolicySetting, len(d.Policies)),
		lessons:  make(map[slot]*ipdesk.Lesson, len(d.Lessons)),
		override: make(map[slot]*ipdesk.Override, len(d.Overrides)),
		nows:     make(map[int64]*ipdesk.NowOverride, len(d.NowOverrides)),
		days:     make(map[ipdesk.Date]*day),
	}
	slices.SortFunc(p.periods, func(a, b *ipdesk.Period) int { return a.Number - b.Number })
	for _, s := range d.Policies {
		p.policies[s.RoomID] = s
	}
	for _, l := range d.Lessons {
		dn := dayNumber(l.Date)
		for n := l.Period; n <= l.LastPeriod; n++ {
			p.lessons[slotOf(l.RoomID, dn, n)] = l
		}
	}
	for _, o := range d.Overrides {
		p.override[slotOf(o.RoomID, dayNumber(o.Date), o.Period)] = o
	}
	for _, n := range d.NowOverrides {
		p.nows[n.RoomID] = n
	}
	overridden := map[ipdesk.Date]map[int]bool{}
	for _, o := range d.Overrides {
		if overridden[o.Date] == nil {
			overridden[o.Date] = map[int]bool{}
		}
		overridden[o.Date][o.Period] = true
	}
	if !d.From.IsZero() && !d.To.Before(d.From) {
		for dt := d.From; !dt.After(d.To); dt = dt.AddDays(1) {
			p.days[dt] = p.newDay(dt, true, overridden[dt])
		}
	}
	return p
}

// newDay computes the calendar of date.
func (p *Plan) newDay(date ipdesk.Date, known bool, overridden map[int]bool) *day {
	dy := &day{date: date, num: dayNumber(date), known: known, school: p.school[date.Weekday()]}
	for _, h := range p.holidays {
		if h.Covers(date) {
			dy.school, dy.holiday = false, h.Name
			break
		}
	}
	n := len(p.periods)
	dy.starts, dy.ends, dy.active = make([]time.Time, n), make([]time.Time, n), make([]bool, n)
	for i, per := range p.periods {
		dy.starts[i] = date.At(per.Start, p.loc)
		dy.ends[i] = date.At(per.End, p.loc)
		dy.active[i] = dy.school || overridden[per.Number]
	}
	return dy
}

// day returns the calendar of date; dates outside the plan's range are
// computed on the fly, without lessons or overrides.
func (p *Plan) day(date ipdesk.Date) *day {
	if dy := p.days[date]; dy != nil {
		return dy
	}
	return p.newDay(date, false, nil)
}

// Location returns the plan's time zone.
func (p *Plan) Location() *time.Location { return p.loc }

// Range returns the first and last day whose lessons the plan knows.
func (p *Plan) Range() (from, to ipdesk.Date) { return p.from, p.to }

// Periods returns the bell schedule.
func (p *Plan) Periods() []*ipdesk.Period { return p.periods }

// Rooms returns the rooms, by name.
func (p *Plan) Rooms() []*ipdesk.Location { return p.rooms }

// moment is where an instant falls in the calendar: its day, and the
// period running (index into the periods, -1 for none).
type moment struct {
	t   time.Time
	day *day
	idx int
	// before tells, when no period runs, whether a period of the day is
	// still to come (a break) rather than all over or none at all.
	before bool
}

// at returns the moment of t.
func (p *Plan) at(t time.Time) moment {
	m := moment{t: t, day: p.day(ipdesk.DateOf(t.In(p.loc))), idx: -1}
	for i := range p.periods {
		if t.Before(m.day.starts[i]) {
			m.before = i > 0 // a break; before the first period is outside
			break
		}
		if t.Before(m.day.ends[i]) {
			m.idx = i
			break
		}
	}
	return m
}

// period returns the number of the period running at m, 0 for none.
func (p *Plan) period(m moment) int {
	if m.idx < 0 {
		return 0
	}
	return p.periods[m.idx].Number
}

// decision is what decides a room's state, with the object that decided.
// lesson and override are those of the period, also when they do not
// decide.
type decision struct {
	blocked  bool
	reason   ipdesk.StateReason
	policy   *ipdesk.RoomPolicySetting
	now      *ipdesk.NowOverride
	override *ipdesk.Override
	lesson   *ipdesk.Lesson
}

// decide applies the rules of the package documentation to room at m;
// withNow false leaves "now, until" overrides out (the planned state).
func (p *Plan) decide(room int64, m moment, withNow bool) decision {
	var d decision
	if m.idx >= 0 {
		k := slotOf(room, m.day.num, p.periods[m.idx].Number)
		d.lesson, d.override = p.lessons[k], p.override[k]
	}
	if pol := p.policies[room]; pol != nil && pol.Policy != ipdesk.PolicyTimetable {
		d.blocked, d.reason, d.policy = pol.Policy == ipdesk.PolicyAlways, ipdesk.ReasonPolicy, pol
		return d
	}
	if withNow {
		if n := p.nows[room]; n != nil && n.Active(m.t) {
			d.blocked, d.reason, d.now = n.Blocked, ipdesk.ReasonNow, n
			return d
		}
	}
	switch o := d.override; {
	case o != nil:
		d.blocked, d.reason = o.Blocked, ipdesk.ReasonOverride
	case !m.day.school:
		d.reason = ipdesk.ReasonClosed
	case m.idx < 0 && m.before:
		d.reason = ipdesk.ReasonBreak
	case m.idx < 0:
		d.reason = ipdesk.ReasonOutside
	case d.lesson != nil:
		d.blocked, d.reason = true, ipdesk.ReasonLesson
	default:
		d.reason = ipdesk.ReasonFree
	}
	return d
}

// horizon is how far ahead states are followed to find when they change.
const horizon = 8 * 24 * time.Hour

// boundaries returns the instants after t and not after limit at which a
// state may change: the starts and ends of the active periods, and the
// ends of the "now, until" overrides. They are sorted and distinct.
func (p *Plan) boundaries(t, limit time.Time) []time.Time {
	var out []time.Time
	add := func(b time.Time) {
		if b.After(t) && !b.After(limit) {
			out = append(out, b)
		}
	}
	last := ipdesk.DateOf(limit.In(p.loc))
	for dt := ipdesk.DateOf(t.In(p.loc)); !dt.After(last); dt = dt.AddDays(1) {
		dy := p.day(dt)
		for i := range p.periods {
			if dy.active[i] {
				add(dy.starts[i])
				add(dy.ends[i])
			}
		}
	}
	for _, n := range p.nows {
		add(n.Until)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
}

// knownUntil is the end of the plan's range: states after it are not
// known.
func (p *Plan) knownUntil() time.Time {
	if p.to.IsZero() {
		return time.Time{}
	}
	return p.to.AddDays(1).At(0, p.loc)
}

// Next returns the first boundary after t (see boundaries) within the
// horizon, or the zero time when there is none.
func (p *Plan) Next(t time.Time) time.Time {
	if bs := p.boundaries(t, t.Add(horizon)); len(bs) > 0 {
		return bs[0]
	}
	return time.Time{}
}

// States returns the state of every room at t, each with the time its
// state changes next (looked for up to the horizon and the end of the
// plan's range), and the next boundary.
func (p *Plan) States(t time.Time) ipdesk.RoomStates {
	out := ipdesk.RoomStates{Time: t, Rooms: make([]ipdesk.RoomState, 0, len(p.rooms))}
	limit := t.Add(horizon)
	if k := p.knownUntil(); k.Before(limit) {
		limit = k
	}
	bs := p.boundaries(t, limit)
	if len(bs) > 0 {
		out.Next = &bs[0]
	}
	ms := make([]moment, len(bs))
	for i, b := range bs {
		ms[i] = p.at(b)
	}
	m := p.at(t)
	for _, r := range p.rooms {
		out.Rooms = append(out.Rooms, p.state(r, m, ms))
	}
	return out
}

// Blocked returns the ids of the rooms blocked at t, sorted.
func (p *Plan) Blocked(t time.Time) []int64 {
	m := p.at(t)
	var out []int64
	for _, r := range p.rooms {
		if p.decide(r.ID, m, true).blocked {
			out = append(out, r.ID)
		}
	}
	slices.Sort(out)
	return out
}

// Room returns the state of one room at t; false when the plan has no
// such room.
func (p *Plan) Room(id int64, t time.Time) (ipdesk.RoomState, bool) {
	for _, r := range p.rooms {
		if r.ID != id {
			continue
		}
		limit := t.Add(horizon)
		if k := p.knownUntil(); k.Before(limit) {
			limit = k
		}
		bs := p.boundaries(t, limit)
		ms := make([]moment, len(bs))
		for i, b := range bs {
			ms[i] = p.at(b)
		}
		return p.state(r, p.at(t), ms), true
	}
	return ipdesk.RoomState{}, false
}

// state returns the state of room r at m; ahead are the moments of the
// coming boundaries, in which the first change of the state is looked
// for.
func (p *Plan) state(r *ipdesk.Location, m moment, ahead []moment) ipdesk.RoomState {
	d := p.decide(r.ID, m, true)
	st := ipdesk.RoomState{RoomID: r.ID, Name: r.Name, Blocked: d.blocked, Reason: d.reason, Period: p.period(m)}
	if d.lesson != nil {
		st.Course, st.Teacher = d.lesson.Course, d.lesson.Teacher
	}
	switch {
	case d.policy != nil:
		st.SetBy = d.policy.UpdatedBy
	case d.now != nil:
		st.SetBy = d.now.CreatedBy
	case d.reason == ipdesk.ReasonOverride:
		st.SetBy = d.override.CreatedBy
	}
	st.Why = p.why(d, m)
	for _, a := range ahead {
		if p.decide(r.ID, a, true).blocked != d.blocked {
			t := a.t
			st.ValidUntil = &t
			break
		}
	}
	return st
}

// why says in words what decided d at m.
func (p *Plan) why(d decision, m moment) string {
	state := "open"
	if d.blocked {
		state = "blocked"
	}
	by := func(who, reason string) string {
		s := ""
		if who != "" {
			s = " by " + who
		}
		if reason != "" {
			s += " (" + reason + ")"
		}
		return s
	}
	clock := func(t time.Time) string {
		lt := t.In(p.loc)
		if ipdesk.DateOf(lt) != m.day.date {
			return lt.Format("Mon 2006-01-02 15:04")
		}
		return lt.Format("15:04")
	}
	n := p.period(m)
	switch d.reason {
	case ipdesk.ReasonPolicy:
		if d.blocked {
			return "always blocked: the room's policy" + by(d.policy.UpdatedBy, d.policy.Reason)
		}
		return "never blocked: the room's policy" + by(d.policy.UpdatedBy, d.policy.Reason)
	case ipdesk.ReasonNow:
		return state + " until " + clock(d.now.Until) + by(d.now.CreatedBy, d.now.Reason)
	case ipdesk.ReasonOverride:
		return fmt.Sprintf("period %d %s by an override", n, state) + by(d.override.CreatedBy, d.override.Reason)
	case ipdesk.ReasonClosed:
		if m.day.holiday != "" {
			return "no school: " + m.day.holiday
		}
		return "no school on " + m.day.date.Weekday().String() + "s"
	case ipdesk.ReasonBreak:
		return fmt.Sprintf("break before period %d", p.periods[p.nextIndex(m)].Number)
	case ipdesk.ReasonOutside:
		return "outside school hours"
	case ipdesk.ReasonLesson:
		s := fmt.Sprintf("lesson in period %d", n)
		if c := strings.TrimSpace(d.lesson.Course); c != "" {
			s = fmt.Sprintf("lesson %s in period %d", c, n)
		}
		if d.lesson.Teacher != "" {
			s += " (" + d.lesson.Teacher + ")"
		}
		return s
	}
	return fmt.Sprintf("no lesson in period %d", n)
}

// nextIndex returns the index of the first period that starts after m.t
// on m's day (len(periods) when none does).
func (p *Plan) nextIndex(m moment) int {
	for i := range p.periods {
		if m.t.Before(m.day.starts[i]) {
			return i
		}
	}
	return len(p.periods)
}

// LessonEnd returns when a "now, until" override of room set at t ends by
// default: at the end of the room's lesson running at t (its last period);
// without a lesson at the end of the period running; in a break at the end
// of the next period. ok is false when no period is left on t's day.
func (p *Plan) LessonEnd(room int64, t time.Time) (end time.Time, ok bool) {
	m := p.at(t)
	i := m.idx
	if i < 0 {
		if i = p.nextIndex(m); i >= len(p.periods) {
			return time.Time{}, false
		}
		return m.day.ends[i], true
	}
	if l := p.lessons[slotOf(room, m.day.num, p.periods[i].Number)]; l != nil && m.day.school {
		for j := i; j < len(p.periods) && p.periods[j].Number <= l.LastPeriod; j++ {
			i = j
		}
	}
	return m.day.ends[i], true
}

// Preview returns the rooms × periods grid of the days from to to (which
// should lie in the plan's range), with the flags of the period running at
// now and of the periods over by then.
func (p *Plan) Preview(from, to ipdesk.Date, now time.Time) *ipdesk.SchedulePreview {
	out := &ipdesk.SchedulePreview{From: from, To: to, Now: now, Periods: p.periods}
	var days []*day
	for dt := from; !dt.After(to); dt = dt.AddDays(1) {
		dy := p.day(dt)
		days = append(days, dy)
		out.Days = append(out.Days, ipdesk.PreviewDay{Date: dt, SchoolDay: dy.school, Holiday: dy.holiday})
	}
	out.Rooms = make([]ipdesk.PreviewRoom, 0, len(p.rooms))
	for _, r := range p.rooms {
		pr := ipdesk.PreviewRoom{RoomID: r.ID, Name: r.Name, Policy: ipdesk.PolicyTimetable,
			Cells: make([]ipdesk.PreviewCell, 0, len(days)*len(p.periods))}
		if pol := p.policies[r.ID]; pol != nil {
			pr.Policy = pol.Policy
		}
		n := p.nows[r.ID]
		for _, dy := range days {
			for i, per := range p.periods {
				m := moment{t: dy.starts[i], day: dy, idx: i}
				d := p.decide(r.ID, m, false)
				c := ipdesk.PreviewCell{Date: dy.date, Period: per.Number, Blocked: d.blocked, Reason: d.reason,
					Current: !now.Before(dy.starts[i]) && now.Before(dy.ends[i]), Past: !now.Before(dy.ends[i])}
				if d.lesson != nil {
					c.LessonID, c.Course, c.Teacher = d.lesson.ID, d.lesson.Course, d.lesson.Teacher
				}
				if d.override != nil {
					c.OverrideID = d.override.ID
				}
				if n != nil && n.Start.Before(dy.ends[i]) && n.Until.After(dy.starts[i]) {
					c.NowOverride = &n.Blocked
				}
				pr.Cells = append(pr.Cells, c)
			}
		}
		out.Rooms = append(out.Rooms, pr)
	}
	return out
}
