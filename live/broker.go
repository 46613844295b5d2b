// Package live is an in-process broker of live events for server-sent
// event streams: publishers (caller-ID, the timetable) publish events on
// topics, and each open stream is a Subscription that queues the events of
// its topics until its writer takes them.
//
// Events come in two sorts. Journal events have an ID, their position in a
// durable, ordered journal (the call events in the database); a stream that
// reconnects with the last ID it saw gets the journal events after it
// replayed from the Journal before the live ones, so nothing is lost, even
// across a restart. Other events (ID 0) are hints that something changed
// ("rooms changed"), not replayed. A stream's cursor is the last journal ID
// it delivered; writers send it as the SSE id of every message, so that a
// browser's Last-Event-ID always names a journal position.
//
// Publishing never blocks: a stream whose queue overflows is ended (its
// client reconnects and catches up from the journal).
package live

import (
	"context"
	"errors"
	"slices"
	"sync"

	"ipdesk"
)

// Event is one message for the live streams.
type Event struct {
	// ID is the event's position in the journal, or 0 for an event that
	// is not replayed.
	ID    int64
	Topic string
	// Name is the SSE event name; "" means the topic.
	Name string
	// Data is the message, usually one JSON object.
	Data []byte
	// Value is what Data encodes, for a writer that shows each stream
	// its own part of it (nil when there is nothing to narrow).
	Value any

	// frame is the event as an SSE message with its own ID as the id,
	// encoded once for all streams (journal events only).
	frame []byte
}

// EventName returns the SSE event name of e.
func (e Event) EventName() string {
	if e.Name != "" {
		return e.Name
	}
	return e.Topic
}

// Journal is the durable source of the journal events.
type Journal interface {
	// EventsAfter returns up to limit journal events with an ID above
	// after, in ID order.
	EventsAfter(ctx context.Context, after int64, limit int) ([]Event, error)
	// Head returns the ID of the newest journal event (0 for none).
	Head(ctx context.Context) (int64, error)
}

// Defaults of Options.
const (
	DefaultMaxStreamsPerKey = 16
	DefaultBuffer           = 4096
	DefaultMaxReplay        = 10000
	replayPage              = 500
	maxKeptQueue            = 256 // queue capacity kept for reuse after a Take
)

// Options configure a Broker. The zero value is usable.
type Options struct {
	// Journal replays missed journal events; nil replays nothing.
	Journal Journal
	// MaxStreamsPerKey bounds the open subscriptions of one key (a user);
	// 0 means DefaultMaxStreamsPerKey, a negative value no limit.
	MaxStreamsPerKey int
	// Buffer is how many events a subscription queues before it is ended
	// as lagging; 0 means DefaultBuffer.
	Buffer int
	// MaxReplay bounds the journal events replayed on resume; beyond it
	// the stream gets a "reset" event and continues from the newest. 0
	// means DefaultMaxReplay.
	MaxReplay int
}

// Errors that end or refuse a subscription.
var (
	// ErrLagged ends a subscription whose client did not keep up.
	ErrLagged = errors.New("live: the stream fell behind and was closed; reconnect to catch up")
	// ErrClosed ends the subscriptions of a closed broker.
	ErrClosed = errors.New("live: the broker is closed")
)

// ResetEvent is the name of the event that tells a resuming stream that
// more events were missed than are replayed: the client should reload what
// it shows (the call log) instead.
const ResetEvent = "reset"

// Broker fans published events out to subscriptions.
type Broker struct {
	opts Options

	mu        sync.Mutex
	subs      map[*Subscription]struct{}
	perKey    map[string]int
	head      int64 // the last journal ID published
	headKnown bool
	closed    bool
}

// New returns a broker.
func New(opts Options) *Broker {
	if opts.MaxStreamsPerKey == 0 {
		opts.MaxStreamsPerKey = DefaultMaxStreamsPerKey
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.MaxReplay <= 0 {
		opts.MaxReplay = DefaultMaxReplay
	}
	return &Broker{opts: opts, subs: map[*Subscription]struct{}{}, perKey: map[string]int{}}
}

// Publish hands the events, in order, to every subscription of their
// topics. A journal event whose ID is not above the last one published is
// dropped: journal events are published once, in ID order.
func (b *Broker) Publish(events ...Event) {
	fresh := make([]Event, 0, len(events))
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	for _, e := range events {
		if e.ID > 0 {
			if b.headKnown && e.ID <= b.head {
				continue
			}
			b.head, b.headKnown = e.ID, true
			e.frame = AppendMessage(nil, e.EventName(), e.ID, e.Data)
		}
		fresh = append(fresh, e)
	}
	if len(fresh) == 0 {
		return
	}
	for s := range b.subs {
		s.push(fresh, b.opts.Buffer)
	}
}

// SetHead tells the broker the newest journal ID at start, so that new
// streams begin there without asking the journal.
func (b *Broker) SetHead(id int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.headKnown || id > b.head {
		b.head, b.headKnown = id, true
	}
}

// Streams returns the number of open subscriptions.
func (b *Broker) Streams() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Close ends every subscription with ErrClosed and refuses new ones.
func (b *Broker) Close() {
	b.mu.Lock()
	b.closed = true
	subs := make([]*Subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		s.end(ErrClosed)
		s.Close()
	}
}

// ErrRevoked ends the subscriptions that End names: their user was
// disabled or signed out.
var ErrRevoked = errors.New("live: the stream's credentials were revoked")

// End ends, with ErrRevoked, every open subscription whose key or one of
// whose labels is label, except those that carry the label keep ("" keeps
// none), and returns how many it ended. A server calls it when a user is
// disabled or a session ends, so that the streams stop at once instead of
// at their next check.
func (b *Broker) End(label, keep string) int {
	b.mu.Lock()
	var ended []*Subscription
	for s := range b.subs {
		if s.carries(label) && (keep == "" || !s.carries(keep)) {
			ended = append(ended, s)
		}
	}
	b.mu.Unlock()
	n := 0
	for _, s := range ended {
		if s.end(ErrRevoked) {
			n++
		}
	}
	return n
}

// Request describes a new subscription.
type Request struct {
	// Key is whose stream it is (a user); the broker bounds the streams
	// per key.
	Key string
	// Topics are the topics to receive; empty receives every topic.
	Topics []string
	// Resume replays the journal events after LastID first.
	Resume bool
	LastID int64
	// Labels name what else the stream depends on (such as the session
	// it was opened with), for End.
	Labels []string
}

// Subscribe opens a subscription. Without Resume it starts at the newest
// journal event; with Resume it first replays the journal events after
// LastID (of its topics), then continues with the live events, without
// repeating one. Too many streams of the key give ETOOMANY.
func (b *Broker) Subscribe(ctx context.Context, req Request) (*Subscription, error) {
	s := &Subscription{
		b: b, key: req.Key, labels: slices.Clone(req.Labels), ready: make(chan struct{}, 1), done: make(chan struct{}),
	}
	if len(req.Topics) > 0 {
		s.topics = slices.Clone(req.Topics)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	if max := b.opts.MaxStreamsPerKey; max > 0 && b.perKey[req.Key] >= max {
		b.mu.Unlock()
		return nil, ipdesk.Errorf(ipdesk.ETOOMANY, "%d event streams are open for this user already, the most allowed; close one (another browser tab) first", max)
	}
	b.perKey[req.Key]++
	b.subs[s] = struct{}{}
	head, headKnown := b.head, b.headKnown
	b.mu.Unlock()

	var err error
	if req.Resume && b.opts.Journal != nil {
		err = s.replay(ctx, b.opts.Journal, req.LastID, b.opts.MaxReplay)
	} else {
		if !headKnown && b.opts.Journal != nil {
			head, err = b.opts.Journal.Head(ctx)
		}
		s.start(head)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Subscription is one open stream.
type Subscription struct {
	b      *Broker
	key    string
	labels []string
	topics []string // nil: all

	mu     sync.Mutex
	queue  []Event
	spare  []Event // the slice the last Take returned, reused by the next
	cursor int64   // the last journal ID handed out
	ended  bool
	err    error
	ready  chan struct{} // signalled when the queue is not empty
	done   chan struct{} // closed when the subscription ends

	closeOnce sync.Once
}

// carries reports whether label is the subscription's key or one of its
// labels.
func (s *Subscription) carries(label string) bool {
	return s.key == label || slices.Contains(s.labels, label)
}

// wants reports whether the subscription receives topic.
func (s *Subscription) wants(topic string) bool {
	return s.topics == nil || topic == "" || slices.Contains(s.topics, topic)
}

// push queues the events of its topics, or ends a subscription whose
// queue is full.
func (s *Subscription) push(events []Event, limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	n := len(s.queue)
	for _, e := range events {
		if !s.wants(e.Topic) {
			continue
		}
		if len(s.queue) >= limit {
			s.endLocked(ErrLagged)
			return
		}
		s.queue = append(s.queue, e)
	}
	if len(s.queue) > n {
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
}

// start sets the cursor of a new stream: journal events up to head are
// not its business.
func (s *Subscription) start(head int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor = head
}

// replay puts the journal events after lastID before what has been queued
// since the subscription was registered.
func (s *Subscription) replay(ctx context.Context, j Journal, lastID int64, maxReplay int) error {
	var replayed []Event
	after, total, truncated := lastID, 0, false
	for {
		evs, err := j.EventsAfter(ctx, after, replayPage)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if s.wants(e.Topic) {
				e.frame = AppendMessage(nil, e.EventName(), e.ID, e.Data)
				replayed = append(replayed, e)
			}
			after = e.ID
		}
		total += len(evs)
		if len(evs) < replayPage {
			break
		}
		if total >= maxReplay {
			truncated = true
			break
		}
	}
	if truncated {
		head, err := j.Head(ctx)
		if err != nil {
			return err
		}
		replayed = []Event{{Name: ResetEvent, Data: []byte(`{"reason":"more events were missed than are replayed; reload"}`)}}
		after = head
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor = lastID
	if truncated {
		s.cursor = after
	}
	// Live events queued meanwhile that the replay covered are dropped.
	live := s.queue[:0:0]
	for _, e := range s.queue {
		if e.ID == 0 || e.ID > after {
			live = append(live, e)
		}
	}
	s.queue = append(replayed, live...)
	if len(s.queue) > 0 {
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
	return nil
}

// Ready is signalled when events are queued; call Take.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Done is closed when the subscription has ended; Err tells why.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns why the subscription ended: ErrLagged, ErrClosed,
// ErrRevoked, or nil after Close.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Cursor returns the last journal ID the subscription handed out (or
// started at).
func (s *Subscription) Cursor() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}

// Take returns the queued events in order and empties the queue. Journal
// events at or below the cursor are left out, so none comes twice. The
// slice is valid until the next Take, which reuses it.
func (s *Subscription) Take() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue, s.spare = s.spare[:0], q
	if cap(s.queue) > maxKeptQueue {
		s.queue = nil // a burst is over; do not keep its queue
	}
	out := q[:0]
	for _, e := range q {
		if e.ID > 0 {
			if e.ID <= s.cursor {
				continue
			}
			s.cursor = e.ID
		}
		out = append(out, e)
	}
	return out
}

// end ends the subscription with err; false if it had ended already.
func (s *Subscription) end(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endLocked(err)
}

func (s *Subscription) endLocked(err error) bool {
	if s.ended {
		return false
	}
	s.ended, s.err, s.queue, s.spare = true, err, nil, nil
	close(s.done)
	return true
}

// Close ends the subscription and frees its place.
func (s *Subscription) Close() {
	s.end(nil)
	s.closeOnce.Do(func() {
		b := s.b
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, s)
		if b.perKey[s.key]--; b.perKey[s.key] <= 0 {
			delete(b.perKey, s.key)
		}
	})
}
