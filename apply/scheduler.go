package apply

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"ipdesk"
)

// Scheduler defaults.
const (
	// DefaultQuiet is how long a target must go without MarkDirty before
	// it is applied.
	DefaultQuiet = 2 * time.Second
	// DefaultMaxDelay is the longest a dirty target waits, so that a
	// constant stream of edits still gets applied.
	DefaultMaxDelay = 10 * time.Second
	// DefaultRetryMin is the wait before the first retry of a failed
	// apply; each further retry waits twice as long, at most
	// DefaultRetryMax.
	DefaultRetryMin = 10 * time.Second
	DefaultRetryMax = 10 * time.Minute
)

// DefaultParallel is the most applies the loop runs at once by default:
// one per core, at least two. Each apply holds its whole file (rendered,
// written, compared with the live one) until it ends, so that many at
// once multiply the memory they need without making them faster.
var DefaultParallel = max(2, runtime.GOMAXPROCS(0))

// Recorder stores runs, e.g. in the database. RecordRun gets the context
// of the call that caused the run (for ApplyNow the caller's, carrying the
// actor; for debounced runs the scheduler's), without its cancellation.
type Recorder interface {
	RecordRun(ctx context.Context, run Run) error
}

// Job is a target together with the function that renders it.
type Job struct {
	Target Target
	Render RenderFunc
}

// Config configures a Scheduler. Zero fields take the defaults.
type Config struct {
	// Quiet is the quiet period of debouncing; default DefaultQuiet.
	Quiet time.Duration
	// MaxDelay bounds the time from the first MarkDirty to the apply;
	// default DefaultMaxDelay.
	MaxDelay time.Duration
	// Recorder stores every run; nil keeps runs only in memory.
	Recorder Recorder
	// Logger receives one line per run (unchanged runs at debug level);
	// default slog.Default().
	Logger *slog.Logger
	// RetryMin and RetryMax are the backoff of retries after a failed
	// apply (the check refused the file, the reload failed, the render or
	// a command failed): the first retry after RetryMin, each further one
	// after twice the wait, at most RetryMax; defaults DefaultRetryMin
	// and DefaultRetryMax. A change (MarkDirty) applies after the quiet
	// period as usual and starts the backoff anew.
	RetryMin time.Duration
	RetryMax time.Duration
	// Parallel is the most applies the loop starts at once, default
	// DefaultParallel; the other due targets wait for one to end.
	// ApplyNow is not held back by it.
	Parallel int
}

// TargetStatus is the state of one target for display.
type TargetStatus struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Path string `json:"path"`
	// Dirty tells that an apply is due; DirtySince is the first MarkDirty
	// since the last apply started.
	Dirty      bool      `json:"dirty"`
	DirtySince time.Time `json:"dirty_since,omitzero"`
	// Running tells that an apply is in progress.
	Running bool `json:"running"`
	// PendingReload tells that the live file may not be loaded by the
	// daemon (a reload failed or was interrupted); the next apply reloads.
	PendingReload bool `json:"pending_reload"`
	// LastRun is the latest run since ipdesk started, or nil.
	LastRun *Run `json:"last_run"`
	// Failing tells that the latest apply failed; RetryAt is when the
	// scheduler tries again by itself (zero while an apply is due or
	// running, or when Run is not looping).
	Failing bool      `json:"failing"`
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// Scheduler applies dirty targets after a quiet period, applies targets on
// demand, records runs and keeps the last run of each target. Call Run to
// start the debouncing loop.
type Scheduler struct {
	applier  *Applier
	rec      Recorder
	log      *slog.Logger
	quiet    time.Duration
	maxDelay time.Duration
	retryMin time.Duration
	retryMax time.Duration
	parallel int
	order    []string        // target names in configuration order
	jobs     map[string]*job // fixed after NewScheduler
	wake     chan struct{}   // capacity 1: "look at the dirty targets"

	mu      sync.Mutex // guards the mutable fields of the jobs, looping and inLoop
	looping bool
	inLoop  int // applies the loop started that have not ended
}

// job is a Job with its scheduling state, guarded by Scheduler.mu.
type job struct {
	Job
	dirty       bool
	first, last time.Time // first and latest MarkDirty while dirty
	inLoop      bool      // an apply started by the loop is in flight
	active      int       // applies holding the target's lock
	lastRun     *Run
	// failing tells that the latest apply failed; retryAt is when the
	// loop tries again, after the wait backoff.
	failing bool
	retryAt time.Time
	backoff time.Duration
}

// NewScheduler returns a scheduler of jobs that applies them with a (a new
// Applier if nil). Every target must pass Check, and names and paths must
// be unique; otherwise it returns an *ipdesk.Error with code EINVALID.
func NewScheduler(a *Applier, jobs []Job, cfg Config) (*Scheduler, error) {
	if a == nil {
		a = new(Applier)
	}
	if cfg.Quiet < 0 {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "quiet", "quiet period %s is negative", cfg.Quiet)
	}
	if cfg.MaxDelay < 0 {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "max_delay", "max delay %s is negative", cfg.MaxDelay)
	}
	if cfg.Parallel < 0 {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "parallel", "parallel applies %d is negative", cfg.Parallel)
	}
	if cfg.RetryMin < 0 || cfg.RetryMax < 0 {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "retry", "retry waits %s and %s must not be negative", cfg.RetryMin, cfg.RetryMax)
	}
	s := &Scheduler{
		applier:  a,
		rec:      cfg.Recorder,
		log:      cfg.Logger,
		quiet:    orDefault(cfg.Quiet, DefaultQuiet),
		maxDelay: orDefault(cfg.MaxDelay, DefaultMaxDelay),
		retryMin: orDefault(cfg.RetryMin, DefaultRetryMin),
		retryMax: orDefault(cfg.RetryMax, DefaultRetryMax),
		parallel: cfg.Parallel,
		jobs:     make(map[string]*job, len(jobs)),
		wake:     make(chan struct{}, 1),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.parallel == 0 {
		s.parallel = DefaultParallel
	}
	s.retryMax = max(s.retryMax, s.retryMin)
	paths := make(map[string]string)
	for _, jb := range jobs {
		t := jb.Target
		if err := t.Check(); err != nil {
			return nil, err
		}
		if jb.Render == nil {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "render", "target %q has no render function", t.Name)
		}
		if _, dup := s.jobs[t.Name]; dup {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "name", "target name %q is used twice", t.Name)
		}
		if other, dup := paths[t.Path]; dup {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "path", "target %q: path %q is also the path of target %q", t.Name, t.Path, other)
		}
		paths[t.Path] = t.Name
		jb.Target.Validate = slices.Clone(t.Validate)
		jb.Target.Reload = slices.Clone(t.Reload)
		s.jobs[t.Name] = &job{Job: jb}
		s.order = append(s.order, t.Name)
	}
	return s, nil
}

// orDefault returns v, or def when v is 0.
func orDefault(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// MarkDirty notes that target name needs an apply. The apply starts when
// the target has had no MarkDirty for the quiet period, or at the latest
// MaxDelay after the first one. Unknown names are ignored. It is cheap and
// never blocks on an apply.
func (s *Scheduler) MarkDirty(name string) {
	s.mu.Lock()
	j := s.jobs[name]
	woke := j != nil && s.mark(j)
	s.mu.Unlock()
	if woke {
		s.signal()
	}
}

// MarkDirtyIfIdle marks target name dirty when it is neither dirty nor
// being applied, and reports whether it is being applied. Unlike MarkDirty
// it does not postpone a due apply: that apply renders after the change
// anyway. It is for changes noticed late, such as those another process
// committed, which may be changes this process has marked already: while
// an apply runs, its render may or may not hold the change, so the caller
// asks again once it is done (when it knows what that render held). Unknown
// names are ignored.
func (s *Scheduler) MarkDirtyIfIdle(name string) (busy bool) {
	s.mu.Lock()
	j := s.jobs[name]
	if j == nil {
		s.mu.Unlock()
		return false
	}
	busy = j.inLoop || j.active > 0
	woke := !busy && !j.dirty && s.mark(j)
	s.mu.Unlock()
	if woke {
		s.signal()
	}
	return busy
}

// MarkDirtyKind calls MarkDirty for every target of the given kinds.
func (s *Scheduler) MarkDirtyKind(kinds ...string) {
	woke := false
	s.mu.Lock()
	for _, name := range s.order {
		if j := s.jobs[name]; slices.Contains(kinds, j.Target.Kind) {
			woke = s.mark(j) || woke
		}
	}
	s.mu.Unlock()
	if woke {
		s.signal()
	}
}

// mark marks j dirty and tells whether it was clean. Later marks only
// move the due time later, so the loop needs waking only for the first.
func (s *Scheduler) mark(j *job) bool {
	now := time.Now()
	j.last = now
	j.backoff = 0 // new data: a failure of it is retried from the start
	if j.dirty {
		return false
	}
	j.dirty = true
	j.first = now
	return true
}

// signal wakes the loop without blocking.
func (s *Scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ApplyNow applies target name at once (waiting for an apply of it in
// progress), records the run and returns it. The error is an *ipdesk.Error
// with code ENOTFOUND for an unknown name, ctx's error if ctx ended before
// the apply started, or the Recorder's error, in which case run is valid.
func (s *Scheduler) ApplyNow(ctx context.Context, name string) (Run, error) {
	j := s.jobs[name] // the map is not modified after NewScheduler
	if j == nil {
		return Run{}, ipdesk.Errorf(ipdesk.ENOTFOUND, "target %q is not configured", name)
	}
	return s.applyJob(ctx, j, false)
}

// Status returns the state of every target in configuration order.
func (s *Scheduler) Status() []TargetStatus {
	s.mu.Lock()
	out := make([]TargetStatus, 0, len(s.order))
	for _, name := range s.order {
		j := s.jobs[name]
		ts := TargetStatus{
			Name:    name,
			Kind:    j.Target.Kind,
			Path:    j.Target.Path,
			Dirty:   j.dirty,
			Running: j.active > 0,
		}
		if j.dirty {
			ts.DirtySince = j.first
		}
		ts.Failing = j.failing
		if j.failing && !j.dirty && j.active == 0 && s.looping {
			ts.RetryAt = j.retryAt
		}
		if j.lastRun != nil {
			r := *j.lastRun
			ts.LastRun = &r
		}
		out = append(out, ts)
	}
	s.mu.Unlock()
	// File system checks outside the lock.
	for i := range out {
		out[i].PendingReload = s.applier.PendingReload(s.jobs[out[i].Name].Target)
	}
	return out
}

// Run removes files left by interrupted applies (Applier.Cleanup), marks
// targets with a pending reload dirty, and then applies dirty targets
// until ctx ends. It returns nil once ctx has ended and the applies it
// started have finished; an apply past its swap completes its reload
// first. Only one Run may be active at a time.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.looping {
		s.mu.Unlock()
		return ipdesk.Errorf(ipdesk.ECONFLICT, "the apply scheduler is already running")
	}
	s.looping = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.looping = false
		s.mu.Unlock()
	}()

	for _, name := range s.order {
		t := s.jobs[name].Target
		removed, err := s.applier.Cleanup(t)
		for _, p := range removed {
			s.log.Info("apply: removed a file left by an interrupted apply", "target", name, "file", p)
		}
		if err != nil {
			s.log.Warn("apply: cleanup failed", "target", name, "error", err)
		}
		if s.applier.PendingReload(t) {
			s.log.Warn("apply: an earlier apply did not finish its reload; reloading soon", "target", name)
			s.MarkDirty(name)
		}
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		if next := s.launchDue(ctx, &wg); next.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(time.Until(next))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// launchDue starts an apply of every dirty target whose time has come, as
// many as the parallel limit allows, those due longest first, and returns
// the earliest due time of the others (zero if none; a target held back by
// the limit starts when a running apply ends and wakes the loop).
func (s *Scheduler) launchDue(ctx context.Context, wg *sync.WaitGroup) time.Time {
	if ctx.Err() != nil {
		return time.Time{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	var next time.Time
	type dueJob struct {
		j   *job
		due time.Time
	}
	var due []dueJob
	for _, name := range s.order {
		j := s.jobs[name]
		if j.inLoop || !j.dirty && !j.failing {
			continue // clean, or its running apply wakes the loop when done
		}
		var at time.Time
		if j.dirty {
			at = j.last.Add(s.quiet)
			if limit := j.first.Add(s.maxDelay); limit.Before(at) {
				at = limit
			}
		} else {
			at = j.retryAt // a retry of a failed apply
		}
		if at.After(now) {
			if next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		due = append(due, dueJob{j, at})
	}
	// Longest due first, so that targets whose applies take long do not
	// keep the others waiting (stable: in configuration order otherwise).
	slices.SortStableFunc(due, func(a, b dueJob) int { return a.due.Compare(b.due) })
	for _, d := range due {
		if s.inLoop >= s.parallel {
			break
		}
		s.inLoop++
		d.j.inLoop = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.applyJob(ctx, d.j, true)
		}()
	}
	return next
}

// applyJob applies j, keeps and records the run. fromLoop tells that the
// loop started it. The outcome (last run, failing, next retry) is kept
// before the run is recorded, and the target shows as running until it is
// recorded, so that whoever finds the run in the record, or sees the
// target settled, reads the state after it.
func (s *Scheduler) applyJob(ctx context.Context, j *job, fromLoop bool) (Run, error) {
	started := false
	run, err := s.applier.apply(ctx, j.Target, j.Render, func() {
		// Every MarkDirty until now is covered by the render that follows.
		s.mu.Lock()
		started = true
		j.active++
		j.dirty = false
		s.mu.Unlock()
	})
	if err == nil {
		s.mu.Lock()
		if j.lastRun == nil || !run.Start.Before(j.lastRun.Start) {
			r := run
			j.lastRun = &r
			s.noteOutcome(j, run)
		}
		s.mu.Unlock()
	}
	var recErr error
	if err == nil {
		s.logRun(run)
		if s.rec != nil {
			if recErr = s.rec.RecordRun(context.WithoutCancel(ctx), run); recErr != nil {
				s.log.Error("apply: cannot record the run", "target", run.Target, "status", run.Status, "error", recErr)
				recErr = fmt.Errorf("apply: recording the run of target %q: %w", run.Target, recErr)
			}
		}
	}
	s.mu.Lock()
	if started {
		j.active--
	}
	if fromLoop {
		j.inLoop = false
		s.inLoop--
	}
	s.mu.Unlock()
	if fromLoop {
		s.signal() // the target may have become dirty again meanwhile
	}
	if err != nil {
		return run, err
	}
	return run, recErr
}

// noteOutcome keeps j failing, with the time of its next retry, after a
// failed run, and clears that after a good one. The caller holds s.mu.
func (s *Scheduler) noteOutcome(j *job, run Run) {
	if run.OK() {
		j.failing, j.retryAt, j.backoff = false, time.Time{}, 0
		return
	}
	j.failing = true
	if j.backoff == 0 {
		j.backoff = s.retryMin
	} else {
		j.backoff = min(2*j.backoff, s.retryMax)
	}
	j.retryAt = time.Now().Add(j.backoff)
}

// logRun writes one log line about run.
func (s *Scheduler) logRun(run Run) {
	attrs := []any{"target", run.Target, "status", run.Status, "duration", run.Duration.Round(time.Millisecond)}
	switch run.Status {
	case StatusUnchanged:
		s.log.Debug("apply: unchanged", attrs...)
	case StatusApplied:
		s.log.Info("apply: applied", append(attrs, "added", run.Added, "removed", run.Removed)...)
	default:
		s.log.Warn("apply: failed", append(attrs, "message", run.Message)...)
	}
}
