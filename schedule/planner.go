package schedule

import (
	"context"
	"time"

	"ipdesk"
)

// Clock tells the time and makes timers; tests use a fake one.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
}

// Timer is a timer of a Clock.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// RealClock is the system's clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// Store is what the planner reads.
type Store interface {
	TimetableSnapshot(ctx context.Context, from, to ipdesk.Date) (*ipdesk.TimetableData, error)
}

// Planner answers questions about the timetable at the current time: it
// reads the timetable from the store and computes with a Plan.
type Planner struct {
	store    Store
	settings Settings
	clock    Clock
}

// NewPlanner returns a planner of the timetable in store; clock nil means
// the system clock.
func NewPlanner(store Store, s Settings, clock Clock) *Planner {
	if clock == nil {
		clock = RealClock{}
	}
	return &Planner{store: store, settings: s, clock: clock}
}

// Now returns the planner's current time.
func (p *Planner) Now() time.Time { return p.clock.Now() }

// Location returns the time zone of the bell schedule.
func (p *Planner) Location() *time.Location { return p.settings.location() }

// Settings returns the planner's calendar settings.
func (p *Planner) Settings() Settings { return p.settings }

// aheadDays is how many days after today a plan for the current state
// covers: enough for the horizon in which state changes are looked for.
const aheadDays = 8

// Plan reads the timetable of the days from to to.
func (p *Planner) Plan(ctx context.Context, from, to ipdesk.Date) (*Plan, error) {
	d, err := p.store.TimetableSnapshot(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return NewPlan(p.settings, d), nil
}

// Current reads the plan for t: its day and the days after it that the
// horizon covers.
func (p *Planner) Current(ctx context.Context, t time.Time) (*Plan, error) {
	today := ipdesk.DateOf(t.In(p.Location()))
	return p.Plan(ctx, today, today.AddDays(aheadDays))
}

// States returns the state of every room now.
func (p *Planner) States(ctx context.Context) (ipdesk.RoomStates, error) {
	now := p.clock.Now()
	plan, err := p.Current(ctx, now)
	if err != nil {
		return ipdesk.RoomStates{}, err
	}
	return plan.States(now), nil
}

// BlockedRooms returns the ids of the rooms blocked now, sorted (the
// outputs' RoomSource when no switcher runs, as in "ipdesk apply").
func (p *Planner) BlockedRooms(ctx context.Context) ([]int64, error) {
	now := p.clock.Now()
	plan, err := p.Current(ctx, now)
	if err != nil {
		return nil, err
	}
	return plan.Blocked(now), nil
}

// RoomState returns the state of one room now; ENOTFOUND when there is
// no such room.
func (p *Planner) RoomState(ctx context.Context, id int64) (ipdesk.RoomState, error) {
	now := p.clock.Now()
	plan, err := p.Current(ctx, now)
	if err != nil {
		return ipdesk.RoomState{}, err
	}
	st, ok := plan.Room(id, now)
	if !ok {
		return st, ipdesk.Errorf(ipdesk.ENOTFOUND, "room %d does not exist (or is not a location of kind room)", id)
	}
	return st, nil
}

// Preview returns the occupancy grid of the days from to to, relative to
// now. The range is limited to ipdesk.MaxTimetableDays days.
func (p *Planner) Preview(ctx context.Context, from, to ipdesk.Date) (*ipdesk.SchedulePreview, error) {
	plan, err := p.Plan(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return plan.Preview(from, to, p.clock.Now()), nil
}

// DefaultUntil returns the end of a "now, until" override of room set now
// without an explicit end (see Plan.LessonEnd).
func (p *Planner) DefaultUntil(ctx context.Context, room int64) (time.Time, error) {
	now := p.clock.Now()
	plan, err := p.Current(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	end, ok := plan.LessonEnd(room, now)
	if !ok {
		return time.Time{}, ipdesk.FieldErrorf(ipdesk.EINVALID, "until", "no period is running or left today; give until (HH:MM or an RFC 3339 time)")
	}
	return end, nil
}

// ParseUntil reads the end of a "now, until" override: a time of day
// HH:MM (today, in the school's time zone; a time already past means
// tomorrow) or an RFC 3339 time.
func (p *Planner) ParseUntil(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	tod, err := ipdesk.ParseTimeOfDay("until", s)
	if err != nil {
		return time.Time{}, ipdesk.FieldErrorf(ipdesk.EINVALID, "until", "until %q is neither a time of day HH:MM nor an RFC 3339 time", s)
	}
	now := p.clock.Now().In(p.Location())
	t := ipdesk.DateOf(now).At(tod, p.Location())
	if !t.After(now) {
		t = ipdesk.DateOf(now).AddDays(1).At(tod, p.Location())
	}
	return t, nil
}
