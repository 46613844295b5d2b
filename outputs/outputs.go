// Package outputs connects the stored address plan with the config files
// ipdesk writes: for each target of the server's config file it reads the
// hosts, subnets, locations and access levels of the target's scope from
// the store, renders them with package render, and lets package apply put
// the result into service, debounced after changes and on demand. Every
// run is recorded in the store.
//
// It is the only package that knows the store, the renderers and apply
// together; package apply knows neither the database nor the formats, and
// package render does no I/O.
package outputs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/render"
)

// Store is what the outputs need of the storage.
type Store interface {
	ipdesk.Store
	ipdesk.ApplyRunService
	ipdesk.HostScanner
	ipdesk.ChangeLog
}

// DefaultPoll is how often Run looks in the audit log for changes that
// other processes committed, when Config.Poll is 0.
const DefaultPoll = 2 * time.Second

// Config tunes a Service. Zero fields take the defaults.
type Config struct {
	// Quiet and MaxDelay are the debouncing of apply.Config: an apply
	// starts when no change came for Quiet, at the latest MaxDelay after
	// the first change.
	Quiet    time.Duration
	MaxDelay time.Duration
	// Poll is how often Run reads the audit log for changes committed by
	// other processes (the command line, other instances); default
	// DefaultPoll. Changes of this process arrive through Changed at once.
	Poll time.Duration
	// Logger receives one line per run; nil means slog.Default().
	Logger *slog.Logger
	// Rooms tells the squid-rooms outputs which rooms are blocked; nil
	// makes their renders fail.
	Rooms RoomSource
	// RetryMin and RetryMax are the backoff of retries after a failed
	// apply (see apply.Config); zero takes apply's defaults, 10 s
	// doubling to 10 min.
	RetryMin time.Duration
	RetryMax time.Duration
	// Seen, if set, is told the object types of the changes Run's
	// watcher reads from the audit log (those of other processes, and
	// again those of this one), for other parts that follow changes,
	// such as the timetable's switcher.
	Seen func(objectTypes []string)
}

// Service renders and applies the configured targets. Create it with New.
type Service struct {
	store   Store
	log     *slog.Logger
	targets []*target          // in config order
	byName  map[string]*target // by output name
	groups  map[string][]*target
	sched   *apply.Scheduler
	rec     *recorder
	poll    time.Duration
	rooms   RoomSource
	seen    func(objectTypes []string)
	hosts   hostCache
}

// New checks specs and returns a service that applies their targets with
// data from store. The error names the target and the field of the first
// problem.
func New(store Store, specs []Spec, cfg Config) (*Service, error) {
	ts, err := expand(specs)
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:   store,
		log:     cfg.Logger,
		targets: ts,
		byName:  make(map[string]*target, len(ts)),
		groups:  make(map[string][]*target),
		rec:     &recorder{store: store, retry: recordRetry, last: map[string]recorded{}},
		rooms:   cfg.Rooms,
		poll:    cfg.Poll,
		seen:    cfg.Seen,
	}
	if s.poll < 0 {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "poll", "poll interval %s is negative", s.poll)
	}
	if s.poll == 0 {
		s.poll = DefaultPoll
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.rec.log = s.log
	jobs := make([]apply.Job, 0, len(ts))
	for _, t := range ts {
		s.byName[t.Name] = t
		s.groups[t.group] = append(s.groups[t.group], t)
		jobs = append(jobs, apply.Job{Target: t.Target, Render: s.renderFunc(t)})
	}
	s.sched, err = apply.NewScheduler(nil, jobs, apply.Config{Quiet: cfg.Quiet, MaxDelay: cfg.MaxDelay, RetryMin: cfg.RetryMin, RetryMax: cfg.RetryMax, Recorder: s.rec, Logger: s.log})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Names returns the names of the outputs in config order.
func (s *Service) Names() []string {
	out := make([]string, len(s.targets))
	for i, t := range s.targets {
		out[i] = t.Name
	}
	return out
}

// Run marks every output dirty, so that changes made while ipdesk was not
// running are applied soon after start, and then applies dirty outputs
// until ctx ends (see apply.Scheduler.Run). Meanwhile it reads the audit
// log every poll interval and marks the outputs that changes of other
// processes affect, such as an "ipdesk import" beside the server.
func (s *Service) Run(ctx context.Context) error {
	// The position in the audit log comes first: every change after it is
	// seen by the watcher, and the renders at start cover those before.
	_, last, err := s.store.ChangesSince(ctx, -1)
	if err != nil {
		s.log.Warn("outputs: cannot read the audit log; watching it from its start", "error", err)
		last = 0
	}
	for _, t := range s.targets {
		s.sched.MarkDirty(t.Name)
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.watch(wctx, last) })
	wg.Go(func() { s.rec.retryKept(wctx) })
	err = s.sched.Run(ctx)
	stop()
	wg.Wait()
	return err
}

// watch reads the audit log after the entry last every poll interval until
// ctx ends, and marks the outputs its new entries affect.
func (s *Service) watch(ctx context.Context, last int64) {
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		changes, newest, err := s.store.ChangesSince(ctx, last)
		if err != nil {
			if !failing && ctx.Err() == nil {
				s.log.Warn("outputs: cannot read the audit log for changes of other processes; trying again", "error", err)
			}
			failing = true
			continue
		}
		if failing {
			s.log.Info("outputs: reading the audit log again")
			failing = false
		}
		s.noteChanges(changes)
		if s.seen != nil && len(changes) > 0 {
			types := make([]string, 0, len(changes))
			for typ := range changes {
				types = append(types, typ)
			}
			slices.Sort(types)
			s.seen(types)
		}
		last = newest
	}
}

// noteChanges notes changes (object type → its newest audit entry) and
// marks the outputs they affect, unless their latest render started after
// those entries: a change of this process, marked through Changed and
// applied already, is not applied twice. An output with an apply due is
// left as it is: that apply renders after the change. An output being
// applied is looked at again at the next poll, once its render tells what
// it held: its render notes the newest entry (covered) only after the
// apply began, so a mark now would apply a change twice.
func (s *Service) noteChanges(changes map[string]int64) {
	for _, t := range s.targets {
		for typ, id := range changes {
			if id > t.watched && slices.Contains(affected[typ], t.Kind) {
				t.watched = id
			}
		}
		if t.watched > t.covered.Load() {
			s.sched.MarkDirtyIfIdle(t.Name)
		}
	}
}

// affected maps the audited object types to the kinds of output they
// feed: addresses, prefixes (DHCP flag, subnets) and spaces (scope) feed
// all; locations the comments of the DHCP files and the rooms of the
// blocked-room lists; access levels the names in the squid lists. The
// blocked set itself changes with the timetable, whose switcher applies
// the squid-rooms outputs by itself (ApplyRooms).
var affected = map[string][]string{
	ipdesk.ObjectAddress:     Kinds,
	ipdesk.ObjectPrefix:      Kinds,
	ipdesk.ObjectSpace:       Kinds,
	ipdesk.ObjectLocation:    {apply.KindISCDHCP, apply.KindISCDHCP6, apply.KindKea, apply.KindDnsmasq, apply.KindSquidRooms},
	ipdesk.ObjectAccessLevel: {apply.KindSquidLevels},
}

// KindsAffectedBy returns the output kinds that changes to objects of the
// given audit types can change.
func KindsAffectedBy(objectTypes []string) []string {
	var kinds []string
	for _, ot := range objectTypes {
		for _, k := range affected[ot] {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	return kinds
}

// Changed marks the outputs dirty that a committed change to objects of
// the given audit types can affect. It is quick and never blocks; it is
// meant for sqldb.DB.OnCommit.
func (s *Service) Changed(objectTypes []string) {
	if kinds := KindsAffectedBy(objectTypes); len(kinds) > 0 {
		s.sched.MarkDirtyKind(kinds...)
	}
}

// resolve returns the outputs that name stands for: all for "", the
// outputs of a target, or one output.
func (s *Service) resolve(name string) ([]*target, error) {
	if name == "" {
		return s.targets, nil
	}
	if g := s.groups[name]; g != nil {
		return g, nil
	}
	if t := s.byName[name]; t != nil {
		return []*target{t}, nil
	}
	var names []string
	for _, t := range s.targets {
		if !slices.Contains(names, t.group) {
			names = append(names, t.group)
		}
	}
	return nil, ipdesk.FieldErrorf(ipdesk.ENOTFOUND, "target", "target %q is not configured; configured: %s", name, strings.Join(names, ", "))
}

// Resolve returns the names of the outputs that name stands for: all for
// "", the outputs of a target, or one output; ENOTFOUND when there is
// none.
func (s *Service) Resolve(name string) ([]string, error) {
	ts, err := s.resolve(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out, nil
}

// ApplyNow applies the outputs that name stands for (all for "", every
// level of a squid-levels target by its name) at once, in parallel, and
// returns their runs in config order. Each run is recorded; a run that
// could not be recorded is returned without ID. The error is ENOTFOUND for
// an unknown name, or ctx's error when it ended before a run started.
func (s *Service) ApplyNow(ctx context.Context, name string) ([]*ipdesk.ApplyRun, error) {
	ts, err := s.resolve(name)
	if err != nil {
		return nil, err
	}
	runs := make([]*ipdesk.ApplyRun, len(ts))
	errs := make([]error, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Go(func() {
			run, err := s.sched.ApplyNow(ctx, t.Name)
			if run.Target == "" { // no run took place
				errs[i] = err
				return
			}
			runs[i] = s.rec.take(ctx, run)
		})
	}
	wg.Wait()
	out := runs[:0]
	for _, r := range runs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out, errors.Join(errs...)
}

// Status returns the state of every output in config order, each with its
// latest recorded run. Diff is left nil; see Preview.
func (s *Service) Status(ctx context.Context) ([]ipdesk.Output, error) {
	st := s.sched.Status()
	out := make([]ipdesk.Output, len(st))
	for _, ts := range st {
		// What a DHCP output leaves out is known from its latest render;
		// before its first (just after start), render it now.
		if t := s.byName[ts.Name]; isDHCP(t.Kind) && !t.leftOutKnown() {
			if _, err := s.render(ctx, t); err != nil && ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
	}
	for i, ts := range st {
		o := ipdesk.Output{
			Name:          ts.Name,
			Group:         s.byName[ts.Name].group,
			Kind:          ts.Kind,
			Path:          ts.Path,
			Dirty:         ts.Dirty,
			Running:       ts.Running,
			PendingReload: ts.PendingReload,
			Failing:       ts.Failing,
			LeftOut:       s.byName[ts.Name].leftOutList(),
		}
		if ts.Dirty {
			o.DirtySince = ptr(ts.DirtySince.UTC())
		}
		if !ts.RetryAt.IsZero() {
			o.RetryAt = ptr(ts.RetryAt.UTC())
		}
		runs, _, err := s.store.FindApplyRuns(ctx, ipdesk.ApplyRunFilter{Target: &ts.Name, Page: ipdesk.Page{Limit: 1}})
		if err != nil {
			return nil, err
		}
		if len(runs) > 0 {
			o.LastRun = runs[0]
		}
		if ts.LastRun != nil && (o.LastRun == nil || ts.LastRun.Start.Truncate(time.Microsecond).After(o.LastRun.Started)) {
			// The latest run was not recorded (the database failed).
			o.LastRun = convert(*ts.LastRun)
		}
		out[i] = o
	}
	return out, nil
}

// Preview renders output name now and compares it with its live file:
// what the next apply would change. A failure to read the data or to
// render is reported in the diff's Error; the error is ENOTFOUND for an
// unknown output, or ctx's error.
func (s *Service) Preview(ctx context.Context, name string) (*ipdesk.OutputDiff, error) {
	t := s.byName[name]
	if t == nil {
		return nil, ipdesk.FieldErrorf(ipdesk.ENOTFOUND, "target", "output %q is not configured", name)
	}
	data, err := s.render(ctx, t)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return &ipdesk.OutputDiff{Error: "render failed: " + err.Error()}, nil
	}
	d := &ipdesk.OutputDiff{Bytes: len(data)}
	live, err := os.ReadFile(t.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.Error = fmt.Sprintf("cannot read the live file: %v", err)
		return d, nil
	}
	d.Text = apply.Diff(live, data)
	d.Changed = d.Text != ""
	d.Added, d.Removed = lineCounts(live, data)
	return d, nil
}

// Render returns the file output name would get now, without writing it.
func (s *Service) Render(ctx context.Context, name string) ([]byte, error) {
	t := s.byName[name]
	if t == nil {
		return nil, ipdesk.FieldErrorf(ipdesk.ENOTFOUND, "target", "output %q is not configured", name)
	}
	return s.render(ctx, t)
}

// renderFunc returns the apply.RenderFunc of t. It notes the newest audit
// entry before it reads, or before the shared scan of the hosts it took
// began: the changes up to that entry are in the render, and the watcher
// need not mark t for them.
func (s *Service) renderFunc(t *target) apply.RenderFunc {
	return func(ctx context.Context) ([]byte, error) {
		since := s.newestChange(ctx)
		if since != math.MaxInt64 {
			t.covered.Store(since)
		}
		data, covered, err := s.renderCovered(ctx, t, since)
		if err == nil && covered < t.covered.Load() {
			// The hosts came from a scan that began earlier.
			t.covered.Store(covered)
		}
		return data, err
	}
}

// newestChange returns the newest entry of the audit log, -1 for an empty
// log, or math.MaxInt64 when it cannot be read (see hostCache.current).
func (s *Service) newestChange(ctx context.Context) int64 {
	_, newest, err := s.store.ChangesSince(ctx, -1)
	if err != nil {
		return math.MaxInt64
	}
	return newest
}

// render reads t's data and renders its file. Any error, of the database
// included, means no file: apply then writes nothing.
func (s *Service) render(ctx context.Context, t *target) ([]byte, error) {
	data, _, err := s.renderCovered(ctx, t, s.newestChange(ctx))
	return data, err
}

// renderCovered is render from the data of every change up to the audit
// entry since (see load); it also returns the newest audit entry whose
// change the file holds for sure.
func (s *Service) renderCovered(ctx context.Context, t *target, since int64) ([]byte, int64, error) {
	in, covered, err := s.load(ctx, t, since)
	if err != nil {
		return nil, -1, readable(err, "cannot read the data")
	}
	data, err := s.renderInput(ctx, t, in)
	return data, covered, err
}

// renderInput renders t's file from in.
func (s *Service) renderInput(ctx context.Context, t *target, in *render.Input) ([]byte, error) {
	var err error
	if sv, ok := sieves[t.Kind]; ok {
		var left []ipdesk.LeftOut
		in, left = render.Sift(in, sv)
		s.noteLeftOut(t, left)
	}
	var data []byte
	switch t.Kind {
	case apply.KindISCDHCP:
		data, err = render.ISCDHCP(in)
	case apply.KindISCDHCP6:
		data, err = render.ISCDHCP6(in)
	case apply.KindKea:
		data, err = render.KeaDHCP4(in)
	case apply.KindDnsmasq:
		data, err = render.Dnsmasq(in)
	case apply.KindSquidLevels:
		data = render.SquidLevel(in, t.level)
	case apply.KindSquidRooms:
		data, err = s.renderRooms(ctx, t, in)
	default:
		err = fmt.Errorf("kind %q has no renderer", t.Kind)
	}
	if err != nil {
		return nil, readable(err, "cannot render")
	}
	return data, nil
}

// sieves are what the DHCP kinds can carry (see render.Sift).
var sieves = map[string]render.Sieve{
	apply.KindISCDHCP:  {IPv4: true},
	apply.KindISCDHCP6: {IPv6: true},
	apply.KindKea:      {IPv4: true, Kea: true},
	apply.KindDnsmasq:  {IPv4: true, IPv6: true},
}

// noteLeftOut keeps the records the latest render of t left out, and logs
// when they change.
func (s *Service) noteLeftOut(t *target, left []ipdesk.LeftOut) {
	t.mu.Lock()
	same := t.leftKnown && slices.Equal(t.leftOut, left)
	t.leftOut, t.leftKnown = left, true
	t.mu.Unlock()
	if same {
		return
	}
	if len(left) == 0 {
		s.log.Info("outputs: no record is left out any more", "target", t.Name)
		return
	}
	for _, l := range left {
		s.log.Warn("outputs: a record is left out", "target", t.Name, "object", l.Object, "id", l.ID, "reason", l.Reason, "message", l.Message)
	}
}

// readable returns err with the message of a coded error, or with what
// as context for another (such as a database error).
func readable(err error, what string) error {
	if ipdesk.ErrorCode(err) != ipdesk.EINTERNAL {
		return errors.New(ipdesk.ErrorMessage(err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// lineCounts returns the number of lines only b has and only a has,
// counting repeated lines as often as they occur. For files whose common
// lines are in the same order, such as the sorted files of the renderers,
// these are the added and removed lines of a minimal diff.
func lineCounts(a, b []byte) (added, removed int) {
	count := make(map[string]int)
	for _, l := range splitLines(a) {
		count[l]++
	}
	for _, l := range splitLines(b) {
		if count[l] > 0 {
			count[l]--
		} else {
			added++
		}
	}
	for _, n := range count {
		removed += n
	}
	return added, removed
}

// splitLines splits data into lines, each with its newline.
func splitLines(data []byte) []string {
	var out []string
	for len(data) > 0 {
		i := slices.Index(data, '\n')
		if i < 0 {
			out = append(out, string(data))
			break
		}
		out = append(out, string(data[:i+1]))
		data = data[i+1:]
	}
	return out
}

// Keeping runs the store refused for the moment (SQLite held by another
// process's long write, PostgreSQL restarting): they are stored in order
// once the store takes them again.
const (
	// recordRetry is the wait between tries to store kept runs.
	recordRetry = 5 * time.Second
	// maxUnrecorded bounds the kept runs; beyond it the oldest is dropped.
	maxUnrecorded = 1000
)

// recorder stores the scheduler's runs in the store and remembers the
// last stored run of each output, so that ApplyNow can answer with it. A
// run the store refuses for a passing reason is kept, with the runs after
// it, and stored later (retry), so that the record has every run, in order.
type recorder struct {
	store ipdesk.ApplyRunService
	log   *slog.Logger
	retry time.Duration // recordRetry, shorter in tests

	flushing sync.Mutex // one store at a time, so that the order holds
	failing  bool       // the latest try to store failed; guarded by flushing
	mu       sync.Mutex // guards the fields below
	last     map[string]recorded
	kept     []keptRun // oldest first
}

// recorded is a stored run with the start time of the apply.Run it came
// from, which identifies it.
type recorded struct {
	start time.Time
	run   *ipdesk.ApplyRun
}

// keptRun is a run waiting to be stored, with the context carrying its
// actor.
type keptRun struct {
	ctx   context.Context
	start time.Time
	run   *ipdesk.ApplyRun
}

// RecordRun implements apply.Recorder. It returns an error only for a run
// the store refuses outright; one it cannot take now is kept and stored by
// a later RecordRun or by retryKept.
func (r *recorder) RecordRun(ctx context.Context, run apply.Run) error {
	r.mu.Lock()
	if len(r.kept) >= maxUnrecorded {
		r.log.Error("outputs: dropped the oldest of the runs that could not be recorded", "target", r.kept[0].run.Target, "started", r.kept[0].start)
		r.kept = r.kept[1:]
	}
	r.kept = append(r.kept, keptRun{ctx: context.WithoutCancel(ctx), start: run.Start, run: convert(run)})
	r.mu.Unlock()
	return r.flush()
}

// flush stores the kept runs in order until the store refuses one. It
// drops, and returns the error of, a run the store refuses as invalid; a
// run refused for another reason stays kept for the next try. The log
// says when the record starts failing and when it has caught up.
func (r *recorder) flush() error {
	r.flushing.Lock()
	defer r.flushing.Unlock()
	for {
		r.mu.Lock()
		if len(r.kept) == 0 {
			r.mu.Unlock()
			if r.failing {
				r.failing = false
				r.log.Info("outputs: the runs kept while the record failed are recorded")
			}
			return nil
		}
		k := r.kept[0]
		r.mu.Unlock()
		err := r.store.RecordApplyRun(k.ctx, k.run)
		if err != nil && ipdesk.ErrorCode(err) != ipdesk.EINVALID {
			if !r.failing {
				r.failing = true
				r.log.Warn("outputs: cannot record the runs of the outputs for now; they are kept and recorded later", "target", k.run.Target, "error", err)
			}
			return nil
		}
		r.mu.Lock()
		r.kept = r.kept[1:]
		if err == nil {
			r.last[k.run.Target] = recorded{start: k.start, run: k.run}
		}
		r.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// hasKept tells whether runs wait to be stored.
func (r *recorder) hasKept() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.kept) > 0
}

// retryKept tries to store the kept runs every retry interval until ctx
// ends, and once more then.
func (r *recorder) retryKept(ctx context.Context) {
	tick := time.NewTicker(r.retry)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if r.hasKept() {
				r.flush()
			}
			return
		case <-tick.C:
			if r.hasKept() {
				r.flush()
			}
		}
	}
}

// take returns the stored record of run, or, when it was not stored, run
// converted with the actor of ctx.
func (r *recorder) take(ctx context.Context, run apply.Run) *ipdesk.ApplyRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec, ok := r.last[run.Target]; ok && rec.start.Equal(run.Start) {
		delete(r.last, run.Target)
		return rec.run
	}
	ar := convert(run)
	ar.Actor = ipdesk.ActorName(ctx)
	return ar
}

// convert turns an apply.Run into the stored form, without ID and actor.
func convert(run apply.Run) *ipdesk.ApplyRun {
	return &ipdesk.ApplyRun{
		Target:   run.Target,
		Kind:     run.Kind,
		Path:     run.Path,
		Started:  run.Start.UTC(),
		Duration: run.Duration,
		Status:   ipdesk.ApplyStatus(run.Status),
		Message:  run.Message,
		Bytes:    run.Bytes,
		Added:    run.Added,
		Removed:  run.Removed,
	}
}
