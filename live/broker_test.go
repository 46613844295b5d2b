package live

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ipdesk"
)

// memJournal is a journal in memory: events 1…n of topic "calls".
type memJournal struct {
	mu     sync.Mutex
	events []Event
	reads  int
}

func (j *memJournal) append(n int) []Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Event
	for range n {
		e := Event{ID: int64(len(j.events) + 1), Topic: "calls", Data: fmt.Appendf(nil, `{"n":%d}`, len(j.events)+1)}
		j.events = append(j.events, e)
		out = append(out, e)
	}
	return out
}

func (j *memJournal) EventsAfter(ctx context.Context, after int64, limit int) ([]Event, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reads++
	var out []Event
	for _, e := range j.events {
		if e.ID > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (j *memJournal) Head(ctx context.Context) (int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return int64(len(j.events)), nil
}

var bg = context.Background()

// takeN waits for n events.
func takeN(t *testing.T, s *Subscription, n int) []Event {
	t.Helper()
	var out []Event
	deadline := time.After(5 * time.Second)
	for len(out) < n {
		select {
		case <-s.Ready():
			out = append(out, s.Take()...)
		case <-s.Done():
			t.Fatalf("subscription ended after %d of %d events: %v", len(out), n, s.Err())
		case <-deadline:
			t.Fatalf("got %d of %d events", len(out), n)
		}
	}
	return out
}

func ids(evs []Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func TestTopics(t *testing.T) {
	b := New(Options{})
	calls, _ := b.Subscribe(bg, Request{Key: "u1", Topics: []string{"calls"}})
	rooms, _ := b.Subscribe(bg, Request{Key: "u1", Topics: []string{"rooms"}})
	all, _ := b.Subscribe(bg, Request{Key: "u2"})
	b.Publish(Event{ID: 1, Topic: "calls", Name: "call", Data: []byte("c1")})
	b.Publish(Event{Topic: "rooms", Data: []byte("r")})
	b.Publish(Event{ID: 2, Topic: "calls", Data: []byte("c2")})
	if got := takeN(t, calls, 2); got[0].Name != "call" || got[0].EventName() != "call" || got[1].EventName() != "calls" || calls.Cursor() != 2 {
		t.Fatalf("calls: %+v", got)
	}
	if got := takeN(t, rooms, 1); string(got[0].Data) != "r" || rooms.Cursor() != 0 {
		t.Fatalf("rooms: %+v", got)
	}
	if got := takeN(t, all, 3); string(got[1].Data) != "r" {
		t.Fatalf("all: %+v", got)
	}
	// A journal event is published once, in order.
	b.Publish(Event{ID: 2, Topic: "calls", Data: []byte("again")})
	b.Publish(Event{ID: 1, Topic: "calls", Data: []byte("older")})
	select {
	case <-calls.Ready():
		t.Fatalf("republished: %+v", calls.Take())
	default:
	}
}

func TestResume(t *testing.T) {
	j := &memJournal{}
	b := New(Options{Journal: j})
	for _, e := range j.append(5) {
		b.Publish(e)
	}
	// A new stream starts at the head.
	fresh, _ := b.Subscribe(bg, Request{Key: "u"})
	if fresh.Cursor() != 5 {
		t.Fatalf("fresh cursor %d", fresh.Cursor())
	}
	// A stream that saw event 2 gets 3…5 from the journal, then 6, 7 live.
	s, err := b.Subscribe(bg, Request{Key: "u", Resume: true, LastID: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range j.append(2) {
		b.Publish(e)
	}
	if got := ids(takeN(t, s, 5)); fmt.Sprint(got) != "[3 4 5 6 7]" {
		t.Fatalf("resumed: %v", got)
	}
	if got := ids(takeN(t, fresh, 2)); fmt.Sprint(got) != "[6 7]" {
		t.Fatalf("fresh: %v", got)
	}
	// Resuming at the head replays nothing.
	s2, _ := b.Subscribe(bg, Request{Key: "v", Resume: true, LastID: 7})
	b.Publish(Event{Topic: "rooms"})
	if got := takeN(t, s2, 1); got[0].Topic != "rooms" || s2.Cursor() != 7 {
		t.Fatalf("at head: %+v", got)
	}

	// After a restart the broker knows nothing; the journal has it all.
	b2 := New(Options{Journal: j})
	s3, _ := b2.Subscribe(bg, Request{Key: "u", Resume: true, LastID: 6})
	if got := ids(takeN(t, s3, 1)); fmt.Sprint(got) != "[7]" {
		t.Fatalf("after restart: %v", got)
	}
	fresh2, _ := b2.Subscribe(bg, Request{Key: "u"})
	if fresh2.Cursor() != 7 {
		t.Fatalf("fresh after restart: cursor %d", fresh2.Cursor())
	}
}

// TestResumeRace: events are published while streams resume; every stream
// sees every event after its LastID exactly once, in order.
func TestResumeRace(t *testing.T) {
	j := &memJournal{}
	b := New(Options{Journal: j})
	const total = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range total {
			for _, e := range j.append(1) {
				b.Publish(e)
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 100 * time.Microsecond)
			last, _ := j.Head(bg)
			last -= int64(i)
			last = max(last, 0)
			s, err := b.Subscribe(bg, Request{Key: fmt.Sprint(i), Resume: true, LastID: last})
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			want := last + 1
			for want <= total {
				select {
				case <-s.Ready():
					for _, e := range s.Take() {
						if e.ID != want {
							t.Errorf("stream %d: event %d, want %d", i, e.ID, want)
							return
						}
						want++
					}
				case <-s.Done():
					t.Errorf("stream %d ended: %v", i, s.Err())
					return
				case <-time.After(10 * time.Second):
					t.Errorf("stream %d stuck at %d", i, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	<-done
}

func TestReplayLimit(t *testing.T) {
	j := &memJournal{}
	j.append(1200)
	b := New(Options{Journal: j, MaxReplay: 1000})
	s, err := b.Subscribe(bg, Request{Key: "u", Resume: true, LastID: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := takeN(t, s, 1)
	if len(got) != 1 || got[0].Name != ResetEvent || s.Cursor() != 1200 {
		t.Fatalf("over the replay limit: %d events, first %+v, cursor %d", len(got), got[0], s.Cursor())
	}
	// Within the limit, in pages.
	s2, _ := b.Subscribe(bg, Request{Key: "u", Resume: true, LastID: 300})
	if got := takeN(t, s2, 900); got[0].ID != 301 || got[899].ID != 1200 {
		t.Fatalf("replay of 900: %d…%d", got[0].ID, got[899].ID)
	}
}

func TestStreamLimit(t *testing.T) {
	b := New(Options{MaxStreamsPerKey: 2})
	s1, _ := b.Subscribe(bg, Request{Key: "anna"})
	if _, err := b.Subscribe(bg, Request{Key: "anna"}); err != nil {
		t.Fatal(err)
	}
	_, err := b.Subscribe(bg, Request{Key: "anna"})
	if ipdesk.ErrorCode(err) != ipdesk.ETOOMANY {
		t.Fatalf("third stream: %v", err)
	}
	if _, err := b.Subscribe(bg, Request{Key: "ivan"}); err != nil {
		t.Fatalf("another user: %v", err)
	}
	s1.Close()
	s1.Close() // twice is harmless
	if _, err := b.Subscribe(bg, Request{Key: "anna"}); err != nil {
		t.Fatalf("after close: %v", err)
	}
	if b.Streams() != 3 {
		t.Fatalf("%d streams", b.Streams())
	}
	unlimited := New(Options{MaxStreamsPerKey: -1})
	for range 100 {
		if _, err := unlimited.Subscribe(bg, Request{Key: "k"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLagging(t *testing.T) {
	b := New(Options{Buffer: 3})
	slow, _ := b.Subscribe(bg, Request{Key: "u"})
	fast, _ := b.Subscribe(bg, Request{Key: "u"})
	for i := range 5 {
		b.Publish(Event{ID: int64(i + 1), Topic: "calls"})
		fast.Take()
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("a lagging stream was not ended")
	}
	if !errors.Is(slow.Err(), ErrLagged) || slow.Take() != nil {
		t.Fatalf("lagging: %v", slow.Err())
	}
	select {
	case <-fast.Done():
		t.Fatal("the fast stream was ended")
	default:
	}
}

func TestClose(t *testing.T) {
	b := New(Options{})
	s, _ := b.Subscribe(bg, Request{Key: "u"})
	b.Close()
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("not ended by Close")
	}
	if !errors.Is(s.Err(), ErrClosed) || b.Streams() != 0 {
		t.Fatalf("%v, %d streams", s.Err(), b.Streams())
	}
	if _, err := b.Subscribe(bg, Request{Key: "u"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("subscribe after close: %v", err)
	}
	b.Publish(Event{Topic: "x"}) // harmless
}

func BenchmarkPublish1000(b *testing.B) {
	br := New(Options{MaxStreamsPerKey: -1, Buffer: 1 << 20})
	subs := make([]*Subscription, 1000)
	for i := range subs {
		subs[i], _ = br.Subscribe(bg, Request{Key: "k"})
	}
	data := make([]byte, 600)
	b.ResetTimer()
	for i := range b.N {
		br.Publish(Event{ID: int64(i + 1), Topic: "calls", Data: data})
		if i%256 == 0 {
			for _, s := range subs {
				s.Take()
			}
		}
	}
}

func TestAppendMessage(t *testing.T) {
	for _, tt := range []struct {
		data, want string
	}{
		{`{"a":1}`, "event: call\nid: 7\ndata: {\"a\":1}\n\n"},
		{"a\nb", "event: call\nid: 7\ndata: a\ndata: b\n\n"},
		{"a\r\nb\rc\n", "event: call\nid: 7\ndata: a\ndata: b\ndata: c\ndata: \n\n"},
		{"", "event: call\nid: 7\ndata: \n\n"},
	} {
		if got := string(AppendMessage(nil, "call", 7, []byte(tt.data))); got != tt.want {
			t.Errorf("AppendMessage(%q) = %q, want %q", tt.data, got, tt.want)
		}
	}
	if got := string(AppendMessage(nil, "ev\r\nil", 1, nil)); !strings.HasPrefix(got, "event: evil\n") {
		t.Errorf("event name with a line break: %q", got)
	}
	// A journal event carries its own id; another the stream's cursor.
	j := Event{ID: 9, Topic: "calls", Name: "call", Data: []byte("x")}
	j.frame = AppendMessage(nil, "call", 9, j.Data)
	if got := string(j.AppendTo(nil, 9)); got != "event: call\nid: 9\ndata: x\n\n" {
		t.Errorf("journal event: %q", got)
	}
	hint := Event{Topic: "rooms", Data: []byte("{}")}
	if got := string(hint.AppendTo(nil, 9)); got != "event: rooms\nid: 9\ndata: {}\n\n" {
		t.Errorf("hint: %q", got)
	}
}

// TestEnd: End ends the subscriptions of a key or label at once, but those
// that carry the label kept, and frees their places.
func TestEnd(t *testing.T) {
	b := New(Options{})
	ctx := context.Background()
	sub := func(key string, labels ...string) *Subscription {
		s, err := b.Subscribe(ctx, Request{Key: key, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tokenA := sub("user:1")
	sess1 := sub("user:1", "sessions:1", "session:7")
	sess2 := sub("user:1", "sessions:1", "session:8")
	other := sub("user:2", "sessions:2", "session:9")
	isEnded := func(s *Subscription) bool {
		select {
		case <-s.Done():
			return true
		default:
			return false
		}
	}
	if n := b.End("sessions:1", "session:8"); n != 1 || !isEnded(sess1) || isEnded(sess2) || isEnded(tokenA) || isEnded(other) {
		t.Fatalf("End(sessions:1 but session:8): %d ended", n)
	}
	if !errors.Is(sess1.Err(), ErrRevoked) {
		t.Fatalf("err %v", sess1.Err())
	}
	if n := b.End("user:1", ""); n != 2 || !isEnded(tokenA) || !isEnded(sess2) || isEnded(other) {
		t.Fatalf("End(user:1): %d ended", n)
	}
	for _, s := range []*Subscription{tokenA, sess1, sess2} {
		s.Close()
	}
	if b.Streams() != 1 {
		t.Fatalf("%d streams open", b.Streams())
	}
}
