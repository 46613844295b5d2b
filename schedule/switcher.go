package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"ipdesk"
)

// SwitcherStore is what the switcher needs of the storage: the timetable,
// the logbook, and who made the changes it acts on.
type SwitcherStore interface {
	Store
	ipdesk.LogbookService
	// ChangeActorsSince returns the actors of the audit entries of the
	// given object types newer than the entry with ID after, in the order
	// of their latest entry, and the ID of the newest entry of the log.
	// With after < 0 it returns only that ID.
	ChangeActorsSince(ctx context.Context, after int64, objectTypes []string) (actors []string, newest int64, err error)
}

// ApplyFunc writes the blocked rooms to the proxy (the squid-rooms
// targets, through package outputs) and returns the runs. The rooms come
// from Switcher.BlockedRooms, which the renderers ask.
type ApplyFunc func(ctx context.Context) ([]*ipdesk.ApplyRun, error)

// SwitcherConfig configures a Switcher. Zero fields take defaults.
type SwitcherConfig struct {
	Settings Settings
	// Clock is the time source; nil means the system clock.
	Clock Clock
	// Apply writes the blocked set; nil means no squid-rooms target is
	// configured, and every change of the set is logged with that error
	// (the live set stays empty).
	Apply ApplyFunc
	// Notify, if set, is called with the state of every room after each
	// look at the plan: at start, at each boundary and after each change
	// (whether or not the blocked set changed). It runs on the switcher's
	// goroutine and must be quick.
	Notify func(ipdesk.RoomStates)
	// Logger receives a line per switch and every error; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Retry delays after a failed switch: the first retry comes after
// RetryMin, each further one after twice the time, at most RetryMax.
const (
	RetryMin = 10 * time.Second
	RetryMax = 10 * time.Minute
)

// maxSleep bounds a wait for the next boundary, so that a step of the
// system's clock (or a suspended machine) delays a switch by at most this
// long. It is a safety net, not a poll: boundaries come by their timers.
const maxSleep = time.Hour

// maxErrorLen bounds the error text of a logbook entry.
const maxErrorLen = 4000

// Watched are the audited object types whose changes make the switcher
// look at the plan again: those the plan is made of. Addresses are not
// among them: no address change blocks or opens a room, and the outputs
// rewrite the list of the blocked rooms' hosts after address changes by
// themselves (outputs.KindsAffectedBy), so a create costs no new plan.
var Watched = []string{ipdesk.ObjectPeriod, ipdesk.ObjectHoliday, ipdesk.ObjectLesson, ipdesk.ObjectOverride,
	ipdesk.ObjectNowOverride, ipdesk.ObjectRoomPolicy, ipdesk.ObjectLocation}

// Switcher keeps the proxy's set of blocked rooms equal to the timetable's:
// it wakes exactly at the next boundary and on every change of the plan,
// computes the blocked set, and when it differs from the live one applies
// it and writes one logbook entry (failures too). Create it with
// NewSwitcher and start it with Run.
type Switcher struct {
	store   SwitcherStore
	planner *Planner
	clock   Clock
	apply   ApplyFunc
	notify  func(ipdesk.RoomStates)
	log     *slog.Logger
	wake    chan struct{}

	mu      sync.Mutex
	desired []int64 // the set the proxy should have; nil until computed
	known   bool    // desired has been computed
	changed bool    // a watched change came since the last look

	// State of the Run goroutine.
	live      []int64          // the set the proxy has, as far as known
	names     map[int64]string // names of the rooms in live
	force     bool             // apply even when the set looks unchanged
	failing   bool             // the last apply failed; retry
	lastError string           // the error last logged
	failedSet []int64          // the set whose failure was last logged
	backoff   time.Duration
	seen      int64 // newest audit entry looked at
}

// NewSwitcher returns a switcher of the timetable in store.
func NewSwitcher(store SwitcherStore, cfg SwitcherConfig) *Switcher {
	s := &Switcher{
		store:   store,
		planner: NewPlanner(store, cfg.Settings, cfg.Clock),
		apply:   cfg.Apply,
		notify:  cfg.Notify,
		log:     cfg.Logger,
		wake:    make(chan struct{}, 1),
		names:   map[int64]string{},
	}
	s.clock = s.planner.clock
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Planner returns the switcher's planner.
func (s *Switcher) Planner() *Planner { return s.planner }

// Changed tells the switcher that objects of the given audit types
// changed; it looks at the plan at once if any is watched. It is quick and
// never blocks; it is meant for sqldb.DB.OnCommit.
func (s *Switcher) Changed(objectTypes []string) {
	for _, t := range objectTypes {
		if slices.Contains(Watched, t) {
			s.mu.Lock()
			s.changed = true
			s.mu.Unlock()
			select {
			case s.wake <- struct{}{}:
			default:
			}
			return
		}
	}
}

// BlockedRooms returns the rooms the proxy should block now: the set the
// switcher last computed, or, before its first look, the set computed from
// the store. The squid-rooms renderers call it.
func (s *Switcher) BlockedRooms(ctx context.Context) ([]int64, error) {
	s.mu.Lock()
	if s.known {
		out := slices.Clone(s.desired)
		s.mu.Unlock()
		return out, nil
	}
	s.mu.Unlock()
	return s.planner.BlockedRooms(ctx)
}

// Run looks at the plan at once (applying the blocked set even if the
// logbook says it is live, so that the proxy's files are surely right),
// then at every boundary and after every change, until ctx ends.
func (s *Switcher) Run(ctx context.Context) error {
	s.start(ctx)
	for {
		next := s.reconcile(ctx)
		now := s.clock.Now()
		wait := maxSleep
		if !next.IsZero() && next.Sub(now) < wait {
			wait = max(0, next.Sub(now))
		}
		timer := s.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-s.wake:
			timer.Stop()
		case <-timer.C():
		}
	}
}

// start reads the live set from the logbook's latest entry and the
// newest audit entry.
func (s *Switcher) start(ctx context.Context) {
	s.force = true
	entries, _, err := s.store.FindLogEntries(ctx, ipdesk.LogFilter{Page: ipdesk.Page{Limit: 1}})
	if err != nil {
		s.log.Error("timetable: cannot read the logbook", "error", err)
	} else if len(entries) == 1 {
		for _, r := range entries[0].BlockedNow {
			s.live = append(s.live, r.ID)
			s.names[r.ID] = r.Name
		}
		slices.Sort(s.live)
		if e := entries[0]; e.Error != "" {
			s.lastError = e.Error
			s.failedSet = slices.Concat(minus(s.live, sortedIDs(e.Opened)), sortedIDs(e.Blocked))
			slices.Sort(s.failedSet)
		}
	}
	if _, s.seen, err = s.store.ChangeActorsSince(ctx, -1, nil); err != nil {
		s.log.Error("timetable: cannot read the audit log", "error", err)
	}
}

// reconcile computes the blocked set now, applies it when it differs from
// the live one (or must be applied anyway) and logs the switch. It
// returns when to look again.
func (s *Switcher) reconcile(ctx context.Context) time.Time {
	s.mu.Lock()
	changed := s.changed
	s.changed = false
	s.mu.Unlock()
	now := s.clock.Now()
	plan, err := s.planner.Current(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("timetable: cannot read the timetable", "error", err)
		}
		return now.Add(s.nextBackoff())
	}
	states := plan.States(now)
	desired := states.Blocked()
	s.mu.Lock()
	s.desired, s.known = desired, true
	s.mu.Unlock()
	actor := ipdesk.LogActorTimetable
	if changed {
		actor = s.actors(ctx)
	}
	if s.force || s.failing || !slices.Equal(desired, s.live) {
		s.switchTo(ctx, now, actor, desired, plan)
	}
	if s.notify != nil {
		s.notify(states)
	}
	var next time.Time
	if states.Next != nil {
		next = *states.Next
	}
	if s.failing {
		if retry := now.Add(s.backoff); next.IsZero() || retry.Before(next) {
			next = retry
		}
	}
	return next
}

// actors returns who made the watched changes since the last look, or
// the timetable when no user is found.
func (s *Switcher) actors(ctx context.Context) string {
	actors, newest, err := s.store.ChangeActorsSince(ctx, s.seen, Watched)
	if err != nil {
		s.log.Error("timetable: cannot read the audit log", "error", err)
		return ipdesk.LogActorTimetable
	}
	s.seen = newest
	if len(actors) == 0 {
		return ipdesk.LogActorTimetable
	}
	slices.Reverse(actors) // the latest first
	out := strings.Join(actors, ", ")
	if len(out) > ipdesk.MaxNameLen {
		out = actors[0] + " and others"
	}
	return out
}

// switchTo applies desired and writes the logbook entry of the switch.
func (s *Switcher) switchTo(ctx context.Context, now time.Time, actor string, desired []int64, plan *Plan) {
	began := time.Now()
	names := make(map[int64]string, len(plan.Rooms()))
	for _, r := range plan.Rooms() {
		names[r.ID] = r.Name
	}
	for id, n := range s.names {
		if _, ok := names[id]; !ok {
			names[id] = n // a room deleted since it was blocked
		}
	}
	setChanged := !slices.Equal(desired, s.live)
	msg := ""
	if s.apply == nil {
		// Without a target there is nothing to retry; a change of the
		// set is logged as not enforced, once.
		s.force, s.failing = false, false
		if !setChanged {
			return
		}
		msg = "no squid-rooms target is configured, so the proxy was not switched; add one to the config file's targets"
	} else {
		runs, err := s.apply(ctx)
		msg = failures(runs, err)
	}
	ok := msg == ""
	if ok && setChanged || !ok && (msg != s.lastError || !slices.Equal(desired, s.failedSet)) {
		e := &ipdesk.LogEntry{Time: now, Actor: actor, Error: clipError(msg),
			Blocked: logRooms(minus(desired, s.live), names), Opened: logRooms(minus(s.live, desired), names)}
		if ok {
			e.BlockedNow = logRooms(desired, names)
		} else {
			e.BlockedNow = logRooms(s.live, names)
		}
		if err := s.store.RecordLogEntry(context.WithoutCancel(ctx), e); err != nil {
			s.log.Error("timetable: cannot write the logbook", "error", err)
		}
		s.lastError, s.failedSet = msg, nil
		if !ok {
			s.failedSet = desired
		}
	}
	attrs := []any{"actor", actor, "blocked", len(desired), "duration", time.Since(began).Round(time.Millisecond)}
	if s.apply == nil {
		s.log.Warn("timetable: not switched", append(attrs, "error", msg)...)
		return
	}
	if !ok {
		s.failing = true
		s.log.Error("timetable: switch failed", append(attrs, "error", msg, "retry_in", s.nextBackoff())...)
		return
	}
	s.failedSet = nil
	if setChanged {
		s.log.Info("timetable: switched", append(attrs, "rooms", joinNames(desired, names))...)
	}
	s.live, s.force, s.failing, s.backoff, s.lastError = desired, false, false, 0, ""
	s.names = map[int64]string{}
	for _, id := range desired {
		s.names[id] = names[id]
	}
}

// nextBackoff returns the delay of the next retry and doubles it.
func (s *Switcher) nextBackoff() time.Duration {
	if s.backoff == 0 {
		s.backoff = RetryMin
	} else {
		s.backoff = min(2*s.backoff, RetryMax)
	}
	return s.backoff
}

// failures describes the runs that did not leave the proxy on the new
// file; "" when all did.
func failures(runs []*ipdesk.ApplyRun, err error) string {
	var msgs []string
	if err != nil {
		msgs = append(msgs, ipdesk.ErrorMessage(err))
		if ipdesk.ErrorCode(err) == ipdesk.EINTERNAL {
			msgs[0] = err.Error()
		}
	}
	for _, r := range runs {
		if !r.Status.OK() {
			msgs = append(msgs, fmt.Sprintf("%s: %s: %s", r.Target, r.Status, strings.TrimSpace(r.Message)))
		}
	}
	return strings.Join(msgs, "\n")
}

func clipError(s string) string {
	if len(s) <= maxErrorLen {
		return s
	}
	r := []rune(s[:maxErrorLen])
	return string(r[:len(r)-1]) + "…"
}

// minus returns the ids of a that are not in b; both are sorted.
func minus(a, b []int64) []int64 {
	var out []int64
	for _, id := range a {
		if _, found := slices.BinarySearch(b, id); !found {
			out = append(out, id)
		}
	}
	return out
}

// sortedIDs returns the ids of rs, sorted.
func sortedIDs(rs []ipdesk.LogRoom) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	slices.Sort(out)
	return out
}

func logRooms(ids []int64, names map[int64]string) []ipdesk.LogRoom {
	out := make([]ipdesk.LogRoom, len(ids))
	for i, id := range ids {
		out[i] = ipdesk.LogRoom{ID: id, Name: names[id]}
	}
	return out
}

func joinNames(ids []int64, names map[int64]string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = names[id]
	}
	return strings.Join(s, " ")
}
