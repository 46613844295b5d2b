package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/internal/testwait"
)

// memRecorder keeps runs and reports each on a channel.
type memRecorder struct {
	mu     sync.Mutex
	runs   []Run
	actors []string
	ch     chan Run
	err    error
}

func newMemRecorder() *memRecorder { return &memRecorder{ch: make(chan Run, 1000)} }

func (r *memRecorder) RecordRun(ctx context.Context, run Run) error {
	r.mu.Lock()
	r.runs = append(r.runs, run)
	r.actors = append(r.actors, ipdesk.ActorName(ctx))
	err := r.err
	r.mu.Unlock()
	r.ch <- run
	return err
}

func (r *memRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.runs)
}

// wait returns the next recorded run or fails after d.
func (r *memRecorder) wait(t *testing.T, d time.Duration) Run {
	t.Helper()
	select {
	case run := <-r.ch:
		return run
	case <-time.After(time.Until(testwait.Deadline(t))):
		t.Fatalf("no run recorded by the test's deadline (usually within %v)", d)
		return Run{}
	}
}

// counting returns a render that yields a new content on every call and
// counts the calls.
func counting(n *atomic.Int64) RenderFunc {
	return func(context.Context) ([]byte, error) {
		return fmt.Appendf(nil, "version %d\n", n.Add(1)), nil
	}
}

// startScheduler runs s until the test ends and checks that Run returns.
func startScheduler(t *testing.T, s *Scheduler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
}

func TestDebounce(t *testing.T) {
	dir := t.TempDir()
	const quiet = 100 * time.Millisecond
	var renders [2]atomic.Int64
	jobs := []Job{
		{Target: Target{Name: "dhcpd", Kind: KindISCDHCP, Path: filepath.Join(dir, "dhcpd.hosts")}, Render: counting(&renders[0])},
		{Target: Target{Name: "rooms", Kind: KindSquidRooms, Path: filepath.Join(dir, "rooms.txt")}, Render: counting(&renders[1])},
	}
	rec := newMemRecorder()
	s, err := NewScheduler(nil, jobs, Config{Quiet: quiet, MaxDelay: time.Minute, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	startScheduler(t, s)

	// 10,000 marks of each target within the quiet period (the loop
	// takes well under 100 ms; if a machine is slower, the marks keep
	// postponing the apply, which still gives one apply).
	for range 10000 {
		s.MarkDirty("dhcpd")
		s.MarkDirty("rooms")
		s.MarkDirty("not-configured") // ignored
	}
	got := map[string]Run{}
	for range 2 {
		run := rec.wait(t, 10*time.Second)
		got[run.Target] = run
	}
	if got["dhcpd"].Status != StatusApplied || got["rooms"].Status != StatusApplied {
		t.Fatalf("runs: %+v", got)
	}
	// Nothing else follows.
	time.Sleep(5 * quiet)
	if n0, n1, n := renders[0].Load(), renders[1].Load(), rec.count(); n0 != 1 || n1 != 1 || n != 2 {
		t.Errorf("renders %d and %d, runs %d; want 1, 1, 2", n0, n1, n)
	}
	for _, st := range s.Status() {
		if st.Dirty || st.Running || st.LastRun == nil || st.LastRun.Status != StatusApplied {
			t.Errorf("status %+v", st)
		}
	}
	if got := readFile(t, filepath.Join(dir, "dhcpd.hosts")); got != "version 1\n" {
		t.Errorf("file %q", got)
	}

	// A later edit causes exactly one more apply.
	s.MarkDirty("dhcpd")
	if st := s.Status()[0]; !st.Dirty || st.DirtySince.IsZero() {
		t.Errorf("status after MarkDirty: %+v", st)
	}
	if run := rec.wait(t, 10*time.Second); run.Target != "dhcpd" {
		t.Errorf("run %+v", run)
	}
	if rec.actors[0] != "system" {
		t.Errorf("debounced run recorded as %q, want system", rec.actors[0])
	}
}

// TestMarkDirtyIfIdle: a late notice of a change marks a clean target,
// which is then applied once, and leaves the due time of a dirty one alone.
func TestMarkDirtyIfIdle(t *testing.T) {
	dir := t.TempDir()
	var renders atomic.Int64
	jobs := []Job{{Target: Target{Name: "dhcpd", Kind: KindISCDHCP, Path: filepath.Join(dir, "h")}, Render: counting(&renders)}}
	rec := newMemRecorder()
	s, err := NewScheduler(nil, jobs, Config{Quiet: time.Hour, MaxDelay: time.Hour, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	j := s.jobs["dhcpd"]
	s.MarkDirtyIfIdle("dhcpd")
	s.MarkDirtyIfIdle("not-configured") // ignored
	s.mu.Lock()
	dirty, first, last := j.dirty, j.first, j.last
	s.mu.Unlock()
	if !dirty || first.IsZero() || !last.Equal(first) {
		t.Fatalf("a clean target was not marked: dirty %v, first %v, last %v", dirty, first, last)
	}
	time.Sleep(10 * time.Millisecond)
	s.MarkDirtyIfIdle("dhcpd")
	s.mu.Lock()
	later := j.last
	s.mu.Unlock()
	if !later.Equal(last) {
		t.Errorf("the due time of a dirty target moved from %v to %v", last, later)
	}
	s.MarkDirty("dhcpd")
	s.mu.Lock()
	later = j.last
	s.mu.Unlock()
	if !later.After(last) {
		t.Errorf("MarkDirty did not postpone the apply (last %v, then %v)", last, later)
	}

	// With a short quiet period the marked target is applied once.
	s2, err := NewScheduler(nil, jobs, Config{Quiet: 50 * time.Millisecond, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	startScheduler(t, s2)
	s2.MarkDirtyIfIdle("dhcpd")
	s2.MarkDirtyIfIdle("dhcpd")
	if run := rec.wait(t, 10*time.Second); run.Status != StatusApplied {
		t.Fatalf("run %+v", run)
	}
	time.Sleep(250 * time.Millisecond)
	if n := renders.Load(); n != 1 {
		t.Errorf("%d renders, want 1", n)
	}
}

// TestMarkDirtyIfIdleWhileApplying: while a target is being applied, a
// late notice reports it busy and neither marks it nor queues a second
// apply, since the render under way may hold the change; once the apply
// is done, a notice marks it again.
func TestMarkDirtyIfIdleWhileApplying(t *testing.T) {
	dir := t.TempDir()
	entered, release := make(chan struct{}), make(chan struct{})
	var renders atomic.Int64
	render := func(context.Context) ([]byte, error) {
		n := renders.Add(1)
		if n == 1 {
			close(entered)
			<-release
		}
		return fmt.Appendf(nil, "version %d\n", n), nil
	}
	jobs := []Job{{Target: Target{Name: "dhcpd", Kind: KindISCDHCP, Path: filepath.Join(dir, "h")}, Render: render}}
	rec := newMemRecorder()
	s, err := NewScheduler(nil, jobs, Config{Quiet: time.Millisecond, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	startScheduler(t, s)
	idle := func() bool {
		st := s.Status()[0]
		return !st.Running && !st.Dirty
	}
	s.MarkDirty("dhcpd")
	<-entered
	if !s.MarkDirtyIfIdle("dhcpd") {
		t.Fatal("a target being applied is not reported busy")
	}
	if st := s.Status()[0]; st.Dirty {
		t.Fatal("a notice while the target was applied marked it dirty")
	}
	close(release)
	if run := rec.wait(t, 10*time.Second); run.Status != StatusApplied {
		t.Fatalf("run %+v", run)
	}
	testwait.Until(t, "the apply to end", time.Second, idle)
	if n := rec.count(); n != 1 {
		t.Fatalf("%d runs for one change, want 1", n)
	}
	if s.MarkDirtyIfIdle("dhcpd") {
		t.Fatal("an idle target is reported busy")
	}
	if run := rec.wait(t, 10*time.Second); run.Status != StatusApplied || renders.Load() != 2 {
		t.Fatalf("the notice after the apply: run %+v after %d renders", run, renders.Load())
	}
}

func TestMaxDelay(t *testing.T) {
	dir := t.TempDir()
	var renders atomic.Int64
	jobs := []Job{{Target: Target{Name: "dhcpd", Kind: KindISCDHCP, Path: filepath.Join(dir, "h")}, Render: counting(&renders)}}
	rec := newMemRecorder()
	s, err := NewScheduler(nil, jobs, Config{Quiet: 200 * time.Millisecond, MaxDelay: 300 * time.Millisecond, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	startScheduler(t, s)
	// Marks every 10 ms for 2 s never leave a quiet period; the maximum
	// delay must still let applies through while they continue.
	end := time.Now().Add(2 * time.Second)
	for time.Now().Before(end) {
		s.MarkDirty("dhcpd")
		time.Sleep(10 * time.Millisecond)
	}
	if n := rec.count(); n < 1 {
		t.Errorf("%d applies during a constant stream of edits, want some", n)
	}
	t.Logf("%d applies during 2 s of edits with max delay 300ms", rec.count())
}

// TestApplyNowSerialised runs concurrent ApplyNow calls on one target with
// a validator that detects overlapping execution.
func TestApplyNowSerialised(t *testing.T) {
	f := newFakes(t)
	busy := filepath.Join(f.dir, "busy")
	overlap := filepath.Join(f.dir, "overlap")
	runs := filepath.Join(f.dir, "runs")
	check := f.script("validate-slow", fmt.Sprintf(`mkdir %q 2>/dev/null || echo overlap >> %q
echo run >> %q
sleep 0.05
rmdir %q`, busy, overlap, runs, busy))
	var renders atomic.Int64
	jobs := []Job{{Target: Target{Name: "dhcpd", Kind: KindISCDHCP, Path: filepath.Join(f.dir, "hosts"),
		Validate: []string{check, "{candidate}"}}, Render: counting(&renders)}}
	s, err := NewScheduler(nil, jobs, Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run, err := s.ApplyNow(context.Background(), "dhcpd")
			if err == nil && run.Status != StatusApplied {
				err = fmt.Errorf("status %q: %s", run.Status, run.Message)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(overlap); err == nil {
		t.Errorf("validators overlapped: %s", readFile(t, overlap))
	}
	if got := strings.Count(readFile(t, runs), "run\n"); got != n {
		t.Errorf("%d validator runs, want %d", got, n)
	}
}

// TestTargetsInParallel shows that two targets apply at the same time:
// each validator waits for the other one to start, which would time out if
// the applies were serialised.
func TestTargetsInParallel(t *testing.T) {
	f := newFakes(t)
	rendezvous := func(me, other string) string {
		return f.script("validate-"+me, fmt.Sprintf(`touch %q
i=0
while [ ! -e %q ]; do
	i=$((i+1)); [ $i -gt 200 ] && { echo "the other target never started" >&2; exit 1; }
	sleep 0.05
done`, filepath.Join(f.dir, me+".started"), filepath.Join(f.dir, other+".started")))
	}
	jobs := []Job{
		{Target: Target{Name: "a", Kind: KindISCDHCP, Path: filepath.Join(f.dir, "a.conf"),
			Validate: []string{rendezvous("a", "b"), "{candidate}"}}, Render: static("a\n")},
		{Target: Target{Name: "b", Kind: KindKea, Path: filepath.Join(f.dir, "b.conf"),
			Validate: []string{rendezvous("b", "a"), "{candidate}"}}, Render: static("b\n")},
	}
	s, err := NewScheduler(nil, jobs, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run, err := s.ApplyNow(context.Background(), name)
			if err != nil || run.Status != StatusApplied {
				t.Errorf("%s: %v %q %s", name, err, run.Status, run.Message)
			}
		}()
	}
	wg.Wait()
}

func TestApplyNow(t *testing.T) {
	dir := t.TempDir()
	rec := newMemRecorder()
	jobs := []Job{{Target: Target{Name: "dhcpd", Kind: KindISCDHCP, Path: filepath.Join(dir, "h")}, Render: static("x\n")}}
	s, err := NewScheduler(nil, jobs, Config{Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyNow(context.Background(), "nope"); ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
		t.Errorf("unknown target: %v", err)
	}
	// ApplyNow clears a pending mark: its render covers the edit.
	s.MarkDirty("dhcpd")
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "alice"})
	run, err := s.ApplyNow(ctx, "dhcpd")
	if err != nil || run.Status != StatusApplied {
		t.Fatalf("%v %+v", err, run)
	}
	st := s.Status()[0]
	if st.Dirty || st.LastRun == nil || st.LastRun.Start != run.Start {
		t.Errorf("status %+v", st)
	}
	if rec.count() != 1 || rec.actors[0] != "alice" {
		t.Errorf("recorded %d runs by %q", rec.count(), rec.actors)
	}
	// A failing recorder: the run is returned with the error.
	rec.err = errors.New("disk full")
	run, err = s.ApplyNow(ctx, "dhcpd")
	if err == nil || !strings.Contains(err.Error(), "disk full") || run.Status != StatusUnchanged {
		t.Errorf("recorder failure: %v %+v", err, run)
	}
}

func TestMarkDirtyKind(t *testing.T) {
	jobs := []Job{
		{Target: Target{Name: "levels", Kind: KindSquidLevels, Path: "/nonexistent/levels"}, Render: static("")},
		{Target: Target{Name: "rooms", Kind: KindSquidRooms, Path: "/nonexistent/rooms"}, Render: static("")},
		{Target: Target{Name: "dhcpd", Kind: KindISCDHCP, Path: "/nonexistent/hosts"}, Render: static("")},
	}
	s, err := NewScheduler(nil, jobs, Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.MarkDirtyKind(KindSquidRooms, KindISCDHCP)
	var dirty []string
	for _, st := range s.Status() {
		if st.Dirty {
			dirty = append(dirty, st.Name)
		}
	}
	if strings.Join(dirty, ",") != "rooms,dhcpd" {
		t.Errorf("dirty %q, want rooms and dhcpd", dirty)
	}
}

func TestNewSchedulerRejects(t *testing.T) {
	good := func(name, path string) Job {
		return Job{Target: Target{Name: name, Kind: KindDnsmasq, Path: path}, Render: static("")}
	}
	tests := []struct {
		name  string
		jobs  []Job
		cfg   Config
		field string
	}{
		{"duplicate name", []Job{good("d", "/etc/a"), good("d", "/etc/b")}, Config{}, "name"},
		{"duplicate path", []Job{good("d", "/etc/a"), good("e", "/etc/a")}, Config{}, "path"},
		{"bad target", []Job{good("d", "etc/a")}, Config{}, "path"},
		{"no render", []Job{{Target: good("d", "/etc/a").Target}}, Config{}, "render"},
		{"negative quiet", nil, Config{Quiet: -1}, "quiet"},
		{"negative max delay", nil, Config{MaxDelay: -1}, "max_delay"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewScheduler(nil, tc.jobs, tc.cfg)
			if ipdesk.ErrorCode(err) != ipdesk.EINVALID || ipdesk.ErrorField(err) != tc.field {
				t.Errorf("err %v (field %q), want EINVALID on %q", err, ipdesk.ErrorField(err), tc.field)
			}
		})
	}
}

// TestSchedulerStartAndStop: Run cleans up after a crash and reloads a
// target whose reload was interrupted; on cancel it waits for the apply in
// flight and leaves no goroutines.
func TestSchedulerStartAndStop(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFakes(t)
	live := filepath.Join(f.dir, "hosts")
	writeFile(t, live, "v1\n")
	stale := filepath.Join(f.dir, ".hosts.ipdesk-42.tmp")
	writeFile(t, stale, "half")
	writeFile(t, markerPath(live), "")
	started := filepath.Join(f.dir, "started")
	slow := f.script("validate-slow", fmt.Sprintf("touch %q\nsleep 60", started))
	rec := newMemRecorder()
	var content atomic.Pointer[string]
	content.Store(ptr("v1\n"))
	render := func(context.Context) ([]byte, error) { return []byte(*content.Load()), nil }
	jobs := []Job{{Target: Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live,
		Validate: []string{slow, "{candidate}"}, Reload: []string{f.reloader()}}, Render: render}}
	s, err := NewScheduler(nil, jobs, Config{Quiet: 10 * time.Millisecond, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	// The pending reload is done although the file is unchanged.
	run := rec.wait(t, 10*time.Second)
	if run.Status != StatusApplied || f.reloads() != 1 {
		t.Fatalf("status %q, %d reloads: %s", run.Status, f.reloads(), run.Message)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale candidate not removed at start")
	}
	if err := s.Run(ctx); ipdesk.ErrorCode(err) != ipdesk.ECONFLICT {
		t.Errorf("second Run: %v", err)
	}

	// Start an apply that hangs in validation, then stop.
	content.Store(ptr("v2\n"))
	s.MarkDirty("dhcpd")
	for i := 0; ; i++ {
		if _, err := os.Stat(started); err == nil {
			break
		} else if i > 1000 {
			t.Fatal("validator never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	begin := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
	t.Logf("Run returned %v after cancel", time.Since(begin))
	run = rec.wait(t, time.Second)
	if run.Status != StatusError || !strings.Contains(run.Message, "cancelled") {
		t.Errorf("cancelled run: %q %s", run.Status, run.Message)
	}
	if got := readFile(t, live); got != "v1\n" {
		t.Errorf("live %q", got)
	}
	// No goroutine of the scheduler survives (allow the runtime a moment).
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i > 200 {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRetryAfterFailure: a failed reload is retried by itself, with the
// wait doubling, until the cause is gone; no change is needed for it, and
// the target shows as failing with its next try until then.
func TestRetryAfterFailure(t *testing.T) {
	f := newFakes(t)
	live := filepath.Join(f.dir, "dhcpd.hosts")
	marker := filepath.Join(f.dir, "broken")
	writeFile(t, marker, "")
	reload := f.script("reload-while-broken", fmt.Sprintf(`echo reload >> %q
if [ -e %q ]; then echo "daemon: broken" >&2; exit 1; fi`, f.log, marker))
	jobs := []Job{{Target: Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live, Reload: []string{reload}}, Render: static("host a\n")}}
	rec := newMemRecorder()
	s, err := NewScheduler(nil, jobs, Config{Quiet: time.Millisecond, RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	startScheduler(t, s)
	s.MarkDirty("dhcpd")

	// Failures are retried without any MarkDirty.
	for i := range 3 {
		if run := rec.wait(t, time.Minute); run.Status != StatusReloadFailed {
			t.Fatalf("run %d: %s %s", i, run.Status, run.Message)
		}
	}
	// The status says failing, with a next try, and not dirty: the test
	// reads it until it sees the state between two tries.
	for {
		st := s.Status()[0]
		if !st.Failing {
			t.Fatalf("status after failed runs: %+v", st)
		}
		if !st.RetryAt.IsZero() {
			break
		}
		runtime.Gosched()
	}
	os.Remove(marker)
	for {
		run := rec.wait(t, time.Minute)
		if run.Status == StatusApplied {
			break
		}
		if run.Status != StatusReloadFailed {
			t.Fatalf("run: %s %s", run.Status, run.Message)
		}
	}
	if got := readFile(t, live); got != "host a\n" {
		t.Errorf("live file %q", got)
	}
	st := s.Status()[0]
	if st.Failing || !st.RetryAt.IsZero() || st.Dirty {
		t.Errorf("status after the good run: %+v", st)
	}
	// No more runs follow a success: the next one would be a retry.
	n := rec.count()
	time.Sleep(50 * time.Millisecond)
	if rec.count() != n {
		t.Errorf("runs went on after the success")
	}
}

// TestRetryBackoff: the wait doubles from RetryMin up to RetryMax, and a
// change starts it anew.
func TestRetryBackoff(t *testing.T) {
	s, err := NewScheduler(nil, []Job{{Target: Target{Name: "x", Kind: KindDnsmasq, Path: filepath.Join(t.TempDir(), "x")}, Render: static("")}},
		Config{RetryMin: 10 * time.Second, RetryMax: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	j := s.jobs["x"]
	var waits []time.Duration
	for range 5 {
		s.noteOutcome(j, Run{Status: StatusInvalid})
		waits = append(waits, j.backoff)
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 60 * time.Second, 60 * time.Second}
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	s.MarkDirty("x")
	s.noteOutcome(j, Run{Status: StatusReloadFailed})
	if j.backoff != 10*time.Second || !j.failing {
		t.Errorf("after a change: backoff %v failing %v", j.backoff, j.failing)
	}
	s.noteOutcome(j, Run{Status: StatusApplied})
	if j.failing || j.backoff != 0 || !j.retryAt.IsZero() {
		t.Errorf("after success: %+v", j)
	}
	if def, _ := NewScheduler(nil, nil, Config{}); def.retryMin != DefaultRetryMin || def.retryMax != DefaultRetryMax || DefaultRetryMin != 10*time.Second || DefaultRetryMax != 10*time.Minute {
		t.Errorf("defaults %v %v", def.retryMin, def.retryMax)
	}
}

// gatedRecorder holds each run until release is closed, and says on
// entered when a run arrives.
type gatedRecorder struct {
	*memRecorder
	entered chan struct{}
	release chan struct{}
}

func (r *gatedRecorder) RecordRun(ctx context.Context, run Run) error {
	r.entered <- struct{}{}
	<-r.release
	return r.memRecorder.RecordRun(ctx, run)
}

// TestRunningUntilRecorded: a target shows as running until its run is in
// the record, so that a reader who sees every target settled finds the
// newest run recorded, not recorded a moment later.
func TestRunningUntilRecorded(t *testing.T) {
	dir := t.TempDir()
	rec := &gatedRecorder{memRecorder: newMemRecorder(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	var renders atomic.Int64
	jobs := []Job{{Target: Target{Name: "dhcpd", Kind: KindISCDHCP, Path: filepath.Join(dir, "h")}, Render: counting(&renders)}}
	s, err := NewScheduler(nil, jobs, Config{Quiet: time.Millisecond, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	startScheduler(t, s)
	s.MarkDirty("dhcpd")
	<-rec.entered
	if st := s.Status()[0]; !st.Running && !st.Dirty {
		t.Errorf("while its run is being recorded the target shows settled: %+v", st)
	}
	close(rec.release)
	rec.wait(t, time.Minute)
}

// TestParallelLimit: the loop runs at most Config.Parallel applies at
// once; the other due targets wait and are applied as running ones end,
// those due longest first.
func TestParallelLimit(t *testing.T) {
	dir := t.TempDir()
	var running, most atomic.Int64
	entered := make(chan string, 10)
	release := make(chan struct{})
	var order []string
	var mu sync.Mutex
	gated := func(name string) RenderFunc {
		return func(context.Context) ([]byte, error) {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			entered <- name
			<-release
			running.Add(-1)
			return []byte(name + "\n"), nil
		}
	}
	var jobs []Job
	names := []string{"a", "b", "c", "d", "e"}
	for _, n := range names {
		jobs = append(jobs, Job{Target: Target{Name: n, Kind: KindISCDHCP, Path: filepath.Join(dir, n)}, Render: gated(n)})
	}
	s, err := NewScheduler(nil, jobs, Config{Quiet: time.Millisecond, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Marked in the reverse of configuration order: e is due first.
	for _, n := range slices.Backward(names) {
		s.MarkDirty(n)
		marked := time.Now()
		for !time.Now().After(marked) { // the next mark is strictly later
		}
	}
	startScheduler(t, s)
	<-entered
	<-entered
	for range 3 {
		if st := s.Status(); countRunning(st) > 2 {
			t.Errorf("%d targets running at once: %+v", countRunning(st), st)
		}
		release <- struct{}{}
		<-entered
	}
	release <- struct{}{}
	release <- struct{}{}
	testwait.Until(t, "every target applied", 10*time.Second, func() bool {
		for _, st := range s.Status() {
			if st.LastRun == nil || st.LastRun.Status != StatusApplied {
				return false
			}
		}
		return true
	})
	if most.Load() != 2 {
		t.Errorf("at most %d renders ran at once, want 2", most.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if first := strings.Join(slices.Sorted(slices.Values(order[:2])), ","); first != "d,e" || strings.Join(order[2:], ",") != "c,b,a" {
		t.Errorf("renders in the order %v, want d and e, then c, b, a (due longest first)", order)
	}
	if _, err := NewScheduler(nil, nil, Config{Parallel: -1}); ipdesk.ErrorCode(err) != ipdesk.EINVALID {
		t.Errorf("a negative limit: %v", err)
	}
	if DefaultParallel < 2 {
		t.Errorf("DefaultParallel %d", DefaultParallel)
	}
}

// countRunning returns how many targets of st are running.
func countRunning(st []TargetStatus) int {
	n := 0
	for _, s := range st {
		if s.Running {
			n++
		}
	}
	return n
}
