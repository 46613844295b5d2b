package schedule_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/schedule"
	"ipdesk/schedule/schedtest"
	"ipdesk/sqldb"
)

var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// monday returns hh:mm:ss on Monday 2 March 2026 in Berlin.
func monday(hh, mm, ss int) time.Time { return time.Date(2026, 3, 2, hh, mm, ss, 0, berlin) }

var anna = ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: 1, Name: "anna"})

// school is a database with a bell schedule of four periods and the rooms
// 303 (a lesson in period 2 on Monday 2 March 2026) and 316 (none).
type school struct {
	db         *sqldb.DB
	r303, r316 int64
	lesson     *ipdesk.Lesson
}

func newSchool(t testing.TB) *school {
	t.Helper()
	db, err := sqldb.Open(context.Background(), filepath.Join(t.TempDir(), "school.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &school{db: db}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var ps []*ipdesk.Period
	for i, p := range [][2]ipdesk.TimeOfDay{{480, 525}, {530, 575}, {595, 640}, {645, 690}} {
		ps = append(ps, &ipdesk.Period{Number: i + 1, Start: p[0], End: p[1]})
	}
	must(db.ReplacePeriods(anna, ps))
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Campus"}
	must(db.CreateLocation(anna, site))
	rooms := map[string]*int64{"303": &s.r303, "316": &s.r316}
	for _, name := range []string{"303", "316"} {
		l := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: name, ParentID: site.ID, HostnamePattern: "z" + name + "c"}
		must(db.CreateLocation(anna, l))
		*rooms[name] = l.ID
	}
	s.lesson = &ipdesk.Lesson{RoomID: s.r303, Date: ipdesk.Date{Year: 2026, Month: 3, Day: 2}, Period: 2, Course: "Maths"}
	must(db.CreateLesson(anna, s.lesson))
	return s
}

// fakeProxy records what the switcher applies: the blocked rooms the
// renderers would get at each apply.
type fakeProxy struct {
	mu      sync.Mutex
	sw      *schedule.Switcher
	applied [][]int64
	fail    error
}

func (f *fakeProxy) apply(ctx context.Context) ([]*ipdesk.ApplyRun, error) {
	rooms, err := f.sw.BlockedRooms(ctx)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return []*ipdesk.ApplyRun{{Target: "rooms.hosts", Status: ipdesk.ApplyInvalid, Message: f.fail.Error()}}, nil
	}
	f.applied = append(f.applied, rooms)
	return []*ipdesk.ApplyRun{{Target: "rooms.hosts", Status: ipdesk.ApplyApplied}}, nil
}

func (f *fakeProxy) applies() [][]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.applied)
}

// running is a switcher on its goroutine, with a channel that gets the
// states after each of its looks at the plan.
type running struct {
	sw     *schedule.Switcher
	proxy  *fakeProxy
	looked chan ipdesk.RoomStates
	stop   func()
}

func startSwitcher(t *testing.T, s *school, clock *schedtest.Clock) *running {
	t.Helper()
	r := &running{proxy: &fakeProxy{}, looked: make(chan ipdesk.RoomStates, 100)}
	r.sw = schedule.NewSwitcher(s.db, schedule.SwitcherConfig{
		Settings: schedule.Settings{Location: berlin},
		Clock:    clock,
		Apply:    r.proxy.apply,
		Notify:   func(st ipdesk.RoomStates) { r.looked <- st },
	})
	r.proxy.sw = r.sw
	s.db.OnCommit = r.sw.Changed
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.sw.Run(ctx) }()
	r.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		s.db.OnCommit = nil
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			r.stop()
		}
	})
	return r
}

// look waits for the switcher's next look at the plan.
func (r *running) look(t *testing.T) ipdesk.RoomStates {
	t.Helper()
	select {
	case st := <-r.looked:
		return st
	case <-time.After(10 * time.Second):
		t.Fatal("the switcher did not look at the plan")
	}
	panic("unreachable")
}

// quiet fails if the switcher looks at the plan within a moment.
func (r *running) quiet(t *testing.T) {
	t.Helper()
	select {
	case st := <-r.looked:
		t.Fatalf("the switcher looked at the plan at %s", st.Time.In(berlin))
	case <-time.After(100 * time.Millisecond):
	}
}

func logbook(t *testing.T, db *sqldb.DB) []*ipdesk.LogEntry {
	t.Helper()
	es, _, err := db.FindLogEntries(context.Background(), ipdesk.LogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(es)
	return es
}

func ids(rs []ipdesk.LogRoom) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// TestSwitcherBoundary: the switcher applies at start, then sleeps until
// the next boundary; at a boundary where nothing changes it applies
// nothing; it switches at the boundary second, not later, and logs the
// switch as the timetable's.
func TestSwitcherBoundary(t *testing.T) {
	s := newSchool(t)
	clock := schedtest.NewClock(monday(8, 30, 0))
	r := startSwitcher(t, s, clock)

	st := r.look(t)
	if got := r.proxy.applies(); len(got) != 1 || len(got[0]) != 0 {
		t.Fatalf("start: applies %v, want one of the empty set", got)
	}
	if st.Next == nil || !st.Next.Equal(monday(8, 45, 0)) {
		t.Fatalf("start: next %v", st.Next)
	}
	if n := len(logbook(t, s.db)); n != 0 {
		t.Fatalf("%d logbook entries at start with nothing blocked", n)
	}
	if at, ok := clock.WaitTimer(5 * time.Second); !ok || !at.Equal(monday(8, 45, 0)) {
		t.Fatalf("the switcher waits until %s (%v), want 08:45", at.In(berlin), ok)
	}

	// 08:45, the end of period 1: nothing changes, nothing is applied.
	clock.Set(monday(8, 45, 0))
	r.look(t)
	if got := r.proxy.applies(); len(got) != 1 {
		t.Fatalf("applies after an unchanged boundary: %v", got)
	}
	// A second before period 2 the switcher sleeps.
	clock.WaitTimer(5 * time.Second)
	clock.Set(monday(8, 49, 59))
	r.quiet(t)
	// At 08:50:00 it switches.
	clock.Set(monday(8, 50, 0))
	r.look(t)
	got := r.proxy.applies()
	if len(got) != 2 || !slices.Equal(got[1], []int64{s.r303}) {
		t.Fatalf("applies at 08:50: %v", got)
	}
	es := logbook(t, s.db)
	if len(es) != 1 || !es[0].Time.Equal(monday(8, 50, 0)) || es[0].Actor != ipdesk.LogActorTimetable ||
		!slices.Equal(ids(es[0].Blocked), []int64{s.r303}) || len(es[0].Opened) != 0 || es[0].Blocked[0].Name != "303" || es[0].Error != "" {
		t.Fatalf("logbook: %+v", es)
	}

	// A change that does not change the set: a look, no apply.
	if _, err := s.db.UpdateLesson(anna, s.lesson.ID, ipdesk.LessonUpdate{Course: ptr("Physics")}); err != nil {
		t.Fatal(err)
	}
	if st := r.look(t); st.Rooms[0].Course != "Physics" {
		t.Errorf("state after the change: %+v", st.Rooms[0])
	}
	if got := r.proxy.applies(); len(got) != 2 {
		t.Fatalf("applies after a change that keeps the set: %v", got)
	}

	// anna opens the lesson: the switch is hers.
	if err := s.db.SetOverride(anna, &ipdesk.Override{RoomID: s.r303, Date: s.lesson.Date, Period: 2}, nil); err != nil {
		t.Fatal(err)
	}
	r.look(t)
	es = logbook(t, s.db)
	if len(es) != 2 || es[1].Actor != "anna" || !slices.Equal(ids(es[1].Opened), []int64{s.r303}) || len(es[1].BlockedNow) != 0 {
		t.Fatalf("logbook after the override: %+v", es[len(es)-1])
	}
	if got := r.proxy.applies(); len(got) != 3 || len(got[2]) != 0 {
		t.Fatalf("applies after the override: %v", got)
	}
}

// TestSwitcherRestart: after a restart in the middle of a lesson that
// began while it was down, the switcher blocks the room at once.
func TestSwitcherRestart(t *testing.T) {
	s := newSchool(t)
	clock := schedtest.NewClock(monday(8, 30, 0))
	r := startSwitcher(t, s, clock)
	r.look(t)
	r.stop()

	clock.Set(monday(9, 10, 0)) // the lesson of period 2 began at 08:50
	r = startSwitcher(t, s, clock)
	st := r.look(t)
	if got := r.proxy.applies(); len(got) != 1 || !slices.Equal(got[0], []int64{s.r303}) {
		t.Fatalf("applies at start: %v", got)
	}
	if !st.Rooms[0].Blocked || st.Time != monday(9, 10, 0) {
		t.Errorf("state at start: %+v", st)
	}
	es := logbook(t, s.db)
	if len(es) != 1 || !es[0].Time.Equal(monday(9, 10, 0)) || !slices.Equal(ids(es[0].Blocked), []int64{s.r303}) {
		t.Fatalf("logbook: %+v", es)
	}
	r.stop()

	// Another restart with the state unchanged applies again (the files
	// may be stale) but logs nothing.
	r = startSwitcher(t, s, clock)
	r.look(t)
	if got := r.proxy.applies(); len(got) != 1 || !slices.Equal(got[0], []int64{s.r303}) {
		t.Fatalf("applies at the second start: %v", got)
	}
	if n := len(logbook(t, s.db)); n != 1 {
		t.Errorf("%d logbook entries after a restart without change", n)
	}
}

// TestSwitcherFailure: a failed apply is logged with the error and the old
// set, retried after RetryMin, and the retry that succeeds is logged.
func TestSwitcherFailure(t *testing.T) {
	s := newSchool(t)
	clock := schedtest.NewClock(monday(8, 49, 0))
	r := startSwitcher(t, s, clock)
	r.look(t)
	r.proxy.mu.Lock()
	r.proxy.fail = errors.New("squid: Bad host/IP: '10.77.0.300'")
	r.proxy.mu.Unlock()
	clock.WaitTimer(5 * time.Second)
	clock.Set(monday(8, 50, 0))
	r.look(t)
	es := logbook(t, s.db)
	if len(es) != 1 || es[0].Error != "rooms.hosts: invalid: squid: Bad host/IP: '10.77.0.300'" || len(es[0].BlockedNow) != 0 ||
		!slices.Equal(ids(es[0].Blocked), []int64{s.r303}) {
		t.Fatalf("logbook after the failure: %+v", es)
	}
	if at, _ := clock.WaitTimer(5 * time.Second); !at.Equal(monday(8, 50, 0).Add(schedule.RetryMin)) {
		t.Fatalf("retry at %s", at.In(berlin))
	}
	r.proxy.mu.Lock()
	r.proxy.fail = nil
	r.proxy.mu.Unlock()
	clock.Advance(schedule.RetryMin)
	r.look(t)
	es = logbook(t, s.db)
	if len(es) != 2 || es[1].Error != "" || !slices.Equal(ids(es[1].BlockedNow), []int64{s.r303}) {
		t.Fatalf("logbook after the retry: %+v", es)
	}
}

// TestSwitcherNoTarget: without a squid-rooms target a change of the set
// is logged as not enforced, once, and not retried.
func TestSwitcherNoTarget(t *testing.T) {
	s := newSchool(t)
	clock := schedtest.NewClock(monday(8, 55, 0))
	looked := make(chan ipdesk.RoomStates, 10)
	sw := schedule.NewSwitcher(s.db, schedule.SwitcherConfig{Settings: schedule.Settings{Location: berlin}, Clock: clock,
		Notify: func(st ipdesk.RoomStates) { looked <- st }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sw.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-looked
	es := logbook(t, s.db)
	if len(es) != 1 || es[0].Error == "" || len(es[0].BlockedNow) != 0 {
		t.Fatalf("logbook: %+v", es)
	}
	if rooms, _ := sw.BlockedRooms(ctx); !slices.Equal(rooms, []int64{s.r303}) {
		t.Errorf("blocked rooms %v", rooms)
	}
	// Nothing is retried: the next look is at the end of the period, where
	// the set is empty again and nothing is logged.
	if at, _ := clock.WaitTimer(5 * time.Second); !at.Equal(monday(9, 35, 0)) {
		t.Fatalf("next look at %s", at.In(berlin))
	}
	clock.Set(monday(9, 35, 0))
	<-looked
	if n := len(logbook(t, s.db)); n != 1 {
		t.Errorf("%d logbook entries after the lesson", n)
	}
}

func ptr[T any](v T) *T { return &v }

// TestSwitcherIgnoresAddresses: an address change (nor a new space or
// prefix) cannot block or open a room, so it does not make the switcher
// read the plan again; a change of the plan does.
func TestSwitcherIgnoresAddresses(t *testing.T) {
	s := newSchool(t)
	clock := schedtest.NewClock(monday(8, 30, 0))
	r := startSwitcher(t, s, clock)
	r.look(t) // the start
	sp := &ipdesk.Space{Name: "school"}
	if err := s.db.CreateSpace(anna, sp); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.CreatePrefix(anna, &ipdesk.Prefix{SpaceID: sp.ID, Prefix: netip.MustParsePrefix("10.1.0.0/24"), Kind: ipdesk.PrefixSubnet}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		a := &ipdesk.Address{SpaceID: sp.ID, Addr: netip.AddrFrom4([4]byte{10, 1, 0, byte(10 + i)}), LocationID: s.r303}
		if _, err := s.db.CreateAddress(anna, a); err != nil {
			t.Fatal(err)
		}
	}
	r.quiet(t)
	course := "Physics"
	if _, err := s.db.UpdateLesson(anna, s.lesson.ID, ipdesk.LessonUpdate{Course: &course}); err != nil {
		t.Fatal(err)
	}
	r.look(t)
}
