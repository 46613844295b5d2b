package callerid

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"time"

	"ipdesk"
	"ipdesk/live"
)

// Topic is the live topic of call events; EventName is their SSE event
// name. The data of each is an EventData as JSON.
const (
	Topic     = "calls"
	EventName = "call"
)

// MaxClockSkew is how far the time a PBX gives for an event may be from
// the server's clock.
const MaxClockSkew = time.Hour

// Defaults of Options.
const (
	DefaultPurgeEvery = time.Hour
	DefaultPollEvery  = 2 * time.Second
)

// Options configure a Service.
type Options struct {
	// Rules are the site's dialling rules.
	Rules Config
	// Broker receives the recorded call events, in id order; nil
	// publishes nothing.
	Broker *live.Broker
	// Retention is how long calls are kept; 0 keeps them for ever.
	Retention time.Duration
	// PurgeEvery is how often old calls are purged (DefaultPurgeEvery).
	PurgeEvery time.Duration
	// PollEvery is how often the events are read even when nothing told
	// of new ones (DefaultPollEvery), a safety net under the local wake-up
	// and the database's notifications.
	PollEvery time.Duration
	Logger    *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Service takes call reports and publishes the recorded events.
type Service struct {
	store ipdesk.CallService
	opts  Options
	log   *slog.Logger
	now   func() time.Time
	wake  chan struct{}

	ready     chan struct{} // closed once Run publishes (see Ready)
	readyOnce sync.Once
}

// New returns a service on store. Run publishes its events.
func New(store ipdesk.CallService, opts Options) (*Service, error) {
	if err := opts.Rules.Check(); err != nil {
		return nil, err
	}
	if opts.PurgeEvery <= 0 {
		opts.PurgeEvery = DefaultPurgeEvery
	}
	if opts.PollEvery <= 0 {
		opts.PollEvery = DefaultPollEvery
	}
	s := &Service{store: store, opts: opts, log: opts.Logger, now: opts.Now, wake: make(chan struct{}, 1), ready: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Rules returns the dialling rules.
func (s *Service) Rules() Config { return s.opts.Rules }

// Report is one call event as a PBX reports it. Only Event, CallID and
// Time can be wrong; the numbers never are (a bad one is unknown).
type Report struct {
	// Event is ring, answer or hangup; "" means ring.
	Event ipdesk.CallEventKind
	// CallID is the PBX's id that joins the events of one call; "" makes
	// the report a call of its own (GET /set_call).
	CallID string
	// From is the caller's number, To the dialled support line, Extension
	// the extension that answered, all as given.
	From, To, Extension string
	// Time is when it happened; zero means now.
	Time time.Time
	// Source is the address of the reporting PBX.
	Source string
}

// Report normalises, matches and records a call event, and wakes the
// publisher. The event comes back with its call.
func (s *Service) Report(ctx context.Context, r Report) (*ipdesk.CallEvent, error) {
	now := s.now()
	kind := r.Event
	if kind == "" {
		kind = ipdesk.CallRing
	}
	at := r.Time
	if at.IsZero() {
		at = now
	} else if d := at.Sub(now); d > MaxClockSkew || d < -MaxClockSkew {
		return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "time", "time %s is %s away from the server's clock (%s); at most %s is accepted: check the PBX's clock",
			at.UTC().Format(time.RFC3339), d.Abs().Round(time.Second), now.UTC().Format(time.RFC3339), MaxClockSkew)
	}
	rep := &ipdesk.CallReport{
		Kind: kind, PBXCallID: r.CallID, Time: at,
		From: s.opts.Rules.Normalize(r.From), To: s.opts.Rules.Normalize(r.To),
		Extension: ipdesk.BoundRaw(r.Extension), Source: r.Source,
	}
	if err := rep.Validate(); err != nil {
		return nil, err
	}
	m, err := s.Match(ctx, rep.From)
	if err != nil {
		return nil, err
	}
	rep.Matches = *m
	ev, err := s.store.RecordCallEvent(ctx, rep)
	if err != nil {
		return nil, err
	}
	s.Poke()
	return ev, nil
}

// Match looks a number up: the full number first, then, when that found
// nothing, the extension (see Config.extensionQuery). A number that did
// not match in full gets a suggestion of how to store it.
func (s *Service) Match(ctx context.Context, n ipdesk.PhoneNumber) (*ipdesk.CallMatches, error) {
	rules := s.opts.Rules
	qs := []ipdesk.PhoneQuery{rules.fullQuery(n)}
	if q, ok := rules.extensionQuery(n); ok {
		qs = append(qs, q)
	}
	m, which, err := s.store.MatchPhones(ctx, qs...)
	if err != nil {
		return nil, err
	}
	switch which {
	case 0:
		m.Kind = ipdesk.MatchFull
		return m, nil
	case 1:
		m.Kind = ipdesk.MatchExtension
	default:
		m.Kind = ipdesk.MatchNone
	}
	if n.Kind != ipdesk.NumberUnknown {
		m.Suggestion = &ipdesk.CallSuggestion{Phone: n.Number}
		if m.Kind == ipdesk.MatchExtension && len(m.Locations) == 1 && m.Locations[0].Phone != "" {
			m.Suggestion.LocationID = m.Locations[0].ID
		}
	}
	return m, nil
}

// Ready is closed once Run publishes: it has read where the events stand
// and, where the store tells of other instances' events, listens (or has
// given up listening for now and polls).
func (s *Service) Ready() <-chan struct{} { return s.ready }

func (s *Service) setReady() { s.readyOnce.Do(func() { close(s.ready) }) }

// Poke tells the publisher that new events may be in the store.
func (s *Service) Poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run publishes the recorded call events to the broker in id order, those
// of other instances too (woken by the store's notifications, where it has
// them), and purges old calls, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	last, err := s.start(ctx)
	if err != nil {
		return nil // ctx ended
	}
	if l, ok := s.store.(ipdesk.CallEventListener); ok && s.opts.Broker != nil {
		go s.listen(ctx, l)
	} else {
		s.setReady()
	}
	poll := time.NewTicker(s.opts.PollEvery)
	defer poll.Stop()
	var purge <-chan time.Time
	if s.opts.Retention > 0 {
		s.purge(ctx)
		t := time.NewTicker(s.opts.PurgeEvery)
		defer t.Stop()
		purge = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-poll.C:
		case <-purge:
			s.purge(ctx)
			continue
		}
		last = s.publish(ctx, last)
	}
}

// start reads the id of the newest event, retrying while the database
// does not answer; events before it are not published.
func (s *Service) start(ctx context.Context) (int64, error) {
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 30*time.Second) {
		last, err := s.store.LastCallEventID(ctx)
		if err == nil {
			if s.opts.Broker != nil {
				s.opts.Broker.SetHead(last)
			}
			return last, nil
		}
		s.log.Warn("caller-ID: cannot read the call events", "error", err)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// publish hands the events after last to the broker and returns the id of
// the last one.
func (s *Service) publish(ctx context.Context, last int64) int64 {
	if s.opts.Broker == nil {
		return last
	}
	for {
		evs, err := s.store.CallEventsAfter(ctx, last, replayPageSize)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("caller-ID: cannot read the call events", "error", err)
			}
			return last
		}
		batch := make([]live.Event, 0, len(evs))
		for _, ev := range evs {
			e, err := liveEvent(ev)
			if err != nil {
				s.log.Error("caller-ID: cannot encode a call event", "id", ev.ID, "error", err)
			} else {
				batch = append(batch, e)
			}
			last = ev.ID
		}
		s.opts.Broker.Publish(batch...)
		if len(evs) < replayPageSize {
			return last
		}
	}
}

// listen wakes the publisher for the events other instances record; when
// the connection fails it reconnects, and catches up after each connect.
func (s *Service) listen(ctx context.Context, l ipdesk.CallEventListener) {
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		connected := false
		err := l.ListenCallEvents(ctx, func() { connected = true; s.setReady(); s.Poke() }, func(int64) { s.Poke() })
		s.setReady()
		if ctx.Err() != nil || err == nil {
			return // ended, or nothing to listen to (SQLite)
		}
		if connected {
			wait = time.Second
		}
		s.log.Warn("caller-ID: listening for the calls of other instances failed; retrying", "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// purge removes the calls older than the retention.
func (s *Service) purge(ctx context.Context) {
	before := s.now().Add(-s.opts.Retention)
	n, err := s.store.PurgeCalls(ipdesk.NewContextWithActor(ctx, &ipdesk.User{Name: "system:retention"}), before)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("caller-ID: purging old calls failed", "error", err)
		}
		return
	}
	if n > 0 {
		s.log.Info("caller-ID: purged old calls", "calls", n, "started_before", before.UTC().Format(time.RFC3339))
	}
}

// replayPageSize is how many events one read of the store returns.
const replayPageSize = 500

// EventData is the data of a live call event: what happened, and the
// call as it stands, with its matches (the answering extension and the
// reporting PBX are the call's). GET /api/v1/calls/{id} has the whole
// history.
type EventData struct {
	ID    int64                `json:"id"`
	Kind  ipdesk.CallEventKind `json:"kind"`
	Time  time.Time            `json:"time"`
	State ipdesk.CallState     `json:"state"` // after this event
	Call  *ipdesk.Call         `json:"call"`
}

// liveEvent is the live form of a call event; its Value is the
// EventData, for streams that show a user only part of the matches.
func liveEvent(ev *ipdesk.CallEvent) (live.Event, error) {
	d := EventData{ID: ev.ID, Kind: ev.Kind, Time: ev.Time, State: ev.State, Call: ev.Call}
	data, err := json.Marshal(d)
	if err != nil {
		return live.Event{}, err
	}
	return live.Event{ID: ev.ID, Topic: Topic, Name: EventName, Data: data, Value: d}, nil
}

// Journal is the call log as the broker's journal: what a reconnecting
// stream missed is read from the database.
type Journal struct {
	Store ipdesk.CallService
}

var _ live.Journal = Journal{}

// EventsAfter returns the call events after the id after, in id order.
func (j Journal) EventsAfter(ctx context.Context, after int64, limit int) ([]live.Event, error) {
	evs, err := j.Store.CallEventsAfter(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]live.Event, 0, len(evs))
	for _, ev := range evs {
		e, err := liveEvent(ev)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Head returns the id of the newest call event.
func (j Journal) Head(ctx context.Context) (int64, error) {
	return j.Store.LastCallEventID(ctx)
}
